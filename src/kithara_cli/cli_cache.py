"""The persistent cache's options for play and fetch, and the ``kithara cache`` commands.

Kept apart from cli.py so the command line stays one screenful per concern; like cli.py, no
``from __future__ import annotations`` (Typer evaluates these signatures).
"""

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from kithara_cli.cli_options import Command, Group
from kithara_cli.errors import KitharaError

if TYPE_CHECKING:
    from kithara_cli.commands.cache import CacheSettings

CacheDirOpt = Annotated[
    Path | None,
    typer.Option(
        "--cache-dir", help="Cache directory (else $KITHARA_CACHE_DIR, else XDG).", metavar="DIR"
    ),
]
CacheSizeOpt = Annotated[
    str | None,
    typer.Option(
        "--cache-size",
        help="Cache size cap, e.g. 500M (default 1G; kept for later runs).",
        metavar="SIZE",
    ),
]
OfflineOpt = Annotated[
    bool, typer.Option("--offline", help="Use only the cache; say what is missing.")
]
NoCacheOpt = Annotated[
    bool,
    typer.Option("--no-cache", help="Neither read nor fill the cache (also: KITHARA_CACHE=off)."),
]
CacheJsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON.")]

cache_app = typer.Typer(
    name="cache",
    help="The persistent download cache.",
    no_args_is_help=True,
    rich_markup_mode=None,
    cls=Group,
)


def cache_settings(
    directory: Path | None, size: str | None, offline: bool, no_cache: bool
) -> "CacheSettings":
    from kithara_cli.commands.cache import CacheSettings

    return CacheSettings(directory, size, offline, no_cache)


def _cache_cmd(run: Callable[[], None]) -> None:
    try:
        run()
    except KitharaError as error:
        from kithara_cli.ui.console import print_error

        print_error(str(error))
        raise typer.Exit(error.exit_code) from None


@cache_app.command("ls", cls=Command)
def cache_ls(cache_dir: CacheDirOpt = None, as_json: CacheJsonOpt = False) -> None:
    """List cached entries: size, how much of the file, last used, URL."""
    from kithara_cli.commands.cache import run_ls

    _cache_cmd(lambda: run_ls(cache_dir, as_json))


@cache_app.command("rm", cls=Command)
def cache_rm(
    url: Annotated[str, typer.Argument(help="The URL to forget.", metavar="URL")],
    cache_dir: CacheDirOpt = None,
) -> None:
    """Remove one URL from the cache."""
    from kithara_cli.commands.cache import run_rm

    _cache_cmd(lambda: run_rm(cache_dir, url))


@cache_app.command("clear", cls=Command)
def cache_clear(cache_dir: CacheDirOpt = None) -> None:
    """Remove every entry from the cache."""
    from kithara_cli.commands.cache import run_clear

    _cache_cmd(lambda: run_clear(cache_dir))


@cache_app.command("info", cls=Command)
def cache_info(cache_dir: CacheDirOpt = None, as_json: CacheJsonOpt = False) -> None:
    """The cache's path, size, cap and number of entries."""
    from kithara_cli.commands.cache import run_info

    _cache_cmd(lambda: run_info(cache_dir, as_json))
