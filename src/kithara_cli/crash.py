"""No traceback ever reaches a user: an unexpected exception becomes one line and a crash log.

As pip and yt-dlp do, the line names the error and the file that holds the full trace:

    kithara: error: internal error (ValueError: ...); details in ~/.local/state/kithara/crash-...

``install`` routes every way an exception can escape to ``report``: the main thread (``run``
in ``__main__`` catches what ``main`` lets through), any other thread (``threading.excepthook``;
the process then exits 1, as a crashed main thread would), and exceptions Python can only
ignore (``sys.unraisablehook``: logged, no line, no exit). ``--verbose``/``-v`` on the command
line also prints the trace to stderr. ``HangWatchdog`` dumps every thread's stack to a crash
log when work is pending and nothing moves (the Rust kithara's hang watchdog). kithara's own
log records (``log.exception`` where a peer's bug must not stop the pipeline) go to a
``log-*.log`` there too (``install_logging``), never raw to the terminal.

Where: ``$KITHARA_STATE_DIR``, else ``$XDG_STATE_HOME/kithara``, else
``~/.local/state/kithara`` (XDG by hand: platformdirs is not a dependency).

Test-only: ``KITHARA_TEST_CRASH=main`` or ``=thread`` raises a ``RuntimeError`` in the main
thread, or in a thread of its own, when the CLI starts (``check_test_crash``), so a test can
prove the path end to end without a real bug.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:  # the rest loads only when something is reported: start-up stays lean
    from pathlib import Path
    from types import TracebackType

STATE_ENV = "KITHARA_STATE_DIR"
TEST_CRASH_ENV = "KITHARA_TEST_CRASH"
EXIT_CODE = 1
_PROG = "kithara"

_lock = threading.Lock()
_reported = False


def state_dir(env: dict[str, str] | None = None) -> Path:
    """Where crash logs go: the override, else the XDG state directory."""
    from pathlib import Path

    env = dict(os.environ) if env is None else env
    override = env.get(STATE_ENV)
    if override:
        return Path(override)
    xdg = env.get("XDG_STATE_HOME")
    base = Path(xdg) if xdg and os.path.isabs(xdg) else Path.home() / ".local" / "state"
    return base / "kithara"


def _new_log(prefix: str = "crash") -> tuple[Path, TextIO] | None:
    """A fresh crash log, opened for writing; None when no directory will take it."""
    from datetime import datetime

    try:
        folder = state_dir()
        folder.mkdir(parents=True, exist_ok=True)
        stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
        for n in range(100):
            path = folder / (f"{prefix}-{stamp}.log" if n == 0 else f"{prefix}-{stamp}-{n}.log")
            try:
                return path, open(path, "x", encoding="utf-8")
            except FileExistsError:
                continue
    except OSError:
        return None
    return None


def _header(what: str) -> str:
    from datetime import datetime

    return (
        f"{_PROG} {what} at {datetime.now().isoformat(timespec='seconds')}\n"
        f"argv: {sys.argv!r}\npython: {sys.version.split()[0]} on {sys.platform}\n\n"
    )


def write_log(text: str, what: str = "crash") -> Path | None:
    """Write ``text`` to a new crash log; its path, or None if it could not be written."""
    opened = _new_log()
    if opened is None:
        return None
    path, handle = opened
    with handle:
        handle.write(_header(what) + text)
    return path


def dump_threads(reason: str) -> Path | None:
    """Every thread's stack (faulthandler's, which needs no lock) into a new crash log."""
    opened = _new_log()
    if opened is None:
        return None
    import faulthandler

    path, handle = opened
    with handle:
        handle.write(_header("hang") + reason + "\n\n")
        handle.flush()
        faulthandler.dump_traceback(file=handle, all_threads=True)
    return path


def verbose() -> bool:
    """``--verbose``/``-v`` is on the command line (read from argv: the crash path runs
    before, or without, the CLI's own parsing)."""
    args = sys.argv[1:]
    if "--" in args:
        args = args[: args.index("--")]
    return any(a in ("--verbose", "-v") for a in args)


def one_line(exc: BaseException, log: Path | None) -> str:
    name = type(exc).__name__
    text = " ".join(str(exc).split())[:200]
    what = f"{name}: {text}" if text else name
    where = f"details in {log}" if log is not None else "no crash log could be written"
    return f"{_PROG}: error: internal error ({_printable(what)}); {where}"


def _printable(text: str) -> str:
    return "".join(c if c.isprintable() else "?" for c in text)


def report(
    exc_type: type[BaseException],
    exc: BaseException,
    tb: TracebackType | None,
    thread: str | None = None,
) -> None:
    """Log the trace, print the one line (and the trace with ``--verbose``). Once per process:
    a second crash while the first is reported adds nothing for the user."""
    import traceback

    global _reported
    with _lock:
        first = not _reported
        _reported = True
    trace = "".join(traceback.format_exception(exc_type, exc, tb))
    where = f"in thread {thread}\n" if thread else ""
    log = write_log(where + trace)
    if not first:
        return
    _restore_terminal()
    try:
        if verbose():  # an exception's text may carry network text: shown escaped
            from kithara_cli.ui.sanitize import sanitize

            sys.stderr.write("".join(sanitize(t, 2000) + "\n" for t in trace.splitlines()))
        sys.stderr.write(one_line(exc, log) + "\n")
        sys.stderr.flush()
    except (OSError, ValueError):
        pass


def _thread_hook(args: threading.ExceptHookArgs) -> None:
    if args.exc_type is SystemExit:
        return
    exc = args.exc_value if args.exc_value is not None else args.exc_type()
    name = args.thread.name if args.thread is not None else None
    report(args.exc_type, exc, args.exc_traceback, thread=name)
    os._exit(EXIT_CODE)  # a thread's crash leaves the pipeline broken: end as main would


def _main_hook(exc_type: type[BaseException], exc: BaseException, tb: TracebackType | None) -> None:
    if issubclass(exc_type, KeyboardInterrupt):
        os._exit(130)  # Ctrl-C before the command's own handling: no trace, the usual code
    report(exc_type, exc, tb)


def _unraisable_hook(unraisable: sys.UnraisableHookArgs) -> None:
    """What Python can only ignore (a ``__del__`` that raised): logged, never printed."""
    import traceback

    exc = unraisable.exc_value
    trace = "".join(traceback.format_exception(unraisable.exc_type, exc, unraisable.exc_traceback))
    write_log(f"ignored ({unraisable.err_msg}: {unraisable.object!r})\n{trace}", "unraisable")


_saved_tty: list[object] | None = None


def _save_terminal() -> None:
    global _saved_tty
    try:
        import termios

        if sys.stdin is not None and sys.stdin.isatty():
            _saved_tty = termios.tcgetattr(sys.stdin.fileno())
    except (ImportError, OSError, ValueError):
        _saved_tty = None


def _restore_terminal() -> None:
    """Cooked mode and a visible cursor again: a crash may come while the dashboard runs."""
    if _saved_tty is None:
        return
    try:
        import termios

        termios.tcsetattr(sys.stdin.fileno(), termios.TCSADRAIN, _saved_tty)  # type: ignore[arg-type]
        if sys.stderr.isatty():
            sys.stderr.write("\x1b[?25h")
    except (ImportError, OSError, ValueError):
        pass


def install() -> None:
    """Route every escape of an unexpected exception to ``report``, and kithara's own log
    records to a log file (``install_logging``)."""
    _save_terminal()
    sys.excepthook = _main_hook
    threading.excepthook = _thread_hook
    sys.unraisablehook = _unraisable_hook
    install_logging()


LOG_LIMIT = 1_000_000
"""Characters one process writes to its log file at most (a subscriber failing on every event
must not fill the disk)."""


class LogFileHandler(logging.Handler):
    """kithara's log records (a failing event subscriber, a peer's ``on_complete``, a dashboard
    frame: each ``log.exception`` with its traceback) go to one ``log-*.log`` in the state
    directory, opened on the first record, and never to the terminal raw: without a handler,
    logging's last resort printed the message (network text included) and a traceback to
    stderr. With ``--verbose`` one sanitised line per record names the file."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.path: Path | None = None
        self._file: TextIO | None = None
        self._opened = False
        self._written = 0

    def emit(self, record: logging.LogRecord) -> None:  # called under the handler's lock
        try:
            if not self._opened:
                self._opened = True
                opened = _new_log("log")
                if opened is not None:
                    self.path, self._file = opened
                    self._file.write(_header("log"))
            text = logging.Formatter(
                "%(asctime)s %(threadName)s %(name)s %(levelname)s: %(message)s"
            ).format(record)
            if self._file is not None and self._written < LOG_LIMIT:
                self._written += len(text) + 1
                self._file.write(text + "\n")
                self._file.flush()
            if verbose():
                from kithara_cli.ui.sanitize import sanitize_line

                exc = record.exc_info[1] if record.exc_info else None
                what = f" ({type(exc).__name__}: {exc})" if exc is not None else ""
                where = f"; details in {self.path}" if self.path is not None else ""
                line = f"{_PROG}: {record.levelname.lower()}: {record.getMessage()}{what}{where}"
                sys.stderr.write(sanitize_line(line) + "\n")
        except Exception:  # a log that cannot be written must not become a traceback either
            pass

    def close(self) -> None:
        if self._file is not None:
            try:
                self._file.close()
            except OSError:
                pass
            self._file = None
        super().close()


def install_logging() -> None:
    """Once per process: the ``kithara_cli`` logger writes to a ``LogFileHandler`` and stops
    there (nothing propagates to the root logger or to logging's last resort)."""
    logger = logging.getLogger("kithara_cli")
    if any(isinstance(h, LogFileHandler) for h in logger.handlers):
        return
    logger.addHandler(LogFileHandler())
    logger.setLevel(logging.WARNING)
    logger.propagate = False


def check_test_crash() -> None:
    """Test-only (``KITHARA_TEST_CRASH``): raise an unexpected exception where asked."""
    where = os.environ.get(TEST_CRASH_ENV)
    if where == "main":
        raise RuntimeError("test crash in the main thread")
    if where == "thread":

        def crash() -> None:
            raise RuntimeError("test crash in a thread")

        thread = threading.Thread(target=crash, name="kithara-test-crash")
        thread.start()
        thread.join()


class HangWatchdog:
    """Fails a stalled pipeline: while ``pending()`` and ``progress()`` is unchanged for
    ``limit`` seconds, dump every thread's stack to a crash log and call ``on_hang`` with its
    path (once). The clock and the poll are injectable for tests."""

    def __init__(
        self,
        progress: Callable[[], object],
        pending: Callable[[], bool],
        on_hang: Callable[[Path | None], None],
        *,
        limit: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
        poll: float | None = None,
        name: str = "kithara-watchdog",
    ) -> None:
        self._progress = progress
        self._pending = pending
        self._on_hang = on_hang
        self.limit = limit
        self._clock = clock
        self._poll = poll if poll is not None else min(1.0, max(0.01, limit / 10))
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._last: object = None
        self._since = 0.0
        self.fired = False

    def start(self) -> HangWatchdog:
        self._last = self._progress()
        self._since = self._clock()
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()

    def step(self) -> bool:
        """One look; True once it has fired."""
        now = self._clock()
        seen = self._progress()
        if seen != self._last or not self._pending():
            self._last, self._since = seen, now
            return False
        if now - self._since < self.limit:
            return False
        self.fired = True
        reason = f"no progress for {now - self._since:.0f} s while work was pending"
        self._on_hang(dump_threads(reason))
        return True

    def _run(self) -> None:
        while not self._stop.wait(self._poll):
            if self.step():
                return
