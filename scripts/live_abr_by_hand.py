"""Live HLS play through a throttled top variant, in real time (BENCHMARKS.md, session 5).

Run from the repository root: ``.venv/bin/python scripts/live_abr_by_hand.py``. It serves the
test suite's two-variant live master (one 2 s segment revealed every 2 s, 50 ms added to every
request, the 128k variant's segments capped at 14 kB/s in total) and plays it with
``kithara play --output null``, then prints the segments' variants and the rebuffers.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

import hls_fixtures
import test_hls_live
from kithara_cli.media import Ladder, cached
from kithara_cli.server import Faults, MediaServer


def main() -> None:
    test_hls_live.INTERVAL = 2.0  # real time: a segment per segment duration
    root = cached(hls_fixtures.FIXTURE_NAME, hls_fixtures._build)
    media = hls_fixtures.HlsMedia(
        root=root,
        ts=Ladder.load(root / "ts"),
        fmp4=Ladder.load(root / "fmp4"),
        aes=Ladder.load(root / "aes"),
    )
    events = Path(tempfile.mkdtemp()) / "events.jsonl"
    with MediaServer(root) as server:
        server.set_faults("*", Faults(latency=0.05))
        server.set_faults("ts/128k_*.ts", Faults(latency=0.05, rate_total=14_000))
        url = test_hls_live.live_master(media, server)
        kithara = [sys.executable, "-m", "kithara_cli"]
        args = ["play", url, "--output", "null", "--no-ui", "--events", str(events)]
        proc = subprocess.run([*kithara, *args], capture_output=True, text=True, timeout=120)
    print(proc.stderr, end="")
    lines = [json.loads(line) for line in events.read_text().splitlines()]
    loaded = [(e["sequence"], e["variant"]) for e in lines if e["event"] == "SegmentLoaded"]
    stalls = [e["duration"] for e in lines if e["event"] == "RebufferEnded"]
    print(f"exit {proc.returncode}; segments (sequence, variant): {loaded}")
    print(f"rebuffers: {len(stalls)}, stalled {sum(stalls):.2f} s")


if __name__ == "__main__":
    main()
