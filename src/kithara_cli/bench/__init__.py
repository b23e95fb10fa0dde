"""``kithara bench``: is kithara fast, and how does it stand against curl, ffmpeg, yt-dlp and
streamlink on the same loopback server, in the same run?

Contract:

* **Self-contained.** Every scenario serves its own media from an embedded
  :class:`~kithara_cli.server.MediaServer` on 127.0.0.1 (faults such as 50 ms latency or
  2 MB/s per connection come from the server, not from the network), and stops it before it
  returns. Generated media comes from the per-user media cache (the HLS ladders, the MP3),
  random files from a temp dir that is deleted at the end, whatever happens. Measured commands
  run with proxies removed and ``NO_PROXY=127.0.0.1``; nothing touches any other host.
* **Bounded.** Each command has a timeout (SIGKILL of its process group), each scenario a
  time cap that stops adding runs (>= 1 always kept, the shortfall noted), and quick runs a
  total budget shared out by scenario weight, so ``--quick`` stays under two minutes.
* **Sound numbers.** A timing is the median of ``--runs`` runs (quick: 3) after one warm-up
  round; min and max are reported. Against peers the runs alternate (A B C A B C ...) and the
  ratio is taken pair by pair, so drift of the machine cancels; a ratio is always *kithara /
  peer in the metric's own units* and ``better`` ("higher" | "lower") applies to it and to the
  value alike.
* **Peers are optional.** ``shutil.which`` on PATH and next to the interpreter; a missing
  peer is a record with status ``missing-peer``, never a failure; a failing peer drops out
  of its case with its stderr noted.
* **Honest quick mode.** Whatever ``--quick`` shrinks (file sizes, ladder length, runs,
  peers, windows) is printed and written to the JSON (``shrunk``); HLS targets are scaled to
  the smaller ladder by a stated formula. ``KITHARA_BENCH_TINY=1`` shrinks further, for tests.
* **Output.** A Rich table on stdout (notes as footnotes), progress on stderr (``-v``: every
  run), ``--json FILE`` (see :mod:`kithara_cli.bench.report` for the record schema; its path
  is checked before the first scenario, and the file is written whole or not at all).
* **Baseline.** ``--compare BASELINE.json`` (see :mod:`kithara_cli.bench.compare`) judges
  ratios and counts only, never absolute times; only ``gating`` entries decide the exit code,
  a gated metric whose peer is missing is skipped with a note; an entry naming a case or
  metric its scenario does not produce is refused before the run (exit 2). With or without a
  baseline the exit code is 1 when a scenario failed (kithara's error is reported with its
  command and stderr).

Modules: :mod:`.stats` (min/median/max, paired ratios), :mod:`.runner` (process timing:
``wait4`` CPU and peak RSS of one child, first stdout byte, A/B alternation, caps),
:mod:`.peers` (finding peers and their command lines), :mod:`.scenarios` (the registry of
what is measured), :mod:`.context` (a run's settings, context and server), :mod:`.records`
(records from measurements), one module a scenario family (:mod:`.scenario_fetch`,
:mod:`.scenario_startup`, :mod:`.scenario_playback`, :mod:`.scenario_abr`,
:mod:`.scenario_radio`, :mod:`.cache_replay` for ``cache``; :mod:`.abr_real` is the ABR's
real tier), :mod:`.report` (records, JSON, tables), :mod:`.compare` (baselines). In-process
playback takes ``play.Player``, never the command layer.
"""

from kithara_cli.bench.scenarios import SCENARIOS

__all__ = ["SCENARIOS"]
