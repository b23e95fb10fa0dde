"""Shared fixtures: real loopback servers and real bytes, built once per session."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

from kithara_cli.events import EventBus
from kithara_cli.server import MediaServer

# Properties are checked for what they hold, never for how fast: on a loaded 2-core CI machine a
# per-example deadline only turns slowness into flaky failures (speed is kithara bench's job).
settings.register_profile(
    "kithara", deadline=None, suppress_health_check=[HealthCheck.too_slow], print_blob=True
)
settings.load_profile("kithara")

REPO = Path(__file__).resolve().parents[1]

# The persistent cache is off for tests written before it existed (they replay URLs and count
# requests); tests of the cache pass --cache-dir, which turns it on. Should a command still
# open it, it lands in a scratch directory, never the user's.
os.environ["KITHARA_CACHE"] = "off"
os.environ.setdefault(
    "KITHARA_CACHE_DIR", str(Path(__import__("tempfile").mkdtemp(prefix="kithara-cache-")))
)
KITHARA = [sys.executable, "-m", "kithara_cli"]


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="session")
def blob_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Random files of a few sizes (random bytes: any misplaced byte changes the hash)."""
    root = tmp_path_factory.mktemp("blobs")
    rng = __import__("random").Random(1234)
    for name, size in (("small.bin", 200_000), ("medium.bin", 3_000_000), ("big.bin", 16_000_000)):
        (root / name).write_bytes(rng.randbytes(size))
    (root / "sub").mkdir()
    (root / "sub" / "song.mp3").write_bytes(rng.randbytes(500_000))
    return root


@pytest.fixture
def server(blob_root: Path) -> Iterator[MediaServer]:
    with MediaServer(blob_root) as srv:
        yield srv


@pytest.fixture
def bus() -> EventBus:
    return EventBus()


def run_cli(
    *args: str, cwd: Path | None = None, timeout: float = 60, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    full_env = {**os.environ, "NO_COLOR": "1", "COLUMNS": "100", **(env or {})}
    return subprocess.run(
        [*KITHARA, *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        env=full_env,
        stdin=subprocess.DEVNULL,
    )


def play_null(
    url: str, events: Path, length: str = "0.5", timeout: float = 30
) -> subprocess.CompletedProcess[str]:
    """``kithara play URL`` to the null sink, no dashboard, events to ``events``."""
    args = ("play", url, "--output", "null", "--length", length, "--no-ui")
    return run_cli(*args, "--events", str(events), timeout=timeout)


def fetch_cli(url: str, out: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """``kithara fetch URL --out OUT`` with two retries (the fault tests' budget)."""
    return run_cli("fetch", url, "--out", str(out), "--retries", "2", *args, timeout=60)


def assert_clean_failure(proc: subprocess.CompletedProcess[str], out: Path, code: int) -> None:
    """Exit ``code``, one ``kithara: error:`` line, no traceback, nothing at ``out``."""
    assert proc.returncode == code, proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("kithara: error: "), proc.stderr
    assert "Traceback" not in proc.stderr
    assert not out.exists()
