#!/usr/bin/env python3
"""Build the ABR benchmark's packaged trace set from the raw logs kept in scripts/trace_sources.

Usage:  python scripts/convert_traces.py [--originals DIR] [--out DIR]

Inputs (all public, BSD-2-Clause, UMass-LIDS/sabre@8716b78 example/tomm19/):
* ``trace_sources/sabre-3g/*.txt``: 3Glogs (the Norway HSDPA commute dataset). One token per
  period, ``B`` = a period of 1000-1049 ms (written as 1000 ms) at B kbit/s, ``B@D`` = a D ms
  period; latency from the ``# latency_ms`` header. Each file holds the first 16 000 characters
  of the source (about 230 periods, ~4 minutes): the traces are truncated, not resampled.
* ``trace_sources/sabre-4g/*.txt``: 4Glogs (a Belgian LTE dataset), same format, bare ``B`` =
  1000 ms (the source's 998-1002 ms).
* ``trace_sources/sabre-hd_fs.txt``: hd_fs, complete, one line per trace: 36 periods of 5 s.
* ``--originals``: the six traces the controller was first developed on (sabre JSON, from the
  same repository), copied as they are.

Every trace named in RESERVED.md (kept for an independent evaluation) is refused, by name.

Output: ``<out>/<class>/<name>.json`` in the simulator's format (a JSON list of
``{"duration_ms", "bandwidth_kbps", "latency_ms"}``) and ``<out>/manifest.json`` with each
trace's class, split, source and summary. Split: the six originals are ``dev`` (the controller
was tuned on them); every other trace goes to ``dev`` or ``validation`` by the SHA-256 of its
file name: within a class, sorted by that hash, the first half (rounded up) is dev.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import statistics
import sys
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
SOURCES = HERE / "trace_sources"
DEFAULT_OUT = HERE.parent / "src" / "kithara_cli" / "abr" / "traces"
DEFAULT_ORIGINALS = HERE.parent.parent / "shared" / "data" / "traces"
SABRE = "UMass-LIDS/sabre@8716b78"

# RESERVED.md: never in any set we build (basenames; the sabre ones are all we could meet).
RESERVED = frozenset(
    {
        "report.2010-09-29_1628CEST",
        "report.2010-09-29_1823CEST",
        "report.2011-02-14_2051CET",
        "report.2010-09-28_1003CEST",
        "report.2011-02-01_1639CET",
        "report.2010-09-13_1046CEST",
        "report.2010-10-18_0951CEST",
        "report.2011-02-14_1728CET",
        "report.2010-12-16_1215CET",
        "report.2010-12-21_1134CET",
        "report_bicycle_0002",
        "report_bus_0001",
        "report_bus_0011",
        "report_car_0008",
        "report_foot_0006",
        "report_foot_0008",
        "report_train_0002",
        "report_tram_0001",
        "report_tram_0007",
    }
)

ORIGINALS = {
    "report.2010-09-21_1001CEST": "3g",
    "report.2010-09-28_1407CEST": "3g",
    "report.2011-01-29_1800CET": "3g",
    "report.2011-02-14_2139CET": "3g",
    "report_bus_0002": "lte",
    "report_car_0005": "lte",
}


@dataclass
class RawTrace:
    name: str
    klass: str
    source: str
    periods: list[tuple[int, int, int]]  # duration_ms, bandwidth_kbps, latency_ms
    original: bool = False


def parse_tokens(path: Path, default_ms: int) -> RawTrace:
    latency = None
    periods: list[tuple[int, int, int]] = []
    for line in path.read_text().splitlines():
        line = line.strip()
        if line.startswith("# latency_ms"):
            latency = int(line.split()[-1])
            continue
        if not line or line.startswith("#"):
            continue
        for token in line.split():
            kbps, _, ms = token.partition("@")
            periods.append((int(ms) if ms else default_ms, int(kbps), 0))
    if latency is None:
        raise SystemExit(f"{path}: no '# latency_ms' header")
    return RawTrace(path.stem, "", "", [(d, b, latency) for d, b, _ in periods])


def load_sources() -> list[RawTrace]:
    out: list[RawTrace] = []
    for sub, klass, folder in (("sabre-3g", "3g", "3Glogs"), ("sabre-4g", "lte", "4Glogs")):
        for path in sorted((SOURCES / sub).glob("*.txt")):
            raw = parse_tokens(path, 1000)
            raw.klass = klass
            raw.source = f"{SABRE} example/tomm19/{folder}/{raw.name}.json (first 16000 chars)"
            out.append(raw)
    for line in (SOURCES / "sabre-hd_fs.txt").read_text().splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        name, _, rest = line.partition(":")
        periods = [(5000, int(b), 20) for b in rest.split()]
        src = f"{SABRE} example/tomm19/hd_fs/{name}.json"
        out.append(RawTrace(name, "broadband", src, periods))
    return out


def load_originals(directory: Path) -> list[RawTrace]:
    out = []
    for name, klass in ORIGINALS.items():
        path = directory / f"{name}.json"
        if not path.is_file():
            raise SystemExit(f"missing original trace {path} (give --originals)")
        rows = json.loads(path.read_text())
        periods = [
            (int(r["duration_ms"]), int(r["bandwidth_kbps"]), int(r.get("latency_ms", 0)))
            for r in rows
        ]
        folder = "3Glogs" if klass == "3g" else "4Glogs"
        src = f"{SABRE} example/tomm19/{folder}/{name}.json (complete)"
        out.append(RawTrace(name, klass, src, periods, original=True))
    return out


def split_of(traces: list[RawTrace]) -> dict[str, str]:
    """dev / validation per trace: originals dev; the rest by hash order within each class."""
    split: dict[str, str] = {}
    by_class: dict[str, list[RawTrace]] = {}
    for t in traces:
        if t.original:
            split[t.name] = "dev"
        else:
            by_class.setdefault(t.klass, []).append(t)
    for members in by_class.values():
        ranked = sorted(
            members, key=lambda t: hashlib.sha256(f"{t.name}.json".encode()).hexdigest()
        )
        half = (len(ranked) + 1) // 2
        for i, t in enumerate(ranked):
            split[t.name] = "dev" if i < half else "validation"
    return split


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--originals", type=Path, default=DEFAULT_ORIGINALS)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args(argv)
    traces = load_sources() + load_originals(args.originals)
    names = [t.name for t in traces]
    if len(set(names)) != len(names):
        raise SystemExit("duplicate trace names")
    bad = sorted(set(names) & RESERVED)
    if bad:
        raise SystemExit(f"reserved traces must not be used: {bad}")
    split = split_of(traces)
    manifest = []
    for t in sorted(traces, key=lambda t: (t.klass, t.name)):
        rows = [
            {"duration_ms": d, "bandwidth_kbps": b, "latency_ms": lat} for d, b, lat in t.periods
        ]
        rel = f"{t.klass}/{t.name}.json"
        path = args.out / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(rows, separators=(",", ":")) + "\n")
        manifest.append(
            {
                "file": rel,
                "class": t.klass,
                "split": split[t.name],
                "original": t.original,
                "periods": len(rows),
                "seconds": round(sum(d for d, _, _ in t.periods) / 1000, 1),
                "median_kbps": statistics.median(b for _, b, _ in t.periods),
                "source": t.source,
            }
        )
    (args.out / "manifest.json").write_text(json.dumps({"traces": manifest}, indent=1) + "\n")
    counts: dict[tuple[str, str], int] = {}
    for m in manifest:
        key = (m["class"], m["split"])
        counts[key] = counts.get(key, 0) + 1
    for (klass, sp), n in sorted(counts.items()):
        print(f"{klass:10} {sp:10} {n}")
    print(f"{len(manifest)} traces -> {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
