"""``kithara config path|show``, and reading the config file before a command runs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer
from typer._click.core import Command, Context, Parameter, ParameterSource
from typer._click.exceptions import BadParameter

from kithara_cli import config as cfg
from kithara_cli.ui.sanitize import MASK, mask_cookie, mask_header, redact_userinfo

META_KEY = "kithara.config"


def _shown_header(item: str) -> str:
    """A header as ``mask_header`` shows it; a piece with no colon all masked (what a
    ``KITHARA_*_HEADER`` variable held when Click split it at spaces: ``Bearer``, a token)."""
    return mask_header(item) if ":" in item else MASK


# Settings whose values are credentials: each item shown masked (``ui.sanitize``).
_MASKED = {"header": _shown_header, "cookie": mask_cookie}


def _all_commands(app: typer.Typer) -> dict[str, Command]:
    group = typer.main.get_command(app)
    commands: dict[str, Command] = dict(group.commands)  # type: ignore[attr-defined]
    commands.pop("config", None)
    return commands


def apply_config(
    ctx: typer.Context, app: typer.Typer, explicit: Path | None, no_config: bool
) -> None:
    """Read the chosen file (if any) and make it the commands' ``default_map``."""
    path, why = cfg.chosen_path(explicit, no_config)
    loaded = None
    if path is not None:
        loaded = cfg.load(path, _all_commands(app))  # every command's tables are checked
        ctx.default_map = loaded.default_map()
    ctx.meta[META_KEY] = (loaded, path, why)


def _chosen(ctx: typer.Context) -> tuple[cfg.Config | None, Path | None, str]:
    return ctx.meta.get(META_KEY, (None, None, "none"))  # type: ignore[no-any-return]


def show_path(ctx: typer.Context) -> None:
    _loaded, path, why = _chosen(ctx)
    if path is None:
        print(f"{cfg.default_path()}  (not read: {why})")
    else:
        print(f"{path}  ({why})")


def show(ctx: typer.Context, app: typer.Typer) -> None:
    """Each command's settings as they would be now, and where each came from."""
    loaded, path, why = _chosen(ctx)
    print(f"# config file: {path if path is not None else 'none'} ({why})")
    root = Context(
        typer.main.get_command(app),
        info_name="kithara",
        default_map=loaded.default_map() if loaded else None,
    )
    for name, command in _all_commands(app).items():
        sub = command.make_context(name, [], parent=root, resilient_parsing=True)
        print(f"[{name}]")
        for param in command.params:
            if param.param_type_name != "option" or param.name in cfg.NOT_SETTABLE:
                continue
            assert param.name is not None
            source = sub.get_parameter_source(param.name)
            value = sub.params.get(param.name)
            if param.name in _MASKED and isinstance(value, (list, tuple)):
                value = [_MASKED[param.name](str(item)) for item in value]
            shown = _toml(value)
            if value is None and source is ParameterSource.ENVIRONMENT:
                shown = _env_problem(sub, param) or shown
            print(f"{_key(param.opts)} = {shown}  # {_origin(loaded, name, param, source)}")


def _env_problem(sub: Context, param: Parameter) -> str | None:
    """Why a ``KITHARA_*`` variable's value was refused (the command itself would stop on
    it, exit 2); resilient parsing left the setting unset without a word."""
    try:
        param.process_value(sub, param.value_from_envvar(sub))
    except BadParameter as exc:
        return f'""  (refused: {exc.format_message()})'
    return None


def _key(opts: list[str]) -> str:
    longs = [o for o in opts if o.startswith("--")]
    return (longs[0] if longs else opts[0]).lstrip("-")


def _origin(loaded: cfg.Config | None, command: str, param: Any, source: Any) -> str:
    if source is ParameterSource.DEFAULT_MAP and loaded is not None:
        return f"config {loaded.where(command, param.name)}"
    if source is ParameterSource.ENVIRONMENT:
        return f"environment KITHARA_{command.upper()}_{param.name.upper()}"
    return "default"


def _toml(value: Any) -> str:
    if value is None:
        return '""  (unset)'
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    text = redact_userinfo(str(value))  # a --proxy's password is not for a terminal
    text = text.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{text}"'
