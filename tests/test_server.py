"""The loopback media server, over real HTTP: resource semantics, each fault, stats, lifecycle.

Timing bounds are generous (this may run beside other xdist workers on two cores) but each one
would fail if the fault were not applied at all.
"""

from __future__ import annotations

import email.utils
import http.client
import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from kithara_cli.server import Faults, MediaServer, RequestRecord
from kithara_cli.server.throttle import RateSchedule

SIZE = 256 * 1024


@pytest.fixture
def root(tmp_path: Path) -> Path:
    root = tmp_path / "root"
    (root / "sub").mkdir(parents=True)
    (root / "data.bin").write_bytes(os.urandom(SIZE))
    (root / "sub" / "seg1.ts").write_bytes(os.urandom(4096))
    (root / "sub" / "seg2.ts").write_bytes(os.urandom(4096))
    (tmp_path / "secret.txt").write_text("outside the root\n")
    return root


@pytest.fixture
def server(root: Path) -> Iterator[MediaServer]:
    with MediaServer(root) as srv:
        yield srv


@pytest.fixture
def client() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=10.0) as c:
        yield c


def data(root: Path) -> bytes:
    return (root / "data.bin").read_bytes()


def timeline(client: httpx.Client, url: str) -> tuple[list[tuple[float, int]], float]:
    """(seconds since request, bytes so far) after every chunk, and the total time."""
    t0 = time.monotonic()
    points: list[tuple[float, int]] = []
    got = 0
    with client.stream("GET", url) as resp:
        assert resp.status_code == 200
        for chunk in resp.iter_raw():
            got += len(chunk)
            points.append((time.monotonic() - t0, got))
    return points, time.monotonic() - t0


def bytes_at(points: list[tuple[float, int]], t: float) -> int:
    return max((n for when, n in points if when <= t), default=0)


def read_until_error(client: httpx.Client, url: str) -> tuple[bytes, httpx.Headers, Exception]:
    """Stream ``url`` and return what arrived, the headers, and the error that ended it."""
    got = bytearray()
    headers = httpx.Headers()
    try:
        with client.stream("GET", url) as resp:
            headers = resp.headers
            for chunk in resp.iter_raw():
                got += chunk
    except httpx.HTTPError as exc:
        return bytes(got), headers, exc
    raise AssertionError(f"{url}: the body arrived whole ({len(got)} bytes)")


# --- resource semantics ------------------------------------------------------------------------


def test_full_get_and_headers(server: MediaServer, root: Path, client: httpx.Client) -> None:
    resp = client.get(server.url("data.bin"))
    assert resp.status_code == 200
    assert resp.content == data(root)
    assert resp.headers["content-length"] == str(SIZE)
    assert resp.headers["accept-ranges"] == "bytes"
    assert resp.headers["content-type"] == "application/octet-stream"
    assert server.base_url.startswith("http://127.0.0.1:")
    assert server.url("/data.bin") == server.url("data.bin") == f"{server.base_url}/data.bin"


@pytest.mark.parametrize(
    ("name", "ctype"),
    [
        ("a.m3u8", "application/vnd.apple.mpegurl"),
        ("a.ts", "video/mp2t"),
        ("a.aac", "audio/aac"),
        ("a.mp3", "audio/mpeg"),
        ("a.m4s", "audio/mp4"),
        ("a.flac", "audio/flac"),
        ("a.opus", "audio/ogg"),
        ("a.wav", "audio/wav"),
        ("a.key", "application/octet-stream"),
    ],
)
def test_content_type_by_extension(
    server: MediaServer, root: Path, client: httpx.Client, name: str, ctype: str
) -> None:
    (root / name).write_bytes(b"x" * 10)
    assert client.get(server.url(name)).headers["content-type"] == ctype


@pytest.mark.parametrize(
    ("header", "first", "last"),
    [
        ("bytes=10-19", 10, 19),
        ("bytes=1000-", 1000, SIZE - 1),
        ("bytes=-50", SIZE - 50, SIZE - 1),
        ("bytes=5-999999999", 5, SIZE - 1),
        (f"bytes=-{SIZE * 2}", 0, SIZE - 1),
    ],
)
def test_range_forms(
    server: MediaServer, root: Path, client: httpx.Client, header: str, first: int, last: int
) -> None:
    resp = client.get(server.url("data.bin"), headers={"Range": header})
    assert resp.status_code == 206
    assert resp.content == data(root)[first : last + 1]
    assert resp.headers["content-range"] == f"bytes {first}-{last}/{SIZE}"
    assert resp.headers["content-length"] == str(last - first + 1)


@pytest.mark.parametrize("header", [f"bytes={SIZE}-", f"bytes={SIZE + 5}-{SIZE + 9}", "bytes=-0"])
def test_unsatisfiable_range_is_416(server: MediaServer, client: httpx.Client, header: str) -> None:
    resp = client.get(server.url("data.bin"), headers={"Range": header})
    assert resp.status_code == 416
    assert resp.headers["content-range"] == f"bytes */{SIZE}"


@pytest.mark.parametrize("header", ["bytes=abc", "bytes=0-1,5-6", "items=0-5", "bytes=9-3"])
def test_malformed_or_multi_range_gets_whole_body(
    server: MediaServer, root: Path, client: httpx.Client, header: str
) -> None:
    resp = client.get(server.url("data.bin"), headers={"Range": header})
    assert resp.status_code == 200
    assert resp.content == data(root)


def test_head(server: MediaServer, client: httpx.Client) -> None:
    resp = client.head(server.url("data.bin"))
    assert resp.status_code == 200
    assert resp.headers["content-length"] == str(SIZE)
    assert "etag" in resp.headers
    assert resp.content == b""
    assert server.stats.requests("data.bin") == [RequestRecord("HEAD", "data.bin", None, 200)]
    assert server.stats.bytes_sent("data.bin") == 0


def test_etag_last_modified_and_if_range(
    server: MediaServer, root: Path, client: httpx.Client
) -> None:
    url = server.url("data.bin")
    first = client.head(url)
    etag, last_modified = first.headers["etag"], first.headers["last-modified"]
    assert etag.startswith('"') and not etag.startswith("W/")
    mtime = int((root / "data.bin").stat().st_mtime)
    assert int(email.utils.parsedate_to_datetime(last_modified).timestamp()) == mtime

    same = client.get(url, headers={"Range": "bytes=0-9", "If-Range": etag})
    assert same.status_code == 206 and len(same.content) == 10
    by_date = client.get(url, headers={"Range": "bytes=0-9", "If-Range": last_modified})
    assert by_date.status_code == 206
    stale = client.get(url, headers={"Range": "bytes=0-9", "If-Range": '"not-the-etag"'})
    assert stale.status_code == 200 and len(stale.content) == SIZE

    # Rewriting the file changes the validator, so the old ETag no longer gets a 206.
    (root / "data.bin").write_bytes(os.urandom(SIZE + 1))
    os.utime(root / "data.bin", ns=(10**18, 10**18))
    changed = client.get(url, headers={"Range": "bytes=0-9", "If-Range": etag})
    assert changed.status_code == 200
    assert changed.headers["etag"] != etag
    assert len(changed.content) == SIZE + 1


def test_path_traversal_and_non_files_are_404(
    server: MediaServer, root: Path, tmp_path: Path
) -> None:
    (root / "escape.txt").symlink_to(tmp_path / "secret.txt")
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
    try:
        for raw in ["/../secret.txt", "/%2e%2e/secret.txt", "/sub/../../secret.txt",
                    "/escape.txt", "/sub", "/sub/", "//etc/passwd", "/missing.bin"]:  # fmt: skip
            conn.request("GET", raw)
            resp = conn.getresponse()
            body = resp.read()
            assert resp.status == 404, raw
            assert b"outside the root" not in body
    finally:
        conn.close()


def test_other_methods_are_405(server: MediaServer, client: httpx.Client) -> None:
    resp = client.post(server.url("data.bin"), content=b"x")
    assert resp.status_code == 405
    assert resp.headers["allow"] == "GET, HEAD"


def test_unthrottled_file_is_fast(server: MediaServer, root: Path, client: httpx.Client) -> None:
    size = 48 * 1024 * 1024
    (root / "big.bin").write_bytes(b"\0" * size)
    t0 = time.monotonic()
    got = 0
    with client.stream("GET", server.url("big.bin")) as resp:
        for chunk in resp.iter_raw():
            got += len(chunk)
    elapsed = time.monotonic() - t0
    assert got == size
    assert size / elapsed > 60e6, f"{size / elapsed / 1e6:.0f} MB/s"


# --- faults ------------------------------------------------------------------------------------


def test_redirect_chain(server: MediaServer, root: Path, client: httpx.Client) -> None:
    server.set_faults("data.bin", Faults(redirects=3))
    resp = client.get(server.url("data.bin") + "?token=abc", follow_redirects=True)
    assert resp.status_code == 200
    assert resp.content == data(root)
    assert [r.status_code for r in resp.history] == [302, 302, 302]
    assert len({str(r.url) for r in resp.history} | {str(resp.url)}) == 4
    assert resp.url.params["token"] == "abc"
    assert [r.status for r in server.stats.requests("data.bin")] == [302, 302, 302, 200]


def test_fail_first_with_retry_after(server: MediaServer, root: Path, client: httpx.Client) -> None:
    server.set_faults("sub/*.ts", Faults(fail_first=2, fail_status=503, retry_after=1.5))
    url = server.url("sub/seg1.ts")
    for _ in range(2):
        resp = client.get(url)
        assert resp.status_code == 503
        assert resp.headers["retry-after"] == "1.5"
    assert client.get(url).status_code == 200
    # Counters are per path: the other segment fails its own first two requests.
    assert client.get(server.url("sub/seg2.ts")).status_code == 503
    # Unmatched paths are untouched; setting the pattern again restarts its counters.
    assert client.get(server.url("data.bin")).status_code == 200
    server.set_faults("sub/*.ts", Faults(fail_first=1, fail_status=429))
    assert client.get(url).status_code == 429
    assert client.get(url).status_code == 200
    server.clear_faults()
    assert client.get(server.url("sub/seg2.ts")).status_code == 200


def test_most_recent_matching_pattern_wins(server: MediaServer, client: httpx.Client) -> None:
    server.set_faults("*", Faults(fail_first=5, fail_status=500))
    server.set_faults("sub/*", Faults(fail_first=5, fail_status=502))
    assert client.get(server.url("sub/seg1.ts")).status_code == 502
    assert client.get(server.url("data.bin")).status_code == 500


def test_ignore_range(server: MediaServer, root: Path, client: httpx.Client) -> None:
    server.set_faults("data.bin", Faults(ignore_range=True))
    resp = client.get(server.url("data.bin"), headers={"Range": "bytes=10-19"})
    assert resp.status_code == 200
    assert resp.content == data(root)
    assert "content-range" not in resp.headers
    assert "accept-ranges" not in resp.headers


def test_no_content_length_is_chunked(
    server: MediaServer, root: Path, client: httpx.Client
) -> None:
    server.set_faults("data.bin", Faults(no_content_length=True))
    resp = client.get(server.url("data.bin"))
    assert resp.status_code == 200
    assert "content-length" not in resp.headers
    assert resp.headers["transfer-encoding"] == "chunked"
    assert resp.content == data(root)
    ranged = client.get(server.url("data.bin"), headers={"Range": "bytes=100-199"})
    assert ranged.status_code == 206
    assert ranged.content == data(root)[100:200]


def test_reset_after_is_a_real_reset(server: MediaServer, client: httpx.Client) -> None:
    server.set_faults("data.bin", Faults(reset_after=50_000))
    got, headers, error = read_until_error(client, server.url("data.bin"))
    assert headers["content-length"] == str(SIZE)
    assert type(error) is httpx.ReadError  # a clean close would be RemoteProtocolError
    assert "reset" in str(error).lower()
    assert len(got) <= 50_000  # an RST may drop bytes already sent
    assert server.stats.bytes_sent("data.bin") == 50_000


def test_close_after_truncates_cleanly(
    server: MediaServer, root: Path, client: httpx.Client
) -> None:
    server.set_faults("data.bin", Faults(close_after=30_000))
    got, headers, error = read_until_error(client, server.url("data.bin"))
    assert headers["content-length"] == str(SIZE)
    assert type(error) is httpx.RemoteProtocolError
    assert got == data(root)[:30_000]  # a FIN delivers every byte written before it


def test_faults_times_limits_cuts_to_first_requests(
    server: MediaServer, root: Path, client: httpx.Client
) -> None:
    server.set_faults("data.bin", Faults(close_after=1000, faults_times=1))
    with pytest.raises(httpx.RemoteProtocolError):
        client.get(server.url("data.bin"))
    resp = client.get(server.url("data.bin"))
    assert resp.status_code == 200 and resp.content == data(root)


def test_latency_applies_to_every_request(server: MediaServer, client: httpx.Client) -> None:
    client.get(server.url("data.bin"))  # warm the connection
    server.set_faults("data.bin", Faults(latency=0.25, redirects=1))
    t0 = time.monotonic()
    resp = client.get(server.url("data.bin"), follow_redirects=True)
    elapsed = time.monotonic() - t0
    assert resp.status_code == 200
    assert 0.48 <= elapsed < 2.0  # the redirect hop pays it too
    t0 = time.monotonic()
    client.get(server.url("sub/seg1.ts"))
    assert time.monotonic() - t0 < 0.2  # other paths do not


def test_first_byte_delay_comes_after_headers(server: MediaServer, client: httpx.Client) -> None:
    server.set_faults("data.bin", Faults(first_byte_delay=0.4))
    t0 = time.monotonic()
    with client.stream("GET", server.url("data.bin")) as resp:
        headers_at = time.monotonic() - t0
        first = next(resp.iter_raw())
        first_at = time.monotonic() - t0
    assert first
    assert headers_at < 0.25
    assert first_at >= 0.38


def test_rate_per_conn(server: MediaServer, client: httpx.Client) -> None:
    rate = 200_000
    server.set_faults("data.bin", Faults(rate_per_conn=rate, close_after=120_000))
    t0 = time.monotonic()
    got, _, _ = read_until_error(client, server.url("data.bin"))
    elapsed = time.monotonic() - t0
    assert len(got) == 120_000
    assert 0.75 * rate <= len(got) / elapsed <= 1.25 * rate


def test_rate_total_is_shared_fairly(server: MediaServer, root: Path) -> None:
    (root / "b.bin").write_bytes(os.urandom(60_000))
    (root / "c.bin").write_bytes(os.urandom(60_000))
    rate = 200_000
    server.set_faults("*.bin", Faults(rate_total=rate))
    done: dict[str, float] = {}
    # Both clients connect first, then start together: on a loaded machine a client's set-up
    # must not pass for the server's unfairness.
    ready = threading.Barrier(2, timeout=10)
    started: list[float] = []

    def fetch(name: str) -> None:
        with httpx.Client(timeout=10.0) as c:
            c.head(server.url(name))
            ready.wait()
            started.append(time.monotonic())
            assert len(c.get(server.url(name)).content) == 60_000
        done[name] = time.monotonic()

    threads = [threading.Thread(target=fetch, args=(n,)) for n in ("b.bin", "c.bin")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert set(done) == {"b.bin", "c.bin"}
    t0 = min(started)
    took = {name: at - t0 for name, at in done.items()}
    expected = 120_000 / rate  # both bodies through one 200 kB/s pipe
    assert 0.75 * expected <= max(took.values()) <= 1.25 * expected + 0.1
    # Fair turns: neither finished at the one-connection pace while the other waited.
    assert min(took.values()) >= 0.7 * max(took.values())


def test_bandwidth_profile_and_outage(server: MediaServer, root: Path) -> None:
    (root / "p.bin").write_bytes(os.urandom(200_000))
    profile = [(0.4, 100_000.0), (0.4, 0.0), (10.0, 400_000.0)]
    with httpx.Client(timeout=10.0) as c:
        c.head(server.url("p.bin"))  # connect before the profile clock starts
        server.set_faults("p.bin", Faults(bandwidth_profile=profile))
        points, total = timeline(c, server.url("p.bin"))
    assert points[-1][1] == 200_000
    slow = bytes_at(points, 0.38)
    assert 25_000 <= slow <= 50_000  # ~100 kB/s for the first 0.4 s
    stuck = bytes_at(points, 0.75) - bytes_at(points, 0.45)
    assert stuck == 0  # the outage
    assert 0.95 <= total <= 1.6  # 40 kB, 0.4 s of nothing, then 160 kB at 400 kB/s
    fast_rate = (200_000 - bytes_at(points, 0.85)) / (total - 0.85)
    assert fast_rate >= 2.5 * 100_000


def test_stall_after(server: MediaServer, root: Path) -> None:
    server.set_faults("data.bin", Faults(stall_after=10_000, stall_seconds=0.6))
    with httpx.Client(timeout=httpx.Timeout(10.0, read=0.25)) as c:
        got, _, error = read_until_error(c, server.url("data.bin"))
    assert isinstance(error, httpx.ReadTimeout)
    assert len(got) == 10_000
    with httpx.Client(timeout=10.0) as c:
        t0 = time.monotonic()
        body = c.get(server.url("data.bin")).content
    assert body == data(root)  # the stall ends and the rest follows
    assert time.monotonic() - t0 >= 0.55


def test_stop_cancels_in_flight_and_ends_thread(root: Path) -> None:
    srv = MediaServer(root).start()
    srv.set_faults("data.bin", Faults(stall_after=1000, stall_seconds=30))
    errors: list[BaseException] = []

    def fetch() -> None:
        try:
            with httpx.Client(timeout=10.0) as c:
                c.get(srv.url("data.bin"))
        except httpx.HTTPError as exc:
            errors.append(exc)

    t = threading.Thread(target=fetch)
    t.start()
    deadline = time.monotonic() + 5
    while srv.stats.bytes_sent("data.bin") < 1000 and time.monotonic() < deadline:
        time.sleep(0.01)
    t0 = time.monotonic()
    srv.stop()
    assert time.monotonic() - t0 < 3.0
    t.join(5)
    assert not t.is_alive()
    assert len(errors) == 1  # the stalled client saw its connection end
    assert not [th for th in threading.enumerate() if th.name == "kithara-media-server"]
    with pytest.raises(httpx.ConnectError):
        httpx.get(srv.url("data.bin"), timeout=2.0)
    srv.stop()  # idempotent


def test_failed_start_raises_and_leaves_no_thread(root: Path) -> None:
    with MediaServer(root) as taken:
        with pytest.raises(OSError):
            MediaServer(root, port=taken.port).start()
        assert [th.name for th in threading.enumerate()].count("kithara-media-server") == 1


def test_instances_are_independent(root: Path) -> None:
    with MediaServer(root) as a, MediaServer(root) as b:
        assert a.port != b.port
        a.set_faults("*", Faults(fail_first=1))
        assert httpx.get(a.url("data.bin")).status_code == 503
        assert httpx.get(b.url("data.bin")).status_code == 200
        assert len(b.stats.requests()) == 1


# --- dynamic routes and stats ------------------------------------------------------------------


def test_add_route_serves_a_live_playlist(server: MediaServer, client: httpx.Client) -> None:
    calls: list[tuple[str, dict[str, str], float]] = []

    def live(path: str, query: dict[str, str], now: float) -> tuple[int, dict[str, str], bytes]:
        calls.append((path, query, now))
        seq = int(now / 0.2)
        text = f"#EXTM3U\n#EXT-X-MEDIA-SEQUENCE:{seq}\n"
        return 200, {"Cache-Control": "no-cache"}, text.encode()

    server.add_route("live/index.m3u8", live)
    first = client.get(server.url("live/index.m3u8") + "?_HLS_msn=3")
    time.sleep(0.45)
    second = client.get(server.url("live/index.m3u8"))
    assert first.status_code == second.status_code == 200
    assert first.headers["content-type"] == "application/vnd.apple.mpegurl"
    assert first.headers["cache-control"] == "no-cache"
    assert first.content != second.content
    assert int(second.text.split(":")[-1]) - int(first.text.split(":")[-1]) >= 2
    assert calls[0][0] == "live/index.m3u8" and calls[0][1] == {"_HLS_msn": "3"}
    assert calls[1][2] > calls[0][2]
    # Faults apply to dynamic routes too.
    server.set_faults("live/*", Faults(fail_first=1))
    assert client.get(server.url("live/index.m3u8")).status_code == 503
    assert len(calls) == 2


def test_stats_count_requests_and_bytes(server: MediaServer, client: httpx.Client) -> None:
    client.get(server.url("data.bin"))
    client.get(server.url("data.bin"), headers={"Range": "bytes=0-99"})
    client.get(server.url("sub/seg1.ts"))
    client.get(server.url("nope"))
    assert server.stats.requests("data.bin") == [
        RequestRecord("GET", "data.bin", None, 200),
        RequestRecord("GET", "data.bin", "bytes=0-99", 206),
    ]
    assert server.stats.requests("/nope") == [RequestRecord("GET", "nope", None, 404)]
    assert len(server.stats.requests()) == 4
    assert server.stats.bytes_sent("data.bin") == SIZE + 100
    assert server.stats.bytes_sent("sub/seg1.ts") == 4096
    assert server.stats.bytes_sent() == server.stats.total_bytes == SIZE + 100 + 4096
    server.stats.reset()
    assert server.stats.requests() == [] and server.stats.total_bytes == 0


def test_rate_schedule_integrates_steps_and_outages() -> None:
    sched = RateSchedule([(1.0, 100.0), (1.0, 0.0), (1.0, 200.0)], t0=10.0)
    assert sched.finish_time(10.0, 50) == pytest.approx(10.5)
    assert sched.finish_time(10.5, 100) == pytest.approx(12.25)  # 50 B, outage, 50 B at 200
    assert sched.finish_time(20.0, 400) == pytest.approx(22.0)  # the last step holds
    assert sched.rate_at(11.5) == 0.0 and sched.rate_at(100.0) == 200.0
    assert RateSchedule([(1.0, 0.0)], t0=0.0).finish_time(0.0, 1) == float("inf")


def test_faults_reject_nonsense() -> None:
    with pytest.raises(ValueError):
        Faults(rate_per_conn=0)
    with pytest.raises(ValueError):
        Faults(bandwidth_profile=[])
    with pytest.raises(ValueError):
        Faults(latency=-1)
