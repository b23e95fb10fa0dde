"""The config file as people (and accidents) write it: a date where a number goes, one string
for a repeatable option, bytes that are not UTF-8, nesting TOML's parser recurses into, and
something that is no config file at all (``--config /dev/zero``). Each is one line naming
the file (and the line, where there is one), exit 2; one string for a list is taken as a list.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import run_cli
from kithara_cli.server import MediaServer


def assert_one_line(proc_rc: int, stderr: str, needle: str) -> None:
    assert proc_rc == 2, stderr
    assert "internal error" not in stderr and "Traceback" not in stderr, stderr
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("kithara: error: "), stderr
    assert needle in lines[0], stderr


def show(config: Path) -> tuple[int, str]:
    proc = run_cli("--config", str(config), "config", "show", timeout=30)
    return proc.returncode, proc.stderr


@pytest.mark.parametrize(
    "line", ["timeout = 1979-05-27", "retries = 07:32:00", "timeout = 1979-05-27T07:32:00Z"]
)
def test_a_date_where_a_number_goes(tmp_path: Path, line: str) -> None:
    config = tmp_path / "config.toml"
    config.write_text(f"# mine\n[defaults]\n{line}\n")
    code, err = show(config)
    assert_one_line(code, err, f"{config}:3: bad value for ")


def test_one_string_for_a_repeatable_option_is_one_item(blob_root: Path, tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text('[fetch]\nheader = "X-From-Config: one"\n')
    out = tmp_path / "out.bin"
    with MediaServer(blob_root) as srv:
        proc = run_cli("--config", str(config), "fetch", srv.url("small.bin"), "-o", str(out), "-q")
        seen = srv.stats.seen("small.bin")
    assert proc.returncode == 0, proc.stderr
    assert seen and all(s.header("X-From-Config") == "one" for s in seen)


def test_bytes_that_are_not_utf8_name_their_line(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_bytes(b'[play]\nvolume = 1.0\nuser-agent = "caf\xe9"\n')
    code, err = show(config)
    assert_one_line(code, err, f"{config}:3: not UTF-8")


def test_nesting_too_deep_for_the_parser(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text("[play]\nheader = " + "[" * 50_000 + "]" * 50_000 + "\n")
    code, err = show(config)
    assert_one_line(code, err, f"{config}:")


@pytest.mark.parametrize("source", ["/dev/zero", "big"])
def test_no_config_file_is_megabytes(tmp_path: Path, source: str) -> None:
    config = Path(source) if source.startswith("/") else tmp_path / "config.toml"
    if not source.startswith("/"):
        config.write_text("# padding\n" * 400_000)  # 4 MB of comments
    code, err = show(config)
    assert_one_line(code, err, f"{config}: ")
