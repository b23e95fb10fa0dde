"""``--compare BASELINE.json``: hold a run against its targets; regressions exit non-zero.

A baseline is ``{"entries": [...]}``; each entry names one record and a target::

    {"scenario": "progressive-throttled", "case": "2MB/s x4", "metric": "throughput",
     "peer": "curl", "field": "peer_ratio", "kind": "ratio",
     "target": 3.0, "better": "higher", "tolerance": 0.1, "gating": true,
     "why": "issue 7: -c 4 >= 3.5x curl; quick mode pays start-up on a short file"}

* ``kind`` is ``ratio`` (tolerance relative to the target) or ``count`` (tolerance absolute).
  Absolute times are refused: a slower machine must not fail CI by itself.
* Better ``higher``: pass when value >= target x (1 - tolerance) (count: >= target - tolerance);
  ``lower``: value <= target x (1 + tolerance) (count: <= target + tolerance).
* ``gating: true`` entries decide the exit code; ``false`` ones ("report") are shown with
  their gap and never fail.
* An entry whose record is absent is skipped with a note when its peer is missing, its
  scenario was not selected or is unavailable; it fails (when gating) only if its scenario
  ran into an error - a broken kithara is a regression, a missing ffmpeg is not.
* A baseline is checked whole before any scenario runs (types, finite numbers, known
  scenario names, and cases and metrics that scenario produces): a typo is exit 2 at once,
  never a gating entry quietly skipped.
"""

from __future__ import annotations

import difflib
import json
import math
from dataclasses import dataclass
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any, Literal

from kithara_cli.bench.peers import PEER_NAMES
from kithara_cli.bench.report import BenchResult, Record
from kithara_cli.bench.scenarios import SCENARIOS
from kithara_cli.errors import UsageError

# Who a record can be compared with: the peer programs, and the scenarios' own references
# (the ABR's best baseline; the cache scenario's first play, revalidated and offline replays).
# A misspelt peer would find no record and be skipped, its gate gone without a word.
KNOWN_PEERS: tuple[str, ...] = (
    *PEER_NAMES,
    "best baseline",
    "first play",
    "revalidated",
    "offline",
)

Result = Literal["pass", "fail", "miss", "skip"]
"""pass: target met; fail: a gating target missed; miss: a report-only target missed;
skip: no number to judge (peer missing, scenario not run or unavailable)."""


@dataclass(frozen=True)
class Entry:
    scenario: str
    metric: str
    target: float
    better: Literal["higher", "lower"]
    tolerance: float
    gating: bool
    case: str = ""
    peer: str | None = None
    field: Literal["value", "peer_ratio"] = "value"
    kind: Literal["ratio", "count"] = "ratio"
    why: str = ""

    def key(self) -> tuple[str, str, str, str | None]:
        return (self.scenario, self.case, self.metric, self.peer)

    def limit(self) -> float:
        """The worst value that still passes."""
        if self.kind == "count":
            return (
                self.target - self.tolerance
                if self.better == "higher"
                else self.target + self.tolerance
            )
        if self.better == "higher":
            return self.target * (1 - self.tolerance)
        return self.target * (1 + self.tolerance)

    def passes(self, value: float) -> bool:
        limit = self.limit()
        return value >= limit if self.better == "higher" else value <= limit


def _text(raw: dict[str, Any], key: str, default: str | None = None) -> str:
    value = raw.get(key, default) if default is not None else raw[key]
    if not isinstance(value, str):
        raise UsageError(f"baseline entry {raw!r}: {key} must be a string")
    return value


def _number(raw: dict[str, Any], key: str, default: float | None = None) -> float:
    value = raw.get(key, default) if default is not None else raw[key]
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise UsageError(f"baseline entry {raw!r}: {key} must be a finite number")
    return float(value)


def parse_entry(raw: object) -> Entry:
    """One entry, its types checked: a typo in a baseline must fail before the run, not turn
    a gating entry into a skip (an unknown scenario) or crash once the numbers are in."""
    if not isinstance(raw, dict):
        raise UsageError(f"baseline entry {raw!r} is not an object")
    try:
        peer = raw.get("peer")
        if peer is not None and not isinstance(peer, str):
            raise UsageError(f"baseline entry {raw!r}: peer must be a string")
        if peer is not None and peer not in KNOWN_PEERS:
            close = difflib.get_close_matches(peer, KNOWN_PEERS, n=1)
            hint = f"did you mean {close[0]!r}? " if close else ""
            raise UsageError(
                f"baseline entry {raw!r}: unknown peer {peer!r}; {hint}"
                f"peers are: {', '.join(KNOWN_PEERS)}"
            )
        field = raw.get("field", "peer_ratio" if peer else "value")
        kind = raw.get("kind", "ratio")
        better = raw["better"]
        if field not in ("value", "peer_ratio"):
            raise UsageError(f"baseline: field must be value or peer_ratio, got {field!r}")
        if kind not in ("ratio", "count"):
            raise UsageError(
                f"baseline: kind must be ratio or count (never absolute times), got {kind!r}"
            )
        if better not in ("higher", "lower"):
            raise UsageError(f"baseline: better must be higher or lower, got {better!r}")
        scenario = _text(raw, "scenario")
        if scenario not in SCENARIOS:
            raise UsageError(
                f"baseline entry {raw!r}: unknown scenario {scenario!r}; "
                f"choose from: {', '.join(SCENARIOS)}"
            )
        case, metric = _text(raw, "case", ""), _text(raw, "metric")
        _known(scenario, "case", case, SCENARIOS[scenario].cases)
        _known(scenario, "metric", metric, SCENARIOS[scenario].metrics)
        tolerance = _number(raw, "tolerance", 0.0)
        if tolerance < 0:
            raise UsageError("baseline: tolerance must be >= 0")
        gating = raw.get("gating", False)
        if not isinstance(gating, bool):
            raise UsageError(f"baseline entry {raw!r}: gating must be true or false")
        return Entry(
            scenario=scenario,
            case=case,
            metric=metric,
            peer=peer,
            field=field,
            kind=kind,
            target=_number(raw, "target"),
            better=better,
            tolerance=tolerance,
            gating=gating,
            why=_text(raw, "why", ""),
        )
    except KeyError as exc:
        raise UsageError(f"baseline entry {raw!r} lacks {exc.args[0]!r}") from exc


def _known(scenario: str, what: str, name: str, patterns: tuple[str, ...]) -> None:
    """Refuse a case or metric ``scenario`` never produces (its entry could only be skipped)."""
    if any(fnmatchcase(name, p) for p in patterns):
        return
    names = [p for p in patterns if not any(c in p for c in "*?[")]
    close = difflib.get_close_matches(name, names, n=1)
    hint = f"did you mean {close[0]!r}? " if close else ""
    raise UsageError(
        f"baseline entry for {scenario}: unknown {what} {name!r}; {hint}"
        f"{scenario} has: {', '.join(patterns)}"
    )


def load_baseline(path: Path) -> list[Entry]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise UsageError(f"baseline {path} does not exist") from exc
    except (OSError, ValueError) as exc:  # ValueError: not UTF-8, not JSON
        raise UsageError(f"cannot read baseline {path}: {exc}") from exc
    entries = data.get("entries") if isinstance(data, dict) else None
    if not isinstance(entries, list):
        raise UsageError(f"baseline {path}: expected an object with an 'entries' list")
    return [parse_entry(e) for e in entries]


def _verdict(entry: Entry, value: float | None, result: Result, detail: str) -> dict[str, Any]:
    return {
        "result": result,
        "scenario": entry.scenario,
        "case": entry.case,
        "metric": entry.metric,
        "peer": entry.peer,
        "field": entry.field,
        "kind": entry.kind,
        "value": value,
        "target": entry.target,
        "limit": entry.limit(),
        "better": entry.better,
        "tolerance": entry.tolerance,
        "gating": entry.gating,
        "detail": detail,
    }


def _absent(entry: Entry, result: BenchResult, record: Record | None) -> tuple[Result, str]:
    scenario = result.scenarios.get(entry.scenario)
    if record is not None and record.status in ("missing-peer", "peer-error"):
        return "skip", f"{entry.peer}: {record.status} ({record.note})".rstrip()
    if scenario is None or scenario.status == "not-run":
        return "skip", "scenario not run"
    if scenario.status == "unavailable":
        return "skip", f"scenario unavailable: {scenario.error or ''}".rstrip(": ")
    broken = [
        r
        for r in result.records
        if r.scenario == entry.scenario and r.status == "error" and r.case in (entry.case, "")
    ]
    if broken or (record is not None and record.status == "error"):
        why = (record.note if record is not None else "") or (broken[0].note if broken else "error")
        return ("fail" if entry.gating else "miss"), f"kithara failed: {why}"
    if scenario.status == "error" and not any(
        r.scenario == entry.scenario and r.case == entry.case for r in result.records
    ):
        why = scenario.error or "error"
        return ("fail" if entry.gating else "miss"), f"scenario failed: {why}"
    if record is not None and record.status == "unavailable":
        return "skip", f"unavailable: {record.note}"
    return "skip", "no such record in this run"


def compare(result: BenchResult, entries: list[Entry]) -> list[dict[str, Any]]:
    verdicts = []
    for entry in entries:
        record = result.find(entry.key())
        value = None
        if record is not None and record.status == "ok":
            value = record.peer_ratio if entry.field == "peer_ratio" else record.value
        if value is None:
            outcome, detail = _absent(entry, result, record)
            verdicts.append(_verdict(entry, None, outcome, detail))
            continue
        if entry.passes(value):
            verdicts.append(_verdict(entry, value, "pass", entry.why))
            continue
        gap = _gap(entry, value)
        outcome = "fail" if entry.gating else "miss"
        verdicts.append(_verdict(entry, value, outcome, f"{gap}; {entry.why}".rstrip("; ")))
    return verdicts


def _gap(entry: Entry, value: float) -> str:
    limit = entry.limit()
    if entry.kind == "count":
        return f"{value:g} vs limit {limit:g}"
    if entry.target == 0:
        return f"{value:.3g} vs limit {limit:.3g}"
    factor = value / entry.target
    return f"{factor:.2f}x the target (limit {limit:.3g})"


def exit_code(verdicts: list[dict[str, Any]]) -> int:
    """1 when any gating entry failed, else 0."""
    return 1 if any(v["result"] == "fail" for v in verdicts) else 0
