"""The checked-in shell completions, as a new user's shell runs them.

Found in session 16, following the README on a fresh account:

- its ``cp`` lines failed (``No such file or directory``): none of the three folders exists
  in a new home; the README now makes them first.
- bash: ``kithara play <Tab>`` put a ``-`` on the line (the common prefix of every option)
  and never offered a local file, nor did ``--record <Tab>``/``--cookies <Tab>`` (only
  ``--out``, ``--events``, ``--json``, ``--compare`` took files, whatever the command);
  ``kithara cache <Tab>`` offered ``--help -h``, never ``ls rm clear info``.
- fish: ``complete -c kithara -f`` left ``play`` no file completion at all; no ``cache``
  or ``config`` commands.
- zsh: the autoloaded ``_kithara`` only defined the function, so the first Tab of each shell
  completed nothing; a ``:`` in a group command's help (``cache ls``) was escaped twice.

Now each completes the group's commands, option values by their metavar (FILE, DIR: paths;
a number: nothing, never the option list) and ``play``'s local files. Bash is driven through
readline on a pseudo-terminal (Tab pressed, the screen read back), as a user meets it.
"""

from __future__ import annotations

import os
import select
import subprocess
import time
from pathlib import Path

import pytest

from conftest import REPO
from kithara_cli.media.encode import encode_file

BASH_SCRIPT = REPO / "completions" / "kithara.bash"


@pytest.fixture(scope="module")
def music(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("music")
    encode_file(root / "song.mp3", 0.5, "mp3")
    encode_file(root / "my song.flac", 0.5, "flac")
    (root / "records").mkdir()
    return root


def _drain(fd: int, seconds: float) -> bytes:
    out = b""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        ready, _, _ = select.select([fd], [], [], 0.05)
        if ready:
            try:
                chunk = os.read(fd, 65536)
            except OSError:
                break
            if not chunk:
                break
            out += chunk
    return out


def bash_tab(typed: str, cwd: Path) -> str:
    """What an interactive bash shows after ``typed`` (``\\t`` for Tab), the completion
    sourced as the README says to without the bash-completion package."""
    master, slave = os.openpty()
    env = {
        "HOME": str(cwd),
        "PATH": os.environ["PATH"],
        "TERM": "dumb",
        "INPUTRC": "/dev/null",
        "PS1": "$ ",
    }
    proc = subprocess.Popen(
        ["bash", "--norc", "--noprofile", "-i"],
        stdin=slave,
        stdout=slave,
        stderr=slave,
        cwd=cwd,
        env=env,
        start_new_session=True,
    )
    os.close(slave)
    try:
        os.write(master, f"source {BASH_SCRIPT}\n".encode())
        _drain(master, 0.5)
        os.write(master, typed.encode())
        shown = _drain(master, 1.0)
        os.write(master, b"\x15exit\n")  # ^U: the line typed so far is dropped
        _drain(master, 0.3)
    finally:
        proc.kill()
        proc.wait()
        os.close(master)
    return shown.decode(errors="replace").replace("\r", "")


def test_bash_lists_a_group_s_commands(music: Path) -> None:
    for group, words in (("cache", ["ls", "rm", "clear", "info"]), ("config", ["path", "show"])):
        shown = bash_tab(f"kithara {group} \t\t", music)
        assert all(w in shown.split() for w in words), shown


def test_bash_offers_play_s_local_files_not_the_option_list(music: Path) -> None:
    shown = bash_tab("kithara play \t\t", music)
    assert "song.mp3" in shown and "--no-ui" not in shown, shown


@pytest.mark.parametrize("option", ["--record", "--cookies", "--events"])
def test_bash_completes_a_file_option_s_value_with_a_file(music: Path, option: str) -> None:
    shown = bash_tab(f"kithara play {option} my\t", music)
    assert "my\\ song.flac" in shown, shown  # one name, its space escaped for the shell


def test_bash_offers_nothing_for_a_number_and_words_for_loop(music: Path) -> None:
    shown = bash_tab("kithara fetch -c \t\t", music)
    assert "song.mp3" not in shown and "--out" not in shown, shown
    shown = bash_tab("kithara play --loop \t\t", music)
    assert "item" in shown.split() and "queue" in shown.split(), shown


def test_bash_cache_dir_offers_folders(music: Path) -> None:
    shown = bash_tab("kithara cache ls --cache-dir \t\t", music)
    assert "records/" in shown and "song.mp3" not in shown, shown


def test_the_readme_s_install_lines_work_in_a_new_home(tmp_path: Path) -> None:
    readme = (REPO / "README.md").read_text()
    section = readme.split("## Shell completions", 1)[1].split("```sh\n", 1)[1]
    lines = section.split("```", 1)[0]
    home = tmp_path / "home"
    home.mkdir()
    proc = subprocess.run(
        ["bash", "-e", "-c", lines],
        cwd=REPO,
        env={"HOME": str(home), "PATH": os.environ["PATH"]},
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    for installed in (
        ".local/share/bash-completion/completions/kithara",
        ".zfunc/_kithara",
        ".config/fish/completions/kithara.fish",
    ):
        assert (home / installed).is_file(), installed


def test_zsh_runs_the_function_when_autoloaded() -> None:
    zsh = (REPO / "completions" / "_kithara").read_text()
    assert zsh.startswith("#compdef kithara")
    tail = zsh.rstrip().splitlines()[-5:]
    assert tail[0] == 'if [ "$funcstack[1]" = "_kithara" ]; then'
    assert tail[1].strip() == '_kithara "$@"'
    assert "'ls:List cached entries\\: size" in zsh  # ':' escaped once, for _describe
    assert "_describe 'command' cache_commands" in zsh


def test_fish_completes_play_s_files_and_the_groups_commands() -> None:
    fish = (REPO / "completions" / "kithara.fish").read_text().splitlines()
    assert "complete -c kithara -n '__fish_seen_subcommand_from play' -F" in fish
    assert any("-a 'ls rm clear info'" in line for line in fish)
    record = [line for line in fish if " -l record " in line]
    assert record and " -r -F " in record[0]
