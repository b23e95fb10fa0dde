"""The seeded fault matrix for playback: progressive (FLAC), TS, fMP4 and AES HLS played under
each fault alone and under random mixes. Every run ends in one of two ways only:

* the audio written (``--output wav:``) equals, sample for sample, a clean playback of the same
  URL; or, where a failover to another variant was reported as an event (a ``Notice``), it
  plays the source's tone second after second with no gap and the right length;
* or one typed error with a documented exit code (the CLI's one line, checked for a few).

Runs the Player in-process (what ``kithara play URL --no-ui --output wav:FILE`` runs, without
a Python start-up per case) on a few threads, each case on its own loopback server. Faults hit
the progressive file, or the 128k variant's playlist and segments, which the player is held to
(``--abr fixed:1``), so a failing segment can only fail over to the 64k one.
"""

from __future__ import annotations

import concurrent.futures
import dataclasses
import json
import random
import subprocess
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

import hls_fixtures
from conftest import KITHARA
from hls_fixtures import HlsMedia
from kithara_cli.dl import Downloader
from kithara_cli.errors import (
    HttpStatusError,
    KitharaError,
    NetworkError,
    PlaylistError,
    RemoteChangedError,
    TooManyRedirectsError,
)
from kithara_cli.events import EventBus, event_to_dict
from kithara_cli.media import encode_file
from kithara_cli.media.analysis import decode_pcm, seconds_heard
from kithara_cli.net import NetConfig, RetryPolicy
from kithara_cli.play import Player, PlayerSettings
from kithara_cli.server import Faults, MediaServer
from kithara_cli.storage import ResourceFailed

hls_media = hls_fixtures.hls_media

SEED = 20261207
TIMEOUT = 0.5  # --timeout: stalls are caught fast
SECONDS = 20.0
KINDS = ("progressive", "ts", "fmp4", "aes")
DOCUMENTED_EXITS = {3, 4, 5}  # network, HTTP status, playlist/media (errors.py's table)

FAULTS: dict[str, dict[str, object]] = {
    "rst": {"reset_after": 9_000, "faults_times": 1},
    "clean_close": {"close_after": 9_000, "faults_times": 1},
    "stall": {"stall_after": 5_000, "stall_seconds": 2.0, "faults_times": 1},
    "slow_first_byte": {"first_byte_delay": 0.3},
    "http_503": {"fail_first": 1, "fail_status": 503, "retry_after": 0},
    "http_429": {"fail_first": 1, "fail_status": 429, "retry_after": 0},
    "segment_404": {"fail_first": 1000, "fail_status": 404},  # HLS: one segment; else the file
    "range_ignored": {"ignore_range": True},
    "redirect_loop": {"redirects": 50},
    "wrong_length": {"close_after": 9_000},  # every response short of its Content-Length
    "changed_validators": {"etag_per_request": True, "ignore_if_range": True},
}
# Each alone must play whole (HLS: the 404 segment fails over to the 64k variant).
MUST_PLAY = {
    "rst",
    "clean_close",
    "stall",
    "slow_first_byte",
    "http_503",
    "http_429",
    "range_ignored",
    "wrong_length",
}
MUST_PLAY_HLS = MUST_PLAY | {"segment_404", "changed_validators"}
# Alone, these can only end in their error (progressive: the one file is gone or unreachable).
MUST_FAIL_PROGRESSIVE: dict[str, type[KitharaError]] = {
    "segment_404": HttpStatusError,
    "redirect_loop": TooManyRedirectsError,
}
EXPECTED_ERRORS = (NetworkError, HttpStatusError, PlaylistError, RemoteChangedError)


@dataclass(frozen=True)
class Case:
    kind: str
    faults: tuple[str, ...]

    @property
    def name(self) -> str:
        return f"{self.kind}:{'+'.join(self.faults) or 'clean'}"


def cases() -> list[Case]:
    out = [Case(kind, (fault,)) for kind in KINDS for fault in FAULTS]
    rng = random.Random(SEED)
    for _ in range(8):
        kind = rng.choice(KINDS)
        out.append(Case(kind, tuple(sorted(rng.sample(list(FAULTS), rng.choice((2, 3)))))))
    return out


def merged(names: tuple[str, ...]) -> Faults:
    fields: dict[str, object] = {}
    for name in names:
        fields.update(FAULTS[name])
    return dataclasses.replace(Faults(), **fields)


@dataclass
class Result:
    case: Case
    error: BaseException | None
    events: list[dict]
    pcm: np.ndarray | None
    rate: int

    def error_code(self) -> int | None:
        return self.error.exit_code if isinstance(self.error, KitharaError) else None


def target(case: Case) -> tuple[str, str]:
    """(path to play, fault pattern) for a case's kind."""
    if case.kind == "progressive":
        return "tone.flac", "tone.flac"
    if "segment_404" in case.faults:
        return f"{case.kind}/master.m3u8", f"{case.kind}/128k_00004.*"
    return f"{case.kind}/master.m3u8", f"{case.kind}/128k*"


def play(url: str, wav: Path) -> tuple[BaseException | None, list[dict]]:
    """One playback to ``wav``, as ``kithara play`` runs it; (error, events)."""
    bus = EventBus()
    seen: list[dict] = []
    bus.subscribe(lambda e: seen.append(event_to_dict(e)))
    net = NetConfig(read_timeout=TIMEOUT, connect_timeout=TIMEOUT)
    retry = RetryPolicy(max_attempts=4, base=0.01, cap=0.05)
    error: BaseException | None = None
    with Downloader(bus, net, max_concurrent=4, retry=retry) as dl:
        player = Player(bus, PlayerSettings(output=f"wav:{wav}", abr="fixed:1"), dl)
        try:
            player.open(url)
            if not player.wait(60):
                error = AssertionError("playback did not end within 60 s")
        except BaseException as exc:  # judged by the caller: it must be a KitharaError
            error = exc
        finally:
            player.close()
        error = error or player.error
    if isinstance(error, ResourceFailed):  # a progressive download's failure, as the reader
        error = error.cause  # met it: its exit code is the cause's; judge the cause's type
    return error, seen


def run_case(index: int, case: Case, roots: Roots, tmp: Path) -> Result:
    wav = tmp / f"case{index}.wav"
    path, pattern = target(case)
    with MediaServer(roots.for_kind(case.kind)) as srv:
        if case.faults:
            srv.set_faults(pattern, merged(case.faults))
        error, events = play(srv.url(path), wav)
    pcm, rate = decode_pcm(wav) if error is None else (None, 0)
    return Result(case, error, events, pcm, rate)


@dataclass(frozen=True)
class Roots:
    progressive: Path  # a 20 s FLAC
    hls: Path  # the ladders of hls_fixtures

    def for_kind(self, kind: str) -> Path:
        return self.progressive if kind == "progressive" else self.hls


@pytest.fixture(scope="module")
def media(hls_media: HlsMedia, tmp_path_factory: pytest.TempPathFactory) -> Roots:
    root = tmp_path_factory.mktemp("play-matrix")
    encode_file(root / "tone.flac", SECONDS, "flac")
    return Roots(root, hls_media.root)


def failover_reported(events: list[dict]) -> bool:
    return any(e["event"] == "Notice" and "trying v" in e["message"] for e in events)


def tone_problems(pcm: np.ndarray, rate: int, seconds: float) -> list[str]:
    """The tone, second after second, the right length, no silence inside."""
    problems = []
    if abs(len(pcm) / rate - seconds) > 0.06:
        problems.append(f"{len(pcm) / rate:.3f} s, want {seconds:.3f}")
    heard = seconds_heard(pcm, rate, window=0.5)
    if heard != [i // 2 for i in range(len(heard))]:
        problems.append(f"seconds heard {heard}")
    quiet = np.abs(pcm).max(axis=1) < 1e-4
    run = longest = 0
    for q in quiet[rate // 10 : -rate // 10]:  # away from the codec's priming and tail
        run = run + 1 if q else 0
        longest = max(longest, run)
    if longest > 0.025 * rate:
        problems.append(f"a gap of {longest / rate * 1000:.0f} ms")
    return problems


def test_play_fault_matrix(media: Roots, tmp_path: Path) -> None:
    all_cases = [Case(kind, ()) for kind in KINDS] + cases()  # the clean references first
    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        results = list(
            pool.map(lambda ic: run_case(ic[0], ic[1], media, tmp_path), enumerate(all_cases))
        )
    references = {}
    for clean in results[: len(KINDS)]:
        kind = clean.case.kind
        assert clean.error is None, f"{kind}: clean playback failed: {clean.error!r}"
        assert clean.pcm is not None
        assert not tone_problems(clean.pcm, clean.rate, len(clean.pcm) / clean.rate)
        references[kind] = clean
    results = results[len(KINDS) :]
    problems: list[str] = []
    outcomes: list[str] = []
    for r in results:
        name = r.case.name
        ref = references[r.case.kind]
        assert ref.pcm is not None
        if r.error is not None:
            outcomes.append(f"{name}: {type(r.error).__name__} (exit {r.error_code()})")
            if not isinstance(r.error, KitharaError):
                problems.append(f"{name}: untyped {type(r.error).__name__}: {r.error}")
            elif r.error.exit_code not in DOCUMENTED_EXITS or not isinstance(
                r.error, EXPECTED_ERRORS
            ):
                problems.append(f"{name}: unexpected {r.error!r} (exit {r.error.exit_code})")
        else:
            assert r.pcm is not None
            exact = r.rate == ref.rate and np.array_equal(r.pcm, ref.pcm)
            if exact:
                outcomes.append(f"{name}: identical audio")
            elif failover_reported(r.events):
                outcomes.append(f"{name}: failover reported, tone checked")
                duration = len(ref.pcm) / ref.rate
                problems += [f"{name}: {p}" for p in tone_problems(r.pcm, r.rate, duration)]
            else:
                problems.append(f"{name}: audio differs from the clean playback, no gap reported")
        if len(r.case.faults) == 1:
            (fault,) = r.case.faults
            hls = r.case.kind != "progressive"
            must_play = fault in (MUST_PLAY_HLS if hls else MUST_PLAY)
            if must_play and r.error is not None:
                problems.append(f"{name}: should have played, got {r.error!r}")
            want_error = None if hls else MUST_FAIL_PROGRESSIVE.get(fault)
            if want_error is not None and not isinstance(r.error, want_error):
                problems.append(f"{name}: should have failed with {want_error.__name__}")
    print(f"{len(results)} cases:\n" + "\n".join(outcomes))
    assert not problems, "\n".join(problems)
    assert sum(r.error is None for r in results) >= len(results) // 2


@pytest.mark.parametrize(
    ("path", "pattern", "faults", "code"),
    [
        ("tone.flac", "tone.flac", Faults(redirects=50), 4),
        ("tone.flac", "tone.flac", Faults(fail_first=1000, fail_status=404), 4),
        ("ts/master.m3u8", "ts/*", Faults(fail_first=1000, fail_status=503, retry_after=0), 3),
    ],
    ids=["redirect-loop", "404", "503-everywhere"],
)
def test_play_cli_fails_with_one_line_and_its_code(
    media: Roots, tmp_path: Path, path: str, pattern: str, faults: Faults, code: int
) -> None:
    """The CLI's side of a failed playback: one line on stderr, the documented exit code,
    the failure's events in --events."""
    events = tmp_path / "events.jsonl"
    with MediaServer(media.for_kind("progressive" if path == "tone.flac" else "ts")) as srv:
        srv.set_faults(pattern, faults)
        proc = subprocess.run(
            [
                *KITHARA,
                "play",
                srv.url(path),
                "--no-ui",
                "--output",
                f"wav:{tmp_path / 'out.wav'}",
                "--events",
                str(events),
                "--timeout",
                "0.5",
                "--retries",
                "2",
            ],
            capture_output=True,
            text=True,
            timeout=60,
            stdin=subprocess.DEVNULL,
            env={"KITHARA_AUDIO_DEVICE": "none", "NO_COLOR": "1", "PATH": "/usr/bin:/bin"},
        )
    assert proc.returncode == code, proc.stderr
    errors = [ln for ln in proc.stderr.splitlines() if ln.startswith("kithara: error: ")]
    assert len(errors) == 1 and proc.stderr.splitlines()[-1] == errors[0], proc.stderr
    assert "Traceback" not in proc.stderr
    kinds = {json.loads(ln)["event"] for ln in events.read_text().splitlines()}
    assert "RequestFailed" in kinds or "RetryExhausted" in kinds, kinds
