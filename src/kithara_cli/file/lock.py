"""One writer per output: an exclusive ``flock`` on ``FILE.kithara.lock`` for a whole fetch.

Why a lock file of its own rather than a lock on ``FILE.part``: the fetch replaces, truncates
and renames ``FILE.part`` (a restart after the remote changed, the final ``os.replace`` into
``FILE``), and ``flock`` belongs to an inode, so a lock on the part would be lost or split in
two at exactly those moments. The lock file is only ever created and, by its holder, removed.

The kernel drops the lock when its holder dies, however it dies (kill -9 included), so a lock
file left behind is harmless: the next run takes it over. Removal while held is made safe by
checking, after locking, that the path still names the inode we locked (else retry), the
usual pattern for unlinkable lock files.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Iterator
from pathlib import Path

from kithara_cli.errors import OutputBusyError, OutputError


def lock_path(out: Path) -> Path:
    return out.with_name(out.name + ".kithara.lock")


class OutputLock:
    """Held from before the first check of ``--out`` until the fetch has finished or failed."""

    def __init__(self, out: Path) -> None:
        self.out = out
        self.path = lock_path(out)
        self._fd: int | None = None

    def acquire(self) -> None:
        """Take the lock or raise OutputBusyError at once (never waits for the other run)."""
        for _ in range(10):
            try:
                fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
            except OSError as exc:
                raise OutputError(f"cannot write {self.out}: {exc.strerror}") from exc
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                holder = _read_pid(fd)
                os.close(fd)
                who = f" (pid {holder})" if holder else ""
                raise OutputBusyError(
                    f"{self.out} is being written by another kithara{who}"
                ) from None
            except OSError as exc:  # a file system without flock: no lock, say so plainly
                os.close(fd)
                raise OutputError(f"cannot lock {self.path}: {exc.strerror}") from exc
            if _same_file(fd, self.path):
                self._fd = fd
                try:
                    os.ftruncate(fd, 0)
                    os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
                except OSError as exc:  # a full disk: no room even for the pid
                    self.release()
                    raise OutputError(f"cannot write {self.out}: {exc.strerror}") from exc
                return
            os.close(fd)  # the holder removed it between our open and our lock: try again
        raise OutputBusyError(f"{self.out} is being written by another kithara")

    def release(self) -> None:
        """Remove the lock file (while still holding it), then let go."""
        fd, self._fd = self._fd, None
        if fd is None:
            return
        with contextlib.suppress(OSError):
            if _same_file(fd, self.path):
                self.path.unlink()
        os.close(fd)

    def __enter__(self) -> OutputLock:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


@contextlib.contextmanager
def output_lock(out: Path) -> Iterator[OutputLock]:
    with OutputLock(out) as lock:
        yield lock


def _same_file(fd: int, path: Path) -> bool:
    try:
        st = os.stat(path)
    except OSError:
        return False
    mine = os.fstat(fd)
    return (st.st_dev, st.st_ino) == (mine.st_dev, mine.st_ino)


def _read_pid(fd: int) -> int | None:
    try:
        text = os.pread(fd, 32, 0).decode("ascii", "replace").strip()
    except OSError:
        return None
    return int(text) if text.isdigit() else None
