"""The playlist corpus (tests/corpus/*.txt) served on loopback with real media behind every URI.

Each bundle holds playlists as ``=== NAME`` sections (a ``?query`` in NAME is put on the URL the
CLI is given). ``materialize`` writes a playlist under the server root with every URI it names
made to exist: absolute http(s) URLs are moved onto the loopback server (path kept), segments
are real TS (fMP4 when the playlist has EXT-X-MAP) from the HLS test fixtures, byte-range files
are long enough for their ranges, keys are 16 or 32 bytes, and every playlist a master names is
a small VOD media playlist of real segments.

Commands run in batches *in one process per batch* (``python playlist_corpus.py RUN JOBS``):
start-up would otherwise cost more than the runs. A run that outlives its timeout is a hang;
the batch process then exits and the parent starts another for the jobs left.

``python tests/playlist_corpus.py report [--full]`` prints the outcome table (run it with
``PYTHONPATH=/work/main/src`` to see the landed code's table).
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import subprocess
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urljoin, urlsplit

CORPUS = Path(__file__).parent / "corpus"
OUTCOMES = ("ok", "clean error", "bad error", "traceback", "hang")
DOCUMENTED_EXITS = frozenset({2, 3, 4, 5, 6})
TIMEOUTS = {"list": 10.0, "fetch": 15.0, "play": 20.0}
_ABSOLUTE = re.compile(r"https?://[^/\s\"',]+", re.IGNORECASE)
_URI_ATTR = re.compile(r'URI="([^"]*)"')
_BYTERANGE = re.compile(r"(\d+)(?:@(\d+))?")
_PLAYLIST_TAGS = (
    "#EXT-X-MEDIA:",
    "#EXT-X-I-FRAME-STREAM-INF:",
    "#EXT-X-IMAGE-STREAM-INF:",
    "#EXT-X-RENDITION-REPORT:",
)


@dataclass(frozen=True)
class Entry:
    bundle: str
    name: str
    text: bytes
    query: str

    @property
    def slug(self) -> str:
        return f"{self.bundle}/{self.name}"


def load_corpus() -> list[Entry]:
    entries = []
    for path in sorted(CORPUS.glob("*.txt")):
        raw = path.read_bytes()
        for chunk in re.split(rb"(?m)^=== ", raw)[1:]:
            header, _, body = chunk.partition(b"\n")
            name, _, query = header.decode().strip().partition("?")
            entries.append(Entry(path.stem, name, body, query))
    return entries


@dataclass(frozen=True)
class Media:
    """Real segment bytes to serve: TS, and fMP4 init + segments."""

    ts: list[bytes]
    fmp4_init: bytes
    fmp4: list[bytes]


def _substitute_defines(text: str, query: str) -> str:
    """Enough of EXT-X-DEFINE to know which paths the client will ask for."""
    values = dict(re.findall(r'#EXT-X-DEFINE:NAME="([^"]+)",VALUE="([^"]*)"', text))
    for name in re.findall(r'#EXT-X-DEFINE:QUERYPARAM="([^"]+)"', text):
        for pair in query.split("&"):
            key, _, value = pair.partition("=")
            if key == name:
                values[name] = value
    for name, value in values.items():
        text = text.replace("{$" + name + "}", value)
    return text


def materialize(entry: Entry, root: Path, base_url: str, media: Media) -> str:
    """Write ``entry`` and what it names under ``root``; return the URL to give the CLI."""
    here = f"corpus/{entry.bundle}/{entry.name}"
    abs_prefix = f"{base_url}/{here}/abs/"
    text = entry.text.decode("utf-8", "replace")
    served = _ABSOLUTE.sub(lambda m: abs_prefix + m.group(0).split("://", 1)[1], text)
    (root / here).mkdir(parents=True, exist_ok=True)
    (root / here / "index.m3u8").write_bytes(served.encode() if served != text else entry.text)
    url = f"{base_url}/{here}/index.m3u8" + (f"?{entry.query}" if entry.query else "")
    fmp4 = "#EXT-X-MAP" in served
    key_size = 32 if "METHOD=AES-256" in served else 16
    imports = re.findall(r'#EXT-X-DEFINE:NAME="([^"]+)"', served)
    resolved = _substitute_defines(served, entry.query)
    extents: dict[str, int] = {}
    kinds: dict[str, str] = {}
    previous = ""
    range_end: dict[str, int] = {}
    pending_range: tuple[int, int | None] | None = None
    key: tuple[str, bytes | None] | None = None  # (METHOD, IV) in force
    sequence = 0
    crypt: dict[str, tuple[str, bytes] | None] = {}  # segment -> how to encrypt it
    for raw in resolved.replace("\r", "").split("\n"):
        line = raw.strip()
        if not line:
            continue
        if line.startswith("#"):
            tag = line.split(":", 1)[0]
            if tag == "#EXT-X-MEDIA-SEQUENCE":
                with contextlib.suppress(ValueError):
                    sequence = int(line.partition(":")[2])
            elif tag == "#EXT-X-KEY":
                method = (re.findall(r"METHOD=([A-Z0-9-]+)", line) or ["NONE"])[0]
                iv = re.findall(r"IV=0[xX]([0-9a-fA-F]+)", line)
                key = None if method == "NONE" else (method, _iv(iv[0]) if iv else None)
            if tag == "#EXT-X-BYTERANGE":
                m = _BYTERANGE.fullmatch(line.partition(":")[2].strip())
                if m:
                    pending_range = (int(m.group(1)), int(m.group(2)) if m.group(2) else None)
            for uri in _URI_ATTR.findall(line):
                if line.startswith(("#EXT-X-KEY:", "#EXT-X-SESSION-KEY:")):
                    kinds[uri] = "key"
                elif line.startswith("#EXT-X-MAP:"):
                    kinds[uri] = "init"
                elif line.startswith(_PLAYLIST_TAGS):
                    kinds[uri] = "playlist"
                elif line.startswith("#EXT-X-SESSION-DATA:"):
                    kinds[uri] = "data"
                else:
                    kinds[uri] = "segment"
            if tag in ("#EXT-X-STREAM-INF", "#EXTINF", "#EXT-X-BYTERANGE"):
                previous = "playlist" if tag == "#EXT-X-STREAM-INF" else "segment"
            continue
        kinds.setdefault(line, previous or "segment")
        if kinds[line] == "segment":
            how = None
            if key is not None and 0 <= sequence < 1 << 128:
                how = (key[0], key[1] or sequence.to_bytes(16, "big"))
            if line in crypt and crypt[line] != how:
                how = None  # the same file under two keys: leave it clear
            crypt[line] = how
            sequence += 1
        if pending_range is not None:
            length, offset = pending_range
            start = offset if offset is not None else range_end.get(line, 0)
            range_end[line] = start + length
            extents[line] = max(extents.get(line, 0), start + length)
            pending_range = None
        previous = ""
    index_url = f"{base_url}/{here}/index.m3u8"
    for n, (uri, kind) in enumerate(kinds.items()):
        try:
            target = urljoin(index_url, uri)
            parts = urlsplit(target)
        except ValueError:
            continue
        if f"{parts.scheme}://{parts.netloc}" != base_url or "{$" in parts.path:
            continue
        path = root / parts.path.lstrip("/")
        if path.is_dir() or not path.resolve().is_relative_to(root.resolve()):
            continue
        if path == root / here / "index.m3u8":
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        if kind == "key":
            data = bytes(range(key_size))
        elif kind == "init":
            data = media.fmp4_init
        elif kind == "playlist":
            data = _child_playlist(imports).encode()
            for i, seg in enumerate(media.ts[:3]):
                (path.parent / f"child{i}.ts").write_bytes(seg)
        elif kind == "data":
            data = b"{}"
        else:
            pool = media.fmp4 if fmp4 else media.ts
            data = pool[n % len(pool)]
            if crypt.get(uri) is not None and uri not in extents:
                data = _encrypt(data, *crypt[uri])  # type: ignore[misc]
        need = min(extents.get(uri, 0), 4 * 1024 * 1024)
        while len(data) < need:
            data += data
        path.write_bytes(data)
    return url


def _iv(digits: str) -> bytes:
    return int(digits, 16).to_bytes(16, "big") if len(digits) <= 32 else bytes(16)


def _encrypt(data: bytes, method: str, iv: bytes) -> bytes:
    """What a packager writes for METHOD (the key is bytes(range(16 or 32)))."""
    from cryptography.hazmat.primitives import padding
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

    if method not in ("AES-128", "AES-256", "AES-256-CTR"):
        return data
    key = bytes(range(16 if method == "AES-128" else 32))
    if method == "AES-256-CTR":  # the counter wraps in the low 64 bits only after 2**64 blocks
        enc = Cipher(algorithms.AES(key), modes.CTR(iv)).encryptor()
        return enc.update(data) + enc.finalize()
    padder = padding.PKCS7(128).padder()
    enc = Cipher(algorithms.AES(key), modes.CBC(iv)).encryptor()
    return enc.update(padder.update(data) + padder.finalize()) + enc.finalize()


def _child_playlist(imports: list[str]) -> str:
    lines = ["#EXTM3U", "#EXT-X-VERSION:8", "#EXT-X-TARGETDURATION:4", "#EXT-X-PLAYLIST-TYPE:VOD"]
    lines += [f'#EXT-X-DEFINE:IMPORT="{name}"' for name in imports]
    for i in range(3):
        lines += ["#EXTINF:2.0,", f"child{i}.ts"]
    return "\n".join([*lines, "#EXT-X-ENDLIST", ""])


def load_media() -> Media:
    sys.path.insert(0, str(Path(__file__).parent))
    from hls_fixtures import FIXTURE_NAME, _build
    from kithara_cli.media import Ladder, cached

    root = cached(FIXTURE_NAME, _build)
    ts = Ladder.load(root / "ts")
    fm = Ladder.load(root / "fmp4")
    init = fm.init_segments[0]
    assert init is not None
    return Media(
        ts=[p.read_bytes() for p in ts.segments[0][:4]],
        fmp4_init=init.read_bytes(),
        fmp4=[p.read_bytes() for p in fm.segments[0][:4]],
    )


# --- running ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Result:
    slug: str
    kind: str
    outcome: str
    code: int | None
    stderr: str


def classify(code: int | None, stderr: str, crashed: bool) -> str:
    if code is None:
        return "hang"
    if crashed or "Traceback (most recent call last)" in stderr:
        return "traceback"
    if code == 0:
        return "ok"
    lines = [line for line in stderr.splitlines() if line.strip()]
    one_line = len(lines) == 1 and lines[0].startswith("kithara: error: ")
    return "clean error" if one_line and code in DOCUMENTED_EXITS else "bad error"


def _run_in_process(args: list[str]) -> tuple[int, str, bool]:
    """One CLI run in this process's main thread: (exit code, stderr, crashed)."""
    from kithara_cli.cli import app
    from kithara_cli.cli_runtime import app_for

    err = io.StringIO()
    crashed = False
    code = 0
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        try:
            app_for(app, args)(prog_name="kithara", args=args, standalone_mode=True)
        except SystemExit as exit_:
            code = exit_.code if isinstance(exit_.code, int) else 1
        except BaseException as exc:  # what would reach a user as a traceback
            crashed = True
            code = 1
            err.write(f"Traceback (most recent call last): {type(exc).__name__}: {exc}\n")
    return code, err.getvalue(), crashed


def batch_main(jobs_path: str) -> None:
    """Run jobs in order, one JSON line per result; exit at the first hang."""
    jobs = json.loads(Path(jobs_path).read_text())
    os.environ.setdefault("NO_COLOR", "1")
    for job in jobs:
        done = threading.Event()

        def watchdog(done: threading.Event = done, job: dict = job) -> None:
            if not done.wait(job["timeout"]):
                line = {"slug": job["slug"], "kind": job["kind"], "code": None, "stderr": ""}
                line["crashed"] = 0
                sys.__stdout__.write(json.dumps(line) + "\n")
                sys.__stdout__.flush()
                os._exit(0)

        threading.Thread(target=watchdog, daemon=True).start()
        t0 = time.monotonic()
        code, stderr, crashed = _run_in_process(job["args"])
        done.set()
        if os.environ.get("KITHARA_CORPUS_TIMES"):
            sys.__stderr__.write(f"{time.monotonic() - t0:6.2f} {job['kind']} {job['slug']}\n")
        line = {
            "slug": job["slug"],
            "kind": job["kind"],
            "code": code,
            "stderr": stderr[-2000:],
            "crashed": crashed,
        }
        sys.__stdout__.write(json.dumps(line) + "\n")
        sys.__stdout__.flush()
    os._exit(0)


def run_batches(jobs: list[dict], workdir: Path, env: dict[str, str], lanes: int) -> list[Result]:
    """Run ``jobs`` in ``lanes`` batch processes, restarting after a hang."""
    results: list[Result] = []
    lock = threading.Lock()

    def lane(todo: list[dict], n: int) -> None:
        while todo:
            path = workdir / f"jobs-{n}.json"
            path.write_text(json.dumps(todo))
            proc = subprocess.run(
                [sys.executable, __file__, "batch", str(path)],
                capture_output=True,
                text=True,
                env=env,
                timeout=sum(j["timeout"] for j in todo) + 30,
            )
            if os.environ.get("KITHARA_CORPUS_TIMES"):
                sys.stderr.write(proc.stderr)
            seen = 0
            for line in proc.stdout.splitlines():
                if not line.startswith("{"):
                    continue
                r = json.loads(line)
                outcome = classify(r["code"], r["stderr"], bool(r["crashed"]))
                with lock:
                    results.append(Result(r["slug"], r["kind"], outcome, r["code"], r["stderr"]))
                seen += 1
            if seen == 0:  # the process died before its first answer: count it, move on
                with lock:
                    results.append(
                        Result(
                            todo[0]["slug"], todo[0]["kind"], "traceback", 1, proc.stderr[-2000:]
                        )
                    )
                seen = 1
            todo = todo[seen:]

    threads = [threading.Thread(target=lane, args=(jobs[i::lanes], i)) for i in range(lanes)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def run_cli(job: dict, env: dict[str, str]) -> Result:
    """One job as its own CLI process (fetch: in-process runs share state across runs and
    slow down, a process per fetch is what a user runs)."""
    args = [sys.executable, "-m", "kithara_cli", *job["args"]]
    extra = {"KITHARA_AUDIO_DEVICE": "none"} if job["kind"] == "play" else {}
    try:
        proc = subprocess.run(
            args,
            capture_output=True,
            text=True,
            timeout=job["timeout"],
            env={**env, **extra},
            stdin=subprocess.DEVNULL,
        )
    except subprocess.TimeoutExpired:
        return Result(job["slug"], job["kind"], "hang", None, "")
    stderr = proc.stderr
    if job["kind"] == "play":  # play prints notes (it has no -q): judge only the error lines
        stderr = "\n".join(
            line
            for line in proc.stderr.splitlines()
            if line.startswith("kithara: error: ") or "Traceback" in line or "Error" in line
        )
    return Result(
        job["slug"], job["kind"], classify(proc.returncode, stderr, False), proc.returncode, stderr
    )


def play_job(url: str, slug: str) -> dict:
    return {
        "slug": slug,
        "kind": "play",
        "timeout": TIMEOUTS["play"],
        "args": ["play", url, "--no-ui", "--output", "null", "--length", "1"],
    }


def run_all(
    served: list[tuple[Entry, str]],
    plays: list[tuple[Entry, str]],
    tmp: Path,
    env: dict[str, str],
    fetch_only: set[str] | None = None,
) -> list[Result]:
    """list in-process (batches), fetch and play as processes; two at a time.
    ``fetch_only``: the slugs to fetch (None: all)."""
    from concurrent.futures import ThreadPoolExecutor

    out = tmp / "out"
    out.mkdir(exist_ok=True)
    jobs = jobs_for(served, out)
    listing = [j for j in jobs if j["kind"] == "list"]
    others = [
        j for j in jobs if j["kind"] == "fetch" and (fetch_only is None or j["slug"] in fetch_only)
    ]
    others += [play_job(u, e.slug) for e, u in plays]
    others.sort(key=lambda j: j["kind"] != "play")  # the slow ones first
    with ThreadPoolExecutor(2) as pool:
        futures = [pool.submit(run_cli, j, env) for j in others]
        results = run_batches(listing, tmp, env, lanes=1)
        results += [f.result() for f in futures]
    return results


def jobs_for(entries: list[tuple[Entry, str]], out_dir: Path) -> list[dict]:
    jobs = []
    for entry, url in entries:
        jobs.append(
            {"slug": entry.slug, "kind": "list", "timeout": TIMEOUTS["list"],
             "args": ["fetch", url, "--list", "-q"]}
        )  # fmt: skip
        out = out_dir / f"{entry.bundle}-{entry.name}.bin"
        args = ["fetch", url, "--out", str(out), "-q", "--force"]
        live = b"#EXT-X-ENDLIST" not in entry.text and b"PLAYLIST-TYPE:VOD" not in entry.text
        if live and entry.name != "VOD_THEN_EVENT_NO_ENDLIST":  # that one: the live watchdog
            args += ["--duration", "1"]
        jobs.append(
            {"slug": entry.slug, "kind": "fetch", "timeout": TIMEOUTS["fetch"], "args": args}
        )
    return jobs


def table(results: list[Result]) -> str:
    kinds = sorted({r.kind for r in results}, key=["list", "fetch", "play"].index)
    counts = {k: Counter(r.outcome for r in results if r.kind == k) for k in kinds}
    head = f"{'':8}" + "".join(f"{o:>13}" for o in OUTCOMES) + f"{'total':>8}"
    rows = [head]
    for k in kinds:
        c = counts[k]
        rows.append(f"{k:8}" + "".join(f"{c[o]:>13}" for o in OUTCOMES) + f"{sum(c.values()):>8}")
    return "\n".join(rows)


def report(full: bool) -> None:
    import tempfile

    from kithara_cli.server import MediaServer

    media = load_media()
    entries = load_corpus()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "www"
        root.mkdir()
        server = MediaServer(root).start()
        served = [(e, materialize(e, root, server.base_url, media)) for e in entries]
        env = {**os.environ, "NO_COLOR": "1", "PYTHONPATH": os.environ.get("PYTHONPATH", "")}
        started = time.monotonic()
        results = run_all(served, served if full else served[::6], Path(tmp), env)
        took = time.monotonic() - started
        server.stop()
    print(f"{len(entries)} playlists, {len(results)} runs in {took:.0f} s")
    print(table(results))
    for r in sorted(results, key=lambda r: (r.outcome, r.slug)):
        if r.outcome not in ("ok", "clean error"):
            last = (r.stderr.strip().splitlines() or [""])[-1][:150]
            print(f"  {r.outcome:10} {r.kind:5} {r.slug}: exit {r.code}: {last}")
    if "--errors" in sys.argv:
        for r in sorted(results, key=lambda r: r.slug):
            if r.outcome == "clean error":
                print(f"  {r.kind:5} {r.slug}: exit {r.code}: {r.stderr.strip()[:150]}")


if __name__ == "__main__":
    if sys.argv[1] == "batch":
        batch_main(sys.argv[2])
    else:
        report("--full" in sys.argv)
