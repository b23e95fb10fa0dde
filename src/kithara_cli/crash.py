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
``log-*.log`` there too (``install_logging``, ``crash_log``), never raw to the terminal; the
handler is installed the moment logging loads (an import hook), so a run that logs nothing
never loads logging.

Where: ``$KITHARA_STATE_DIR``, else ``$XDG_STATE_HOME/kithara``, else
``~/.local/state/kithara`` (XDG by hand: platformdirs is not a dependency).

Test-only: ``KITHARA_TEST_CRASH=main`` or ``=thread`` raises a ``RuntimeError`` in the main
thread, or in a thread of its own, when the CLI starts (``check_test_crash``), so a test can
prove the path end to end without a real bug; ``=hang`` blocks the decoder's thread for good
once its source is open (``hang_if_asked``), as a deadlock would, with nothing waiting on the
network: what the hang watchdog is for.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:  # the rest loads only when something is reported: start-up stays lean
    from importlib.abc import Loader
    from importlib.machinery import ModuleSpec
    from pathlib import Path
    from types import ModuleType, TracebackType

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

    from kithara_cli.ui.sanitize import redact_argv

    argv = repr(redact_argv(sys.argv))  # passwords, credential headers, cookies: not in a log
    return (
        f"{_PROG} {what} at {datetime.now().isoformat(timespec='seconds')}\n"
        f"argv: {argv}\npython: {sys.version.split()[0]} on {sys.platform}\n\n"
    )


def write_log(text: str, what: str = "crash") -> Path | None:
    """Write ``text`` to a new crash log; its path, or None if it could not be written."""
    from kithara_cli.ui.sanitize import redact_userinfo

    return _write_new_log(what, lambda handle: handle.write(redact_userinfo(text)))


def dump_threads(reason: str) -> Path | None:
    """Every thread's stack (faulthandler's, which needs no lock) into a new crash log."""
    import faulthandler

    def body(handle: TextIO) -> None:
        handle.write(reason + "\n\n")
        handle.flush()
        faulthandler.dump_traceback(file=handle, all_threads=True)

    return _write_new_log("hang", body)


def _write_new_log(what: str, body: Callable[[TextIO], object]) -> Path | None:
    """A new log: the header, then ``body``; None (and no half-written file) when the disk
    will not take it: a full disk must still leave the report its one line."""
    opened = _new_log()
    if opened is None:
        return None
    path, handle = opened
    try:
        with handle:
            handle.write(_header(what))
            body(handle)
    except OSError:
        try:
            path.unlink()
        except OSError:
            pass
        return None
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
    _install_logging_when_loaded()


def install_logging() -> None:
    """Once per process: the ``kithara_cli`` logger writes to a ``LogFileHandler``
    (``crash_log``) and stops there (nothing propagates to the root logger or to logging's
    last resort). Loads logging."""
    from kithara_cli.crash_log import install_handler

    install_handler(_open_log_file, verbose, _PROG)


def _open_log_file() -> tuple[Path, TextIO] | None:
    opened = _new_log("log")
    if opened is not None:
        opened[1].write(_header("log"))
    return opened


def _install_logging_when_loaded() -> None:
    """``install_logging`` now if logging is loaded, else the moment it is: a record needs
    logging loaded, so none can come before the handler. A run that logs nothing never loads
    logging (~3 ms of start-up, on the way to a replay's first audio)."""
    if "logging" in sys.modules:
        install_logging()
    elif not any(isinstance(f, _WhenImported) for f in sys.meta_path):
        sys.meta_path.insert(0, _WhenImported("logging", install_logging))


class _WhenImported:
    """An import hook that runs ``then`` right after module ``name`` has loaded (once)."""

    def __init__(self, name: str, then: Callable[[], None]) -> None:
        self.name = name
        self.then = then

    def find_spec(
        self, name: str, path: Sequence[str] | None = None, target: ModuleType | None = None
    ) -> ModuleSpec | None:
        if name != self.name:
            return None
        for finder in list(sys.meta_path):
            if finder is self:
                continue
            spec = finder.find_spec(name, path, target)
            if spec is not None:
                if spec.loader is not None:
                    sys.meta_path.remove(self)
                    spec.loader = _ThenLoader(spec.loader, self.then)  # type: ignore[assignment]
                return spec
        return None


class _ThenLoader:
    """Loads as ``loader`` does, runs ``then``, and puts ``loader`` back in its place."""

    def __init__(self, loader: Loader, then: Callable[[], None]) -> None:
        self.loader = loader
        self.then = then

    def create_module(self, spec: ModuleSpec) -> ModuleType | None:
        return self.loader.create_module(spec)

    def exec_module(self, module: ModuleType) -> None:
        self.loader.exec_module(module)
        module.__loader__ = self.loader
        if module.__spec__ is not None:
            module.__spec__.loader = self.loader
        self.then()


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


def hang_if_asked() -> None:
    """Test-only (``KITHARA_TEST_CRASH=hang``): block the calling thread for good."""
    if os.environ.get(TEST_CRASH_ENV) == "hang":
        threading.Event().wait()


class HangWatchdog:
    """Fails a stalled pipeline: while ``pending()`` and ``progress()`` is unchanged for
    ``limit`` seconds, dump every thread's stack to a crash log and call ``on_hang`` with its
    path (once). ``excused()`` (a running total of seconds) is time that is not the
    pipeline's to answer for: a read stalled on bytes a network request is bringing, whose
    own timeouts and retries end it with their typed error. It does not run the clock, so a
    server's stall is never reported as an internal hang. The clock and the poll are
    injectable for tests."""

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
        excused: Callable[[], float] | None = None,
    ) -> None:
        self._progress = progress
        self._pending = pending
        self._on_hang = on_hang
        self._excused = excused if excused is not None else lambda: 0.0
        self.limit = limit
        self._clock = clock
        self._poll = poll if poll is not None else min(1.0, max(0.01, limit / 10))
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._last: object = None
        self._since = 0.0
        self._excused_since = 0.0
        self.fired = False

    def start(self) -> HangWatchdog:
        self._last = self._progress()
        self._since = self._clock()
        self._excused_since = self._excused()
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()

    def step(self) -> bool:
        """One look; True once it has fired."""
        now = self._clock()
        seen = self._progress()
        excused = self._excused()
        if seen != self._last or not self._pending():
            self._last, self._since, self._excused_since = seen, now, excused
            return False
        charged = now - self._since - max(0.0, excused - self._excused_since)
        if charged < self.limit:
            return False
        self.fired = True
        reason = f"no progress for {charged:.0f} s while work was pending"
        self._on_hang(dump_threads(reason))
        return True

    def _run(self) -> None:
        while not self._stop.wait(self._poll):
            if self.step():
                return
