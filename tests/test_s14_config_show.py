"""``kithara config show`` says why a ``KITHARA_*`` variable is refused.

Found in session 13 (left then): a variable that the command itself refuses (exit 2, "bad
KITHARA_FETCH_HEADER ...") was shown by ``config show`` as ``""  (unset)``, as if it were not
set at all: the one place a user looks to see what applies said nothing was wrong.
"""

from __future__ import annotations

from conftest import run_cli

TOKEN = "t0ken-9f8e7d"


def test_a_refused_header_variable_is_shown_refused_and_masked() -> None:
    env = {"KITHARA_FETCH_HEADER": f"Authorization: Bearer {TOKEN}\u00e9"}
    proc = run_cli("--no-config", "config", "show", env=env)
    assert proc.returncode == 0, proc.stderr
    assert TOKEN not in proc.stdout + proc.stderr
    line = next(
        x for x in proc.stdout.splitlines() if x.startswith("header = ") and "KITHARA_FETCH" in x
    )
    assert "refused: bad KITHARA_FETCH_HEADER 'Authorization: ***'" in line, line
    assert "must be ASCII" in line, line
    # the command it belongs to stops on the same variable, with the same reason
    fetch = run_cli("fetch", "http://127.0.0.1:9/a.mp3", "-o", "/dev/null", env=env)
    assert fetch.returncode == 2
    assert "bad KITHARA_FETCH_HEADER 'Authorization: ***'" in fetch.stderr


def test_a_refused_number_variable_is_shown_refused() -> None:
    proc = run_cli("--no-config", "config", "show", env={"KITHARA_PLAY_TIMEOUT": "soon"})
    assert proc.returncode == 0, proc.stderr
    play = [x for x in proc.stdout.split("[play]")[1].split("\n[")[0].splitlines()]
    line = next(x for x in play if x.startswith("timeout = "))
    assert "refused:" in line and "'soon' is not a valid float" in line, line
    assert line.endswith("# environment KITHARA_PLAY_TIMEOUT"), line


def test_an_accepted_variable_is_shown_as_before() -> None:
    proc = run_cli("--no-config", "config", "show", env={"KITHARA_PLAY_TIMEOUT": "7.5"})
    assert proc.returncode == 0, proc.stderr
    assert "timeout = 7.5  # environment KITHARA_PLAY_TIMEOUT" in proc.stdout
    assert "refused" not in proc.stdout
