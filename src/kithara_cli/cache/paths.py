"""Where the cache lives, and the names of what is in it.

platformdirs is not installed, so the XDG rule is written out here: ``--cache-dir``, else
``KITHARA_CACHE_DIR``, else ``$XDG_CACHE_HOME/kithara`` (an absolute XDG_CACHE_HOME only, as the
spec says), else ``~/.cache/kithara``. Every file name inside is a hex digest: no part of a URL
ever becomes part of a path, so ``..``, ``%2e%2e``, long or odd URLs cannot leave the directory.
"""

from __future__ import annotations

import contextlib
import hashlib
import math
import os
from pathlib import Path

ENV_DIR = "KITHARA_CACHE_DIR"
DEFAULT_CAP = 1 << 30  # 1 GiB
INDEX_NAME = "index.sqlite3"  # the SQLite index in the cache directory


def cache_dir(option: Path | None = None, env: dict[str, str] | None = None) -> Path:
    environ = os.environ if env is None else env
    if option is not None:
        return option.expanduser()
    if environ.get(ENV_DIR):
        return Path(environ[ENV_DIR]).expanduser()
    xdg = environ.get("XDG_CACHE_HOME", "")
    if xdg and os.path.isabs(xdg):
        return Path(xdg) / "kithara"
    return Path.home() / ".cache" / "kithara"


def entry_key(url: str) -> str:
    """The index key of a resource: a digest of its URL."""
    return hashlib.sha256(b"url\0" + url.encode("utf-8", "surrogatepass")).hexdigest()


def piece_name(url: str, start: int, end: int, version: str) -> str:
    """A data file's name: a digest of (URL, byte range, version), never the URL's text."""
    raw = f"{url}\0{start}\0{end}\0{version}".encode("utf-8", "surrogatepass")
    return hashlib.sha256(raw).hexdigest()


def parse_size(text: str) -> int:
    """``1G``, ``500M``, ``64KiB``, ``1048576`` -> bytes."""
    s = text.strip().upper().removesuffix("IB").removesuffix("B")
    scale = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40}.get(s[-1:] if s else "", 1)
    if scale != 1:
        s = s[:-1]
    try:
        value = float(s)
    except ValueError:
        value = math.nan
    if not math.isfinite(value * scale):  # inf, nan, 1e400: no number of bytes
        raise ValueError(f"bad size {text!r}: expected e.g. 1G, 500M, 1048576")
    if value < 0:
        raise ValueError(f"bad size {text!r}: negative")
    return int(value * scale)


# A head (``cache.head``) is an entry of its own under its resource's URL with this prefix:
# no fetched URL has it (they are http(s)), so a head never stands for any resource.
HEAD_PREFIX = "kithara-head:"


def head_key(url: str) -> str:
    """The URL a resource's head is stored under."""
    return HEAD_PREFIX + url


def discard(root: Path) -> int:
    """Remove a damaged index and every data file it named (they cannot be found without it):
    what ``kithara cache clear`` does when the index will not open. Only kithara's own names
    are removed (the index, its journal files, digest-named data files, temporary parts).
    Returns the number of data files removed."""
    for name in (INDEX_NAME, *(INDEX_NAME + s for s in ("-wal", "-shm", "-journal"))):
        with contextlib.suppress(FileNotFoundError):
            (root / name).unlink()
    removed = 0
    for path in (root / "data").glob("??/*"):
        if len(path.name) == 64 and path.parent.name == path.name[:2] and path.is_file():
            path.unlink()
            removed += 1
    for folder in (root / "data").glob("??"):
        with contextlib.suppress(OSError):
            folder.rmdir()  # empty now (anything else there is not kithara's: kept)
    for leftover in (root / "tmp").glob("*.part"):
        with contextlib.suppress(OSError):
            leftover.unlink()
    return removed
