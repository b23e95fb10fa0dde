"""How the command line runs: only the command asked for is built, and the exit skips teardown.

Apart from ``cli.py`` (which declares the commands) so that it stays short.
"""

import copy
import os
import sys
from typing import NoReturn

import typer


def app_for(app: typer.Typer, args: list[str]) -> typer.Typer:
    """The app with only the command being run registered.

    Typer inspects every registered command's signature on each run; the commands not run
    cost ~7 ms of start-up (the ``config`` and ``cache`` groups ~1 ms more). Help, shell
    completion and unknown commands get the whole app.
    """
    name = args[0] if args else ""
    chosen = [
        info
        for info in app.registered_commands
        if (info.name or (info.callback.__name__ if info.callback else "")) == name
    ]
    if not chosen or "_KITHARA_COMPLETE" in os.environ:
        return app
    single = copy.copy(app)
    single.registered_commands = chosen
    single.registered_groups = []  # config, cache: their commands are not the one being run
    return single


def exit_without_teardown(code: int | str | None) -> NoReturn:
    """Exit once the command is done, without the interpreter's module-by-module teardown.

    That teardown frees every imported module and took 40-65 ms after a fetch, on every run
    and after the output was complete. What it would still do for us is done here first:
    exit handlers run (logging's flush, PortAudio's terminate) and stdio is flushed. While a
    non-daemon thread still runs, Python's own exit waits for it as usual.
    """
    if isinstance(code, str):
        print(code, file=sys.stderr)
        code = 1
    status = 0 if code is None else code
    import threading

    main_thread = threading.main_thread()
    if any(t is not main_thread and not t.daemon for t in threading.enumerate()):
        sys.exit(status)
    import atexit

    run_exit_handlers = getattr(atexit, "_run_exitfuncs", None)
    if run_exit_handlers is None:  # not CPython: keep the ordinary exit
        sys.exit(status)
    run_exit_handlers()
    for stream in (sys.stdout, sys.stderr):
        try:
            if stream is not None:  # None: closed at launch (>&-), nothing was printed
                stream.flush()
        except (OSError, ValueError):  # a closed pipe: what Python's own exit reports too
            status = status or 120
    os._exit(status)
