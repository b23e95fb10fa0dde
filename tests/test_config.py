"""The config file: where it is found, what it sets, what wins, and how a mistake is reported.

Precedence is checked two ways: ``kithara config show`` (what would apply, and from where),
and a real fetch from the loopback server, whose request headers show which User-Agent won.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from conftest import run_cli
from kithara_cli.config import chosen_path, default_path
from kithara_cli.server import MediaServer

CONFIG = """\
# kithara's config
[defaults]
timeout = 30
connections = 8
user-agent = "from-defaults"

[play]
timeout = 31
output = "null"
max-bitrate = "128k"

[fetch]
user-agent = "from-fetch-table"
header = ["X-From-Config: yes"]
"""


@pytest.fixture
def isolated(tmp_path: Path) -> dict[str, str]:
    """An environment with no config of the user's: XDG_CONFIG_HOME in tmp, no KITHARA_*."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("KITHARA_")}
    env["XDG_CONFIG_HOME"] = str(tmp_path / "xdg")
    return env


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def show(env: dict[str, str], *root: str) -> dict[str, dict[str, str]]:
    """``kithara [root...] config show`` as {command: {key: "value  # origin"}}."""
    proc = run_cli(*root, "config", "show", env=env)
    assert proc.returncode == 0, proc.stderr
    out: dict[str, dict[str, str]] = {}
    table = ""
    for line in proc.stdout.splitlines():
        if line.startswith("["):
            table = line.strip("[]")
            out[table] = {}
        elif " = " in line and table:
            key, _, rest = line.partition(" = ")
            out[table][key] = rest
    return out


# --- where -------------------------------------------------------------------------------------


def test_xdg_rule_by_hand(tmp_path: Path) -> None:
    home = Path.home()
    assert default_path({}) == home / ".config" / "kithara" / "config.toml"
    assert default_path({"XDG_CONFIG_HOME": "relative"}) == default_path({})  # spec: ignored
    xdg = str(tmp_path)
    assert default_path({"XDG_CONFIG_HOME": xdg}) == tmp_path / "kithara" / "config.toml"


def test_which_file(tmp_path: Path) -> None:
    env = {"XDG_CONFIG_HOME": str(tmp_path)}
    assert chosen_path(None, False, env)[0] is None  # none at the default place: none read
    default = write(tmp_path / "kithara" / "config.toml", "")
    assert chosen_path(None, False, env) == (default, "default location")
    other = write(tmp_path / "other.toml", "")
    assert chosen_path(None, False, {**env, "KITHARA_CONFIG": str(other)})[0] == other
    explicit = tmp_path / "explicit.toml"
    assert chosen_path(explicit, False, {**env, "KITHARA_CONFIG": str(other)})[0] == explicit
    assert chosen_path(explicit, True, env)[0] is None  # --no-config wins


def test_config_path_command(isolated: dict[str, str], tmp_path: Path) -> None:
    proc = run_cli("config", "path", env=isolated)
    assert proc.returncode == 0
    assert str(tmp_path / "xdg" / "kithara" / "config.toml") in proc.stdout
    assert "not read" in proc.stdout
    write(tmp_path / "xdg" / "kithara" / "config.toml", CONFIG)
    proc = run_cli("config", "path", env=isolated)
    assert "default location" in proc.stdout and "not read" not in proc.stdout


# --- what wins ---------------------------------------------------------------------------------


def test_tables_env_and_no_config_in_config_show(isolated: dict[str, str], tmp_path: Path) -> None:
    path = write(tmp_path / "xdg" / "kithara" / "config.toml", CONFIG)
    eff = show(isolated)
    # [defaults] reaches every command with the option; a command's table wins over it
    assert eff["fetch"]["timeout"] == f"30.0  # config {path}:3 [defaults]"
    assert eff["play"]["timeout"] == f"31.0  # config {path}:8 [play]"
    assert eff["fetch"]["connections"] == f"8  # config {path}:4 [defaults]"
    assert "connections" not in eff["play"]  # play has no such option: not an error either
    assert eff["fetch"]["user-agent"] == f'"from-fetch-table"  # config {path}:13 [fetch]'
    assert eff["play"]["user-agent"] == f'"from-defaults"  # config {path}:5 [defaults]'
    assert eff["play"]["output"].startswith('"null"')
    assert eff["bench"]["runs"] == "5  # default"
    # the environment wins over the file
    env = {**isolated, "KITHARA_PLAY_TIMEOUT": "40"}
    assert show(env)["play"]["timeout"] == "40.0  # environment KITHARA_PLAY_TIMEOUT"
    # --no-config: nothing from the file; KITHARA_CONFIG and --config choose another file
    assert show(isolated, "--no-config")["play"]["timeout"] == "20.0  # default"
    other = write(tmp_path / "other.toml", "[play]\ntimeout = 50\n")
    eff = show({**isolated, "KITHARA_CONFIG": str(other)})
    assert eff["play"]["timeout"] == f"50.0  # config {other}:2 [play]"
    assert eff["fetch"]["timeout"] == "20.0  # default"
    assert show(isolated, "--config", str(other))["play"]["timeout"].startswith("50.0")


def test_file_then_environment_then_flags_on_a_real_fetch(
    isolated: dict[str, str], tmp_path: Path, server: MediaServer
) -> None:
    config = write(tmp_path / "c.toml", CONFIG)
    out = tmp_path / "out.bin"

    def fetch(*args: str, env: dict[str, str] | None = None) -> tuple[str | None, str | None]:
        out.unlink(missing_ok=True)
        server.stats.reset()
        proc = run_cli("--config", str(config), "fetch", "-q", "-o", str(out), *args,
                       server.url("small.bin"), env=env or isolated)  # fmt: skip
        assert proc.returncode == 0, proc.stderr
        seen = server.stats.seen()
        assert seen
        return seen[0].header("User-Agent"), seen[0].header("X-From-Config")

    assert fetch() == ("from-fetch-table", "yes")  # the file
    env = {**isolated, "KITHARA_FETCH_USER_AGENT": "from-env"}
    assert fetch(env=env) == ("from-env", "yes")  # the environment over the file
    assert fetch("-A", "from-flag", env=env) == ("from-flag", "yes")  # the flag over both


# --- mistakes ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[play]\noutput = 'null'\nbogus = 1\n", ":3: unknown key 'bogus': not an option of kithara play"),
        ("[defaults]\n\nnope = true\n", ":3: unknown key 'nope': not an option of any command"),
        ("[fetch]\n# n\nconnections = 99\n", ":3: bad value for connections in [fetch]: 99 is not in the range 1 to 32"),
        ("[fetch]\nconnections = 'many'\n", ":2: bad value for connections in [fetch]:"),
        ("[play]\nno-ui = 'yes'\n", ":2: bad value for no-ui in [play]: expected true or false"),
        ("[defaults]\ntimeout = 5\n[plya]\nbuffer = 3\n", ":3: unknown table [plya]"),
        ("[play]\noutput = \n", ":2: not valid TOML"),
        ("[play]\nversion = true\n", ":2: unknown key 'version'"),
    ],
)  # fmt: skip
def test_bad_file_is_one_line_with_file_and_line(
    isolated: dict[str, str], tmp_path: Path, text: str, expected: str
) -> None:
    path = write(tmp_path / "bad.toml", text)
    for args in (("play", "--list-outputs"), ("config", "show")):
        proc = run_cli("--config", str(path), *args, env=isolated)
        assert proc.returncode == 2, proc.stderr
        lines = proc.stderr.strip().splitlines()
        assert len(lines) == 1, proc.stderr
        assert f"{path}{expected}" in lines[0], lines[0]
        assert proc.stdout == ""  # nothing ran


def test_missing_config_file(isolated: dict[str, str], tmp_path: Path) -> None:
    proc = run_cli("--config", str(tmp_path / "nope.toml"), "config", "show", env=isolated)
    assert proc.returncode == 2 and "no such config file" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1
