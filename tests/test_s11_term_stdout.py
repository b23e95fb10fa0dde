"""stdout that cannot be written: closed (``>&-``), full (``>/dev/full``), or a pipe whose reader
has left (``kithara cache ls | head -1``).

Closed: there is nothing to print to, as with Python's own ``print``; the command still does
its work and exits 0. A reader that left changes no exit code (as for stderr). A write that
fails (disk full) is local output failing: one line, exit 6. Never a crash log.
"""

from __future__ import annotations

import os
import subprocess

import pytest

from conftest import KITHARA

COMMANDS = [("--version",), ("config", "show"), ("cache", "info"), ("play", "-h")]


def run(args: tuple[str, ...], stdout: str) -> subprocess.CompletedProcess[bytes]:
    env = {**os.environ, "NO_COLOR": "1"}
    if stdout == "closed":
        return subprocess.run(
            [*KITHARA, *args],
            stdin=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            preexec_fn=lambda: os.close(1),
            env=env,
            timeout=30,
        )
    if stdout == "full":
        with open("/dev/full", "wb") as full:
            return subprocess.run(
                [*KITHARA, *args],
                stdin=subprocess.DEVNULL,
                stdout=full,
                stderr=subprocess.PIPE,
                env=env,
                timeout=30,
            )
    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader is gone before kithara writes a byte
    try:
        return subprocess.run(
            [*KITHARA, *args],
            stdin=subprocess.DEVNULL,
            stdout=write_end,
            stderr=subprocess.PIPE,
            env=env,
            timeout=30,
        )
    finally:
        os.close(write_end)


@pytest.mark.parametrize("args", COMMANDS, ids=" ".join)
@pytest.mark.parametrize("stdout", ["closed", "reader-left"])
def test_nowhere_to_print_is_no_error(args: tuple[str, ...], stdout: str) -> None:
    proc = run(args, stdout)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == b"", proc.stderr


@pytest.mark.parametrize("args", COMMANDS, ids=" ".join)
def test_a_full_stdout_is_one_line_exit_6(args: tuple[str, ...]) -> None:
    proc = run(args, "full")
    assert proc.returncode == 6, proc.stderr
    lines = proc.stderr.decode().strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("kithara: error: "), proc.stderr
    assert "No space left" in lines[0] and "internal error" not in lines[0], lines
