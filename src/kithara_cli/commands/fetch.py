"""``kithara fetch``: pick the source kind, run its fetch, show progress."""

from __future__ import annotations

from typing import TYPE_CHECKING

from kithara_cli.commands.common import CommonOptions, EventSinks
from kithara_cli.commands.fetch_shared import (
    FetchOptions,
    out_is_folder,
    out_missing,
    progress_view,
)
from kithara_cli.errors import Cancelled, KitharaError, OutputError, PlaylistError, UsageError
from kithara_cli.events import EventBus
from kithara_cli.hls import looks_like_hls
from kithara_cli.net import check_http_url

if TYPE_CHECKING:
    from kithara_cli.dl import Downloader
    from kithara_cli.radio.live import LiveStream


def run_fetch(options: FetchOptions, common: CommonOptions) -> None:
    check_http_url(options.url)
    if options.list_only:
        from kithara_cli.commands.fetch_list import list_link

        if looks_like_hls(options.url) and not link_suffix(options.url):  # .m3u: either
            _run_hls(options, common)
        else:
            read = list_link(options, common)
            if read is not None:
                _run_hls(options, common, read)  # the playlist read: not fetched again
        return
    if options.out is None:
        raise out_missing(options.url)
    if options.out.is_dir():
        raise out_is_folder(options.url, options.out)
    if str(options.out) == "-":  # curl's and wget's standard output: parts land out of order
        raise UsageError(
            "--out - (standard output) is not supported: name a file (to listen now, "
            "without a file: kithara play URL)"
        )
    from kithara_cli.file import check_output
    from kithara_cli.file.lock import output_lock

    # One writer per output: the lock is held from before the (re)check of --out until the
    # file is in place or the run has failed, so a second run never sees, renames or
    # deletes the first one's FILE.part and state. Checked once before, for the plainer
    # message when the folder is missing; again inside, where no other run can race it.
    check_output(options.out, options.force)
    with output_lock(options.out):
        if link_suffix(options.url):  # (a .rss that is no feed: saved as the file it is)
            _run_link(options, common, xml_file_ok=_url_path(options.url).endswith(FEED_SUFFIXES))
        else:
            _run_url(options, common)


def _run_url(options: FetchOptions, common: CommonOptions) -> None:
    """A URL that is not a station link: an HLS stream, a live (radio) stream, or a file."""
    if looks_like_hls(options.url):
        if options.split_tracks:
            from kithara_cli.radio.fetch_live import split_unsupported

            raise split_unsupported("HLS is not one (fetch it whole, without --split-tracks)")
        _run_hls(options, common)
    elif options.duration is not None or options.split_tracks:
        _run_live(options, common, EventBus())
    else:
        _run_progressive(options, common, EventBus())


# A feed served as application/octet-stream is still read as one (play reads it by content)
FEED_SUFFIXES = (".rss", ".atom")


def _url_path(url: str) -> str:
    from urllib.parse import urlsplit

    return urlsplit(url).path.lower()


def link_suffix(url: str) -> bool:
    return _url_path(url).endswith((".pls", ".xspf", ".m3u", *FEED_SUFFIXES))


def _run_link(options: FetchOptions, common: CommonOptions, *, xml_file_ok: bool = False) -> None:
    """A station link: its entries in order until one is fetched (an .m3u that is HLS: HLS).
    A podcast feed: its newest episode (an older one is another file, never a mirror).
    ``xml_file_ok``: served as plain XML; a body that is no link or feed is saved as a file."""
    import dataclasses

    from kithara_cli.dl import Downloader
    from kithara_cli.radio.links import MAX_FEED_BYTES, link_kind, parse_link
    from kithara_cli.ui.console import print_note

    with Downloader(EventBus(), common.net_config(), retry=common.retry_policy()) as dl:
        body, final_url = dl.fetch_bytes(
            options.url, label="station link", max_bytes=MAX_FEED_BYTES
        )
    kind = link_kind(body, None, final_url)
    if kind is None:
        if looks_like_hls(options.url) or b"#EXT-X-" in body:  # HLS under any name
            _run_hls(options, common, (body, final_url))
            return
        if xml_file_ok:
            _run_progressive(options, common, EventBus(), follow_links=False)
            return
        raise PlaylistError(f"not a station link (.pls/.m3u/.xspf): {options.url}")
    entries = parse_link(body, kind, final_url, remote=True)
    if kind == "feed":
        from kithara_cli.radio.feeds import pick_episode
        from kithara_cli.ui.sanitize import redact_userinfo

        n = (
            0
            if options.episode is None
            else pick_episode([e.title for e in entries], options.episode)
        )
        which = "the newest" if options.episode is None else f"episode {n + 1}"
        what = f'"{entries[n].title}"' if entries[n].title else redact_userinfo(entries[n].target)
        print_note(f"podcast feed of {len(entries)} episodes: saving {which}, {what}")
        entries = entries[n : n + 1]
    elif options.episode is not None:
        print_note(f"--episode: not a podcast feed but a station link ({kind}): ignored")
    for n, entry in enumerate(entries, 1):
        one = dataclasses.replace(options, url=entry.target, from_link=True)
        try:
            _run_url(one, common)
            return
        except (OutputError, Cancelled):
            raise
        except KitharaError as err:
            if n == len(entries):
                raise
            print_note(f"mirror {n} of {len(entries)} failed ({err}): trying the next")


def _run_live(options: FetchOptions, common: CommonOptions, bus: EventBus) -> None:
    """An endless stream recorded for --duration (or until Ctrl-C), ICY titles in a CUE."""
    from kithara_cli.dl import Downloader
    from kithara_cli.radio.fetch_live import split_unsupported
    from kithara_cli.radio.live import NotLiveError

    with (
        EventSinks(bus, common),
        Downloader(bus, common.net_config(), retry=common.retry_policy()) as downloader,
    ):
        try:
            _record_live(options, common, bus, downloader, None)
        except NotLiveError:
            if options.split_tracks:
                raise split_unsupported("this URL is a file, not an endless stream") from None
            # Said once the answer is known to be a file: an HLS playlist or a station link
            # under a plain name is read as such next, and honours --duration.
            _run_progressive(options, common, EventBus(), duration_unused=True)


def _record_live(
    options: FetchOptions,
    common: CommonOptions,
    bus: EventBus,
    downloader: Downloader,
    stream: LiveStream | None,
) -> None:
    """Record the stream (``stream``: one that has taken a response over; else connect)."""
    from kithara_cli.radio.fetch_live import LiveFetch
    from kithara_cli.ui.console import print_note

    assert options.out is not None
    job = LiveFetch(
        downloader,
        options.url,
        options.out,
        duration=options.duration,
        split_tracks=options.split_tracks,
        stream=stream,
    )
    with progress_view(bus, options.out.name, options, common.verbose):
        result = job.run()
    if not options.quiet:
        names = ", ".join(str(f) for f in result.files)
        print_note(
            f"recorded {names} ({result.bytes} bytes, {result.seconds:.1f} s, "
            f"{result.titles} titles)"
        )


def _run_hls(
    options: FetchOptions, common: CommonOptions, read: tuple[bytes, str] | None = None
) -> None:
    """``read``: the playlist's body and final URL when already fetched (to tell HLS from a
    station link or a feed), so that it is parsed, not asked for again."""
    from kithara_cli.commands.fetch_hls import run_hls_fetch

    bus = EventBus()
    from kithara_cli.commands.cache import run_cache

    with EventSinks(bus, common), run_cache(common.cache) as cache:
        run_hls_fetch(options, common, bus, cache, read)


def _run_progressive(
    options: FetchOptions,
    common: CommonOptions,
    bus: EventBus,
    *,
    follow_links: bool = True,
    duration_unused: bool = False,
) -> None:
    """``duration_unused``: --duration was given for what answered as no live stream; said
    if it is a file (an HLS playlist or a station link honours it)."""
    from kithara_cli.dl import Downloader
    from kithara_cli.file import ProgressiveFetch, check_output
    from kithara_cli.file.sizes import parse_size
    from kithara_cli.radio.links import StationLinkServed
    from kithara_cli.radio.live import LiveStreamFound
    from kithara_cli.ui.console import print_note

    assert options.out is not None
    out = options.out
    max_size = parse_size(options.max_size) if options.max_size is not None else None
    check_output(out, options.force)
    from kithara_cli.commands.cache import run_cache

    link = maybe = False

    with (
        EventSinks(bus, common),
        run_cache(common.cache) as cache,
        Downloader(
            bus,
            common.net_config(),
            max_concurrent=options.connections,
            retry=common.retry_policy(),
            cache=cache,
        ) as downloader,
    ):
        job = ProgressiveFetch(
            downloader,
            options.url,
            out,
            connections=options.connections,
            max_size=max_size,
            follow_links=follow_links,
            audio_only=options.from_link,
        )
        try:
            with progress_view(bus, out.name, options, common.verbose):
                result = job.run()
        except LiveStreamFound as found:
            # An Icecast/SHOUTcast answer: recorded until --duration or Ctrl-C, from the
            # connection that found it (a station at its listener limit refuses a second)
            if found.stream is None:
                raise
            _record_live(options, common, bus, downloader, found.stream)
            return
        except StationLinkServed as served:  # a .pls served as /listen: nothing was written
            link, maybe = True, served.maybe
    if link:
        _run_link(options, common, xml_file_ok=maybe)
        return
    if options.episode is not None and not options.from_link:
        print_note("--episode: not a podcast feed but a file: ignored, saved whole")
    if duration_unused and not options.quiet:
        print_note("not a live stream (a file with a length): --duration did not apply")
    if not options.quiet:
        from kithara_cli.ui.format import fmt_speed

        speed = fmt_speed(result.downloaded / max(result.seconds, 1e-6))
        print_note(f"saved {out} ({result.bytes} bytes, {result.seconds:.2f} s, {speed})")
