"""What loads before a replay's cached head can play (issue 18's replay target).

A replay from fresh cache entries plays its head (``play.head``) before any request, so every
module imported on the way is time before first audio. asyncio (with ssl and
concurrent.futures) loads with the downloader's loop, which starts on first need; logging
loads when something is logged (kithara's handler is installed the moment it does); tomllib
when there is a config file; socket when a network error is classified. These tests import
the command line and the modules a replay goes through in a fresh interpreter and check that
none of those came along, so that a later import cannot quietly put them back.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from pathlib import Path

from kithara_cli.events import EventBus
from kithara_cli.server import MediaServer

# What ``kithara play URL`` imports before the player opens (cli.py, its root callback,
# commands.play and what it imports, the cache, the downloader's class).
ROAD = (
    "kithara_cli.cli",
    "kithara_cli.commands.config",
    "kithara_cli.commands.common",
    "kithara_cli.commands.play",
    "kithara_cli.commands.cache",
    "kithara_cli.dl",
    "kithara_cli.dl.cached",
    "kithara_cli.dl.freshness",
    "kithara_cli.dl.validate",
    "kithara_cli.dl.command",
    "kithara_cli.dl.downloader",
    "kithara_cli.net",
    "kithara_cli.events",
    "kithara_cli.cache.hook",
    "kithara_cli.cache.head",
    "kithara_cli.play",
    "kithara_cli.play.head",
)
LATER = ("asyncio", "ssl", "concurrent.futures", "socket", "tomllib", "httpcore", "httpx")
LATER += ("tempfile", "wave")  # a play's run files, a wav: output


def loaded_after(code: str, watch: tuple[str, ...], env: dict[str, str] | None = None) -> list[str]:
    """Run ``code`` in a fresh interpreter after ``crash.install()`` (as ``kithara`` starts);
    which of ``watch`` were loaded then."""
    script = (
        "import json, sys\n"
        "from kithara_cli import crash\n"
        "crash.install()\n"
        f"{code}\n"
        f"print(json.dumps([m for m in {watch!r} if m in sys.modules]))\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, **(env or {})},
        stdin=subprocess.DEVNULL,
    )
    assert proc.returncode == 0, proc.stderr
    found: list[str] = json.loads(proc.stdout.splitlines()[-1])
    return found


def test_the_replay_road_loads_no_network_stack_and_no_config_parser() -> None:
    code = "\n".join(f"import {m}" for m in ROAD) + (
        "\nfrom kithara_cli.dl import Downloader\n"
        "from kithara_cli.events import EventBus\n"
        "from kithara_cli.net import NetConfig\n"
        "dl = Downloader(EventBus(), NetConfig())\n"  # made, not started: commands.play's way
        "dl.close()\n"
    )
    assert loaded_after(code, LATER) == []
    # the check can fail: using the downloader loads them
    used = loaded_after(code.replace("dl.close()", "dl.start(); dl.close()"), ("asyncio",))
    assert used == ["asyncio"]


def test_nothing_on_the_road_loads_logging() -> None:
    assert loaded_after("\n".join(f"import {m}" for m in ROAD), ("logging",)) == []


def test_logging_loaded_later_still_gets_kitharas_handler(tmp_path: Path) -> None:
    """A record made after logging loads goes to the log file and never to stderr raw."""
    code = (
        "assert 'logging' not in sys.modules\n"
        "import logging\n"
        "logger = logging.getLogger('kithara_cli')\n"
        "assert [type(h).__name__ for h in logger.handlers] == ['LogFileHandler']\n"
        "assert not logger.propagate\n"
        "assert type(logging.__loader__).__name__ == 'SourceFileLoader'\n"
        "logging.getLogger('kithara_cli.test').warning('late record \\x1b[2J')\n"
    )
    script = "import sys\nfrom kithara_cli import crash\ncrash.install()\n" + code
    proc = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "KITHARA_STATE_DIR": str(tmp_path)},
        stdin=subprocess.DEVNULL,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    logs = list(tmp_path.glob("log-*.log"))
    assert len(logs) == 1 and "late record" in logs[0].read_text()


def _dl_threads() -> list[str]:
    return [t.name for t in threading.enumerate() if t.name == "kithara-dl"]


def test_the_downloader_starts_its_loop_on_first_need(server: MediaServer) -> None:
    from kithara_cli.dl import Downloader

    idle = Downloader(EventBus())
    idle.close()  # never used: no loop was started
    assert _dl_threads() == []
    dl = Downloader(EventBus())
    try:
        assert _dl_threads() == []
        body, _ = dl.fetch_bytes(server.url("small.bin"), timeout=30)  # the first submit
        assert len(body) == 200_000
        assert _dl_threads() == ["kithara-dl"]
    finally:
        dl.close()
    assert _dl_threads() == []


def test_a_head_is_found_before_the_downloaders_modules_load(tmp_path: Path) -> None:
    """The cache answers a head from the store itself (``DiskCache.replay_head``): the
    downloader's commands and cached-copy logic (dl.cached, dl.command) load after it plays."""
    code = (
        "import time\n"
        "from pathlib import Path\n"
        "from kithara_cli.cache import open_cache\n"
        "from kithara_cli.cache.head import Head, HeadFormat, HeadPart, HeadVersion, save\n"
        "from kithara_cli.cache.store import CacheStore, EntryMeta\n"
        f"folder = {str(tmp_path)!r}\n"
        "url = 'http://example.test/a.mp3'\n"
        "store = CacheStore(Path(folder))\n"
        "store.put(EntryMeta(url, '\"v\"', None, 4, True, 'audio/mpeg', time.time() + 60, 0), 0,"
        " b'abcd')\n"
        "part = HeadPart(url, '\"v\"', None, 4)\n"
        "save(store, Head(url, HeadVersion((part,)), HeadFormat(48000, 2), bytes(800)))\n"
        "store.close()\n"
        "cache = open_cache(Path(folder))\n"
        "assert cache.replay_head(url) is not None\n"
    )
    assert loaded_after(code, ("kithara_cli.dl.cached", "kithara_cli.dl.command")) == []
    # the check can fail: a lookup (the downloader's way in) loads them
    looked = loaded_after(code + "cache.lookup(url)\n", ("kithara_cli.dl.cached",))
    assert looked == ["kithara_cli.dl.cached"]
