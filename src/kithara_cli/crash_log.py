"""kithara's own log records go to a ``log-*.log`` in the state directory, never raw to the
terminal (see :mod:`kithara_cli.crash`, whose ``install_logging`` installs this handler).

Apart from crash.py because it needs logging loaded, and a run that logs nothing never loads
logging: crash installs the handler the moment logging loads, and hands it how to open a log
file and whether ``--verbose`` is on (this module imports nothing of kithara's but the
sanitiser, so crash can import it).
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:
    from pathlib import Path

    OpenLog = Callable[[], tuple[Path, TextIO] | None]

LOG_LIMIT = 1_000_000
"""Characters one process writes to its log file at most (a subscriber failing on every event
must not fill the disk)."""


class LogFileHandler(logging.Handler):
    """kithara's log records (a failing event subscriber, a peer's ``on_complete``, a dashboard
    frame: each ``log.exception`` with its traceback) go to one ``log-*.log`` in the state
    directory, opened on the first record, and never to the terminal raw: without a handler,
    logging's last resort printed the message (network text included) and a traceback to
    stderr. With ``--verbose`` one sanitised line per record names the file."""

    def __init__(self, open_log: OpenLog, verbose: Callable[[], bool], prog: str) -> None:
        """``open_log``: a new log file, its header written (None: none could be made)."""
        super().__init__(logging.WARNING)
        self._open_log = open_log
        self._verbose = verbose
        self._prog = prog
        self.path: Path | None = None
        self._file: TextIO | None = None
        self._opened = False
        self._written = 0

    def emit(self, record: logging.LogRecord) -> None:  # called under the handler's lock
        try:
            if not self._opened:
                self._opened = True
                opened = self._open_log()
                if opened is not None:
                    self.path, self._file = opened
            text = logging.Formatter(
                "%(asctime)s %(threadName)s %(name)s %(levelname)s: %(message)s"
            ).format(record)
            if self._file is not None and self._written < LOG_LIMIT:
                from kithara_cli.ui.sanitize import redact_userinfo

                text = redact_userinfo(text)  # a URL's password: not in a log
                self._written += len(text) + 1
                self._file.write(text + "\n")
                self._file.flush()
            if self._verbose():
                from kithara_cli.ui.sanitize import sanitize_line

                exc = record.exc_info[1] if record.exc_info else None
                what = f" ({type(exc).__name__}: {exc})" if exc is not None else ""
                where = f"; details in {self.path}" if self.path is not None else ""
                line = (
                    f"{self._prog}: {record.levelname.lower()}: {record.getMessage()}{what}{where}"
                )
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


def install_handler(open_log: OpenLog, verbose: Callable[[], bool], prog: str) -> None:
    """Once per process (``crash.install_logging``)."""
    logger = logging.getLogger("kithara_cli")
    if any(isinstance(h, LogFileHandler) for h in logger.handlers):
        return
    logger.addHandler(LogFileHandler(open_log, verbose, prog))
    logger.setLevel(logging.WARNING)
    logger.propagate = False
