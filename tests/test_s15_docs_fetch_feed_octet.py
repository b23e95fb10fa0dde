"""``kithara fetch FEED.rss -o latest.mp3`` of a feed served as ``application/octet-stream``.

Found in session 15 (docs review, the README's podcast examples run against a loopback
server): ``play`` reads a feed by its content whatever its Content-Type, but ``fetch`` only
looked for one under an XML or link Content-Type, so a ``.rss`` served as
``application/octet-stream`` (a bucket's default) was saved as it was: the feed's XML written
to ``latest.mp3``, exit 0. Now a ``.rss``/``.atom`` name is read as a link, as ``.pls`` is.
"""

from __future__ import annotations

from pathlib import Path

from conftest import run_cli
from kithara_cli.media.encode import encode_file
from kithara_cli.server import MediaServer

ENV = {"KITHARA_AUDIO_DEVICE": "none", "KITHARA_CACHE": "off"}


def test_fetch_of_an_octet_stream_rss_saves_the_newest_episode(tmp_path: Path) -> None:
    root = tmp_path / "www"
    root.mkdir()
    encode_file(root / "old.mp3", 0.4, "mp3")
    encode_file(root / "new.mp3", 0.5, "mp3")
    with MediaServer(root) as srv:
        items = "".join(
            f'<item><title>{name}</title><enclosure url="{srv.url(name + ".mp3")}" '
            f'length="1" type="audio/mpeg"/><pubDate>{date} 10:00:00 GMT</pubDate></item>'
            for name, date in (("old", "Mon, 01 Jan 2024"), ("new", "Mon, 08 Jan 2024"))
        )
        body = f'<?xml version="1.0"?><rss version="2.0"><channel>{items}</channel></rss>'
        headers = {"Content-Type": "application/octet-stream"}
        srv.add_route("feed.rss", lambda _p, _q, _now: (200, headers, body.encode()))
        out = tmp_path / "latest.mp3"
        proc = run_cli("fetch", srv.url("feed.rss"), "-o", str(out), env=ENV, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert 'saving the newest, "new"' in proc.stderr
    assert out.read_bytes() == (root / "new.mp3").read_bytes()


def test_fetch_of_an_rss_name_that_is_no_feed_saves_the_file(tmp_path: Path) -> None:
    """Read as a link by its name, a body that is no feed is still the file asked for."""
    root = tmp_path / "www"
    root.mkdir()
    body = b"not a feed, just bytes\n" * 10
    (root / "notes.rss").write_bytes(body)
    with MediaServer(root) as srv:
        out = tmp_path / "notes.rss"
        proc = run_cli("fetch", srv.url("notes.rss"), "-o", str(out), env=ENV, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert out.read_bytes() == body
