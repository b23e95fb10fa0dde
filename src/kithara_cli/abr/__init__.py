"""Adaptive bitrate for HLS audio: which variant each segment comes from, and when to give up.

Promises:

* Pure decisions. ``AbrController`` and ``BandwidthEstimator`` never read a clock, sleep, do
  I/O or start threads: time comes in as ``now`` arguments and as events' ``ts``. The same
  events and times give the same decisions (the simulator and the tests rely on it).
* The player's side of the contract: call ``choose(buffer_s, now)`` before each segment fetch
  (it returns the variant and commits it), ``check_in_flight(buffer_s, now)`` about every 100 ms
  while a segment fetch is under way, ``note_segment_request(request_id, variant,
  expected_bytes)`` when one is sent, and ``on_event(event)`` with every downloader event
  (FirstByte, RequestProgress, LoadSlow, RequestCompleted, RequestCancelled...). Every
  decision whose ``switched`` is true becomes an ``AbrDecision`` event via ``to_event``, with a
  reason among ``startup | throughput | buffer | load_slow | abandon | failed | manual``.
* A decision carrying ``abandon_request`` asks the player to cancel that request (reason
  "abandon") and fetch the same segment again from ``to_variant``; it is only given when a
  lower variant's whole segment would land sooner than the rest of the one under way, or when
  the link no longer carries the fetch's rung and this session has seen it stay that low: then
  over those remembered episodes a lower rung must score better by the QoE and waiting one
  rate window must cost stall (``outage``).
* ``exclude(variant, now)`` (a segment of it failed after its attempts) keeps auto mode off
  that variant for ``AbrConfig.failed_exclusion_s`` (30 s, shaka's ``maxDisabledTime``): every
  auto decision takes the nearest variant below it (else above) that is not sitting out, with
  reason ``failed``. Manual modes ignore it.
* Modes: ``auto`` (default), ``fixed:VARIANT``, ``max_bitrate``, ``min_bitrate``; the
  ``max_bitrate`` / ``min_bitrate`` arguments bound the ladder in every mode but ``fixed``.
  One codec family (the ladder's main one) unless ``codec_family="any"``. Any ladder is
  accepted: equal bandwidths (or none, all clamped to one rate) make one rung per rate, the main
  family's variant first, then the first listed; no rule divides by a rate difference of zero.
* Hysteresis: no switch up below ``AbrConfig.up_min_buffer_s`` of buffer, no switch down (nor
  an abandon) at or above ``well_buffered_s``, at least ``min_switch_interval_s`` (5 s, from
  the QoE's switch cost) between switches, except a down-switch below ``emergency_buffer_s``
  (the throughput rule's zone, 6 s) and an abandon. Well buffered the interval counts media
  fetched (segments x duration), a climb right after a climb also waits the wall interval,
  and a buffer-based climb waits while the buffer heads for a higher pick (``switch_clock``).
  An up-switch below ``well_buffered_s`` goes in one step to the rung the fast average carries
  (not one rung per segment). Two
  exceptions while well buffered, each from evidence, not a tuned threshold: one rung down
  when the buffer has drifted down by two segments over the long average's half-life with the
  rung held all along (``drift``), and the outage abandon above.
* Replays: ``choose(buffer_s, now, cached)`` is told which variants the persistent cache
  holds the next segment of (before any playlist is read: whose playlist it holds). Cache hits
  are no throughput samples, so a replay runs on the start-up default estimate: auto mode
  starts on the highest cached variant and never leaves a cached variant for a lower one,
  whose playlist and segments would come from the network. Up-switches follow the rules.
* The estimator is a time-weighted dual EWMA of body throughput (TTFB taken out) in which
  each segment fetched weighs at least its media duration (the long average stays purely
  time-weighted), ignores fetches under 4 kB, is trusted after 64 kB and uses a conservative
  500 kbit/s default before that (a small sample may lower it, never raise it). The checks
  that can only lower a pick (does the fetch land before the buffer runs dry, at least the
  empty buffer's ``empty_buffer_fetch_s``; does it refill a thin buffer) time it at the rate
  measured.

Never: blocks the caller, reacts to LoadSlow while well buffered, abandons a fetch during a
stall (nothing arrives sooner through an outage), or is shared between threads (one controller
per stream, called from the thread that owns the downloader's events).

The controller is ``controller`` (the rules), ``decision`` (its values: ladder, config,
state, decisions, modes), ``bola`` (BOLA's score), ``drift`` (the well-buffered step down),
``outage`` (the session's memory of low episodes, the outage abandon), ``switch_clock``
(the interval between switches) and ``exclusion`` (variants sitting out); ``estimator`` measures.
The benchmark lives beside it and is not needed to play: ``sim`` (a deterministic simulator,
no sockets), ``profiles`` (seeded synthetic profiles and the 102 real traces shipped in
``traces/``, with their dev / validation split), ``baselines`` (fixed lowest/highest, hls.js's
throughput rule, BBA-0, the Rust kithara controller), ``sabre_rules`` (BOLA-E, DYNAMIC),
``mpc`` (robustMPC), ``algorithms`` (all of them by name), ``qoe``, ``report``
(``run_abr_benchmark``, ``group_summary`` per trace class with "near the best" in two forms,
``gap_distribution`` (how far from the best, trace by trace), ``check_targets``; run it with
``python -m kithara_cli.abr.report``) and ``tables``. Only ``profiles`` reads files: the
traces, when asked.
"""

from kithara_cli.abr.controller import AbrController
from kithara_cli.abr.decision import (
    MODES,
    REASONS,
    AbrConfig,
    AbrState,
    Decision,
    VariantInfo,
    codec_family,
    parse_mode,
    variants_from_ladder,
)
from kithara_cli.abr.estimator import BandwidthEstimator, EstimatorConfig

__all__ = [
    "MODES",
    "REASONS",
    "AbrConfig",
    "AbrController",
    "AbrState",
    "BandwidthEstimator",
    "Decision",
    "EstimatorConfig",
    "VariantInfo",
    "codec_family",
    "parse_mode",
    "variants_from_ladder",
]
