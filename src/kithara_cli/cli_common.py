"""What every command of the command line shares: failing with one line, the --insecure
warning, signals as interrupts, and the network options declared once (``network_options``)
and gathered into ``CommonOptions``."""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, NoReturn

import typer

from kithara_cli.cli_cache import (
    CacheDirOpt,
    CacheSizeOpt,
    NoCacheOpt,
    OfflineOpt,
    cache_settings,
)
from kithara_cli.cli_options import (
    CaFileOpt,
    CookieOpt,
    CookiesOpt,
    DeadlineOpt,
    EventsOpt,
    HeaderOpt,
    Http2Opt,
    InsecureOpt,
    ProxyOpt,
    RetriesOpt,
    TimeoutOpt,
    UserAgentOpt,
    VerboseOpt,
)
from kithara_cli.errors import Cancelled, KitharaError

if TYPE_CHECKING:
    from kithara_cli.commands.common import CommonOptions


def fail(error: KitharaError) -> NoReturn:
    from kithara_cli.ui.console import print_error

    if isinstance(error, Cancelled):
        from kithara_cli import interrupt

        error = interrupt.as_error(str(error))  # 143 when it was SIGTERM
    print_error(str(error))
    raise typer.Exit(error.exit_code)


def warn_if_insecure(insecure: bool) -> None:
    """Loudly, on every run: an --insecure left in a script must not be forgotten."""
    if insecure:
        from kithara_cli.ui.console import print_note

        print_note(
            "warning: --insecure: TLS certificates are not verified; "
            "anyone on the network path can read and change what is fetched"
        )


def interrupted() -> NoReturn:
    from kithara_cli import interrupt

    fail(interrupt.as_error())


def sigterm_as_interrupt() -> None:
    """Ctrl-C and kill (SIGTERM) end a command at a safe point: state saved, exit non-zero."""
    from kithara_cli import interrupt

    interrupt.install()


def common_options(url: str | None, given: dict[str, Any]) -> CommonOptions:
    """The network options fetch and play share, from the ``network`` dict that
    ``network_options`` hands the command."""
    from kithara_cli.commands.common import CommonOptions

    return CommonOptions(
        given["header"] or [],
        given["user_agent"],
        given["timeout"],
        given["retries"],
        given["proxy"],
        given["http2"],
        given["verbose"],
        given["events"],
        given["deadline"],
        insecure=given["insecure"],
        ca_file=given["ca_file"],
        cookies_file=given["cookies_file"],
        cookies=given["cookie"] or [],
        url=url,
        cache=cache_settings(
            given["cache_dir"], given["cache_size"], given["offline"], given["no_cache"]
        ),
    )


# The options fetch and play share, in the order --help lists them: (name, type, default).
_NETWORK_OPTIONS: tuple[tuple[str, Any, Any], ...] = (
    ("header", HeaderOpt, None),
    ("user_agent", UserAgentOpt, None),
    ("timeout", TimeoutOpt, 20.0),
    ("deadline", DeadlineOpt, None),
    ("retries", RetriesOpt, 6),
    ("proxy", ProxyOpt, None),
    ("http2", Http2Opt, False),
    ("verbose", VerboseOpt, False),
    ("events", EventsOpt, None),
    ("insecure", InsecureOpt, False),
    ("ca_file", CaFileOpt, None),
    ("cookies_file", CookiesOpt, None),
    ("cookie", CookieOpt, None),
    ("cache_dir", CacheDirOpt, None),
    ("cache_size", CacheSizeOpt, None),
    ("offline", OfflineOpt, False),
    ("no_cache", NoCacheOpt, False),
)


def network_options(command: Callable[..., None]) -> Callable[..., None]:
    """Give a command the network and cache options (declared once, here, for fetch and
    play alike). Typer reads the options from the returned function's signature; the command
    itself receives them as one dict, ``network``, its last parameter, for ``common_options``.
    Before it runs, SIGTERM becomes an interrupt and --insecure is warned of."""
    own = inspect.signature(command)
    kept = [p for name, p in own.parameters.items() if name != "network"]
    shared = [
        inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=default, annotation=kind)
        for name, kind, default in _NETWORK_OPTIONS
    ]

    @functools.wraps(command)
    def with_network(**given: Any) -> None:
        network = {name: given.pop(name) for name, _, _ in _NETWORK_OPTIONS}
        sigterm_as_interrupt()
        warn_if_insecure(network["insecure"])
        command(**given, network=network)

    with_network.__signature__ = own.replace(parameters=kept + shared)  # type: ignore[attr-defined]
    return with_network


def run_guarded(run: Callable[[], None]) -> None:
    """Run a command's work: a KitharaError is its one line and exit code, Ctrl-C or SIGTERM
    an interruption's."""
    try:
        run()
    except KitharaError as error:
        fail(error)
    except KeyboardInterrupt:
        interrupted()
