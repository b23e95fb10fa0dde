"""What goes into a request's head is checked as the options are parsed; a header variable
holds one header a line.

Found in session 13: ``-H 'X-Name: Ŝ'`` (not Latin-1) ended "unexpected error ...
UnicodeEncodeError" (exit 3, and ``play`` first retried it six times), a header with a line
break "network error ... LocalProtocolError" (exit 3), and ``--user-agent``/``--cookie`` alike;
``-H 'X-Name: é'`` worked on one request path and crashed on the other (a cookie, a URL with a
password: httpx's client encodes a header as ASCII). Each is now bad usage (exit 2, one line)
before any request. And ``KITHARA_FETCH_HEADER='Authorization: Bearer T'`` could not be said:
Click split the variable at its spaces into three "headers".
"""

from __future__ import annotations

from pathlib import Path

import h11
import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from conftest import run_cli
from kithara_cli.cli_options import cookie_problem, header_problem
from kithara_cli.media.encode import encode_file
from kithara_cli.server import MediaServer

ENV = {"KITHARA_AUDIO_DEVICE": "none"}

BAD = [
    ("-H", "X-Name: \u015c"),  # not Latin-1
    ("-H", "X-Name: caf\u00e9"),  # Latin-1, refused by httpx's client
    ("-H", "X-Name: a\r\nX-Injected: 1"),
    ("-H", "X-Name: a\nb"),
    ("-H", "X-Name: a\x7fb"),  # DEL: the server answered 400
    ("-H", "X Name: b"),  # a name with a space
    ("--header", "nocolon"),
    ("-A", "kithara \u015c"),
    ("--user-agent", "a\r\nb"),
    ("--cookie", "sid=\u015c"),
    ("--cookie", "sid=a\nb"),
    ("--cookie", "sid=a;b"),
]


def _one_usage_line(stderr: str, starts: str) -> str:
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1, stderr
    assert lines[0].startswith(f"kithara: error: bad {starts}"), stderr
    assert "Traceback" not in stderr and "unexpected" not in stderr
    return lines[0]


@pytest.mark.parametrize("command", ["fetch", "play"])
@pytest.mark.parametrize(("flag", "value"), BAD)
def test_an_unsendable_value_is_bad_usage_before_any_request(
    server: MediaServer, tmp_path: Path, command: str, flag: str, value: str
) -> None:
    out = tmp_path / "o.bin"
    where = ("--out", str(out)) if command == "fetch" else ("--output", "null", "--no-ui")
    proc = run_cli(command, server.url("small.bin"), *where, flag, value, env=ENV, timeout=30)
    assert proc.returncode == 2, proc.stderr
    long = {"-H": "--header", "-A": "--user-agent"}.get(flag, flag)
    _one_usage_line(proc.stderr, long)  # a line break in the value is shown escaped
    assert server.stats.requests() == []
    assert not out.exists()


def test_a_bad_header_in_the_variable_or_the_config_file_names_where_it_is(
    server: MediaServer, tmp_path: Path
) -> None:
    out = tmp_path / "o.bin"
    env = {"KITHARA_FETCH_HEADER": "Authorization: Bearer s3cret\u015c"}
    proc = run_cli("fetch", server.url("small.bin"), "--out", str(out), env=env)
    assert proc.returncode == 2, proc.stderr
    line = _one_usage_line(proc.stderr, "KITHARA_FETCH_HEADER 'Authorization: ***'")
    assert "s3cret" not in line and "U+015C" in line
    config = tmp_path / "kithara.toml"
    config.write_text('[defaults]\ntimeout = 5\nheader = ["X-Name: a\\r\\nb"]\n')
    proc = run_cli("--config", str(config), "play", server.url("small.bin"), "--output", "null")
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.startswith(f"kithara: error: {config}:3: bad value for header"), proc.stderr
    assert server.stats.requests() == []


@pytest.fixture(scope="module")
def song(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("song")
    encode_file(root / "song.mp3", 1.0, "mp3")
    return root


def test_a_header_variable_holds_headers_with_spaces_one_a_line(song: Path, tmp_path: Path) -> None:
    """Fetch and play both send each line of KITHARA_<CMD>_HEADER as one header, spaces kept;
    a blank line and CRLF line ends are fine (a variable written on Windows)."""
    with MediaServer(song) as srv:
        lines = "Authorization: Bearer tok en\r\n\nX-Title: a b\tc\n"
        env = {**ENV, "KITHARA_FETCH_HEADER": lines, "KITHARA_PLAY_HEADER": lines}
        fetched = run_cli("fetch", srv.url("song.mp3"), "-o", str(tmp_path / "s.mp3"), env=env)
        assert fetched.returncode == 0, fetched.stderr
        args = ("--output", "null", "--no-ui", "--length", "0.3")
        played = run_cli("play", srv.url("song.mp3"), *args, env=env, timeout=60)
        assert played.returncode == 0, played.stderr
        seen = srv.stats.seen("song.mp3")
        assert len(seen) >= 2
        for request in seen:
            assert request.header("Authorization") == "Bearer tok en"
            assert request.header("X-Title") == "a b\tc"
        # A flag still wins over the variable, and repeats.
        srv.stats.reset()
        flags = ("-H", "X-Title: x y", "-H", "X-Other: z")
        again = run_cli(
            "fetch", srv.url("song.mp3"), "-fo", str(tmp_path / "s.mp3"), *flags, env=env
        )
        assert again.returncode == 0, again.stderr
        (request,) = srv.stats.seen("song.mp3")
        assert request.header("Authorization") is None
        assert (request.header("X-Title"), request.header("X-Other")) == ("x y", "z")


@given(st.text(max_size=12), st.text(max_size=20))
def test_what_the_check_passes_both_clients_can_send(name: str, value: str) -> None:
    """The check against the clients themselves: whatever passes, httpx's client (ASCII)
    and h11 (the direct path's wire format) both take; whatever h11 takes in ASCII passes."""
    raw = f"{name}:{value}"
    sent = (name.strip().encode("latin-1", "replace"), value.strip().encode("latin-1", "replace"))
    try:
        h11.Request(method="GET", target="/", headers=[("Host", "h"), sent])
        h11_takes = value.isascii() and name.isascii()
    except h11.LocalProtocolError:
        h11_takes = False
    if header_problem(raw) is None:
        assert h11_takes
        httpx.Headers({name.strip(): value.strip()}).raw  # noqa: B018 - raises if it cannot
    elif h11_takes and ":" not in name and name.strip():
        pytest.fail(f"refused a header h11 sends: {raw!r}")


def test_cookie_check() -> None:
    assert cookie_problem("sid=abc") is None
    assert cookie_problem("sid=") is None  # an empty value is a value
    for bad in ("sid", "=abc", "s id=abc", "sid=a;b", "sid=a\rb", "sid=\u00e9"):
        assert cookie_problem(bad) is not None, bad
