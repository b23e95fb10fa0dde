"""What every command of the command line shares: failing with one line, the --insecure
warning, signals as interrupts, and the network options gathered into ``CommonOptions``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, NoReturn

import typer

from kithara_cli.cli_cache import cache_settings
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
    """The network options fetch and play share, from the command's own parameters (its
    ``locals()`` on entry: both commands name these options alike)."""
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
        cookies_file=given["cookies_file"],
        cookies=given["cookie"] or [],
        url=url,
        cache=cache_settings(
            given["cache_dir"], given["cache_size"], given["offline"], given["no_cache"]
        ),
    )
