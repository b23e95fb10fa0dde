"""The config file: defaults for every command's options, read from TOML.

Where: ``--config FILE``, else ``$KITHARA_CONFIG``, else ``$XDG_CONFIG_HOME/kithara/config.toml``
(``~/.config/kithara/config.toml`` when XDG_CONFIG_HOME is unset or not absolute, as the XDG
base directory spec says). That rule is written here by hand: it is a few lines, and the
platformdirs package is not a dependency. ``--no-config`` reads none.

What: a ``[defaults]`` table whose keys are option names (``connections = 8``,
``max-bitrate = "128k"``) applied to every command that has the option, and one table per
command (``[play]``, ``[fetch]``, ``[bench]``) that wins over ``[defaults]``. The values become
Click's ``default_map``, so Click's own order holds: the file, then the environment
(``KITHARA_<COMMAND>_<OPTION>``), then the command line, each overriding the one before.

A key that is no option, a value an option refuses, or a file TOML cannot read is one line
naming the file and line (tomllib gives no line numbers for keys: the text is scanned for the
key inside its table), exit 2. So is a date or time where an option wants a number or text,
bytes that are not UTF-8, nesting deeper than the parser recurses, and a file over
``MAX_BYTES`` (``--config /dev/zero`` is no config file, and must not fill the memory). One
string for a repeatable option (``header = "X-A: b"``) is a list of one.
"""

from __future__ import annotations

import datetime
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from typer._click.core import Command, Context
from typer._click.exceptions import BadParameter
from typer.core import TyperOption as Option

from kithara_cli.errors import UsageError

DEFAULTS_TABLE = "defaults"
MAX_BYTES = 1 << 20
"""A config file is a few hundred bytes; over a MiB it is something else."""
# Options that choose the file itself, or only print something: not settable from it.
NOT_SETTABLE = frozenset({"help", "version", "config", "no_config"})


def default_path(env: Mapping[str, str] | None = None) -> Path:
    """``$XDG_CONFIG_HOME/kithara/config.toml``, else ``~/.config/kithara/config.toml``."""
    env = os.environ if env is None else env
    xdg = env.get("XDG_CONFIG_HOME", "")
    base = Path(xdg) if xdg and Path(xdg).is_absolute() else Path.home() / ".config"
    return base / "kithara" / "config.toml"


def chosen_path(
    explicit: Path | None, no_config: bool, env: Mapping[str, str] | None = None
) -> tuple[Path | None, str]:
    """The file to read and why: (None, why) when there is none to read."""
    env = os.environ if env is None else env
    if no_config:
        return None, "--no-config"
    if explicit is not None:
        return explicit, "--config"
    from_env = env.get("KITHARA_CONFIG", "")
    if from_env:
        return Path(from_env).expanduser(), "KITHARA_CONFIG"
    path = default_path(env)
    return (path, "default location") if path.is_file() else (None, f"none at {path}")


@dataclass(frozen=True)
class Setting:
    """One value from the config file, and where it was set (for messages)."""

    value: Any
    table: str
    line: int


@dataclass
class Config:
    """A read and checked file: per command, each option's value and where it was set."""

    path: Path
    settings: dict[str, dict[str, Setting]] = field(default_factory=dict)

    def default_map(self) -> dict[str, dict[str, Any]]:
        return {cmd: {k: s.value for k, s in opts.items()} for cmd, opts in self.settings.items()}

    def where(self, command: str, name: str) -> str:
        s = self.settings[command][name]
        return f"{self.path}:{s.line} [{s.table}]"


def load(path: Path, commands: Mapping[str, Command]) -> Config:
    """Read ``path`` and check every key and value against ``commands``' options."""
    text = _read(path)
    import tomllib  # only when there is a file to read (most runs have none)

    try:
        data = tomllib.loads(text)
    except RecursionError:
        raise UsageError(f"{path}: not valid TOML: nested too deeply") from None
    except tomllib.TOMLDecodeError as exc:
        line = getattr(exc, "lineno", None) or _line_from_message(str(exc))
        raise UsageError(f"{path}:{line}: not valid TOML: {str(exc).split(' (at')[0]}") from None
    config = Config(path)
    tables: list[tuple[str, Any]] = sorted(data.items(), key=lambda kv: kv[0] != DEFAULTS_TABLE)
    for table, body in tables:
        if table != DEFAULTS_TABLE and table not in commands:
            names = ", ".join(f"[{n}]" for n in (DEFAULTS_TABLE, *commands))
            raise UsageError(
                f"{path}:{_table_line(text, table)}: unknown table [{table}] (use {names})"
            )
        if not isinstance(body, dict):
            raise UsageError(f"{path}:{_table_line(text, table)}: {table} must be a [table]")
        targets = list(commands) if table == DEFAULTS_TABLE else [table]
        for key, value in body.items():
            line = _key_line(text, table, key)
            found = False
            for name in targets:
                param = _option(commands[name], key)
                if param is None:
                    continue
                found = True
                checked = _check(path, line, table, key, value, commands[name], param)
                assert param.name is not None
                opts = config.settings.setdefault(name, {})
                opts[param.name] = Setting(checked, table, line)
            if not found:
                where = "any command" if table == DEFAULTS_TABLE else f"kithara {table}"
                raise UsageError(f"{path}:{line}: unknown key {key!r}: not an option of {where}")
    return config


def _read(path: Path) -> str:
    """The file's text, at most ``MAX_BYTES`` of it; bytes that are not UTF-8 name their line."""
    try:
        with path.open("rb") as file:
            data = file.read(MAX_BYTES + 1)
    except FileNotFoundError:
        raise UsageError(f"{path}: no such config file") from None
    except OSError as exc:
        raise UsageError(f"{path}: cannot read the config file: {exc}") from None
    if len(data) > MAX_BYTES:
        raise UsageError(f"{path}: not a config file: over {MAX_BYTES >> 20} MiB")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise UsageError(f"{path}:{line}: not UTF-8 (byte 0x{data[exc.start]:02x})") from None


def _option(command: Command, key: str) -> Option | None:
    """The option ``key`` names: its long flag without dashes, or its Python name."""
    for param in command.params:
        if not isinstance(param, Option) or param.name in NOT_SETTABLE:
            continue
        longs = {o.lstrip("-") for o in (*param.opts, *param.secondary_opts) if o.startswith("--")}
        if key in longs or key.replace("-", "_") == param.name:
            return param
    return None


def _check(
    path: Path,
    line: int,
    table: str,
    key: str,
    value: Any,
    command: Command,
    param: Option,
) -> Any:
    """The value as Click's ``default_map`` takes it (a list for a repeatable option)."""
    if isinstance(value, (datetime.date, datetime.time)):  # datetime is a date too
        raise UsageError(
            f"{path}:{line}: bad value for {key} in [{table}]: {value} is a date or time; "
            "quote it if it is text"
        )
    if isinstance(value, (dict, list)) and not param.multiple:
        raise UsageError(f"{path}:{line}: bad value for {key} in [{table}]: expected one value")
    if param.multiple and not isinstance(value, list):
        value = [value]
    try:
        if param.is_flag and not isinstance(value, bool):
            raise BadParameter("expected true or false")
        param.type_cast_value(Context(command), value)
    except BadParameter as exc:
        raise UsageError(
            f"{path}:{line}: bad value for {key} in [{table}]: {exc.message}"
        ) from None
    return value


def _table_line(text: str, table: str) -> int:
    pattern = re.compile(rf"^\s*\[\s*\"?{re.escape(table)}\"?\s*\]")
    for number, line in enumerate(text.splitlines(), 1):
        if pattern.match(line):
            return number
    return 1


def _key_line(text: str, table: str, key: str) -> int:
    """The line of ``key = ...`` inside ``[table]`` (or a dotted ``table.key = ...``)."""
    header = re.compile(r"^\s*\[\s*\"?([^\]\"]+?)\"?\s*\]")
    quoted = rf"(?:{re.escape(key)}|\"{re.escape(key)}\"|'{re.escape(key)}')"
    in_table = re.compile(rf"^\s*{quoted}\s*=")
    dotted = re.compile(rf"^\s*\"?{re.escape(table)}\"?\s*\.\s*{quoted}\s*=")
    current = ""
    for number, line in enumerate(text.splitlines(), 1):
        m = header.match(line)
        if m:
            current = m.group(1).strip()
            continue
        if (current == table and in_table.match(line)) or (not current and dotted.match(line)):
            return number
    return _table_line(text, table)


def _line_from_message(message: str) -> int:
    m = re.search(r"line (\d+)", message)
    return int(m.group(1)) if m else 1
