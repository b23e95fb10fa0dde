"""Records, the JSON document and the Rich table.

A :class:`Record` is one number kithara produced in one case of one scenario, optionally set
against one peer. ``better`` says which direction is good, and it applies to both ``value``
and ``peer_ratio``: the ratio is always *kithara / peer in the metric's own units*, so for a
throughput ("higher") a ratio of 2 means kithara is twice as fast, and for a time ("lower") a
ratio of 0.5 means kithara takes half as long.
"""

from __future__ import annotations

import contextlib
import json
import os
import platform
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

from rich.table import Table

from kithara_cli.bench.stats import Summary
from kithara_cli.errors import OutputError, UsageError

Better = Literal["higher", "lower"]
Status = Literal["ok", "missing-peer", "peer-error", "unavailable", "error"]

SCHEMA_VERSION = 1
RECORD_KEYS = (
    "scenario",
    "case",
    "metric",
    "value",
    "unit",
    "runs",
    "min",
    "median",
    "max",
    "peer",
    "peer_value",
    "peer_ratio",
    "ratio_min",
    "ratio_max",
    "better",
    "status",
    "note",
)


@dataclass
class Record:
    scenario: str
    metric: str
    unit: str
    better: Better
    case: str = ""
    value: float | None = None
    """The median for repeated measurements; None when there is no number (see status)."""
    runs: int = 0
    min: float | None = None
    median: float | None = None
    max: float | None = None
    peer: str | None = None
    peer_value: float | None = None
    """The peer's median of the same metric."""
    peer_ratio: float | None = None
    """Median of the pairwise kithara/peer ratios (A B A B runs); ``better`` applies."""
    ratio_min: float | None = None
    ratio_max: float | None = None
    status: Status = "ok"
    note: str = ""
    in_table: bool = True
    """False: JSON only (detail rows that would crowd the table)."""

    @classmethod
    def of(
        cls,
        scenario: str,
        case: str,
        metric: str,
        unit: str,
        better: Better,
        summary: Summary,
        note: str = "",
    ) -> Record:
        record = cls(
            scenario=scenario, case=case, metric=metric, unit=unit, better=better, note=note
        )
        record.take(summary)
        return record

    def take(self, summary: Summary) -> None:
        """``summary`` as this record's numbers: its median is the value."""
        self.value, self.runs = summary.median, summary.runs
        self.min, self.median, self.max = summary.min, summary.median, summary.max

    def key(self) -> tuple[str, str, str, str | None]:
        return (self.scenario, self.case, self.metric, self.peer)

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        return {k: data[k] for k in RECORD_KEYS}


@dataclass
class ScenarioRun:
    name: str
    status: Literal["ok", "unavailable", "error", "not-run"] = "ok"
    seconds: float = 0.0
    error: str | None = None
    notes: list[str] = field(default_factory=list)


@dataclass
class BenchResult:
    quick: bool
    runs: int
    settings: dict[str, Any]
    shrunk: list[str]
    records: list[Record] = field(default_factory=list)
    scenarios: dict[str, ScenarioRun] = field(default_factory=dict)
    peers: dict[str, dict[str, Any]] = field(default_factory=dict)
    started: float = field(default_factory=time.time)
    elapsed: float = 0.0
    compare: list[dict[str, Any]] | None = None

    def find(self, key: tuple[str, str, str, str | None]) -> Record | None:
        for r in self.records:
            if r.key() == key:
                return r
        return None

    def to_json(self) -> dict[str, Any]:
        from kithara_cli import __version__

        return {
            "schema": SCHEMA_VERSION,
            "kithara_version": __version__,
            "started": time.strftime("%Y-%m-%dT%H:%M:%S%z", time.localtime(self.started)),
            "elapsed_s": round(self.elapsed, 2),
            "quick": self.quick,
            "runs": self.runs,
            "machine": machine_info(),
            "peers": self.peers,
            "settings": self.settings,
            "shrunk": self.shrunk,
            "scenarios": {
                name: {
                    "status": s.status,
                    "seconds": round(s.seconds, 2),
                    "error": s.error,
                    "notes": s.notes,
                }
                for name, s in self.scenarios.items()
            },
            "records": [r.to_json() for r in self.records],
            "compare": self.compare,
        }

    def write_json(self, path: Path) -> None:
        """Whole or not at all: a temp file beside ``path``, renamed over it; a failure is an
        :class:`OutputError` and leaves no temp file."""
        text = json.dumps(self.to_json(), indent=1) + "\n"
        tmp = _temp_beside(path)
        try:
            with os.fdopen(_create(tmp, path), "w", encoding="utf-8") as out:
                out.write(text)
            os.replace(tmp, path)
        except OSError as exc:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise OutputError(f"cannot write {path}: {exc.strerror or exc}") from exc


def _temp_beside(path: Path) -> Path:
    return path.with_name(f".{path.name}.{os.getpid()}.tmp")


def _create(tmp: Path, path: Path) -> int:
    """A new file, mode 0666 less the umask like any file the user writes (mkstemp's 0600
    would make the results unreadable to the rest of a CI job)."""
    try:
        return os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o666)
    except OSError as exc:
        raise OutputError(f"cannot write {path}: {exc.strerror or exc}") from exc


def check_json_path(path: Path) -> None:
    """Refuse a --json path that cannot be written before any scenario runs, not minutes
    later: a folder is bad usage (2), a missing or read-only folder an output error (6), as
    ``fetch --out`` has them."""
    if path.is_dir():
        raise UsageError(f"--json {path} is a directory")
    parent = path.parent
    if not parent.is_dir():
        raise OutputError(f"cannot write {path}: folder {parent} does not exist")
    probe = _temp_beside(path)
    os.close(_create(probe, path))
    os.unlink(probe)


def machine_info() -> dict[str, Any]:
    cpu = platform.processor() or ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    ram_gb: float | None = None
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                ram_gb = round(int(line.split()[1]) / 1024 / 1024, 1)
                break
    except (OSError, ValueError):
        pass
    return {
        "nproc": os.cpu_count(),
        "cpu": cpu,
        "ram_gb": ram_gb,
        "python": platform.python_version(),
        "platform": platform.platform(),
    }


# --- the table ---------------------------------------------------------------------------------


def fmt(value: float | None, unit: str = "") -> str:
    if value is None:
        return "-"
    a = abs(value)
    if unit == "count" or a >= 100:
        text = f"{value:.0f}"
    elif a >= 10:
        text = f"{value:.1f}"
    elif a >= 1:
        text = f"{value:.2f}"
    else:
        text = f"{value:.3f}"
    return text


def _ratio_text(r: Record) -> str:
    if r.peer_ratio is None:
        return "-"
    arrow = "↑" if r.better == "higher" else "↓"
    text = f"{r.peer_ratio:.2f}x {arrow}"
    if r.ratio_min is not None and r.ratio_max is not None and r.runs > 1:
        text += f" [{r.ratio_min:.2f}-{r.ratio_max:.2f}]"
    return text


def results_table(records: Sequence[Record], title: str) -> tuple[Table, list[str]]:
    """The table, and its footnotes (each distinct note once, referred to as [n])."""
    table = Table(title=title, title_justify="left")
    table.add_column("scenario")
    table.add_column("case")
    table.add_column("metric")
    table.add_column("kithara", justify="right")
    table.add_column("min-max", justify="right")
    table.add_column("n", justify="right")
    table.add_column("peer")
    table.add_column("peer", justify="right")
    table.add_column("kithara/peer", justify="right")
    table.add_column("note")
    notes: list[str] = []
    last_scenario = None
    last_row: tuple[str, str, str] | None = None
    for r in records:
        if not r.in_table:
            continue
        scenario = r.scenario if r.scenario != last_scenario else ""
        last_scenario = r.scenario
        same = last_row == (r.scenario, r.case, r.metric)
        last_row = (r.scenario, r.case, r.metric)
        value = spread = runs = ""
        if not same or r.peer is None:
            value = fmt(r.value, r.unit)
            if r.value is not None and r.unit not in ("", "count", "x"):
                value += f" {r.unit}"
            if r.runs > 1 and r.min is not None and r.max is not None:
                spread = f"{fmt(r.min, r.unit)}-{fmt(r.max, r.unit)}"
            runs = str(r.runs) if r.runs else ""
        note = r.note
        if r.status != "ok":
            note = f"{r.status}: {note}".strip(": ")
        ref = ""
        if note:
            if note not in notes:
                notes.append(note)
            ref = f"[{notes.index(note) + 1}]"
        table.add_row(
            scenario,
            r.case if not same else "",
            f"{r.metric} {'↑' if r.better == 'higher' else '↓'}" if not same else "",
            value,
            spread,
            runs,
            r.peer or "",
            fmt(r.peer_value, r.unit) if r.peer_value is not None else "",
            _ratio_text(r),
            ref,
        )
    return table, [f"[{i}] {n}" for i, n in enumerate(notes, 1)]


def compare_table(verdicts: Sequence[dict[str, Any]]) -> Table:
    table = Table(title="Against bench/baseline.json", title_justify="left")
    for name, justify in (
        ("result", "left"),
        ("scenario", "left"),
        ("case", "left"),
        ("metric", "left"),
        ("peer", "left"),
        ("value", "right"),
        ("target", "right"),
        ("gate", "left"),
        ("detail", "left"),
    ):
        table.add_column(name, justify=justify, overflow="fold")  # type: ignore[arg-type]
    styles = {"pass": "green", "fail": "bold red", "miss": "yellow", "skip": "dim"}
    for v in verdicts:
        result = v["result"]
        table.add_row(
            f"[{styles.get(result, '')}]{result}[/]",
            v["scenario"],
            v["case"],
            f"{v['metric']}{'' if v['field'] == 'value' else ' (ratio)'}",
            v["peer"] or "",
            fmt(v["value"]),
            f"{'≥' if v['better'] == 'higher' else '≤'} {fmt(v['target'])}",
            "gating" if v["gating"] else "report",
            v["detail"],
        )
    return table
