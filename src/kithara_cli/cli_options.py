"""The command line's shared parts: option types, help texts and examples, the command class.

Kept apart from ``cli.py`` (which only declares the commands) so that it stays readable. Every
option has a real metavar (``URL``, ``FILE``, ``SECONDS``...): Click's own placeholders
(``<int range>``, ``<str>``) tell a reader nothing, and a test holds every command to it.
"""

import math
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
from typer._click.core import Context, Parameter
from typer._click.exceptions import UsageError
from typer._click.types import FloatParamType, FloatRange, IntRange
from typer.core import TyperCommand, TyperGroup, TyperOption

# The table of errors.py's docstring, for --help (tests hold the two to each other).
EXIT_CODES = (
    "Exit codes: 0 done; 1 other error; 2 bad usage or URL; 3 network (after the retries); "
    "4 HTTP status (404...) or too many redirects; 5 bad content: playlist, codec, key, or a "
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
    "kithara fetch https://example.com/song.mp3            # saved as song.mp3",
    "kithara fetch -o talk.m4a https://example.com/talk.m4a",
    "kithara fetch --list https://example.com/master.m3u8  # the HLS ladder",
    "kithara fetch --variant 128k --remux -o show.m4a https://example.com/master.m3u8",
    "kithara fetch --cookies cookies.txt https://example.com/members/song.mp3",
)
PLAY_EPILOG = epilog(
    "play",
    "kithara play                                # the built-in demo, about a minute",
    "kithara play --demo-profile slow            # the demo over a slow network",
    "kithara play https://example.com/master.m3u8",
    "kithara play --output null --no-ui --length 10 https://example.com/radio.mp3",
    "kithara play --output wav:out.wav song.mp3  # decode to a WAV file",
    "kithara play --list-outputs                 # sinks and audio devices",
)
BENCH_EPILOG = (
    "\b\nExamples:\n"
    "  kithara bench --quick\n"
    "  kithara bench --list\n"
    "  kithara bench --scenario time-to-first-audio --runs 3 --json out.json\n"
    "  kithara bench --quick --compare baseline.json   # non-zero on a regression\n\n"
    + settings_note("bench", "RUNS=3")
    + "\n\nExit codes: 0 every scenario ran (a missing peer is listed, not failed) and, with "
    "--compare, no gating target regressed (report-only misses are shown and exit 0); "
    "1 a scenario failed (with or without --compare) or a gating target regressed; "
    "2 bad usage, option or baseline file (one naming a case or metric its scenario does not "
    "produce too); 6 --json cannot be written; "
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
        with _usage_in(ctx):
            return super().parse_args(ctx, args)


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


AudioOpt = Annotated[
    str | None,
    typer.Option("--audio", help="HLS audio rendition by language or name.", metavar="LANG"),
]
HeaderOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--header", "-H", help="Extra request header (repeatable).", metavar="'NAME: VALUE'"
    ),
]
UserAgentOpt = Annotated[
    str | None, typer.Option("--user-agent", "-A", help="User-Agent header.", metavar="TEXT")
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
    ),
]
