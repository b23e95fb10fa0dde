"""Running and timing commands: wall time, CPU and peak RSS of one child, first stdout byte,
A/B alternation, and the caps that keep every loop bounded in count and time.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import select
import shutil
import signal
import struct
import subprocess
import sys
import termios
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")

TAIL = 600
"""Characters of a failing command's stderr kept for the report."""

PROXY_VARS = ("http_proxy", "https_proxy", "all_proxy", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY")


class RunFailed(Exception):
    """A measured command exited non-zero, timed out, or produced no usable measurement."""

    def __init__(self, message: str, argv: Sequence[str] = (), stderr: str = "") -> None:
        super().__init__(message)
        self.argv = list(argv)
        self.stderr = stderr

    def describe(self) -> str:
        text = str(self)
        if self.argv:
            text += f": `{' '.join(self.argv)}`"
        tail = self.stderr.strip()
        return text + (f" -- stderr: {tail}" if tail else "")


@dataclass
class ProcResult:
    argv: list[str]
    returncode: int
    wall: float
    """Seconds from just before the fork to the child being reaped."""
    cpu: float
    """User + system CPU seconds of this child (and the children it waited for)."""
    maxrss_mb: float
    """Peak resident set of this child, MiB: its ``VmHWM`` sampled while it runs (see
    :class:`PeakRss`), else ``ru_maxrss`` from ``wait4``."""
    stderr: str = ""
    timed_out: bool = False
    started_at: float = 0.0
    """``time.monotonic()`` just before the fork: the child's events share that clock."""

    @property
    def ok(self) -> bool:
        return self.returncode == 0 and not self.timed_out

    def check(self) -> ProcResult:
        if self.timed_out:
            raise RunFailed(f"timed out after {self.wall:.0f} s", self.argv, self.stderr)
        if self.returncode != 0:
            raise RunFailed(f"exit status {self.returncode}", self.argv, self.stderr)
        return self


def child_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment for measured commands: loopback only, no proxies, no sound device, no
    persistent cache."""
    env = {k: v for k, v in os.environ.items() if k not in PROXY_VARS}
    env.update(
        {
            "NO_PROXY": "127.0.0.1,localhost",
            "no_proxy": "127.0.0.1,localhost",
            "NO_COLOR": "1",
            "KITHARA_AUDIO_DEVICE": "none",
            "OPENBLAS_NUM_THREADS": "1",
            # Every measured run goes to the network: a replay served by the persistent cache
            # would measure the disk. The cache scenario turns it on with --cache-dir.
            "KITHARA_CACHE": "off",
        }
    )
    env.update(extra or {})
    return env


def kithara_argv() -> list[str]:
    """How a user starts kithara: the console script next to this interpreter, if present."""
    script = Path(sys.executable).parent / "kithara"
    if script.is_file() and os.access(script, os.X_OK):
        return [str(script)]
    found = shutil.which("kithara")
    if found:
        return [found]
    return [sys.executable, "-m", "kithara_cli"]


def _read_tail(path: Path) -> str:
    try:
        data = path.read_bytes()
    except OSError:
        return ""
    return data[-TAIL:].decode("utf-8", "replace")


def run_process(
    argv: Sequence[str],
    *,
    timeout: float,
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
    stderr_path: Path | None = None,
    terminal: bool = False,
) -> ProcResult:
    """Run ``argv`` to completion; stdout goes to /dev/null, stderr to a file (tail kept).

    With ``terminal`` its stdin and stderr are a pseudo-terminal instead (what it draws there
    is read and dropped), so a command behaves as it does for a user at a terminal.

    The child is reaped with ``wait4`` so its own CPU time is known (not the sum over every
    child this process ever had, as ``RUSAGE_CHILDREN`` would give); its peak RSS is sampled
    (:class:`PeakRss`).
    A timer kills it (SIGKILL) after ``timeout`` seconds.
    """
    argv = [str(a) for a in argv]
    err_file = stderr_path or Path(os.devnull)
    with open(err_file, "wb") as err, _terminal(terminal) as tty:
        started = time.monotonic()  # = perf_counter on Linux; the clock events use
        proc = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL if tty is None else tty,
            stdout=subprocess.DEVNULL,
            stderr=err if tty is None else tty,
            env=env if env is not None else child_env(),
            cwd=cwd,
            start_new_session=True,
        )
        lock = threading.Lock()
        reaped = False
        killed = False

        def kill() -> None:
            nonlocal killed
            with lock:
                if not reaped:
                    killed = True
                    try:
                        os.killpg(proc.pid, signal.SIGKILL)
                    except ProcessLookupError:
                        pass

        peak: PeakRss | None = None
        timer: threading.Timer | None = None
        try:  # from the moment the child exists: a signal anywhere here must not orphan it
            peak = PeakRss(proc.pid)
            timer = threading.Timer(timeout, kill)
            timer.daemon = True
            timer.start()
            while True:
                try:
                    _, status, usage = os.wait4(proc.pid, 0)
                    break
                except InterruptedError:
                    continue
        except BaseException:
            # Ctrl-C or SIGTERM while it runs: the child is in its own session, so nothing
            # else would stop it (nor the helpers it started); kill and reap it, then go on.
            _kill_session(proc)
            raise
        finally:
            with lock:
                reaped = True
            if timer is not None:
                timer.cancel()
            if peak is not None:
                peak.stop()
        wall = time.monotonic() - started
    assert peak is not None  # made before the wait returned
    proc.returncode = os.waitstatus_to_exitcode(status)
    # The child's session may have left helpers behind (yt-dlp runs ffmpeg, for example).
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    return ProcResult(
        argv=argv,
        returncode=proc.returncode,
        wall=wall,
        cpu=usage.ru_utime + usage.ru_stime,
        maxrss_mb=(peak.kib or usage.ru_maxrss) / 1024.0,
        stderr=_read_tail(err_file) if stderr_path is not None else "",
        timed_out=killed,
        started_at=started,
    )


class PeakRss:
    """The child's peak resident set, read from ``/proc/PID/status`` (``VmHWM``) every
    ``POLL_S`` while it runs. ``wait4``'s ``ru_maxrss`` cannot be used: at ``exec`` the kernel
    folds the forking process's resident set into it, so every child measured at least this
    benchmark's own size (``/bin/true`` spawned by a 300 MiB Python: 310 MiB). ``VmHWM`` starts
    afresh with the new program. A peak in the last poll interval before exit can be missed;
    0 when nothing was read (not Linux, or gone before the first read)."""

    POLL_S = 0.01

    def __init__(self, pid: int) -> None:
        self.kib = 0
        self._path = f"/proc/{pid}/status"
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._run, name="bench-rss", daemon=True)
        self._thread.start()

    def _read(self) -> None:
        try:
            with open(self._path, "rb") as fh:
                for line in fh:
                    if line.startswith(b"VmHWM:"):
                        self.kib = max(self.kib, int(line.split()[1]))
                        return
        except (OSError, ValueError, IndexError):
            return

    def _run(self) -> None:
        self._read()
        while not self._done.wait(self.POLL_S):
            self._read()

    def stop(self) -> None:
        self._done.set()
        self._thread.join()


def _kill_session(proc: subprocess.Popen[bytes]) -> None:
    """SIGKILL ``proc``'s whole session (it was started with ``start_new_session``) and reap it."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)
    with contextlib.suppress(ChildProcessError):
        os.waitpid(proc.pid, 0)


@contextlib.contextmanager
def _terminal(wanted: bool) -> Iterator[int | None]:
    """A pseudo-terminal's child side (100 x 30), its output drained on a thread; or None."""
    if not wanted:
        yield None
        return
    master, child = os.openpty()
    fcntl.ioctl(child, termios.TIOCSWINSZ, struct.pack("HHHH", 30, 100, 0, 0))

    def drain() -> None:
        try:
            while os.read(master, 65536):
                pass
        except OSError:  # the child side closed (EIO)
            pass

    reader = threading.Thread(target=drain, daemon=True)
    reader.start()
    try:
        yield child
    finally:
        os.close(child)
        reader.join(timeout=5)
        os.close(master)


def time_to_first_stdout_byte(
    argv: Sequence[str], *, timeout: float, env: dict[str, str] | None = None
) -> float:
    """Seconds from starting ``argv`` to the first byte on its stdout; the child is then killed.

    Raises :class:`RunFailed` if it exits (or ``timeout`` passes) before writing anything.
    """
    argv = [str(a) for a in argv]
    started = time.perf_counter()
    proc = subprocess.Popen(
        argv,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        env=env if env is not None else child_env(),
        start_new_session=True,
    )
    assert proc.stdout is not None
    fd = proc.stdout.fileno()
    try:
        deadline = started + timeout
        while True:
            left = deadline - time.perf_counter()
            if left <= 0:
                raise RunFailed(f"no output within {timeout:.0f} s", argv)
            ready, _, _ = select.select([fd], [], [], left)
            if ready:
                chunk = os.read(fd, 1)
                elapsed = time.perf_counter() - started
                if not chunk:
                    raise RunFailed("exited before writing any output", argv)
                return elapsed
    finally:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.stdout.close()
        proc.wait()


@dataclass
class Budget:
    """A time cap for one scenario: loops stop adding runs once it is spent."""

    seconds: float
    started: float = field(default_factory=time.monotonic)

    @property
    def spent(self) -> bool:
        return time.monotonic() - self.started >= self.seconds

    @property
    def left(self) -> float:
        return max(0.0, self.seconds - (time.monotonic() - self.started))


@dataclass
class Series:
    """Timed values of one side of a comparison, and why the loop stopped early (if it did)."""

    values: list[float] = field(default_factory=list)
    stopped_early: str | None = None


def repeat(
    measure: Callable[[], float], runs: int, budget: Budget, *, warmup: bool = True
) -> Series:
    """``runs`` timed calls after one untimed warm-up; stops early (keeping >= 1) on the cap."""
    series = Series()
    if warmup:
        measure()
    for i in range(runs):
        if i > 0 and budget.spent:
            series.stopped_early = f"time cap: {i} of {runs} runs"
            break
        series.values.append(measure())
    return series


def alternate(
    measure_a: Callable[[], float],
    peers: Mapping[str, Callable[[], float]],
    runs: int,
    budget: Budget,
    *,
    warmup: bool = True,
) -> tuple[Series, dict[str, Series], dict[str, str]]:
    """A B C A B C ...: ``runs`` rounds after one warm-up round; A is kithara, the rest peers.

    Returns A's series, each peer's series and an error text per peer that failed: a failing
    peer drops out (A and the other peers keep running) and is reported, never raised. A's
    failures raise (:class:`RunFailed`): they are kithara's. Each peer's values pair with A's
    of the same rounds (see :func:`pairs`).
    """
    a = Series()
    series = {name: Series() for name in peers}
    errors: dict[str, str] = {}

    def run_peer(name: str) -> float | None:
        if name in errors:
            return None
        try:
            return peers[name]()
        except RunFailed as exc:
            errors[name] = exc.describe()
            return None

    if warmup:
        measure_a()
        for name in peers:
            run_peer(name)
    for i in range(runs):
        if i > 0 and budget.spent:
            a.stopped_early = f"time cap: {i} of {runs} runs"
            break
        a.values.append(measure_a())
        for name in peers:
            value = run_peer(name)
            if value is not None:
                series[name].values.append(value)
    return a, series, errors


def pairs(a: Series, b: Series) -> tuple[list[float], list[float]]:
    """The complete A/B pairs (a peer drops out for good at its first failure, so its
    values are the first rounds')."""
    n = min(len(a.values), len(b.values))
    return a.values[:n], b.values[:n]
