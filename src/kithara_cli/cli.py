"""The command line: option parsing only. Each command's work lives in ``kithara_cli.commands``.

Heavy modules (PyAV, numpy, sounddevice, httpx) are imported inside the commands, so that
``kithara --help`` and time to first audio stay quick.

No ``from __future__ import annotations`` here: Typer reads each command's signature with
``typing.get_type_hints``, which would compile and evaluate every string annotation (~100 of
them, ~8 ms of every start-up). Evaluated where they are defined, they cost nothing extra.
"""

import copy
import os
import sys
from pathlib import Path
from typing import Annotated, NoReturn

import typer

from kithara_cli import __version__
from kithara_cli.errors import Cancelled, KitharaError

app = typer.Typer(
    name="kithara",
    help="Fetch and play audio over HTTP: HLS (adaptive bitrate) and progressive files.",
    no_args_is_help=True,
    add_completion=True,
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"kithara {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option("--version", "-V", callback=_version, is_eager=True, help="Show the version."),
    ] = False,
) -> None:
    """Fetch and play audio over HTTP: HLS (adaptive bitrate) and progressive files."""


def _fail(error: KitharaError) -> NoReturn:
    from kithara_cli.ui.console import print_error

    if isinstance(error, Cancelled):
        from kithara_cli import interrupt

        error = interrupt.as_error(str(error))  # 143 when it was SIGTERM
    print_error(str(error))
    raise typer.Exit(error.exit_code)


def _warn_if_insecure(insecure: bool) -> None:
    """Loudly, on every run: an --insecure left in a script must not be forgotten."""
    if insecure:
        from kithara_cli.ui.console import print_note

        print_note(
            "warning: --insecure: TLS certificates are not verified; "
            "anyone on the network path can read and change what is fetched"
        )


def _interrupted() -> NoReturn:
    from kithara_cli import interrupt

    _fail(interrupt.as_error())


# The table of errors.py's docstring, for --help (tests hold the two to each other).
EXIT_CODES = (
    "Exit codes: 0 done; 1 other error; 2 bad usage or URL; 3 network (after the retries); "
    "4 HTTP status (404...) or too many redirects; 5 bad content: playlist, codec, key, or a "
    "response over a size limit; 6 local output: --out exists, is unwritable or is being "
    "written by another kithara, disk full, audio output or --events failing to write; "
    "130 interrupted (Ctrl-C); 143 terminated (SIGTERM)."
)


def _sigterm_as_interrupt() -> None:
    """Ctrl-C and kill (SIGTERM) end a command at a safe point: state saved, exit non-zero."""
    from kithara_cli import interrupt

    interrupt.install()


HeaderOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--header", "-H", help="Extra request header (repeatable).", metavar="'NAME: VALUE'"
    ),
]
UserAgentOpt = Annotated[
    str | None, typer.Option("--user-agent", "-A", help="User-Agent header.", metavar="TEXT")
]
TimeoutOpt = Annotated[
    float,
    typer.Option(
        "--timeout",
        help="Seconds without data before a request is retried. Also the deadline for a "
        "response's headers, and the window over which a body must average 1 KiB/s or "
        "count as stalled (a trickle is retried like a stall).",
        metavar="SECONDS",
    ),
]
DeadlineOpt = Annotated[
    float | None,
    typer.Option(
        "--deadline",
        min=0.1,
        help="Seconds one request may take in all; then it is resumed from where it got "
        "(or retried). Default: no limit beyond --timeout's.",
        metavar="SECONDS",
    ),
]
RetriesOpt = Annotated[
    int, typer.Option("--retries", help="Attempts per request without progress.", metavar="N")
]
ProxyOpt = Annotated[
    str | None,
    typer.Option(
        "--proxy", help="Proxy URL (default: the environment's HTTP(S)_PROXY).", metavar="URL"
    ),
]
Http2Opt = Annotated[bool, typer.Option("--http2", help="Use HTTP/2 where the server offers it.")]
VerboseOpt = Annotated[bool, typer.Option("--verbose", "-v", help="Log each request and event.")]
InsecureOpt = Annotated[
    bool,
    typer.Option("--insecure", help="Do not verify TLS certificates (warns on every run; avoid)."),
]
EventsOpt = Annotated[
    Path | None,
    typer.Option("--events", help="Write every event as JSON Lines to this file.", metavar="FILE"),
]


@app.command(epilog=EXIT_CODES)
def fetch(
    url: Annotated[
        str, typer.Argument(help="http(s) URL of an audio file or an HLS playlist.", metavar="URL")
    ],
    out: Annotated[
        Path | None,
        typer.Option("--out", "-o", help="Output file.", dir_okay=False, metavar="FILE"),
    ] = None,
    connections: Annotated[
        int,
        typer.Option(
            "--connections", "-c", min=1, max=32, help="Parallel requests (progressive files)."
        ),
    ] = 4,
    force: Annotated[bool, typer.Option("--force", "-f", help="Overwrite FILE.")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress output.")] = False,
    variant: Annotated[
        str, typer.Option("--variant", help="HLS variant: best, worst, INDEX or e.g. 128k.")
    ] = "best",
    audio: Annotated[
        str | None, typer.Option("--audio", help="HLS audio rendition by language or name.")
    ] = None,
    list_variants: Annotated[
        bool, typer.Option("--list", help="Print the HLS ladder and exit.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="With --list: print JSON.")] = False,
    remux: Annotated[
        bool, typer.Option("--remux", help="Remux HLS output into --out's container.")
    ] = False,
    segments: Annotated[
        int,
        typer.Option(
            "--segments", min=1, max=64, help="HLS segments in flight (lower it for shy servers)."
        ),
    ] = 32,
    skip_unavailable: Annotated[
        bool,
        typer.Option("--skip-unavailable", help="Skip HLS segments that fail; report the gaps."),
    ] = False,
    live_edge: Annotated[
        int, typer.Option("--live-edge", min=1, help="Live HLS: start N segments back.")
    ] = 3,
    duration: Annotated[
        float | None,
        typer.Option(
            "--duration",
            help="Live HLS or a radio stream: stop after this many seconds (a radio stream is "
            "recorded with a CUE sheet of its titles; Ctrl-C keeps what came).",
        ),
    ] = None,
    split_tracks: Annotated[
        bool,
        typer.Option("--split-tracks", help="Radio stream: one file per title (FILE-01.ext...)."),
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
    header: HeaderOpt = None,
    user_agent: UserAgentOpt = None,
    timeout: TimeoutOpt = 20.0,
    deadline: DeadlineOpt = None,
    retries: RetriesOpt = 6,
    proxy: ProxyOpt = None,
    http2: Http2Opt = False,
    verbose: VerboseOpt = False,
    events: EventsOpt = None,
    insecure: InsecureOpt = False,
) -> None:
    """Download a progressive file or a whole HLS stream to FILE, in parallel and resumably."""
    from kithara_cli.commands.common import CommonOptions
    from kithara_cli.commands.fetch import FetchOptions, run_fetch

    _sigterm_as_interrupt()
    _warn_if_insecure(insecure)
    common = CommonOptions(
        header or [],
        user_agent,
        timeout,
        retries,
        proxy,
        http2,
        verbose,
        events,
        deadline,
        insecure=insecure,
    )
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
    )
    try:
        run_fetch(options, common)
    except KitharaError as error:
        _fail(error)
    except KeyboardInterrupt:
        _interrupted()


@app.command(epilog=EXIT_CODES)
def play(
    urls: Annotated[
        list[str] | None,
        typer.Argument(
            help="http(s) URLs (HLS, progressive, a radio stream, a .pls/.m3u/.xspf station "
            "link) or local files, played in order; none: the demo.",
            metavar="[URL]...",
        ),
    ] = None,
    demo: Annotated[bool, typer.Option("--demo", help="Play the built-in demo.")] = False,
    loop: Annotated[
        str, typer.Option("--loop", help="Repeat: item (the current one) or queue.")
    ] = "none",
    shuffle: Annotated[
        bool, typer.Option("--shuffle", help="Play the queue in random order.")
    ] = False,
    output: Annotated[
        str,
        typer.Option(
            "--output", help="default, a device name or index, null, or wav:PATH.", metavar="SPEC"
        ),
    ] = "default",
    list_devices: Annotated[
        bool, typer.Option("--list-devices", help="List audio output devices and exit.")
    ] = False,
    buffer: Annotated[
        float, typer.Option("--buffer", min=0.1, max=60.0, help="Seconds of decoded audio ahead.")
    ] = 2.0,
    start: Annotated[
        str | None, typer.Option("--start", help="Start at TIME (seconds, or mm:ss).")
    ] = None,
    volume: Annotated[
        float, typer.Option("--volume", min=0.0, max=2.0, help="Initial volume (1.0 = 100%).")
    ] = 1.0,
    abr: Annotated[
        str, typer.Option("--abr", help="auto, or fixed:VARIANT (index, best, worst, 128k).")
    ] = "auto",
    max_bitrate: Annotated[
        str | None,
        typer.Option("--max-bitrate", help="Never pick a variant above this (e.g. 128k)."),
    ] = None,
    min_bitrate: Annotated[
        str | None, typer.Option("--min-bitrate", help="Never pick a variant below this.")
    ] = None,
    audio: Annotated[
        str | None, typer.Option("--audio", help="HLS audio rendition by language or name.")
    ] = None,
    no_ui: Annotated[bool, typer.Option("--no-ui", help="Plain log lines, no dashboard.")] = False,
    length: Annotated[
        float | None,
        typer.Option("--length", min=0.0, help="Stop after this many seconds of playback."),
    ] = None,
    record: Annotated[
        Path | None,
        typer.Option(
            "--record",
            help="Radio stream: write the audio as it plays to FILE, and its titles to FILE.cue.",
            metavar="FILE",
        ),
    ] = None,
    header: HeaderOpt = None,
    user_agent: UserAgentOpt = None,
    timeout: TimeoutOpt = 20.0,
    deadline: DeadlineOpt = None,
    retries: RetriesOpt = 6,
    proxy: ProxyOpt = None,
    http2: Http2Opt = False,
    verbose: VerboseOpt = False,
    events: EventsOpt = None,
    insecure: InsecureOpt = False,
) -> None:
    """Play HLS, progressive audio or radio with a live dashboard. Keys: space, arrows, n/p
    (next/previous in the queue), q."""
    url = urls[0] if urls else None
    from kithara_cli.commands.common import CommonOptions
    from kithara_cli.commands.play import PlayOptions, run_play

    _sigterm_as_interrupt()
    _warn_if_insecure(insecure)
    common = CommonOptions(
        header or [],
        user_agent,
        timeout,
        retries,
        proxy,
        http2,
        verbose,
        events,
        deadline,
        insecure=insecure,
    )
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
        urls=list(urls or []),
        record=record,
        loop=loop,
        shuffle=shuffle,
    )
    try:
        run_play(options, common)
    except KitharaError as error:
        _fail(error)
    except KeyboardInterrupt:
        _interrupted()


@app.command()
def bench(
    quick: Annotated[
        bool, typer.Option("--quick", help="The short run CI uses (< 2 min).")
    ] = False,
    scenario: Annotated[
        list[str] | None, typer.Option("--scenario", help="Run only this scenario (repeatable).")
    ] = None,
    json_out: Annotated[
        Path | None, typer.Option("--json", help="Write results as JSON to this file.")
    ] = None,
    compare: Annotated[
        Path | None,
        typer.Option("--compare", help="Baseline JSON: exit non-zero when a metric regresses."),
    ] = None,
    abr_only: Annotated[bool, typer.Option("--abr", help="Only the ABR table.")] = False,
    runs: Annotated[int, typer.Option("--runs", min=1, help="Timed runs per scenario.")] = 5,
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
        _fail(error)
    except KeyboardInterrupt:
        raise typer.Exit(130) from None
    raise typer.Exit(code)


def main() -> None:
    # numpy's OpenBLAS starts a thread per core at import; kithara does no linear algebra.
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    code: int | str | None
    try:
        app_for(sys.argv[1:])(prog_name="kithara")
        code = 0
    except SystemExit as exit_:
        code = exit_.code
    except KeyboardInterrupt:
        code = 130
    _exit_without_teardown(code)


def app_for(args: list[str]) -> typer.Typer:
    """The app with only the command being run registered.

    Typer inspects every registered command's signature on each run; the commands not run
    cost ~7 ms of start-up. Help, shell completion and unknown commands get the whole app.
    """
    name = args[0] if args else ""
    chosen = [
        info
        for info in app.registered_commands
        if (info.name or (info.callback.__name__ if info.callback else "")) == name
    ]
    if not chosen or "_KITHARA_COMPLETE" in os.environ:
        return app
    single = copy.copy(app)
    single.registered_commands = chosen
    return single


def _exit_without_teardown(code: int | str | None) -> NoReturn:
    """Exit once the command is done, without the interpreter's module-by-module teardown.

    That teardown frees every imported module and took 40-65 ms after a fetch, on every run
    and after the output was complete. What it would still do for us is done here first:
    exit handlers run (logging's flush, PortAudio's terminate) and stdio is flushed. While a
    non-daemon thread still runs, Python's own exit waits for it as usual.
    """
    if isinstance(code, str):
        print(code, file=sys.stderr)
        code = 1
    status = 0 if code is None else code
    import threading

    main_thread = threading.main_thread()
    if any(t is not main_thread and not t.daemon for t in threading.enumerate()):
        sys.exit(status)
    import atexit

    run_exit_handlers = getattr(atexit, "_run_exitfuncs", None)
    if run_exit_handlers is None:  # not CPython: keep the ordinary exit
        sys.exit(status)
    run_exit_handlers()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed pipe: what Python's own exit reports too
            status = status or 120
    os._exit(status)
