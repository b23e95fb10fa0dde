"""The command line: option parsing only. Each command's work lives in ``kithara_cli.commands``.

Heavy modules (PyAV, numpy, sounddevice, httpx) are imported inside the commands, so that
``kithara --help`` and time to first audio stay quick.

No ``from __future__ import annotations`` here: Typer reads each command's signature with
``typing.get_type_hints``, which would compile and evaluate every string annotation (~100 of
them, ~8 ms of every start-up). Evaluated where they are defined, they cost nothing extra.
"""

import os
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from kithara_cli import __version__
from kithara_cli.cli_cache import cache_app
from kithara_cli.cli_common import common_options, fail, network_options, run_guarded
from kithara_cli.cli_options import (
    BENCH_EPILOG,
    CONFIG_EPILOG,
    DEMO_PROFILES,
    FETCH_EPILOG,
    PLAY_EPILOG,
    AudioOpt,
    Command,
    EpisodeOpt,
    Group,
    VerboseOpt,
    env_settings,
)
from kithara_cli.cli_runtime import ArgvUrl, PlayTarget, app_for, exit_without_teardown, run_app
from kithara_cli.errors import KitharaError
from kithara_cli.ui.console import local_output_error, print_error, stdout_reader_left

app = typer.Typer(
    name="kithara",
    help="Fetch and play audio over HTTP: HLS (adaptive bitrate) and progressive files.",
    no_args_is_help=True,
    add_completion=True,
    cls=Group,
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)
config_app = typer.Typer(
    help="Where the config file is and what it sets.",
    no_args_is_help=True,
    cls=Group,
    rich_markup_mode=None,
)
app.add_typer(config_app, name="config")
app.add_typer(cache_app, name="cache")


def _version(value: bool) -> None:
    if value:
        typer.echo(f"kithara {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    ctx: typer.Context,
    version: Annotated[
        bool,
        typer.Option("--version", "-V", callback=_version, is_eager=True, help="Show the version."),
    ] = False,
    config: Annotated[
        Path | None,
        typer.Option(
            "--config",
            help="Read option defaults from this TOML file (default: "
            "$XDG_CONFIG_HOME/kithara/config.toml; env KITHARA_CONFIG). See: kithara config.",
            metavar="FILE",
            dir_okay=False,
        ),
    ] = None,
    no_config: Annotated[bool, typer.Option("--no-config", help="Read no config file.")] = False,
) -> None:
    """Fetch and play audio over HTTP: HLS (adaptive bitrate) and progressive files."""
    from kithara_cli.commands.config import apply_config

    try:
        apply_config(ctx, app, config, no_config)
    except KitharaError as error:
        fail(error)


@app.command(epilog=FETCH_EPILOG, cls=Command, context_settings=env_settings("fetch"))
@network_options
def fetch(
    url: Annotated[
        str,
        typer.Argument(
            help="http(s) URL of an audio file, an HLS playlist, a radio stream or station "
            "link, or a podcast feed (its newest episode).",
            metavar="URL",
            click_type=ArgvUrl(),
        ),
    ],
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            "-o",
            help="The file to write (required, except with --list). Not play's --output.",
            metavar="FILE",
        ),
    ] = None,
    connections: Annotated[
        int,
        typer.Option(
            "--connections",
            "-c",
            min=1,
            max=32,
            help="Parallel requests (progressive files), 1-32.",
            metavar="N",
        ),
    ] = 4,
    force: Annotated[bool, typer.Option("--force", "-f", help="Overwrite FILE.")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress output.")] = False,
    variant: Annotated[
        str,
        typer.Option(
            "--variant", help="HLS variant: best, worst, INDEX or e.g. 128k.", metavar="VARIANT"
        ),
    ] = "best",
    audio: AudioOpt = None,
    episode: EpisodeOpt = None,
    list_variants: Annotated[
        bool,
        typer.Option(
            "--list",
            help="Print the HLS ladder (a station link's or podcast feed's entries) and exit.",
        ),
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="With --list: print JSON.")] = False,
    remux: Annotated[
        bool,
        typer.Option(
            "--remux",
            help="Remux HLS output into --out's container even when it is the segments' own "
            "(another one, e.g. .m4a from TS, is remuxed without it).",
        ),
    ] = False,
    segments: Annotated[
        int,
        typer.Option(
            "--segments",
            min=1,
            max=64,
            help="HLS segments in flight, 1-64 (lower it for shy servers).",
            metavar="N",
        ),
    ] = 32,
    skip_unavailable: Annotated[
        bool,
        typer.Option("--skip-unavailable", help="Skip HLS segments that fail; report the gaps."),
    ] = False,
    live_edge: Annotated[
        int,
        typer.Option("--live-edge", min=1, help="Live HLS: start N segments back.", metavar="N"),
    ] = 3,
    duration: Annotated[
        float | None,
        typer.Option(
            "--duration",
            help="Live HLS or a radio stream: stop after this many seconds (a radio stream is "
            "recorded with a CUE sheet of its titles; Ctrl-C keeps what came).",
            metavar="SECONDS",
        ),
    ] = None,
    split_tracks: Annotated[
        bool,
        typer.Option(
            "--split-tracks",
            help="Radio stream with ICY titles: one file per title (FILE-01.ext...); any "
            "other source (HLS, a file, a stream without ICY titles) exits 2.",
        ),
    ] = False,
    dashboard: Annotated[
        bool, typer.Option("--dashboard", help="Show in-flight requests under the bar.")
    ] = False,
    max_size: Annotated[
        str | None,
        typer.Option(
            "--max-size",
            help="Stop a body with no length (a radio stream) at SIZE (e.g. 50M) and keep it; "
            "refuse a larger file. Without it a body with no length may reach 2 GiB.",
            metavar="SIZE",
        ),
    ] = None,
    *,
    network: dict[str, Any],
) -> None:
    """Download a progressive file or a whole HLS stream to FILE, in parallel and resumably."""
    from kithara_cli.commands.fetch import FetchOptions, run_fetch

    common = common_options(url, network)
    options = FetchOptions(
        url=url,
        out=out,
        connections=connections,
        force=force,
        quiet=quiet,
        variant=variant,
        audio=audio,
        list_only=list_variants,
        as_json=as_json,
        remux=remux,
        segments_in_flight=segments,
        skip_unavailable=skip_unavailable,
        live_edge=live_edge,
        duration=duration,
        dashboard=dashboard,
        max_size=max_size,
        split_tracks=split_tracks,
        episode=episode,
    )
    run_guarded(lambda: run_fetch(options, common))


@app.command(epilog=PLAY_EPILOG, cls=Command, context_settings=env_settings("play"))
@network_options
def play(
    urls: Annotated[
        list[str] | None,
        typer.Argument(
            help="http(s) URLs (HLS, progressive, a radio stream, a .pls/.m3u/.xspf station "
            "link, a podcast feed: its episodes newest first) or local files (a path or file:// URL; a folder: its audio files by name), played in order; none: the demo. One that fails is "
            "skipped, and its error is the exit code once the rest have played.",
            metavar="[URL]...",
            click_type=PlayTarget(),
        ),
    ] = None,
    demo: Annotated[bool, typer.Option("--demo", help="Play the built-in demo.")] = False,
    demo_profile: Annotated[
        str,
        typer.Option(
            "--demo-profile",
            help="The demo's simulated network (" + DEMO_PROFILES + ").",
            metavar="NAME",
        ),
    ] = "story",
    loop: Annotated[
        str,
        typer.Option(
            "--loop", help="Repeat: item (the current one) or queue.", metavar="item|queue"
        ),
    ] = "none",
    shuffle: Annotated[
        bool, typer.Option("--shuffle", help="Play the queue in random order.")
    ] = False,
    output: Annotated[
        str,
        typer.Option(
            "--output",
            help="Where the sound goes (a sink, not a file to save: that is fetch's -o): "
            "default, null, wav:FILE, or a device's index or name. 'help' lists them.",
            metavar="SINK",
        ),
    ] = "default",
    list_devices: Annotated[
        bool, typer.Option("--list-devices", help="List audio output devices and exit.")
    ] = False,
    list_outputs: Annotated[
        bool,
        typer.Option(
            "--list-outputs", help="List what --output accepts (sinks, devices) and exit."
        ),
    ] = False,
    buffer: Annotated[
        float,
        typer.Option(
            "--buffer",
            min=0.1,
            max=60.0,
            help="Seconds of decoded audio ahead (0.1-60).",
            metavar="SECONDS",
        ),
    ] = 2.0,
    start: Annotated[
        str | None,
        typer.Option(
            "--start",
            help="Start at TIME (seconds, or mm:ss), or with #N at chapter N (--start=#2).",
            metavar="TIME",
        ),
    ] = None,
    volume: Annotated[
        float,
        typer.Option(
            "--volume", min=0.0, max=2.0, help="Initial volume, 0-2 (1.0 = 100%).", metavar="X"
        ),
    ] = 1.0,
    abr: Annotated[
        str,
        typer.Option(
            "--abr", help="auto, or fixed:VARIANT (index, best, worst, 128k).", metavar="MODE"
        ),
    ] = "auto",
    max_bitrate: Annotated[
        str | None,
        typer.Option(
            "--max-bitrate",
            help="Auto ABR never picks a variant above this (e.g. 128k); --abr fixed: ignores it.",
            metavar="RATE",
        ),
    ] = None,
    min_bitrate: Annotated[
        str | None,
        typer.Option(
            "--min-bitrate", help="Auto ABR never picks a variant below this.", metavar="RATE"
        ),
    ] = None,
    audio: AudioOpt = None,
    episode: EpisodeOpt = None,
    skip_unavailable: Annotated[
        bool,
        typer.Option(
            "--skip-unavailable",
            help="HLS: skip a segment that fails on every variant, with a warning, as ffmpeg "
            "and mpv do (three in a row still stop); without it playback stops there.",
        ),
    ] = False,
    no_ui: Annotated[bool, typer.Option("--no-ui", help="Plain log lines, no dashboard.")] = False,
    length: Annotated[
        float | None,
        typer.Option(
            "--length", min=0.0, help="Stop after this many seconds of playback.", metavar="SECONDS"
        ),
    ] = None,
    record: Annotated[
        Path | None,
        typer.Option(
            "--record",
            help="Write what plays to FILE as it plays (radio audio, a file's bytes, HLS "
            "segments as fetch writes them), and its titles to FILE.cue. A queue writes one "
            "file per item: FILE, then FILE-2, FILE-3... (show.mp3, show-2.mp3).",
            metavar="FILE",
        ),
    ] = None,
    *,
    network: dict[str, Any],
) -> None:
    """Play HLS, progressive audio or radio with a live dashboard. Keys: space, arrows, n/p
    (next/previous in the queue), PgUp/PgDn (previous/next chapter), q."""
    url = urls[0] if urls else None
    if url is None and not (list_devices or list_outputs or output.strip().lower() == "help"):
        from kithara_cli.commands.demo import prestart

        prestart(demo_profile)  # its server starts while the player's modules load
    from kithara_cli.commands.play import PlayOptions, run_play

    common = common_options(url, network)
    options = PlayOptions(
        url=url,
        demo=demo or url is None,
        output=output,
        list_devices=list_devices,
        buffer=buffer,
        start=start,
        volume=volume,
        abr=abr,
        max_bitrate=max_bitrate,
        min_bitrate=min_bitrate,
        audio=audio,
        no_ui=no_ui,
        length=length,
        demo_profile=demo_profile,
        list_outputs=list_outputs,
        urls=list(urls or []),
        record=record,
        loop=loop,
        shuffle=shuffle,
        skip_unavailable=skip_unavailable,
        episode=episode,
    )
    run_guarded(lambda: run_play(options, common))


@app.command(epilog=BENCH_EPILOG, cls=Command, context_settings=env_settings("bench"))
def bench(
    quick: Annotated[
        bool, typer.Option("--quick", help="The short run CI uses (under 2 min).")
    ] = False,
    scenario: Annotated[
        list[str] | None,
        typer.Option("--scenario", help="Run only this scenario (repeatable).", metavar="NAME"),
    ] = None,
    json_out: Annotated[
        Path | None,
        typer.Option("--json", help="Write results as JSON to this file.", metavar="FILE"),
    ] = None,
    compare: Annotated[
        Path | None,
        typer.Option(
            "--compare",
            help="Baseline JSON: exit non-zero when a metric regresses.",
            metavar="FILE",
        ),
    ] = None,
    abr_only: Annotated[bool, typer.Option("--abr", help="Only the ABR table.")] = False,
    runs: Annotated[
        int, typer.Option("--runs", min=1, help="Timed runs per scenario.", metavar="N")
    ] = 5,
    list_scenarios: Annotated[
        bool, typer.Option("--list", help="List the scenarios and exit.")
    ] = False,
    verbose: VerboseOpt = False,
) -> None:
    """Benchmark kithara against curl, ffmpeg, yt-dlp and streamlink on a loopback server."""
    from kithara_cli.commands.bench import BenchOptions, run_bench

    options = BenchOptions(
        quick=quick,
        scenarios=scenario or [],
        json_out=json_out,
        compare=compare,
        abr_only=abr_only,
        runs=runs,
        list_only=list_scenarios,
        verbose=verbose,
    )
    try:
        code = run_bench(options)
    except KitharaError as error:
        fail(error)
    except KeyboardInterrupt:
        raise typer.Exit(130) from None
    raise typer.Exit(code)


@config_app.command("path", epilog=CONFIG_EPILOG, cls=Command)
def config_path(ctx: typer.Context) -> None:
    """Print where the config file is read from (and whether it is)."""
    from kithara_cli.commands.config import show_path

    show_path(ctx)


@config_app.command("show", epilog=CONFIG_EPILOG, cls=Command)
def config_show(ctx: typer.Context) -> None:
    """Print every command's settings now in effect, and where each came from."""
    from kithara_cli.commands.config import show

    show(ctx, app)


def main() -> None:
    # numpy's OpenBLAS starts a thread per core at import; kithara does no linear algebra.
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    code: int | str | None
    args = sys.argv[1:]
    if args[:1] == ["help"]:  # git's, pip's and cargo's ``help [COMMAND]``: that --help
        args = [*args[1:], "--help"]
    try:
        code = run_app(app_for(app, args), args)
    except SystemExit as exit_:
        code = 0 if exit_.code == 1 and stdout_reader_left() else exit_.code
    except KeyboardInterrupt:
        code = 130
    except OSError as exc:  # stdout on a full disk; any other errno: the crash log
        error = local_output_error(exc)
        if error is None:
            raise
        print_error(str(error))
        code = error.exit_code
    exit_without_teardown(code)
