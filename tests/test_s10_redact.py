"""A URL's credentials never reach the terminal: every printing path sanitises, and
``sanitize`` hides ``user:password@`` (the command line and its logs kept it verbatim)."""

from __future__ import annotations

import socket
from pathlib import Path

from conftest import run_cli
from kithara_cli.ui.sanitize import redact_userinfo, sanitize, sanitize_line


def test_userinfo_is_hidden_and_nothing_else_changes() -> None:
    assert sanitize("refused: http://user:s3cret@h:9/x.mp3") == "refused: http://***@h:9/x.mp3"
    assert sanitize_line("https://TOKEN@h/x and ftp://a:b@c/") == "https://***@h/x and ftp://***@c/"
    for kept in ("http://h/x?mail=a@b", "a@b.example", "plain text", "http://h:8000/live"):
        assert sanitize(kept) == kept
    assert redact_userinfo(redact_userinfo("http://u:p@h/")) == "http://***@h/"  # idempotent


def test_a_failed_fetch_and_play_do_not_print_the_password(tmp_path: Path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"http://listener:s3cret@127.0.0.1:{port}/x.mp3"
    fetched = run_cli("fetch", url, "--out", str(tmp_path / "x.mp3"), "--retries", "1")
    played = run_cli("play", url, "--output", "null", "--no-ui", "--retries", "1", "-v")
    for proc in (fetched, played):
        assert proc.returncode == 3, proc.stderr
        assert "s3cret" not in proc.stderr and "listener" not in proc.stderr
        assert f"http://***@127.0.0.1:{port}/x.mp3" in proc.stderr
