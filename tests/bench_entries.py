"""What the bench's usage tests share: the tiny bench's environment and a valid gating entry."""

from __future__ import annotations

TINY = {"KITHARA_BENCH_TINY": "1"}
ENTRY = {
    "scenario": "progressive-throughput",
    "case": "unthrottled",
    "metric": "throughput",
    "target": 0.001,
    "better": "higher",
    "tolerance": 0.0,
    "gating": True,
}
