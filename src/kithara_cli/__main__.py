"""``kithara`` and ``python -m kithara_cli``: start-up without the cyclic garbage collector.

Start-up imports tens of thousands of long-lived objects (functions, classes, dicts), and the
collector walks them again and again while they load: ~10 % of start-up, 20-25 ms measured.
None of it is garbage. So collection waits until start-up is over. Then everything alive is
frozen, never walked again, and collection resumes. A timer marks the end of start-up, so no
command has to remember to; a command that is done sooner exits before it fires.

An unexpected exception never reaches the user as a traceback: ``crash`` turns it into one
line naming a crash log (see :mod:`kithara_cli.crash`).
"""

import time

_STARTED_AT = time.monotonic()  # before any other import: the launch clock (see launch.py)

import gc  # noqa: E402
import os  # noqa: E402
import sys  # noqa: E402
import threading  # noqa: E402

START_UP_SECONDS = 1.0


def _resume_collection() -> None:
    gc.freeze()
    gc.enable()


def run() -> None:
    from kithara_cli import launch

    launch.mark(_STARTED_AT)
    gc.disable()
    timer = threading.Timer(START_UP_SECONDS, _resume_collection)
    timer.daemon = True
    timer.start()
    from kithara_cli import crash
    from kithara_cli.ui.console import tolerant_stdout

    crash.install()
    tolerant_stdout()
    try:
        crash.check_test_crash()
        from kithara_cli.cli import main

        main()
    except KeyboardInterrupt:  # Ctrl-C while the command was still loading
        _flush_and_exit(130)
    except Exception as exc:  # what the command let through: one line and a crash log
        crash.report(type(exc), exc, exc.__traceback__)
        _flush_and_exit(crash.EXIT_CODE)


def _flush_and_exit(code: int) -> None:
    for stream in (sys.stdout, sys.stderr):
        try:
            if stream is not None:  # closed at launch (>&-)
                stream.flush()
        except (OSError, ValueError):
            pass
    os._exit(code)  # a thread still running must not keep a crashed process alive


if __name__ == "__main__":
    run()
