"""``kithara fetch --list`` of a URL that is not HLS: a station link's or a podcast feed's
entries (what ``play`` would queue, and ``fetch`` saves the first of), one row each.

HLS goes to ``fetch_hls.print_ladder``; anything else (an audio file, a web page) is one line
and exit 5 rather than a parser's complaint about the bytes. URLs are printed with
``user:password@`` as ``***@`` and network text is neutralised, in the table and the JSON.
"""

from __future__ import annotations

import json
import sys

from kithara_cli.commands.common import CommonOptions
from kithara_cli.commands.fetch_shared import FetchOptions
from kithara_cli.errors import PlaylistError
from kithara_cli.events import EventBus


def list_link(options: FetchOptions, common: CommonOptions) -> tuple[bytes, str] | None:
    """Print the entries when ``options.url`` is a station link or a feed (None); when it is
    HLS, the body read and its final URL, for the caller to list its ladder from (not read
    twice). Raises ``PlaylistError`` for anything else."""
    from kithara_cli.dl import Downloader
    from kithara_cli.radio.links import MAX_FEED_BYTES, link_kind, parse_link

    with Downloader(EventBus(), common.net_config(), retry=common.retry_policy()) as dl:
        body, final_url = dl.fetch_bytes(options.url, label="playlist", max_bytes=MAX_FEED_BYTES)
    if b"#EXT-X-" in body[:65536]:
        return body, final_url
    kind = link_kind(body, None, final_url)
    if kind is None:
        raise PlaylistError(
            f"--list: not an HLS playlist, a station link or a podcast feed: {options.url}"
        )
    entries = parse_link(body, kind, final_url, remote=True)
    rows = [(n, e.title, e.target) for n, e in enumerate(entries, 1)]
    if kind == "feed" and options.episode is not None:  # the one ``--episode`` would take
        from kithara_cli.radio.feeds import pick_episode

        picked = pick_episode([e.title for e in entries], options.episode)
        rows = rows[picked : picked + 1]
    elif options.episode is not None:  # as fetch and play say it
        from kithara_cli.ui.console import print_note

        print_note(f"--episode: not a podcast feed but a station link ({kind}): ignored")
    _print(final_url, kind, rows, options.as_json, len(entries))
    return None


def _print(
    url: str, kind: str, rows: list[tuple[int, str, str]], as_json: bool, total: int
) -> None:
    from kithara_cli.ui.sanitize import redact_userinfo, sanitize

    what = "podcast feed" if kind == "feed" else f"station link ({kind})"
    if as_json:
        listing = {
            "url": redact_userinfo(url),
            "kind": kind,
            "entries": [
                {"index": n, "title": title, "url": redact_userinfo(target)}
                for n, title, target in rows
            ],
        }
        sys.stdout.write(json.dumps(listing, indent=2) + "\n")
        return
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    table = Table(title=None, show_edge=False, caption=f"{what}: {total} entries")
    for col in ("index", "title", "url"):
        table.add_column(col, justify="right" if col == "index" else "left", overflow="fold")
    for n, title, target in rows:
        table.add_row(str(n), Text(sanitize(title) or "-"), Text(sanitize(redact_userinfo(target))))
    Console(highlight=False, emoji=False).print(table)
