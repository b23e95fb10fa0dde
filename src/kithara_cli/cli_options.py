"""The command line's shared parts: option types, help texts and examples, the command class.

Kept apart from ``cli.py`` (which only declares the commands) so that it stays readable. Every
option has a real metavar (``URL``, ``FILE``, ``SECONDS``...): Click's own placeholders
(``<int range>``, ``<str>``) tell a reader nothing, and a test holds every command to it.
"""

import math
import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
from typer._click.core import Context, Parameter, ParameterSource
from typer._click.exceptions import BadParameter, NoSuchOption, UsageError
from typer._click.types import FloatParamType, FloatRange, IntRange, StringParamType
from typer.core import TyperCommand, TyperGroup, TyperOption

# The table of errors.py's docstring, for --help (tests hold the two to each other).
EXIT_CODES = (
    "Exit codes: 0 done; 1 other error; 2 bad usage or URL; 3 network (after the retries; "
    "--offline: not cached); 4 HTTP status (404...) or too many redirects; 5 bad content: playlist, codec, key, or a "
    "response over a size limit; 6 local output: --out exists, is unwritable or is being "
    "written by another kithara, disk full, audio output or --events failing to write; "
    "130 interrupted (Ctrl-C); 143 terminated (SIGTERM)."
)


# Written out here (kept equal to commands/demo.py's by a test): importing that for --help
# would cost start-up.
DEMO_PROFILES = "story: fast, a dip to 100 kbit/s, recovery, an outage; fast; slow; flaky"


def epilog(command: str, *examples: str) -> str:
    """Examples (one per line, kept as written: Click's ``\\b``), then the exit codes."""
    lines = "\n".join(f"  {e}" for e in examples)
    return f"\b\nExamples:\n{lines}\n\n{settings_note(command)}\n\n{EXIT_CODES}"


def settings_note(command: str, example: str = "TIMEOUT=30") -> str:
    return (
        f"Defaults come from the config file ([defaults] and [{command}] tables; see "
        f"'kithara config show'), then KITHARA_{command.upper()}_OPTION environment "
        f"variables (e.g. KITHARA_{command.upper()}_{example}); flags win over both."
    )


FETCH_EPILOG = epilog(
    "fetch",
    "kithara fetch -o song.mp3 https://example.com/song.mp3  # run it again to resume",
    "kithara fetch -o talk.m4a https://example.com/talk.m4a",
    "kithara fetch --list https://example.com/master.m3u8  # the HLS ladder",
    "kithara fetch --variant 128k --remux -o show.m4a https://example.com/master.m3u8",
    "kithara fetch --cookies cookies.txt -o song.mp3 https://example.com/members/song.mp3",
    "kithara fetch --episode 2 -o ep.mp3 https://example.com/feed.rss  # a podcast's 2nd newest",
)
PLAY_EPILOG = epilog(
    "play",
    "kithara play                                # the built-in demo, about a minute",
    "kithara play --demo-profile slow            # the demo over a slow network",
    "kithara play https://example.com/master.m3u8",
    "kithara play --output null --no-ui --length 10 https://example.com/radio.mp3",
    "kithara play --output wav:out.wav song.mp3  # decode to a WAV file",
    "kithara play --list-outputs                 # sinks and audio devices",
    "kithara play --episode interview https://example.com/feed.rss  # one podcast episode",
)
BENCH_EPILOG = (
    "\b\nExamples:\n"
    "  kithara bench --quick\n"
    "  kithara bench --list\n"
    "  kithara bench --scenario time-to-first-audio --runs 3 --json out.json\n"
    "  kithara bench --quick --compare bench/baseline.json   # non-zero on a regression (CI)\n\n"
    + settings_note("bench", "RUNS=3")
    + "\n\nExit codes: 0 every scenario ran (a missing peer is listed, not failed) and, with "
    "--compare, no gating target regressed (report-only misses are shown and exit 0); "
    "1 a scenario failed (with or without --compare) or a gating target regressed; "
    "2 bad usage, option or baseline file (one naming a case or metric its scenario does not "
    "produce, or an unknown peer, too); 6 --json cannot be written; "
    "130 interrupted (Ctrl-C); 143 terminated (SIGTERM). Usage errors come before any "
    "scenario runs; --json is written whole or not at all."
)
CONFIG_EPILOG = (
    "\b\nExamples:\n"
    "  kithara config path\n"
    "  kithara config show\n"
    "  kithara --config ./kithara.toml config show\n"
    "\n"
    "\b\nA config file (TOML):\n"
    "  [defaults]\n"
    "  connections = 8\n"
    '  header = ["Referer: https://example.com/"]\n'
    "  [play]\n"
    '  output = "null"\n'
    '  max-bitrate = "128k"'
)


def env_settings(command: str) -> dict[str, Any]:
    """KITHARA_<COMMAND>_<OPTION> environment variables set options (over the config file).

    Per command, not on the root: there they would make KITHARA_VERSION print the version."""
    return {"auto_envvar_prefix": f"KITHARA_{command.upper()}"}


class Command(TyperCommand):
    """Usage lines as people write them (``kithara fetch [OPTIONS] URL``, not ``{URL}``), and
    no "[env var: KITHARA_FETCH_...]" after every option: the epilog says it once. Every
    float option is finite (Click's ``float`` takes ``inf`` and ``nan``, and a range lets NaN
    through): those are bad usage, not a crash deep in playback."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for param in self.params:
            if isinstance(param, TyperOption):
                param.show_envvar = False
            if isinstance(param.type, IntRange | FloatRange):
                param.type = _readable_range(param.type)
            elif isinstance(param.type, FloatParamType):
                param.type = _FiniteFloat()

    def collect_usage_pieces(self, ctx: Any) -> list[str]:
        pieces = super().collect_usage_pieces(ctx)
        return [p[1:-1] if p.startswith("{") and p.endswith("}") else p for p in pieces]

    def parse_args(self, ctx: Context, args: list[str]) -> list[str]:
        with _usage_in(ctx):
            return super().parse_args(ctx, args)


class Group(TyperGroup):
    """A group (``kithara``, ``kithara cache``) whose usage errors name it, as ``Command``'s."""

    def parse_args(self, ctx: Context, args: list[str]) -> list[str]:
        try:
            with _usage_in(ctx):
                return super().parse_args(ctx, args)
        except NoSuchOption as error:
            owner = self._command_with(ctx, error.option_name, args) if ctx.parent is None else None
            if owner is None:
                raise
            raise UsageError(
                f"{error.option_name} is an option of {owner}: put it after the command "
                f"(kithara {owner} {error.option_name} ...)"
            ) from None

    def _command_with(self, ctx: Context, option: str, args: list[str]) -> str | None:
        """``kithara -v play URL``, ``kithara --no-ui play URL`` (as ``mpv --no-video URL``,
        where options go anywhere): the command named after it that has it, else the first
        that has it. Click's "No such option: --no-ui (Possible options: --no-config)"
        pointed at the wrong one."""
        named = [a for a in args if not a.startswith("-") and self.get_command(ctx, a)]
        for name in named[:1] or list(self.list_commands(ctx)):
            command = self.get_command(ctx, name)
            if command is not None and any(option in p.opts for p in command.params):
                return name
        return None

    def resolve_command(self, ctx: Context, args: list[str]) -> Any:
        """``kithara URL`` (as ``mpv URL``, ``yt-dlp URL``): no command has a dot or a slash
        in its name, so such a word is a URL or a file given without its command, and the
        line says the command to type rather than "No such command"."""
        name = args[0] if args else ""
        if ctx.parent is None and self.get_command(ctx, name) is None and _names_media(name):
            import shlex

            from kithara_cli.net.urls import with_scheme
            from kithara_cli.ui.sanitize import redact_userinfo

            if not Path(name).exists():  # ``kithara example.com/a.mp3``: the URL it means
                args = [with_scheme(name) or name, *args[1:]]
            typed = shlex.join(redact_userinfo(a) for a in args)
            save = " (to save it: kithara fetch -o FILE URL)" if "://" in args[0] else ""
            raise UsageError(
                f"{shlex.quote(redact_userinfo(name))} is not a command: to play it, "
                f"kithara play {typed}{save}"
            )
        return super().resolve_command(ctx, args)


def _names_media(word: str) -> bool:
    return not word.startswith("-") and ("/" in word or "." in word)


@contextmanager
def _usage_in(ctx: Context) -> Iterator[None]:
    """Click's parser raises some usage errors ("Option '--length' requires an argument")
    without the command they belong to; the one-line error's "(see kithara play --help)"
    needs it (``cli_runtime.usage_line``)."""
    try:
        yield
    except UsageError as error:
        if error.ctx is None:
            error.ctx, error.cmd = ctx, ctx.command
        raise


class _ReadableIntRange(IntRange):
    """A range shown as "1 to 32" or "at least 1", not Click's "1<=x<=32"."""

    def _describe_range(self) -> str:
        return _describe(self.min, self.max)


class _FiniteFloat(FloatParamType):
    name = "float"

    def convert(self, value: Any, param: Parameter | None, ctx: Context | None) -> Any:
        number = super().convert(value, param, ctx)
        if not math.isfinite(number):
            self.fail(f"{value} is not a finite number.", param, ctx)
        return number


class _ReadableFloatRange(FloatRange):
    def convert(self, value: Any, param: Parameter | None, ctx: Context | None) -> Any:
        return super().convert(_FiniteFloat().convert(value, param, ctx), param, ctx)

    def _describe_range(self) -> str:
        return _describe(self.min, self.max)


def _describe(low: float | None, high: float | None) -> str:
    if low is None:
        return f"at most {high}"
    if high is None:
        return f"at least {low}"
    return f"{low} to {high}"


def _readable_range(kind: IntRange | FloatRange) -> IntRange | FloatRange:
    cls = _ReadableIntRange if isinstance(kind, IntRange) else _ReadableFloatRange
    return cls(kind.min, kind.max, kind.min_open, kind.max_open, kind.clamp)


# --- what may go into a request's head --------------------------------------------------------
# Checked as the options are parsed (command line, KITHARA_* variable or config file alike), so
# a value no HTTP client can send is bad usage (exit 2) before anything starts: left to the
# request, a line break was a LocalProtocolError (exit 3, after every retry for play) and a
# character the client cannot encode an "unexpected error". Visible ASCII, space and tab only:
# httpx's client encodes a header as ASCII, the direct path as Latin-1, so anything else was
# sent by one and refused by the other (and whether UTF-8 or Latin-1 was meant is a guess).
_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_FIELD_TEXT = re.compile(r"[\t\x20-\x7e]*")


def field_problem(text: str) -> str | None:
    """Why ``text`` cannot be a header value as it is, or None."""
    if _FIELD_TEXT.fullmatch(text):
        return None
    bad = next(c for c in text if not _FIELD_TEXT.fullmatch(c))
    if ord(bad) < 0x20 or ord(bad) == 0x7F:
        return "a header cannot hold a line break or other control character"
    return f"a header must be ASCII text ({_codepoint(bad)} is not)"


def _codepoint(ch: str) -> str:
    if 0xDC80 <= ord(ch) <= 0xDCFF:  # a byte the locale could not decode (LC_ALL=C)
        return f"byte 0x{ord(ch) - 0xDC00:02x}"
    return f"U+{ord(ch):04X}"


def header_problem(raw: str) -> str | None:
    """Why ``raw`` is no ``NAME: VALUE`` header that can be sent, or None."""
    name, colon, value = raw.partition(":")
    if not colon or not name.strip():
        return "expected 'NAME: VALUE'"
    if not _TOKEN.fullmatch(name.strip()):
        return "a header name is letters, digits and !#$%&'*+-.^_`|~ only"
    return field_problem(value.strip())


def cookie_problem(pair: str) -> str | None:
    """Why ``pair`` is no ``NAME=VALUE`` cookie that can be sent, or None."""
    name, equals, value = pair.partition("=")
    if not equals or not name.strip() or any(c in name.strip() for c in " ;,\t"):
        return "expected NAME=VALUE"
    if ";" in value:
        return "a cookie value cannot hold ';'"
    if field_problem(name + value) is not None:
        return "a cookie is ASCII text without line breaks or control characters"
    return None


class _BadValue(BadParameter):
    """``bad --header 'X: \\n': why``: one line naming the option, or the variable that set
    it. Its ``message`` alone is what the config file's error quotes after its file:line."""

    def format_message(self) -> str:
        name, ctx = (self.param.name if self.param else None), self.ctx
        if not name:
            return f"bad value {self.message}"
        if ctx is not None and ctx.get_parameter_source(name) is ParameterSource.ENVIRONMENT:
            return f"bad {ctx.auto_envvar_prefix}_{name.upper()} {self.message}"
        return f"bad --{name.replace('_', '-')} {self.message}"


class _CheckedText(StringParamType):
    """Text checked by ``problem``; shown in an error by ``shown`` (secrets masked)."""

    def problem(self, text: str) -> str | None:
        return field_problem(text)

    def shown(self, text: str) -> str:
        return text

    def convert(self, value: Any, param: Parameter | None, ctx: Context | None) -> Any:
        text = super().convert(value, param, ctx)
        why = self.problem(text)
        if why is not None:
            raise _BadValue(f"{self.shown(text)!r}: {why}", ctx, param)
        return text


class _HeaderText(_CheckedText):
    name = "header"

    def problem(self, text: str) -> str | None:
        return header_problem(text)

    def shown(self, text: str) -> str:
        from kithara_cli.ui.sanitize import mask_header

        return mask_header(text)

    def split_envvar_value(self, rv: str) -> Sequence[str]:
        """One header a line (a value has spaces: ``Authorization: Bearer T``); blank lines
        skipped. Click's own split, at any whitespace, cut every such header in pieces."""
        return [line for line in rv.splitlines() if line.strip()]


class _CookieText(_CheckedText):
    name = "cookie"  # a variable is still split at whitespace: a cookie holds none

    def problem(self, text: str) -> str | None:
        return cookie_problem(text)

    def shown(self, text: str) -> str:
        from kithara_cli.ui.sanitize import mask_cookie

        return mask_cookie(text)


AudioOpt = Annotated[
    str | None,
    typer.Option(
        "--audio",
        help="HLS audio rendition by language or name (default: the first variant's DEFAULT"
        " one; every variant plays the same language).",
        metavar="LANG",
    ),
]
EpisodeOpt = Annotated[
    str | None,
    typer.Option(
        "--episode",
        help="A podcast feed: this episode only. N as fetch --list numbers them (1 = the "
        "newest, -1 = the oldest), or TEXT in its title (the newest match). None such: exit 2.",
        metavar="N|TEXT",
    ),
]
HeaderOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--header",
        "-H",
        help="Extra request header, ASCII (repeatable; one per line in KITHARA_*_HEADER).",
        metavar="'NAME: VALUE'",
        click_type=_HeaderText(),
    ),
]
UserAgentOpt = Annotated[
    str | None,
    typer.Option(
        "--user-agent", "-A", help="User-Agent header.", metavar="TEXT", click_type=_CheckedText()
    ),
]
TimeoutOpt = Annotated[
    float,
    typer.Option(
        "--timeout",
        help="Seconds without data before a request is retried. Also the deadline for a "
        "response's headers, and the window over which a body must average 1 KiB/s or "
        "count as stalled (a trickle is retried like a stall).",
        metavar="SECONDS",
    ),
]
DeadlineOpt = Annotated[
    float | None,
    typer.Option(
        "--deadline",
        min=0.1,
        help="Seconds one request may take in all; then it is resumed from where it got "
        "(or retried). Default: no limit beyond --timeout's.",
        metavar="SECONDS",
    ),
]
RetriesOpt = Annotated[
    int, typer.Option("--retries", help="Attempts per request without progress.", metavar="N")
]
ProxyOpt = Annotated[
    str | None,
    typer.Option(
        "--proxy",
        help='Proxy URL (default: the environment\'s HTTP(S)_PROXY; "" for none).',
        metavar="URL",
    ),
]
Http2Opt = Annotated[bool, typer.Option("--http2", help="Use HTTP/2 where the server offers it.")]
VerboseOpt = Annotated[bool, typer.Option("--verbose", "-v", help="Log each request and event.")]
InsecureOpt = Annotated[
    bool,
    typer.Option("--insecure", help="Do not verify TLS certificates (warns on every run; avoid)."),
]
CaFileOpt = Annotated[
    Path | None,
    typer.Option(
        "--ca-file",
        help="Trust the certificate authorities in this PEM file instead of the system's "
        "(a private CA; as curl's --cacert, mpv's --tls-ca-file).",
        metavar="FILE",
        exists=True,
        dir_okay=False,
    ),
]
EventsOpt = Annotated[
    Path | None,
    typer.Option("--events", help="Write every event as JSON Lines to this file.", metavar="FILE"),
]


CookiesOpt = Annotated[
    Path | None,
    typer.Option(
        "--cookies",
        help="Netscape cookies.txt (as curl, wget and yt-dlp use): each cookie goes only to "
        "the domains and paths it names. Never logged.",
        metavar="FILE",
        dir_okay=False,
    ),
]
CookieOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--cookie",
        help="A cookie for the URL's host (repeatable). Never logged.",
        metavar="NAME=VALUE",
        click_type=_CookieText(),
    ),
]
