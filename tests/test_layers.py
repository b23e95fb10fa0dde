"""The shape of the tree, held by tests: imports run down the layers only, with no circles,
and fetch and play choose a fixed variant by one rule."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from kithara_cli.hls.loader import fixed_variant, playback_ladder
from kithara_cli.hls.model import MasterPlaylist
from kithara_cli.hls.playlist import parse_playlist
from kithara_cli.hls.select import choose_variant

SRC = Path(__file__).resolve().parent.parent / "src" / "kithara_cli"

# Higher imports lower, never the other way; the base (rank 0) is imported by anyone.
RANK = {
    "kithara_cli": 0, "errors": 0, "events": 0, "interrupt": 0, "crash": 0, "launch": 0,
    "pids": 0, "crash_log": 0, "lazy": 0,
    "ui.sanitize": 0,  # pure, no imports: whatever prints network text uses it, crash included
    "net": 1, "storage": 1, "media": 1, "server": 1,
    "dl": 1.5, "cache": 1.7,
    "stream": 2, "abr": 2,
    "radio": 2.5,
    "file": 3, "audio": 3,
    "hls": 4,
    "play": 5,
    "ui": 6,
    "bench": 7,
    "commands": 8,
    "config": 8.5,
    "cli_options": 8.7, "cli_runtime": 8.7, "cli_cache": 8.8, "cli_common": 8.9,
    "cli": 9,
    "completions": 10, "__main__": 10,
}  # fmt: skip


def _layer(parts: list[str]) -> str:
    """The layer of ``kithara_cli.<parts>``: its first part, ``ui.sanitize`` on its own."""
    if not parts:
        return "kithara_cli"
    if parts[:2] == ["ui", "sanitize"]:
        return "ui.sanitize"
    return parts[0].removesuffix(".py")


def _imported(node: ast.AST, here: list[str]) -> list[list[str]]:
    """The kithara modules a node imports, as parts under ``kithara_cli``: plain and relative
    imports, and ``importlib.import_module("kithara_cli...")`` / ``__import__`` of a constant
    name (lazy imports in functions and ``TYPE_CHECKING`` blocks are walked like the rest)."""
    names: list[str] = []
    if isinstance(node, ast.ImportFrom):
        if node.level == 0:
            names = [node.module or ""]
        else:  # relative: resolved against the module's package (``here``)
            base = ["kithara_cli", *here[: len(here) - node.level + 1]]
            module = [*base, *(node.module.split(".") if node.module else [])]
            # ``from . import x`` may name a submodule: count each name as one
            names = (
                [".".join(module)]
                if node.module
                else [".".join([*module, alias.name]) for alias in node.names]
            )
    elif isinstance(node, ast.Import):
        names = [alias.name for alias in node.names]
    elif (
        isinstance(node, ast.Call)
        and node.args
        and isinstance(node.args[0], ast.Constant)
        and isinstance(node.args[0].value, str)
        and (
            (isinstance(node.func, ast.Name) and node.func.id == "__import__")
            or (isinstance(node.func, ast.Attribute) and node.func.attr == "import_module")
        )
    ):
        names = [node.args[0].value]
    return [n.split(".")[1:] for n in names if n.split(".")[0] == "kithara_cli"]


def package_imports() -> dict[str, set[str]]:
    """Layer -> the kithara layers its modules import (lazy and TYPE_CHECKING ones too)."""
    edges: dict[str, set[str]] = {}
    for path in SRC.rglob("*.py"):
        rel = list(path.relative_to(SRC).with_suffix("").parts)
        pkg = _layer(rel) if rel != ["__init__"] else "kithara_cli"
        here = rel[:-1]  # the package a relative import starts from
        for node in ast.walk(ast.parse(path.read_text())):
            for parts in _imported(node, here):
                target = _layer(parts)
                if target != pkg:
                    edges.setdefault(pkg, set()).add(target)
    return edges


def test_every_package_has_a_rank() -> None:
    packages = {p.name for p in SRC.iterdir() if p.is_dir() and (p / "__init__.py").exists()}
    modules = {p.stem for p in SRC.glob("*.py") if p.stem != "__init__"}
    assert packages | modules <= set(RANK) | {"kithara_cli"}, (packages | modules) - set(RANK)


def test_imports_run_down_the_layers_only() -> None:
    upward = [
        f"{pkg} -> {target}"
        for pkg, targets in package_imports().items()
        for target in targets
        if RANK.get(target, 0) > 0 and RANK[target] >= RANK[pkg]
    ]
    assert not upward, upward


@pytest.mark.parametrize(
    ("where", "code", "layer"),
    [
        (["hls", "source"], "def f():\n    from kithara_cli.play.session import X\n", "play"),
        (
            ["hls", "source"],
            "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import kithara_cli.ui\n",
            "ui",
        ),
        (["hls", "source"], "from ..play import session\n", "play"),
        (["hls", "source"], "from .. import commands\n", "commands"),
        (["hls", "__init__"], "from ..bench.report import x\n", "bench"),
        (["hls", "source"], "import importlib\nimportlib.import_module('kithara_cli.ui')\n", "ui"),
        (["hls", "source"], "__import__('kithara_cli.commands.fetch')\n", "commands"),
        (["crash"], "from kithara_cli.ui.sanitize import clean\n", "ui.sanitize"),
        (["crash"], "from kithara_cli.ui import dashboard\n", "ui"),
    ],
)
def test_the_import_check_sees_every_kind_of_import(
    where: list[str], code: str, layer: str
) -> None:
    """Lazy imports, ``TYPE_CHECKING`` blocks, relative and dynamic imports all count: an
    upward arrow hidden in any of them is one the layer test would otherwise miss."""
    found = {
        _layer(parts) for node in ast.walk(ast.parse(code)) for parts in _imported(node, where[:-1])
    }
    assert layer in found, found


def test_no_import_circles_between_packages() -> None:
    edges = package_imports()

    def reaches(start: str, goal: str, seen: set[str]) -> bool:
        for nxt in edges.get(start, ()):
            if nxt == goal or (nxt not in seen and reaches(nxt, goal, seen | {nxt})):
                return True
        return False

    circles = [pkg for pkg in edges if pkg != "kithara_cli" and reaches(pkg, pkg, {pkg})]
    assert not circles, circles


def test_the_readmes_layer_table_lists_every_package_lowest_first() -> None:
    """The README's table is the map a newcomer reads: every package in it, in the order
    the import test enforces (a row's layers import only rows above it)."""
    readme = (SRC.parent.parent / "README.md").read_text()
    table = readme[readme.index("| layer | job |") :].split("\n\n")[0]
    rows = [line.split("|")[1] for line in table.splitlines()[2:]]
    layers = [[name.removesuffix(".py") for name in row.split("`")[1::2]] for row in rows]
    packages = {p.name for p in SRC.iterdir() if p.is_dir() and (p / "__init__.py").exists()}
    assert packages <= {name for row in layers for name in row}, packages
    ranks = [max(RANK[name] for name in row) for row in layers]
    assert ranks == sorted(ranks), list(zip(rows, ranks, strict=True))


def test_no_module_is_over_500_lines() -> None:
    """One module, one job: a module past 500 lines is split (issue 16 split ten)."""
    long = {
        path.relative_to(SRC).as_posix(): n
        for path in SRC.rglob("*.py")
        if (n := len(path.read_text().splitlines())) > 500
    }
    assert not long, long


MASTER = """#EXTM3U
#EXT-X-STREAM-INF:BANDWIDTH=70000,CODECS="mp4a.40.2"
low.m3u8
#EXT-X-STREAM-INF:BANDWIDTH=140000,AVERAGE-BANDWIDTH=131000,CODECS="mp4a.40.2"
mid.m3u8
#EXT-X-STREAM-INF:BANDWIDTH=140000,CODECS="mp4a.40.2"
mid-copy.m3u8
#EXT-X-STREAM-INF:BANDWIDTH=290000,CODECS="mp4a.40.2"
high.m3u8
"""


@pytest.mark.parametrize("spec", ["best", "worst", "64k", "128k", "130k", "256k", "1M", "10k"])
def test_play_fixed_and_fetch_variant_pick_the_same_variant(spec: str) -> None:
    """``play --abr fixed:SPEC`` plays what ``fetch --variant SPEC`` fetches (a 128k
    variant advertised at 140k included: the old play rule took the 64k one)."""
    master = parse_playlist(MASTER, "http://example.test/master.m3u8")
    assert isinstance(master, MasterPlaylist)
    rungs = playback_ladder(master, None)
    played = int(fixed_variant(master, rungs, spec, None).removeprefix("fixed:"))
    fetched = choose_variant(master, spec)
    by_index = {r.index: r for r in rungs}
    assert by_index[played].media_url == fetched.uri


# Probes of third-party or stdlib internals (not seams between kithara's layers): each file
# with the attribute names it may probe, so a seam probe added beside them still fails.
LIBRARY_PROBES = {
    "cli_runtime.py": {"_run_exitfuncs"},  # atexit's
    "config.py": {"lineno"},  # TOMLDecodeError.lineno (Python 3.14+)
    "net/httpx_client.py": {"_cookies"},  # httpx.Client's
    "net/asyncio_sync.py": {"anyio", "current_async_library"},  # httpcore._synchronization's
}

# The classes behind the seams: a layer that asks ``isinstance(x, WavSink)`` probes a
# ``Sink`` by its concrete type instead of asking the Protocol (``Sink.realtime``).
SEAM_IMPLEMENTATIONS = {
    "DeviceSink", "NullSink", "WavSink",  # audio.Sink
    "ProgressiveSource", "HlsSource", "RecordingTap", "_RunPart",  # stream.Source
    "ByteStream", "FileInput",  # audio.DecoderInput
}  # fmt: skip


def test_no_seam_is_probed_with_getattr() -> None:
    """A seam is a typed Protocol implemented in full: no ``getattr(x, "name")`` or
    ``hasattr(x, "name")`` discovering an optional member (dataclass fields read by a
    variable name are not probes), and no ``isinstance`` against one implementation."""
    probes = []
    for path in SRC.rglob("*.py"):
        rel = path.relative_to(SRC).as_posix()
        for node in ast.walk(ast.parse(path.read_text())):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)):
                continue
            if (
                node.func.id in ("getattr", "hasattr")
                and len(node.args) >= 2
                and isinstance(node.args[1], ast.Constant)
                and node.args[1].value not in LIBRARY_PROBES.get(rel, ())
            ):
                probes.append(f"{rel}:{node.lineno} {node.func.id}(..., {node.args[1].value!r})")
            if node.func.id == "isinstance" and len(node.args) == 2:
                classes = {n.id for n in ast.walk(node.args[1]) if isinstance(n, ast.Name)}
                classes |= {n.attr for n in ast.walk(node.args[1]) if isinstance(n, ast.Attribute)}
                if classes & SEAM_IMPLEMENTATIONS:
                    probes.append(f"{rel}:{node.lineno} isinstance(..., {classes})")
    assert not probes, probes


def _names_and_calls(path: Path) -> tuple[set[str], set[str]]:
    """The names a module refers to, and the attribute names it calls (``x.fill(...)``)."""
    tree = ast.parse(path.read_text())
    names = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}
    names |= {
        alias.name for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) for alias in n.names
    }
    calls = {
        n.func.attr
        for n in ast.walk(tree)
        if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute)
    }
    return names, calls


def test_fetch_and_play_of_hls_go_through_one_segment_scheduler() -> None:
    """``fetch URL.m3u8`` (``hls.writer``) and ``play URL.m3u8`` (``hls.source``) submit
    segments only through the scheduler (``SegmentFetcher.fill``, windowed by one
    ``WindowPolicy``; ``request`` for a failover): neither builds a downloader command nor
    runs a submit loop of its own, and no other HLS module fetches a segment's body (resume's
    one-byte check that a segment is unchanged is not a fetch of it)."""
    hls = SRC / "hls"
    for consumer, policy in (("writer.py", "for_fetch"), ("source.py", "for_play")):
        names, calls = _names_and_calls(hls / consumer)
        assert {"SegmentFetcher", "WindowPolicy"} <= names, consumer
        assert {"fill", policy} <= calls, consumer
        assert not {"FetchCmd", "Priority", "memory_sink"} & names, consumer
        assert "submit" not in calls, consumer
    for path in hls.glob("*.py"):
        if path.name != "scheduler.py":
            names, _ = _names_and_calls(path)
            assert "memory_sink" not in names, path.name
            assert "FetchCmd" not in names or path.name == "resume.py", path.name
    # and the commands reach them: fetch through the writer, play through the source
    assert "HlsWriter" in _names_and_calls(SRC / "commands" / "fetch_hls.py")[0]
    assert "HlsSource" in _names_and_calls(SRC / "play" / "opening.py")[0]
