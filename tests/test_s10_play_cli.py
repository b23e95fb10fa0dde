"""``kithara play``'s first minutes: typos, folders, several URLs, exit codes scripts can trust.

Found by a user-level review (session 10): ``http://[::1`` was an internal error with a crash
log; a folder was "decoder failed: IsADirectoryError" (exit 5); ``play BAD GOOD`` exited 0
while ``play GOOD BAD`` exited 4; 21 station links on one command line were "nested too
deep" (exit 2), as the expansions were counted over the whole queue, not down one chain.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import run_cli


def _lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.strip()]


@pytest.mark.parametrize(
    ("target", "says"),
    [
        ("http://[::1", "invalid URL"),
        ("https://[bad/x.m3u8", "invalid URL"),
        ("", "empty URL"),
        (".", "a folder"),
    ],
)
def test_a_typo_is_one_usage_line_exit_2(target: str, says: str, tmp_path: Path) -> None:
    r = run_cli("play", target, "--output", "null", "--no-ui", cwd=tmp_path, timeout=30)
    assert r.returncode == 2, r.stderr
    lines = _lines(r.stderr)
    assert len(lines) == 1 and says in lines[0], lines
    assert "internal error" not in r.stderr and "Traceback" not in r.stderr
