"""A per-user cache of generated fixtures, safe under concurrent builders.

pytest-xdist workers, ``kithara bench`` and ``kithara play --demo`` may all want the same
fixture at once. Each builds into its own ``<name>.tmp-<pid>`` directory and renames it into
place; ``rename`` of a directory is atomic on one filesystem, so a reader sees either nothing or
a complete fixture, and the loser of a race simply discards its copy.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kithara_cli.pids import pid_alive

if TYPE_CHECKING:
    from kithara_cli.media.ladder import Ladder

GENERATION = 1
"""Bump whenever generated media changes; it is part of every cache path, so stale fixtures
from older code are never reused (they sit in an old ``media-g<N>`` folder until deleted)."""

DEMO_SECONDS = 20.0
DEMO_BITRATES = (64_000, 128_000, 256_000)

_lock = threading.Lock()


def media_cache_dir() -> Path:
    """``$KITHARA_CACHE_DIR``, else ``$XDG_CACHE_HOME/kithara``, else ``~/.cache/kithara``."""
    explicit = os.environ.get("KITHARA_CACHE_DIR")
    if explicit:
        return Path(explicit).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".cache"
    return base / "kithara"


def _generation_dir() -> Path:
    return media_cache_dir() / f"media-g{GENERATION}"


def _sweep_stale(root: Path, name: str) -> None:
    """Remove temp dirs left by builders that died (their pid no longer exists)."""
    for tmp in root.glob(f"{name}.tmp-*"):
        pid_text = tmp.name.rsplit("-", 1)[-1]
        if pid_text.isdigit() and not pid_alive(int(pid_text)):
            shutil.rmtree(tmp, ignore_errors=True)


def cached(name: str, builder: Callable[[Path], object]) -> Path:
    """Directory ``<cache>/media-g<GENERATION>/<name>``, built by ``builder(tmp_dir)`` once.

    ``builder`` must write everything into the directory it is given (which exists and is empty)
    and must not depend on that directory's name: use relative URIs. ``name`` must encode every
    parameter that changes the output (e.g. ``"ladder-30s-ts-aes"``).
    """
    if not name or "/" in name or name.startswith("."):
        raise ValueError(f"bad cache name {name!r}")
    root = _generation_dir()
    final = root / name
    if final.is_dir():
        return final
    with _lock:  # one builder per process; other processes are handled by the rename
        if final.is_dir():
            return final
        root.mkdir(parents=True, exist_ok=True)
        _sweep_stale(root, name)
        tmp = root / f"{name}.tmp-{os.getpid()}"
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir()
        try:
            builder(tmp)
            try:
                os.rename(tmp, final)
            except OSError:
                if not final.is_dir():  # not a lost race: a real error
                    raise
        finally:
            with contextlib.suppress(FileNotFoundError):
                shutil.rmtree(tmp)
    return final


def cached_ladder(name: str, seconds: float, **kwargs: Any) -> Ladder:
    """A cached :func:`build_ladder`; ``kwargs`` go to it, so put them in ``name`` too."""
    from kithara_cli.media.ladder import Ladder, build_ladder

    path = cached(name, lambda d: build_ladder(d, seconds, **kwargs))
    return Ladder.load(path)


def cached_path(name: str) -> Path | None:
    """``cached(name, ...)``'s directory if it is already built, else None: a ``stat``, no
    import of the encoders (PyAV, numpy), for callers on a start-up path."""
    final = _generation_dir() / name
    return final if final.is_dir() else None


def demo_ladder() -> Path:
    """A 20 s, 64k/128k/256k AAC ladder in TS, 2 s segments: its master playlist."""
    from kithara_cli.media.ladder import MASTER_NAME, build_ladder

    name = "demo-ladder-20s-64k-128k-256k-ts-2s"
    path = cached(
        name, lambda d: build_ladder(d, DEMO_SECONDS, bitrates=DEMO_BITRATES, segment_seconds=2.0)
    )
    return path / MASTER_NAME
