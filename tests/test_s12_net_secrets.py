"""A URL's password (the media's or the proxy's) is never written where a person reads it.

Session 10 hid ``user:password@`` on the terminal (``ui.sanitize``). The session 12 network
review found it still in three places users paste into bug reports: the ``--events`` file
(every event with a URL), ``kithara cache ls --json``, and the header of every log and crash
log in the state directory (``argv: [...]``, the ``--proxy`` value included).
"""

from __future__ import annotations

import json
from pathlib import Path

from conftest import run_cli
from kithara_cli import crash
from kithara_cli.server import MediaServer

PASSWORD = "s3cr3t-pw"
PROXY_PASSWORD = "pr0xy-pw"


def _with_credentials(url: str) -> str:
    return url.replace("http://", f"http://alice:{PASSWORD}@", 1)


def test_the_events_file_hides_the_password(server: MediaServer, tmp_path: Path) -> None:
    events = tmp_path / "events.jsonl"
    url = _with_credentials(server.url("small.bin"))
    proc = run_cli("fetch", url, "--out", str(tmp_path / "o"), "--events", str(events))
    assert proc.returncode == 0, proc.stderr
    text = events.read_text()
    assert PASSWORD not in text
    urls = [e["url"] for e in map(json.loads, text.splitlines()) if "url" in e]
    assert urls and all(u.startswith("http://***@127.0.0.1:") for u in urls), urls


def test_cache_ls_json_hides_the_password(server: MediaServer, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    url = _with_credentials(server.url("small.bin"))
    fetched = run_cli("fetch", url, "--out", str(tmp_path / "o"), "--cache-dir", str(cache))
    assert fetched.returncode == 0, fetched.stderr
    for args in (("cache", "ls", "--json"), ("cache", "ls")):
        listed = run_cli(*args, "--cache-dir", str(cache))
        assert listed.returncode == 0, listed.stderr
        assert PASSWORD not in listed.stdout + listed.stderr
        assert f"http://***@127.0.0.1:{server.port}/small.bin" in listed.stdout
    rows = json.loads(run_cli("cache", "ls", "--json", "--cache-dir", str(cache)).stdout)
    assert [row["url"] for row in rows] == [f"http://***@127.0.0.1:{server.port}/small.bin"]


def test_a_crash_log_hides_the_passwords_on_its_command_line(tmp_path: Path) -> None:
    url = _with_credentials("http://127.0.0.1:9/x.mp3")
    proxy_url = f"http://bob:{PROXY_PASSWORD}@127.0.0.1:9"
    proc = run_cli(
        "play", url, "--proxy", proxy_url, "--output", "null",
        env={crash.TEST_CRASH_ENV: "main", crash.STATE_ENV: str(tmp_path)},
        timeout=30,
    )  # fmt: skip
    assert proc.returncode == 1, proc.stderr
    logs = list(tmp_path.glob("crash-*.log"))
    assert len(logs) == 1, proc.stderr
    text = logs[0].read_text()
    assert "argv:" in text and "http://***@127.0.0.1:9/x.mp3" in text
    assert PASSWORD not in text and PROXY_PASSWORD not in text
    assert PASSWORD not in proc.stderr and PROXY_PASSWORD not in proc.stderr
