"""Terminal injection, end to end: hostile playlists on the loopback server, the CLI on a real
pseudo-terminal (so Rich takes its terminal path, colours and all), every raw byte it writes
captured. Whatever the network sends (CSI, OSC 52, C1 controls, bidi overrides, Rich markup, a
megabyte URI), what reaches the terminal is escaped text and a bounded line.

Rich's own control sequences (colour, cursor hide/show, erase line, cursor up for the live
area) are removed by one strict pattern first; after that no ESC, no C1, no BEL may remain.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

import hls_fixtures
from conftest import run_cli
from hls_fixtures import HlsMedia, static
from kithara_cli.server import MediaServer
from pty_run import read_until_exit, spawn_on_pty

hls_media = hls_fixtures.hls_media
hls_server = hls_fixtures.hls_server

# What Rich itself writes on a terminal: SGR colours, cursor hide/show, erase line, cursor up.
RICH_OWN = re.compile(rb"\x1b\[[0-9;]*m|\x1b\[\?25[lh]|\x1b\[2K|\x1b\[[0-9]*A")
BIDI = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")

OSC52 = "\x1b]52;c;UFdORUQ=\x07"  # "write PWNED to the clipboard"
OSC52_ST = "\x1b]52;c;UFdORUQ=\x1b\\"
C1_CSI = "\u009b6n"  # 8-bit CSI: "report the cursor position" (answers land on stdin)
RLO = "\u202e"

OSC52_SHOWN = "\\x1b]52;c;UFdORUQ=\\x07"
C1_SHOWN = "\\x9b6n"
RLO_SHOWN = "\\u202e"

HEAD = "#EXTM3U\n#EXT-X-TARGETDURATION:2\n"


def run_pty(
    *args: str,
    timeout: float = 60,
    cols: int = 200,
    rows: int = 50,
    env: dict[str, str] | None = None,
) -> tuple[int, bytes]:
    """``kithara ARGS`` with a pseudo-terminal as stdin, stdout and stderr; all its bytes."""
    proc, master = spawn_on_pty(args, cols=cols, rows=rows, env=env)
    raw = read_until_exit(proc, master, timeout)
    return proc.returncode, raw


def assert_clean(raw: bytes) -> str:
    """No byte from the network that a terminal would obey; the text, Rich's codes removed."""
    text = RICH_OWN.sub(b"", raw).decode("utf-8")  # strict: a lone 8-bit C1 byte fails here
    bad = sorted(
        {
            f"U+{ord(ch):04X}"
            for ch in text
            if (ord(ch) < 0x20 and ch not in "\r\n") or 0x7F <= ord(ch) <= 0x9F or ch in BIDI
        }
    )
    assert not bad, f"{bad} reached the terminal:\n{text[-3000:]!r}"
    return text


def error_lines(text: str) -> list[str]:
    return [line for line in text.replace("\r", "\n").split("\n") if "kithara: error: " in line]


# --- error lines --------------------------------------------------------------------------------


def test_a_csi_in_a_key_method_is_shown_not_obeyed(hls_server: MediaServer, tmp_path: Path) -> None:
    text = (
        HEAD + '#EXT-X-KEY:METHOD=SAMPLE-AES\x1b[2J,URI="k"\n#EXTINF:2,\nseg.ts\n#EXT-X-ENDLIST\n'
    )
    hls_server.add_route("evil/key.m3u8", static(text))
    url = hls_server.url("evil/key.m3u8")
    code, raw = run_pty("fetch", url, "-o", str(tmp_path / "out.ts"), "-q")
    assert code != 0
    shown = assert_clean(raw)
    (line,) = error_lines(shown)
    assert "SAMPLE-AES\\x1b[2J" in line, line


@pytest.mark.parametrize(
    ("name", "uri", "needle"),
    [
        ("c1", f"seg{C1_CSI}{RLO}.ts", f"seg{C1_SHOWN}{RLO_SHOWN}.ts"),  # fetched: a 404
        ("osc", f"seg{OSC52}.ts", OSC52_SHOWN),  # refused by the parser, quoted in its error
    ],
)
def test_hostile_segment_uri_in_the_error_line(
    hls_server: MediaServer, tmp_path: Path, name: str, uri: str, needle: str
) -> None:
    hls_server.add_route(f"evil/{name}.m3u8", static(f"{HEAD}#EXTINF:2,\n{uri}\n#EXT-X-ENDLIST\n"))
    out = tmp_path / "out.ts"
    code, raw = run_pty("fetch", hls_server.url(f"evil/{name}.m3u8"), "-o", str(out), "-q")
    assert code != 0
    (line,) = error_lines(assert_clean(raw))
    assert needle in line, line


def test_a_megabyte_uri_gives_one_short_error_line(hls_server: MediaServer, tmp_path: Path) -> None:
    uri = "a" * 1_000_000 + C1_CSI + ".ts"
    hls_server.add_route("evil/long.m3u8", static(f"{HEAD}#EXTINF:2,\n{uri}\n#EXT-X-ENDLIST\n"))
    out = tmp_path / "out.ts"
    code, raw = run_pty("fetch", hls_server.url("evil/long.m3u8"), "-o", str(out), "-q")
    assert code != 0
    assert len(raw) < 1000, len(raw)
    (line,) = error_lines(assert_clean(raw))
    assert "…" in line
    assert len(line) <= len("kithara: error: ") + 400
    assert f"{C1_SHOWN}.ts" in line[-120:], line  # the message's end survives the cut


# --- fetch --list, the "fetching" note, -v ---------------------------------------------------------


def hostile_master(media: str = "evil-audio.m3u8") -> str:
    """A master whose rendition and codecs carry OSC 52, C1, bidi, Rich markup and emoji codes;
    its media playlists are the real 20 s English rendition of the HLS fixtures."""
    return (
        "#EXTM3U\n"
        '#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="aud",DEFAULT=YES,AUTOSELECT=YES,CHANNELS="2",'
        f'NAME="Eng{OSC52}[bold red]x[/] :warning:",LANGUAGE="en{OSC52_ST}{C1_CSI}",'
        f'URI="{media}"\n'
        f'#EXT-X-STREAM-INF:BANDWIDTH=800000,CODECS="mp4a.40.2{RLO}",AUDIO="aud"\n'
        f"{media}\n"
    )


def hostile_media(segments: int = 10, missing: int | None = None) -> str:
    """The English rendition's real segments, each URI with a hostile query (the server
    serves by path); segment ``missing`` instead names a file that is not there (404)."""
    lines = [HEAD.rstrip("\n")]
    for i in range(segments):
        uri = f"alt_audio_en_{i:05d}.ts?q={C1_CSI}{RLO}"
        if i == missing:
            uri = f"missing{C1_CSI}{RLO}.ts"
        lines += ["#EXTINF:2,", uri]
    return "\n".join([*lines, "#EXT-X-ENDLIST"]) + "\n"


def serve_hostile(server: MediaServer, missing: int | None = None) -> str:
    server.add_route("misc/evil.m3u8", static(hostile_master()))
    server.add_route("misc/evil-audio.m3u8", static(hostile_media(missing=missing)))
    return server.url("misc/evil.m3u8")


def test_fetch_list_shows_rendition_text_literally(
    hls_media: HlsMedia, hls_server: MediaServer
) -> None:
    code, raw = run_pty("fetch", serve_hostile(hls_server), "--list", cols=250)
    assert code == 0
    shown = assert_clean(raw)
    assert f"Eng{OSC52_SHOWN}[bold red]x[/] :warning: [en\\x1b]52;c;UFdORUQ=\\x1b\\" in shown
    assert f"{C1_SHOWN}]" in shown
    assert f"mp4a.40.2{RLO_SHOWN}" in shown


def test_fetch_list_json_stays_raw_json(hls_media: HlsMedia, hls_server: MediaServer) -> None:
    """--json is data for programs: the text as sent, escaped by JSON, not by the sanitiser."""
    proc = run_cli("fetch", serve_hostile(hls_server), "--list", "--json")
    assert proc.returncode == 0, proc.stderr
    assert "\x1b" not in proc.stdout
    (variant,) = json.loads(proc.stdout)["variants"]
    (rendition,) = variant["renditions"]
    assert rendition["name"] == f"Eng{OSC52}[bold red]x[/] :warning:"
    assert rendition["language"] == f"en{OSC52_ST}{C1_CSI}"


@pytest.mark.parametrize("flag", ["-v", "--dashboard"])
def test_fetch_note_and_progress_show_rendition_text_literally(
    hls_media: HlsMedia, hls_server: MediaServer, tmp_path: Path, flag: str
) -> None:
    out = tmp_path / "out.ts"
    code, raw = run_pty("fetch", serve_hostile(hls_server), "-o", str(out), flag)
    assert code == 0
    assert out.stat().st_size > 0
    shown = assert_clean(raw)
    assert "audio rendition 'Eng\\x1b]52;c;UFdORUQ=\\x07[bold red]x[/] :warning:'" in shown
    assert f"[en\\x1b]52;c;UFdORUQ=\\x1b\\{C1_SHOWN}]" in shown
    if flag == "-v":  # every request line quotes its URL, hostile query and all
        assert f"alt_audio_en_00003.ts?q={C1_SHOWN}{RLO_SHOWN}" in shown


def test_fetch_dashboard_failure_is_escaped(
    hls_media: HlsMedia, hls_server: MediaServer, tmp_path: Path
) -> None:
    out = tmp_path / "out.ts"
    url = serve_hostile(hls_server, missing=4)
    code, raw = run_pty("fetch", url, "-o", str(out), "--dashboard", "--retries", "1")
    assert code != 0
    (line,) = error_lines(assert_clean(raw))
    assert f"missing{C1_SHOWN}{RLO_SHOWN}.ts" in line


def test_plain_lines_are_escaped_too(
    hls_media: HlsMedia, hls_server: MediaServer, tmp_path: Path
) -> None:
    """stderr redirected to a file is read on a terminal later (``cat log``): same rules."""
    url = serve_hostile(hls_server)
    proc = run_cli("fetch", url, "-o", str(tmp_path / "out.ts"), "-v")
    assert proc.returncode == 0, proc.stderr
    assert_clean(proc.stderr.encode())
    assert f"[en\\x1b]52;c;UFdORUQ=\\x1b\\{C1_SHOWN}]" in proc.stderr
    assert f"?q={C1_SHOWN}{RLO_SHOWN}" in proc.stderr


# --- play: the dashboard and the plain log ------------------------------------------------------


def test_play_dashboard_shows_hostile_text_escaped(
    hls_media: HlsMedia, hls_server: MediaServer
) -> None:
    """The dashboard (request URLs, the events log, the ladder's codecs) and the last line,
    for a rendition whose segment 1 is a 404 with a hostile name: plays 2 s, then fails."""
    url = serve_hostile(hls_server, missing=1)
    code, raw = run_pty("play", url, "--output", "null", "--retries", "1", timeout=60)
    assert code != 0
    shown = assert_clean(raw)
    assert "── requests" in shown  # the dashboard did draw
    failed = [ln for ln in shown.splitlines() if " FAILED " in ln]  # the events log
    assert any(f"missing{C1_SHOWN}{RLO_SHOWN}.ts" in ln for ln in failed), failed
    assert f"mp4a.40.2{RLO_SHOWN[:4]}" in shown  # the ladder's codecs, cut to fit
    (line,) = error_lines(shown)
    assert f"missing{C1_SHOWN}{RLO_SHOWN}.ts" in line


def test_play_plain_log_is_escaped(hls_media: HlsMedia, hls_server: MediaServer) -> None:
    url = serve_hostile(hls_server, missing=1)
    proc = hls_fixtures.play(url, "--output", "null", "--retries", "1", "-v")
    assert proc.returncode != 0
    assert_clean(proc.stderr.encode())
    assert f"missing{C1_SHOWN}{RLO_SHOWN}.ts" in proc.stderr.splitlines()[-1]
    assert f"?q={C1_SHOWN}{RLO_SHOWN}" in proc.stderr  # -v's request lines


def test_pty_runner_sees_what_is_not_escaped() -> None:
    """The check itself can fail: raw network text through a pty is caught."""
    code = f"import sys; sys.stderr.write({'x' + OSC52 + C1_CSI!r})"
    master, slave = os.openpty()
    proc = subprocess.Popen([sys.executable, "-c", code], stderr=slave)
    os.close(slave)
    proc.wait(timeout=30)
    raw = os.read(master, 4096)
    os.close(master)
    with pytest.raises(AssertionError, match="U\\+001B"):
        assert_clean(raw)
