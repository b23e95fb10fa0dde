"""``kithara fetch`` for HLS: list the ladder, or fetch the chosen variant/rendition.

Wiring only: ``hls.loader.select`` picks, ``hls.writer.HlsWriter`` fetches through the segment
scheduler, ``hls.worker.LiveFollower`` follows a live playlist, ``hls.remux`` converts; this
module shows the ladder and the progress and puts the result in place."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from kithara_cli.commands.common import CommonOptions
from kithara_cli.commands.fetch_shared import FetchOptions, out_missing, progress_view
from kithara_cli.dl import Downloader
from kithara_cli.errors import (
    Cancelled,
    DecoderError,
    KitharaError,
    OutputError,
    PlaylistError,
    UnsupportedError,
)
from kithara_cli.events import EventBus
from kithara_cli.file.fetch import check_output
from kithara_cli.file.state import part_paths, remove_quietly
from kithara_cli.hls.audio_rates import audio_rates
from kithara_cli.hls.loader import backup_streams, load_playlist, select
from kithara_cli.hls.model import MasterPlaylist, MediaPlaylist
from kithara_cli.hls.remux import check_remux_target, needs_remux, remux
from kithara_cli.hls.scheduler import check_encryption
from kithara_cli.hls.sniff import DEFAULT_EXTENSION
from kithara_cli.hls.worker import LiveFollower
from kithara_cli.hls.writer import HlsWriter, finish_output

if TYPE_CHECKING:
    from kithara_cli.dl.cached import ByteCache


def ladder_rows(playlist: MasterPlaylist | MediaPlaylist) -> list[dict[str, object]]:
    if isinstance(playlist, MediaPlaylist):
        only: list[dict[str, object]] = [
            {
                "index": 0,
                "bandwidth": None,
                "codecs": [],
                "audio_only": True,
                "segments": len(playlist.segments),
                "duration": round(playlist.duration, 3),
                "uri": playlist.url,
                "renditions": [],
            }
        ]
        return only
    rows: list[dict[str, object]] = []
    rates = audio_rates(playlist)  # what a rendition costs: its audio, not the video variant
    for v in playlist.variants:
        rate = rates.get(v.audio_group) if v.audio_group else None
        renditions = [
            {
                "name": r.name,
                "language": r.language,
                "channels": r.channels,
                "default": r.default,
                "uri": r.uri,
                "bandwidth": rate.bandwidth if rate is not None and r.uri else None,
                "bandwidth_from": rate.source if rate is not None and r.uri else None,
            }
            for r in playlist.renditions
            if v.audio_group and r.group_id == v.audio_group
        ]
        rows.append(
            {
                "index": v.index,
                "bandwidth": v.bandwidth,
                "average_bandwidth": v.average_bandwidth,
                "codecs": list(v.codecs),
                "audio_only": v.is_audio_only,
                "audio_group": v.audio_group,
                "uri": v.uri,
                "renditions": renditions,
            }
        )
    return rows


def _masked(value: object, mask: Callable[[str], str]) -> object:
    if isinstance(value, str):
        return mask(value)
    if isinstance(value, list):
        return [_masked(v, mask) for v in value]
    if isinstance(value, dict):
        return {k: _masked(v, mask) for k, v in value.items()}
    return value


def print_ladder(playlist: MasterPlaylist | MediaPlaylist, as_json: bool) -> None:
    rows = ladder_rows(playlist)
    if as_json:
        from kithara_cli.ui.sanitize import redact_userinfo

        listing = {"url": playlist.url, "variants": rows}
        # Credentials are not for a terminal or a log: the URLs' user:password@ as ***@.
        sys.stdout.write(json.dumps(_masked(listing, redact_userinfo), indent=2) + "\n")
        return
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    from kithara_cli.ui.sanitize import sanitize

    def cell(text: str) -> Text:  # network text: escapes made visible, never read as markup
        return Text(sanitize(text) or "-")

    table = Table(title=None, show_edge=False)
    for col in ("index", "bandwidth", "codecs", "audio", "channels", "renditions"):
        right = col in ("index", "bandwidth", "audio")
        table.add_column(col, justify="right" if right else "left")
    for row in rows:
        renditions = row["renditions"]
        assert isinstance(renditions, list)
        audio = next((r["bandwidth"] for r in renditions if r["bandwidth"]), None)
        channels = ",".join(sorted({str(r["channels"]) for r in renditions if r["channels"]}))
        names = ", ".join(
            f"{r['name']}" + (f" [{r['language']}]" if r["language"] else "") for r in renditions
        )
        bw = row["bandwidth"]
        table.add_row(
            str(row["index"]),
            f"{int(bw) // 1000}k" if isinstance(bw, int) else "-",
            cell(",".join(row["codecs"])),  # type: ignore[arg-type]
            f"{audio // 1000}k" if isinstance(audio, int) else "-",
            cell(channels),
            cell(names),
        )
    Console(highlight=False, emoji=False).print(table)


def run_hls_fetch(
    options: FetchOptions,
    common: CommonOptions,
    bus: EventBus,
    cache: ByteCache | None = None,
    read: tuple[bytes, str] | None = None,
) -> None:
    """``read``: the playlist at ``options.url`` already fetched (body, final URL)."""
    from kithara_cli.ui.console import print_note

    with Downloader(
        bus,
        common.net_config(),
        max_concurrent=options.segments_in_flight,
        retry=common.retry_policy(),
        cache=cache,
    ) as dl:
        if options.list_only:
            print_ladder(load_playlist(dl, options.url, read=read), options.as_json)
            return
        if options.out is None:
            raise out_missing(options.url)
        out = options.out
        check_output(out, options.force)
        check_remux_target(out, options.remux)
        selection, media = select(dl, options.url, options.variant, options.audio, read=read)
        if selection.note and not options.quiet:
            print_note(f"warning: {selection.note}")
        tolerated = (selection.master.warnings if selection.master else ()) + media.warnings
        for warning in tolerated[:5] if not options.quiet else ():  # repr()-quoted: safe text
            print_note(f"warning: playlist {warning}")
        for seg in media.segments:
            check_encryption(seg)
        if not media.segments and not media.is_live:
            raise PlaylistError("the playlist has no segments")
        part, state_path = part_paths(out)
        live = media.is_live
        first = max(0, len(media.segments) - options.live_edge) if live else 0
        writer = HlsWriter(
            dl,
            media,
            part,
            state_path,
            in_flight=options.segments_in_flight,
            skip_unavailable=options.skip_unavailable,
            live=live,
            duration_limit=options.duration,
            first_index=first,
        )
        follower = None
        if live:  # its backup streams (another host) take over should the primary's die
            backups = (
                [b.media_url for b in backup_streams(selection.master, selection, options.audio)]
                if selection.master
                else []
            )
            follower = LiveFollower(
                dl, media, writer.feed, url=selection.media_url, backups=backups
            )
            if backups:  # a segment that fails on the primary is asked of a backup
                writer.stand_in = follower.stand_in
        if not options.quiet:
            print_note(f"fetching {selection.describe()}" + (" (live)" if live else ""))
        try:
            if follower is not None:
                follower.start()
            with progress_view(bus, out.name, options, common.verbose):
                result = writer.run()
        except Cancelled:
            raise
        except KitharaError as exc:
            if isinstance(exc, OutputError) and not live and state_path.exists():
                # A full disk or a file-size limit: the segments the state lists were written
                # whole; the same command resumes from them once there is room (as progressive).
                raise OutputError(
                    f"{exc} (kept {part.name}: free some space and run the same command to resume)"
                ) from exc
            if live and not isinstance(exc, OutputError) and _holds_audio(part):
                # A live stream that stalls or dies mid-recording (an encoder stopped with no
                # EXT-X-ENDLIST, an origin gone): what came is a whole recording, kept as a
                # radio recording cut short is (and as Ctrl-C keeps one); the error still
                # says why it ended, and where the recording is.
                saved = _finish(part, out, writer.container, options.remux)
                remove_quietly(state_path)
                exc.message = f"{exc.message} (the recording so far is saved in {saved})"
                raise
            if live or not exc.retryable:  # a live recording is never resumed
                remove_quietly(part, state_path)
            raise
        finally:
            if follower is not None:
                follower.stop()
        _finish(part, out, result.container, options.remux)
        remove_quietly(state_path)
    if result.gaps:
        print_note(f"skipped {len(result.gaps)} unavailable segment(s): {result.gaps}")
    if not options.quiet:
        from kithara_cli.ui.format import fmt_clock, fmt_speed

        # The media's length and the time the fetch took, each named: a bare "2.01 s" beside
        # a 20-minute recording read as its length.
        speed = fmt_speed(result.bytes / max(result.seconds, 1e-6))
        print_note(
            f"saved {out} ({fmt_clock(round(result.media_seconds))} of audio in {result.segments} "
            f"segments, {result.bytes} bytes; took {result.seconds:.2f} s, {speed})"
        )


def _holds_audio(part: Path) -> bool:
    """The writer wrote whole segments to ``part`` (it writes one at a time)."""
    try:
        return part.stat().st_size > 0
    except OSError:
        return False


def _finish(part: Path, out: Path, container: str | None, force_remux: bool) -> Path:
    """Put the written ``part`` in place at ``out`` (remuxed when ``out`` asks for another
    container than the segments' ``container``); returns ``out``."""
    if needs_remux(out, container, force_remux):
        try:
            remux(part, out)
        except KitharaError as exc:
            raise _keep_source(part, out, container, exc) from exc
        remove_quietly(part)
    else:
        finish_output(part, out)
    return out


def _keep_source(part: Path, out: Path, container: str | None, error: KitharaError) -> KitharaError:
    """A remux failed after the whole download: keep the bytes in their own container beside
    ``out`` (never at ``out``) and say where, rather than throw the download away."""
    kept = out.with_name(out.stem + DEFAULT_EXTENSION.get(container or "", ".bin"))
    if kept == out or kept.exists():
        kept = out.with_name(out.name + DEFAULT_EXTENSION.get(container or "", ".bin"))
    try:
        finish_output(part, kept)
    except KitharaError:
        remove_quietly(part)
        return error
    remove_quietly(part_paths(out)[1])
    kind = type(error) if isinstance(error, (OutputError, DecoderError)) else UnsupportedError
    return kind(f"{error}; the download is kept as {kept}")
