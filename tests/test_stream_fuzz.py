"""The byte stream PyAV reads, fuzzed: random read(n) / seek(offset, whence) / tell sequences
through the real ``ByteStream`` over real sources, against ``io.BytesIO`` of the same bytes.

Sources: ``ProgressiveSource`` fed by the loopback server (paced, so reads and seeks race the
download and seeks re-aim the request; one variant ignores Range, one cuts its first response)
and a ``SparseResource`` filled in random order by a writer thread. Every read returns the
reference's bytes at that position (a raw stream may return fewer than asked, never none
before the end), seeks land where the reference's do, and the end comes only at the true end.

CI runs ``KITHARA_FUZZ_EXAMPLES`` (default 60) derandomized examples per source.
"""

from __future__ import annotations

import io
import os
import random
import threading
from collections.abc import Iterator

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kithara_cli.dl import Downloader
from kithara_cli.events import EventBus
from kithara_cli.file.source import ProgressiveSource
from kithara_cli.net import NetConfig, RetryPolicy
from kithara_cli.server import Faults, MediaServer
from kithara_cli.storage import SparseResource
from kithara_cli.stream import ByteStream, Source

SIZE = 300_000
EXAMPLES = int(os.environ.get("KITHARA_FUZZ_EXAMPLES", "60"))
PROFILE = settings(max_examples=EXAMPLES, derandomize=EXAMPLES <= 1000)

# (name, faults): the server's ways of delivering the same bytes
SERVED = {
    "paced": Faults(rate_per_conn=4_000_000),
    "range_ignored": Faults(ignore_range=True, rate_per_conn=4_000_000),
    "cut_once": Faults(reset_after=50_000, faults_times=1),
}

offsets = st.integers(min_value=0, max_value=SIZE + 5_000)
ops = st.lists(
    st.one_of(
        st.tuples(st.just("read"), st.integers(min_value=-1, max_value=80_000)),
        st.tuples(st.just("read"), st.integers(min_value=0, max_value=64)),
        st.tuples(st.just("seek"), offsets, st.just(os.SEEK_SET)),
        st.tuples(st.just("seek"), st.integers(-SIZE - 10, 50_000), st.just(os.SEEK_CUR)),
        st.tuples(st.just("seek"), st.integers(-SIZE - 10, 1_000), st.just(os.SEEK_END)),
        st.tuples(st.just("tell"), st.just(0), st.just(0)),
    ),
    min_size=1,
    max_size=40,
)


def check(stream: ByteStream, data: bytes, sequence: list[tuple]) -> None:
    ref = io.BytesIO(data)
    for step, op in enumerate(sequence):
        where = f"step {step} {op} at {ref.tell()}"
        if op[0] == "read":
            n = op[1]
            pos = ref.tell()
            got = stream.read(n)
            if n < 0:
                assert got == ref.read(), where  # read(-1): all the rest
            else:
                assert len(got) <= n, where
                assert got == data[pos : pos + len(got)], where
                if n > 0 and pos < len(data):
                    assert got, f"{where}: the end before the true end"
                ref.seek(pos + len(got))
        elif op[0] == "seek":
            _, offset, whence = op
            base = {os.SEEK_SET: 0, os.SEEK_CUR: ref.tell(), os.SEEK_END: len(data)}[whence]
            # A negative target is refused with the position unchanged, as a file's seek (and
            # FFmpeg's avio) has it; BytesIO clamps SEEK_CUR/SEEK_END to 0 instead.
            want = ref.seek(base + offset) if base + offset >= 0 else -1
            got = stream.seek(offset, whence)
            assert got == want, where
        assert stream.tell() == ref.tell(), where
    assert not stream.ended_early, (stream.failure, stream.source_closed)


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[MediaServer, bytes]]:
    root = tmp_path_factory.mktemp("fuzz-stream")
    data = random.Random(15).randbytes(SIZE)
    (root / "blob.bin").write_bytes(data)
    for name in SERVED:
        (root / f"{name}.bin").write_bytes(data)
    with MediaServer(root) as srv:
        for name, faults in SERVED.items():
            srv.set_faults(f"{name}.bin", faults)
        yield srv, data


@pytest.fixture(scope="module")
def downloader() -> Iterator[Downloader]:
    net = NetConfig(read_timeout=2.0, connect_timeout=2.0)
    with Downloader(EventBus(), net, retry=RetryPolicy(max_attempts=4, base=0.01, cap=0.05)) as dl:
        yield dl


@pytest.mark.parametrize("name", list(SERVED))
def test_progressive_stream_reads_like_bytesio(
    served: tuple[MediaServer, bytes],
    downloader: Downloader,
    tmp_path_factory: pytest.TempPathFactory,
    name: str,
) -> None:
    srv, data = served
    cache = tmp_path_factory.mktemp(f"cache-{name}")
    counter = iter(range(10**9))

    @PROFILE
    @given(sequence=ops)
    def run(sequence: list[tuple]) -> None:
        src = ProgressiveSource(downloader, srv.url(f"{name}.bin"), cache / f"{next(counter)}.bin")
        src.start(0)
        try:
            check(ByteStream(src, name=name), data, sequence)
        finally:
            src.close()

    run()


class _FilledSource(Source):
    """``stream.Source`` over a SparseResource that a writer thread fills in random order."""

    def __init__(self, resource: SparseResource) -> None:
        self.resource = resource

    def wait_readable(self, offset: int, size: int, timeout: float | None = None) -> int:
        total = self.resource.total
        if total is not None and offset >= total:
            return 0
        if not self.resource.wait_range(offset, offset + 1, timeout):
            return -1
        return min(size, self.resource.available_from(offset) - offset)

    def read_at(self, offset: int, size: int) -> bytes:
        return self.resource.read_at(offset, size)

    def length(self) -> int | None:
        return self.resource.total

    def wait_length(self, timeout: float) -> int | None:
        self.resource.wait_range(0, 1, timeout)  # the total is set before the first bytes
        return self.resource.total

    def reader_moved(self, offset: int) -> None:
        pass


def test_sparse_resource_stream_reads_like_bytesio(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    data = random.Random(16).randbytes(SIZE)
    cache = tmp_path_factory.mktemp("sparse")
    counter = iter(range(10**9))

    @PROFILE
    @given(sequence=ops, seed=st.integers(0, 2**32 - 1))
    def run(sequence: list[tuple], seed: int) -> None:
        rng = random.Random(seed)
        chunks = []
        at = 0
        while at < SIZE:
            n = rng.randint(1, 40_000)
            chunks.append((at, min(at + n, SIZE)))
            at += n
        rng.shuffle(chunks)
        with SparseResource(cache / f"{next(counter)}.bin") as res:

            def feed() -> None:
                res.set_total(SIZE)
                for a, b in chunks:
                    res.write_at(a, data[a:b])

            writer = threading.Thread(target=feed, daemon=True)
            writer.start()
            try:
                check(ByteStream(_FilledSource(res)), data, sequence)
            finally:
                writer.join(10)

    run()
