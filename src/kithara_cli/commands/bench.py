"""``kithara bench``: run the scenarios, print the table, write JSON, hold it to a baseline."""

from __future__ import annotations

import difflib
import shutil
import signal
import sys
import tempfile
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from kithara_cli.errors import Cancelled, Terminated, UsageError

if TYPE_CHECKING:  # both load lazily: `kithara bench --list` stays light
    from rich.console import Console

    from kithara_cli.bench.report import Record, Status


@dataclass
class BenchOptions:
    quick: bool = False
    scenarios: list[str] = field(default_factory=list)
    json_out: Path | None = None
    compare: Path | None = None
    abr_only: bool = False
    runs: int = 5
    list_only: bool = False
    verbose: bool = False


def _console(stderr: bool = False) -> Console:
    from rich.console import Console

    out = sys.stderr if stderr else sys.stdout
    width = None if out.isatty() else 200
    return Console(file=out, width=width, highlight=False, soft_wrap=False)


def select_scenarios(options: BenchOptions) -> list[str]:
    from kithara_cli.bench.scenarios import SCENARIOS

    if options.abr_only and options.scenarios:
        raise UsageError("--abr runs only the ABR table: give --abr or --scenario, not both")
    if options.abr_only:
        return ["abr"]
    if not options.scenarios:
        return list(SCENARIOS)
    unknown = [s for s in options.scenarios if s not in SCENARIOS]
    if unknown:
        close = difflib.get_close_matches(unknown[0], list(SCENARIOS), n=1)
        hint = f"did you mean {close[0]}? " if close else ""
        raise UsageError(
            f"unknown scenario {', '.join(unknown)}; {hint}choose from: {', '.join(SCENARIOS)}"
        )
    return list(dict.fromkeys(options.scenarios))


def list_scenarios() -> int:
    from kithara_cli.bench.scenarios import SCENARIOS

    for s in SCENARIOS.values():
        print(f"{s.name:24} {s.about}")
    return 0


def _compile_bytecode() -> None:
    """Write kithara's own ``.pyc`` files before timing any start-up.

    An installed package has them; a source checkout run with ``PYTHONDONTWRITEBYTECODE=1``
    (set on this project's machines) never gets them, and every ``kithara`` process then
    compiles each module it imports: ~60 ms of every start-up that a user would not see.
    """
    import compileall

    package = Path(__file__).resolve().parent.parent
    compileall.compile_dir(package, quiet=2)  # a read-only install fails quietly: it has them


def run_bench(options: BenchOptions) -> int:
    """Run the bench; 0 when every selected scenario ran and no gating target regressed.

    Ctrl-C and SIGTERM (a CI job cancelled) stop it at once, as Python's Ctrl-C does: the
    measured command is killed, the temp folder removed, nothing written to --json; then one
    line and 130 or 143. (Not :mod:`kithara_cli.interrupt`'s flag: the bench's waits are on
    child processes, which that flag would not wake.)
    """
    if options.list_only:
        return list_scenarios()
    received: list[int] = []

    def on_sigterm(signum: int, frame: object) -> None:
        received.append(signum)
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, on_sigterm)
    try:
        return _run(options)
    except KeyboardInterrupt:
        from kithara_cli.ui.console import print_error

        error = Terminated("terminated") if received else Cancelled("interrupted")
        print_error(str(error))
        return error.exit_code
    finally:
        signal.signal(signal.SIGTERM, previous)


def _run(options: BenchOptions) -> int:
    if options.runs < 1:
        raise UsageError("--runs must be >= 1")

    from kithara_cli.bench.compare import compare, exit_code, load_baseline
    from kithara_cli.bench.peers import INSTALL_HINTS, Peers
    from kithara_cli.bench.report import (
        BenchResult,
        Record,
        ScenarioRun,
        check_json_path,
        compare_table,
        machine_info,
        results_table,
    )
    from kithara_cli.bench.runner import RunFailed
    from kithara_cli.bench.scenarios import (
        SCENARIOS,
        Context,
        Unavailable,
        make_settings,
        shrunk,
    )

    names = select_scenarios(options)
    baseline = load_baseline(options.compare) if options.compare is not None else None
    if options.json_out is not None:
        if options.compare is not None and _same_file(options.json_out, options.compare):
            raise UsageError("--json would overwrite the --compare baseline: give another file")
        check_json_path(options.json_out)
    settings = make_settings(options.quick, options.runs)
    err = _console(stderr=True)

    def log(line: str) -> None:
        if options.verbose:
            err.print(f"[dim]{line}[/dim]", markup=True, highlight=False)

    result = BenchResult(
        quick=settings.quick,
        runs=settings.runs,
        settings=settings.describe(),
        shrunk=shrunk(settings),
    )
    machine = machine_info()
    err.print(
        f"kithara bench ({settings.mode}, {settings.runs} runs per case) on {machine['nproc']} "
        f"cores, {machine['cpu']}, {machine['ram_gb']} GB"
    )
    for note in result.shrunk:
        err.print(f"  shrunk: {note}", markup=False)
    _compile_bytecode()
    started = time.monotonic()
    tmp = Path(tempfile.mkdtemp(prefix="kithara-bench-"))
    ctx = Context(settings=settings, tmp=tmp, peers=Peers(), log=log)
    try:
        for n, name in enumerate(names):
            scenario = SCENARIOS[name]
            ctx.weight = scenario.weight
            ctx.weight_left = sum(SCENARIOS[rest].weight for rest in names[n:])
            run = ScenarioRun(name)
            result.scenarios[name] = run
            err.print(f"- {name} ...", markup=False)
            t0 = time.monotonic()
            try:
                result.records += scenario.run(ctx)
            except Unavailable as exc:
                run.status, run.error = "unavailable", str(exc)
                result.records.append(_status_record(Record, name, "unavailable", str(exc)))
            except RunFailed as exc:
                run.status, run.error = "error", exc.describe()
                result.records.append(_status_record(Record, name, "error", exc.describe()))
            except Exception as exc:  # a scenario's bug must not hide the others' numbers
                run.status, run.error = "error", f"{type(exc).__name__}: {exc}"
                result.records.append(_status_record(Record, name, "error", run.error))
                if options.verbose:
                    traceback.print_exc()
            finally:
                ctx.clear_out()
            broken = [r for r in result.records if r.scenario == name and r.status == "error"]
            if broken and run.status == "ok":
                run.status = "error"
                run.error = (
                    f"{len(broken)} case(s) failed; first: {broken[0].case}: {broken[0].note}"
                )
            run.seconds = time.monotonic() - t0
            state = "" if run.status == "ok" else f" [{run.status}] {run.error}"
            err.print(f"  {name}: {run.seconds:.1f} s{state}", markup=False)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    for name in SCENARIOS:
        result.scenarios.setdefault(name, ScenarioRun(name, status="not-run"))
    result.elapsed = time.monotonic() - started
    result.peers = {
        name: {"path": p.path, "version": p.version}
        if p.available
        else {"path": None, "version": None, "install": INSTALL_HINTS.get(name)}
        for name, p in sorted(ctx.peers.used().items())
    }

    out = _console()
    if options.abr_only or (options.verbose and "abr-results" in ctx._media):
        from kithara_cli.abr.tables import abr_table, group_tables

        if "abr-results" in ctx._media:
            out.print(abr_table(ctx._media["abr-results"]))
            for abr_group_table in group_tables(ctx._media["abr-results"]):
                out.print(abr_group_table)
    title = (
        f"kithara bench - {settings.mode} - {result.elapsed:.0f} s - "
        f"ratio = kithara/peer in the metric's units (↑ higher is better, ↓ lower)"
    )
    table, footnotes = results_table(result.records, title)
    out.print(table)
    for line in footnotes:
        out.print(line, markup=False, highlight=False)
    peers_line = ", ".join(
        f"{n} {p['version']}" if p["path"] else f"{n} (missing: {p['install']})"
        for n, p in result.peers.items()
    )
    if peers_line:
        out.print(f"peers: {peers_line}", markup=False)

    errors = [s for s in result.scenarios.values() if s.status == "error"]
    for s in errors:
        out.print(f"scenario {s.name} failed: {s.error}", markup=False, highlight=False)
    # A failed scenario fails the command, with a baseline or without: one that no gating
    # entry names must not pass unseen (its gating entries, if any, fail as well).
    code = 1 if errors else 0
    if baseline is not None:
        verdicts = compare(result, baseline)
        result.compare = verdicts
        out.print(compare_table(verdicts))
        failed = [v for v in verdicts if v["result"] == "fail"]
        missed = [v for v in verdicts if v["result"] == "miss"]
        out.print(
            f"{len(failed)} gating regressions, {len(missed)} report-only targets missed, "
            f"{sum(v['result'] == 'pass' for v in verdicts)} met, "
            f"{sum(v['result'] == 'skip' for v in verdicts)} skipped",
            markup=False,
        )
        code = max(code, exit_code(verdicts))
    if options.json_out is not None:
        result.write_json(options.json_out)
        err.print(f"results written to {options.json_out}", markup=False)
    return code


def _same_file(a: Path, b: Path) -> bool:
    try:
        return a.resolve() == b.resolve() or (a.exists() and a.samefile(b))
    except OSError:
        return False


def _status_record(record_cls: type[Record], scenario: str, status: Status, note: str) -> Record:
    return record_cls(
        scenario=scenario,
        metric="-",
        unit="",
        better="lower",
        status=status,
        note=note,
    )
