"""A seeded fault matrix: progressive and HLS (TS, fMP4, AES) fetches under each fault alone and
under random mixes of two or three. Every run ends in one of two ways only: an output whose
bytes equal a source (a whole version), or one typed error with nothing at --out.

Runs in-process (the same code paths as ``kithara fetch``, without a Python start-up per case)
on a few threads, each case on its own loopback server.
"""

from __future__ import annotations

import concurrent.futures
import dataclasses
import hashlib
import random
from dataclasses import dataclass
from pathlib import Path

import pytest

import hls_fixtures
from hls_fixtures import HlsMedia, expected_bytes
from kithara_cli.commands.common import CommonOptions
from kithara_cli.commands.fetch import FetchOptions
from kithara_cli.commands.fetch_hls import run_hls_fetch
from kithara_cli.dl import Downloader
from kithara_cli.errors import KitharaError
from kithara_cli.events import EventBus
from kithara_cli.file import ProgressiveFetch
from kithara_cli.file.state import part_paths
from kithara_cli.net import NetConfig, RetryPolicy
from kithara_cli.server import Faults, MediaServer

hls_media = hls_fixtures.hls_media

SEED = 20261206
TIMEOUT = 0.5  # --timeout for every case: stalls are caught fast
SIZE = 2_500_000

# name -> Faults fields. Cuts and stalls hit the first request of each path only;
# "wrong_length" (Content-Length promising more than each response carries) hits every one,
# so the body only comes whole by resuming from where each response ended.
FAULTS: dict[str, dict[str, object]] = {
    "rst": {"reset_after": 9_000, "faults_times": 1},
    "clean_close": {"close_after": 9_000, "faults_times": 1},
    "stall": {"stall_after": 5_000, "stall_seconds": 2.0, "faults_times": 1},
    "slow_first_byte": {"first_byte_delay": 0.3},
    "http_503": {"fail_first": 1, "fail_status": 503, "retry_after": 0},
    "http_429": {"fail_first": 1, "fail_status": 429, "retry_after": 0},
    "range_ignored": {"ignore_range": True},
    "no_length": {"no_content_length": True},
    "gzip": {"content_encoding": "gzip"},
    "wrong_length": {"close_after": 9_000},
    "changed_validators": {"etag_per_request": True, "ignore_if_range": True},
    "new_version": {"swap_after": 1, "ignore_if_range": True},  # progressive only
}
MUST_FAIL: set[str] = set()
# A new ETag on every response: a many-part progressive fetch cannot tell the parts are one
# file, so it must refuse; an HLS segment fetched whole (or restarted whole) is still fine.
MUST_FAIL_PROGRESSIVE = {"changed_validators"}
KINDS = ("progressive", "ts", "fmp4", "aes")


@dataclass(frozen=True)
class Case:
    kind: str
    faults: tuple[str, ...]

    @property
    def name(self) -> str:
        return f"{self.kind}:{'+'.join(self.faults)}"


def cases() -> list[Case]:
    out = [
        Case(kind, (fault,))
        for kind in KINDS
        for fault in FAULTS
        if kind == "progressive" or fault != "new_version"
    ]
    rng = random.Random(SEED)
    for _ in range(12):
        kind = rng.choice(KINDS)
        pool = [f for f in FAULTS if kind == "progressive" or f != "new_version"]
        out.append(Case(kind, tuple(sorted(rng.sample(pool, rng.choice((2, 3)))))))
    return out


def merged(names: tuple[str, ...], kind: str) -> Faults:
    fields: dict[str, object] = {}
    for name in names:
        fields.update(FAULTS[name])
    if "swap_after" in fields:
        fields.update(swap_from="v1", swap_to="v2")
    return dataclasses.replace(Faults(), **fields)


@dataclass(frozen=True)
class Result:
    case: Case
    digest: str | None
    error: BaseException | None
    leftovers: bool


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def run_case(index: int, case: Case, media: HlsMedia, blobs: Path, tmp: Path) -> Result:
    out = tmp / f"case{index}.bin"
    error: BaseException | None = None
    if case.kind == "progressive":
        with MediaServer(blobs) as srv:
            srv.set_faults("v1.bin", merged(case.faults, case.kind))
            net = NetConfig(read_timeout=TIMEOUT, connect_timeout=TIMEOUT)
            retry = RetryPolicy(max_attempts=4, base=0.01, cap=0.05)
            try:
                with Downloader(EventBus(), net, max_concurrent=4, retry=retry) as dl:
                    ProgressiveFetch(dl, srv.url("v1.bin"), out, connections=4).run()
            except BaseException as exc:  # judged below: it must be a KitharaError
                error = exc
    else:
        with MediaServer(media.root) as srv:
            srv.set_faults(f"{case.kind}/128k_*", merged(case.faults, case.kind))
            options = FetchOptions(url=srv.url(f"{case.kind}/master.m3u8"), out=out, quiet=True)
            common = CommonOptions(timeout=TIMEOUT, retries=4)
            try:
                run_hls_fetch(options, common, EventBus())
            except BaseException as exc:
                error = exc
    part, state = part_paths(out)
    digest = _sha(out.read_bytes()) if out.exists() else None
    fatal = isinstance(error, KitharaError) and not error.retryable
    leftovers = fatal and (part.exists() or state.exists())
    return Result(case, digest, error, leftovers)


@pytest.fixture(scope="module")
def blobs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("matrix")
    rng = random.Random(SEED)
    (root / "v1.bin").write_bytes(rng.randbytes(SIZE))
    (root / "v2.bin").write_bytes(rng.randbytes(SIZE))
    return root


def test_fault_matrix(hls_media: HlsMedia, blobs: Path, tmp_path: Path) -> None:
    sources = {
        "progressive": {
            _sha((blobs / "v1.bin").read_bytes()),
            _sha((blobs / "v2.bin").read_bytes()),
        },
        **{k: {_sha(expected_bytes(getattr(hls_media, k), 1))} for k in KINDS[1:]},
    }
    all_cases = cases()
    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        results = list(
            pool.map(
                lambda ic: run_case(ic[0], ic[1], hls_media, blobs, tmp_path),
                enumerate(all_cases),
            )
        )
    problems: list[str] = []
    for r in results:
        name = r.case.name
        if r.error is not None:
            if not isinstance(r.error, KitharaError):
                problems.append(f"{name}: untyped {type(r.error).__name__}: {r.error}")
            elif r.digest is not None:
                problems.append(f"{name}: failed ({r.error}) but left an output")
            elif r.leftovers:
                problems.append(f"{name}: fatal error left a .part or state file")
        elif r.digest not in sources[r.case.kind]:
            problems.append(f"{name}: output equals no source version")
        if len(r.case.faults) == 1:
            (fault,) = r.case.faults
            must_fail = fault in MUST_FAIL or (
                r.case.kind == "progressive" and fault in MUST_FAIL_PROGRESSIVE
            )
            if must_fail and r.error is None:
                problems.append(f"{name}: should have failed")
            if not must_fail and r.error is not None:
                problems.append(f"{name}: should have succeeded, got {r.error!r}")
    failed = sorted(f"{r.case.name} -> {type(r.error).__name__}" for r in results if r.error)
    print(f"{len(results)} cases, {len(results) - len(failed)} whole outputs; failed cleanly:")
    print("\n".join(failed))
    assert not problems, "\n".join(problems)
    mixed = [r for r in results if len(r.case.faults) > 1]
    assert len(mixed) == 12 and any(r.error is None for r in mixed)
