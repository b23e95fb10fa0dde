"""What a user coming from mpv, ffplay, curl or yt-dlp types first, before reading the help.

Found in session 16 (a new user's first ten minutes), each on a PyAV-made MP3 served on
127.0.0.1:

- ``kithara URL`` (``mpv URL``, ``yt-dlp URL``) said ``No such command 'http://...'`` (exit 2);
  now the line gives the command to type (``kithara play URL``), options kept.
- ``kithara play example.com/a.mp3`` (a URL copied without its scheme; curl and streamlink
  guess one) said ``no such file ... (and not an http(s) URL)``, ``fetch`` ``unsupported URL
  scheme 'none'``; now both say ``did you mean http://...?``, and the URL named plays.
- ``kithara play file:///music/a%20b.mp3`` (a browser's address bar, a file manager's "copy
  link"; mpv and ffplay open it) was refused (``unsupported URL scheme 'file'``, exit 2); now
  it plays the file.
- A local file that is no audio at all said FFmpeg's exception as PyAV formats it
  (``InvalidDataError: [Errno 1094995529] Invalid data found when processing input:
  '<none>'``); now FFmpeg's words only, as ffplay prints them.
"""

from __future__ import annotations

import random
import shlex
from collections.abc import Iterator
from pathlib import Path

import pytest

from conftest import run_cli
from kithara_cli.media.encode import encode_file
from kithara_cli.server import MediaServer

PLAY = ("--output", "null", "--no-ui", "--length", "0.3")
NULL_AUDIO = {"KITHARA_AUDIO_DEVICE": "none"}


@pytest.fixture(scope="module")
def media(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("newuser")
    encode_file(root / "song.mp3", 1.0, "mp3")
    encode_file(root / "my song.mp3", 1.0, "mp3")
    (root / "junk.mp3").write_bytes(random.Random(16).randbytes(200_000))
    return root


@pytest.fixture
def served(media: Path) -> Iterator[MediaServer]:
    with MediaServer(media) as srv:
        yield srv


def one_error_line(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("kithara: error: "), stderr
    assert "Traceback" not in stderr
    return lines[0]


def test_a_url_without_a_command_says_the_command_to_type(served: MediaServer) -> None:
    url = f"{served.base_url}/song.mp3?a=1&b=2"
    proc = run_cli(url, *PLAY, env=NULL_AUDIO)
    assert proc.returncode == 2
    line = one_error_line(proc.stderr)
    assert "No such command" not in line
    suggested = line.split("to play it, ", 1)[1].split(" (to save it", 1)[0]
    assert "kithara fetch -o FILE URL" in line
    args = shlex.split(suggested)  # quoted for a shell: the '&' is not a background job
    assert args == ["kithara", "play", url, *PLAY]
    played = run_cli(*args[1:], env=NULL_AUDIO)
    assert played.returncode == 0, played.stderr
    assert len(served.stats.requests("/song.mp3")) >= 1


def test_a_local_file_without_a_command_is_pointed_to_play(media: Path) -> None:
    proc = run_cli("song.mp3", cwd=media)
    assert proc.returncode == 2
    line = one_error_line(proc.stderr)
    assert line.endswith("is not a command: to play it, kithara play song.mp3"), line


def test_a_command_name_typo_keeps_click_s_suggestion() -> None:
    proc = run_cli("plya")
    assert proc.returncode == 2
    assert "Did you mean 'play'?" in one_error_line(proc.stderr)


def test_a_url_without_a_command_masks_its_password() -> None:
    proc = run_cli("http://user:s3cret@127.0.0.1:9/a.mp3")
    assert proc.returncode == 2
    line = one_error_line(proc.stderr)
    assert "s3cret" not in line and "kithara play 'http://***@127.0.0.1:9/a.mp3'" in line


@pytest.mark.parametrize("command", ["play", "fetch"])
def test_a_url_without_its_scheme_names_the_one_to_type(
    served: MediaServer, tmp_path: Path, command: str
) -> None:
    bare = served.base_url.removeprefix("http://") + "/song.mp3"
    extra = PLAY if command == "play" else ("-o", str(tmp_path / "song.mp3"))
    proc = run_cli(command, bare, *extra, cwd=tmp_path, env=NULL_AUDIO)
    assert proc.returncode == 2
    line = one_error_line(proc.stderr)
    assert f"did you mean http://{bare}?" in line, line
    assert "'none'" not in line
    assert len(served.stats.seen("/song.mp3")) == 0  # a hint, not a guess sent out
    again = run_cli(command, f"http://{bare}", *extra, cwd=tmp_path, env=NULL_AUDIO)
    assert again.returncode == 0, again.stderr


@pytest.mark.parametrize(
    ("typed", "hint"),
    [
        ("example.com/a.mp3", "did you mean https://example.com/a.mp3?"),
        ("localhost:8000", "did you mean http://localhost:8000?"),
        ("song.mp", None),  # a file name as likely as a host: no guess
        ("v1.2/a.mp3", None),
    ],
)
def test_which_names_get_a_scheme_hint(tmp_path: Path, typed: str, hint: str | None) -> None:
    proc = run_cli("play", typed, *PLAY, cwd=tmp_path, env=NULL_AUDIO)
    assert proc.returncode == 2
    line = one_error_line(proc.stderr)
    if hint is None:
        assert "did you mean" not in line and "no such file" in line
    else:
        assert hint in line


@pytest.mark.parametrize("name", ["song.mp3", "my song.mp3"])
def test_a_file_url_plays_the_local_file(media: Path, name: str) -> None:
    url = (media / name).as_uri()  # file:///.../my%20song.mp3
    proc = run_cli("play", url, *PLAY, "-v", env=NULL_AUDIO)
    assert proc.returncode == 0, proc.stderr
    assert "PlaybackStarted" in proc.stderr


def test_a_file_url_of_another_host_is_still_refused(tmp_path: Path) -> None:
    proc = run_cli("play", "file://otherhost/a.mp3", *PLAY, env=NULL_AUDIO)
    assert proc.returncode == 2
    assert "unsupported URL scheme 'file'" in one_error_line(proc.stderr)


def test_a_file_that_is_no_audio_says_so_in_ffmpeg_s_words(
    media: Path, served: MediaServer
) -> None:
    for target in ("junk.mp3", f"{served.base_url}/junk.mp3"):
        proc = run_cli("play", target, *PLAY, cwd=media, env=NULL_AUDIO)
        assert proc.returncode == 5
        line = one_error_line(proc.stderr)
        assert "not audio in a format FFmpeg knows" in line, line
        for noise in ("Errno", "InvalidDataError", "<none>"):
            assert noise not in line


@pytest.fixture(scope="module")
def album(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("album")
    encode_file(root / "10 ten.mp3", 0.5, "mp3")
    encode_file(root / "2 two.flac", 0.5, "flac")
    (root / "disc 2").mkdir()
    encode_file(root / "disc 2" / "1 one.ogg", 0.5, "ogg")
    (root / "cover.jpg").write_bytes(b"\xff\xd8\xff\xe0 not audio")
    (root / ".hidden.mp3").write_bytes(b"")
    (root / "empty").mkdir()
    return root


def test_a_folder_plays_its_audio_files_in_name_order(album: Path) -> None:
    """Was ``a folder, not a file: ALBUM`` (exit 2); mpv plays a folder's files. Now each
    audio file under it plays, numbers in order (2 before 10), subfolders after the files."""
    proc = run_cli("play", str(album), *PLAY, env=NULL_AUDIO)
    assert proc.returncode == 0, proc.stderr
    queued = [
        line.split("QUEUE", 1)[1].split()[1:]
        for line in proc.stderr.splitlines()
        if " QUEUE " in line
    ]
    assert [" ".join(q) for q in queued] == [
        f"{album}/2 two.flac",
        f"{album}/10 ten.mp3",
        f"{album}/disc 2/1 one.ogg",
    ], proc.stderr
    assert proc.stderr.count("STARTED") == 3


def test_a_folder_without_audio_is_one_line(album: Path) -> None:
    proc = run_cli("play", str(album / "empty"), *PLAY, env=NULL_AUDIO)
    assert proc.returncode == 2
    assert one_error_line(proc.stderr).endswith(
        f"a folder with no audio files in it: {album}/empty"
    )


@pytest.mark.parametrize(
    ("args", "usage"),
    [
        (["help"], "Usage: kithara [OPTIONS] COMMAND"),
        (["help", "play"], "Usage: kithara play [OPTIONS] [URL]..."),
        (["help", "cache", "ls"], "Usage: kithara cache ls [OPTIONS]"),
    ],
)
def test_help_command_shows_that_help(args: list[str], usage: str) -> None:
    """``kithara help play`` (git's, pip's, cargo's way) was ``No such command 'help'``."""
    proc = run_cli(*args)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith(usage), proc.stdout


@pytest.mark.parametrize(
    ("args", "line"),
    [
        (
            ["--no-ui", "play", "x.mp3"],
            "--no-ui is an option of play: put it after the command (kithara play --no-ui ...)",
        ),
        (
            ["-q", "fetch", "http://127.0.0.1:9/x.mp3"],
            "-q is an option of fetch: put it after the command (kithara fetch -q ...)",
        ),
    ],
)
def test_a_command_s_option_before_it_says_where_it_goes(args: list[str], line: str) -> None:
    """mpv and yt-dlp take options anywhere; kithara's go after the command. Was "No such
    option: --no-ui (Possible options: --no-config)", which pointed at the wrong option."""
    proc = run_cli(*args)
    assert proc.returncode == 2
    assert one_error_line(proc.stderr) == f"kithara: error: {line}"


def test_an_option_no_command_has_keeps_click_s_line() -> None:
    proc = run_cli("--bogus", "play")
    assert proc.returncode == 2
    assert one_error_line(proc.stderr) == (
        "kithara: error: No such option: --bogus (see kithara --help)"
    )


def test_a_url_without_scheme_nor_command_gets_both_back(served: MediaServer) -> None:
    bare = served.base_url.removeprefix("http://") + "/song.mp3"
    proc = run_cli(bare, *PLAY, env=NULL_AUDIO)
    assert proc.returncode == 2
    line = one_error_line(proc.stderr)
    assert line.startswith(f"kithara: error: {bare} is not a command: to play it, ")
    suggested = line.split("to play it, ", 1)[1].split(" (to save it", 1)[0]
    args = shlex.split(suggested)
    assert args == ["kithara", "play", f"http://{bare}", *PLAY]
    played = run_cli(*args[1:], env=NULL_AUDIO)
    assert played.returncode == 0, played.stderr
