"""How the command line runs: only the command asked for is built, a URL argument's bytes
reach the request as typed, Click's own usage errors are kithara's one line, and the exit
skips teardown.

Apart from ``cli.py`` (which declares the commands) so that it stays short.
"""

import copy
import os
import sys
from typing import TYPE_CHECKING, Any, NoReturn

import typer
from typer._click.core import Context, Parameter
from typer._click.types import StringParamType

if TYPE_CHECKING:
    from typer._click.exceptions import UsageError


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


def run_app(app: typer.Typer, args: list[str]) -> int:
    """Run ``kithara ARGS``; its exit code.

    Click, left to itself, answers bad usage (an unknown option, a missing value, a number out
    of range) with three lines: the usage, "Try ... for help" and the error. Every other error
    of kithara is one line (``kithara: error: ...``) and exit 2 is documented as bad usage, so
    Click's errors are caught here (not in standalone mode) and said the same way, for every
    command and group at once. A group run bare still shows its help, as before.
    """
    from typer._click.exceptions import ClickException, NoArgsIsHelpError, UsageError

    from kithara_cli.ui.console import print_error

    try:
        result = app(args=args, prog_name="kithara", standalone_mode=False)
    except NoArgsIsHelpError as error:  # ``kithara cache``: its help, as Click shows it
        error.show()
        return error.exit_code
    except UsageError as error:
        print_error(usage_line(error))
        return error.exit_code
    except ClickException as error:  # not usage (a file Click could not open): exit 1
        print_error(error.format_message())
        return error.exit_code
    except typer.Abort:  # end of input at a prompt, as Click's standalone mode says it
        print("Aborted!", file=sys.stderr)
        return 1
    # Not standalone, Click returns an Exit's code, or the command's value (None: done).
    return result if isinstance(result, int) else 0


def usage_line(error: "UsageError") -> str:
    """``No such option: --bogus (see kithara fetch --help)``: the hint only where the whole
    line is kept (a message near the line cap drops it rather than lose its own end)."""
    from kithara_cli.ui.sanitize import MAX_LINE

    message = error.format_message()
    if error.ctx is None:
        return message
    line = f"{message} (see {error.ctx.command_path} --help)"
    return line if len("kithara: error: " + line) <= MAX_LINE else message


def argv_url(arg: str) -> str:
    """An http(s) URL from the command line, as the bytes that were typed.

    Python decodes ``argv`` by the locale; bytes it cannot decode (anything not ASCII under
    ``LC_ALL=C`` with UTF-8 mode off, or bytes that are not UTF-8 in a UTF-8 locale) arrive as
    lone surrogates, which no URL encoder takes ("surrogates not allowed", exit 3). Such a URL
    is given its bytes back (``os.fsencode`` undoes that decoding exactly) and each byte
    past ASCII is percent-encoded, as curl sends it (``/tón`` goes out as ``/t%C3%B3n``, what
    a UTF-8 locale sends too); a host's bytes are read as UTF-8, for IDNA. Anything not
    http(s) (a local file for ``play``) is left as it is: those surrogates are the file
    name's bytes, as the filesystem wants them.
    """
    try:
        arg.encode("utf-8")
        return arg
    except UnicodeEncodeError:
        pass
    import re

    raw = os.fsencode(arg)
    found = re.match(rb"(?i)(https?://)([^/?#]*)(.*)", raw, re.DOTALL)
    if found is None:
        return arg
    scheme, authority, rest = found.groups()
    try:
        host = authority.decode("utf-8")
    except UnicodeDecodeError:
        host = _percent_encoded(authority)  # not a name at all: refused as a bad URL
    return scheme.decode("ascii") + host + _percent_encoded(rest)


def _percent_encoded(data: bytes) -> str:
    """ASCII kept, every other byte as ``%XX``."""
    return "".join(chr(b) if b < 0x80 else f"%{b:02X}" for b in data)


class ArgvUrl(StringParamType):
    """A URL argument (fetch's, play's) through ``argv_url``."""

    name = "url"

    def convert(self, value: Any, param: Parameter | None, ctx: Context | None) -> Any:
        return argv_url(super().convert(value, param, ctx))


class PlayTarget(ArgvUrl):
    """A ``play`` argument: a URL as ``ArgvUrl`` takes it, or a local file, ``file://``
    URLs included (what a browser's address bar or a file manager's "copy link" gives, and
    what mpv and ffplay open): ``file:///music/a%20b.mp3`` plays ``/music/a b.mp3``."""

    def convert(self, value: Any, param: Parameter | None, ctx: Context | None) -> Any:
        text = super().convert(value, param, ctx)
        if isinstance(text, str) and text[:7].lower() == "file://":
            from urllib.parse import unquote, urlsplit

            parts = urlsplit(text)
            if parts.netloc.lower() in ("", "localhost") and parts.path:
                return unquote(parts.path, errors="surrogateescape")
        return text


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
