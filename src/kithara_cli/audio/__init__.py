"""Decoding and audio output: decoder thread -> PcmRing -> sink (device, null, wav).

Promises:
- ``PcmRing.read_into`` (the audio callback's only call) never blocks, allocates no buffers,
  takes no lock and never logs. Positions are exact: ``ring.position_frames`` is the timeline
  frame about to be read (base set by the decoder at every seek), ``frames_played`` counts
  every frame handed to a sink.
- ``Decoder`` opens a file-like source with small probing: the first audio of a progressive
  MP3, FLAC, Ogg or faststart M4A needs the first 16-32 KB of the file, WAV the first 64 KB +
  header (FFmpeg's S/PDIF probe). Ogg's duration comes from a read of the last 64 KB *after*
  the first audio is in the ring, once those bytes are there: never waited for while playing
  (``stream.Source.peek_ready`` fetches them aside; a seek or the end reads them waiting).
  What it reads is a ``DecoderInput`` (``decoder_input``): a ``stream.ByteStream``, or a local
  file object in a ``FileInput``; a path (str) is opened as a ``FileInput``. The decoder asks
  the input (sequential? failure? next part?), never which kind it is.
- Gapless: encoder delay and padding are trimmed (FFmpeg skip-samples for MP3 LAME/Xing, Opus
  pre-skip and end trim, MP4 edit-list priming; AAC end padding is cut to the MP4 duration), so
  a file decodes to exactly its original sample count. Seeks are sample-accurate (within half
  an output sample when resampling); the decoder seeks 0.2 s early and drops the pre-roll.
  That holds for a CBR MP3 fast-seeked while it downloads too: FFmpeg's timestamp, one frame
  off past mid-file, is re-derived from the frame's byte offset (``mp3_frames``). A VBR MP3
  fast-seeks by its Xing table of contents: tens of ms off, as in FFmpeg and mpv.
- Timeline: a source's first sample (container ``start_time``) plays at ``timeline_origin``
  (0 for a whole file; an HLS run's first segment start otherwise), so positions are track
  positions whatever the container's own timestamps. A fresh source whose target is within
  12 s of its start is read from the start and trimmed, never demuxer-seeked; packets ending
  more than the 0.2 s pre-roll before a target are demuxed, not decoded (not in Ogg). A
  chained Ogg file (its last page another link's, or a BOS page after its first link's pages
  in what has downloaded: links that reuse one serial) is seeked by decoding it again from byte 0
  and dropping up to the target (``ogg_chain``: FFmpeg cannot seek across links): exactly the
  whole file's samples; its length is known once decoded to its end. A command (seek,
  reopen, stop) wakes a decoder blocked on a full ring at once (no polling slice). A source
  marked ``sequential`` (an HLS run) is opened as a stream, never seeked inside, and its
  container's duration is not taken as the source's. A source that comes in parts (a ``stream.ByteStream``
  whose ``continuation()`` gives the next: an HLS run across an fMP4 init change) is decoded
  part after part, gaplessly; a part whose timeline start lies before what is written (HLS
  variants cut unalike) is placed by its timestamps and trimmed, never played over again.
- ``Decoder.titles`` (a ``radio.titles.TitleQueue``): each chained Ogg link's TITLE/ARTIST
  (FFmpeg's metadata side data on the link's first packet, ``ogg_titles``) at the timeline
  second that packet's audio plays (the first link's from the stream's start, wherever
  decoding starts). Other containers give none.
- ``Decoder.chapters``: the open container's chapters (``chapters``: what FFmpeg reads as
  chapters, an MP3's ID3 CHAP frames, an M4A's chapter track), on the timeline; a tag that
  the decoder was started past gives its own through ``chapters.tag_chapters``.
- The decoder thread never raises into another thread: a failure sets ``decoder.error`` (a
  ``KitharaError``), publishes one ``DecoderError`` event and ends the thread (``done``). An
  input that ends well before its declared duration is reported as truncated.
- Nothing raises through PyAV's read callback (``CountingReader``): a failure under a read is
  kept and raised from the decoder's own loop with its typed one-line error; a source closed
  under a read is the end of the stream, then a stop or the seek's reopen that follows.
- Bounded (``DecoderLimits``; ``KITHARA_OPEN_TIMEOUT``, ``KITHARA_FIRST_AUDIO_TIMEOUT``,
  ``KITHARA_HANG_TIMEOUT`` for tests): from the first byte read, an open container within 15 s
  and decoded audio within 30 s (else ``DecoderError``, exit 5); no progress for 60 s while
  waiting for input dumps every thread's stack to a crash log and fails the decoder.
- Sinks share one surface, the ``Sink`` Protocol (``start/stop/pause/volume/underruns/
  frames_played/rate/channels/latency/finished/error/realtime``; ``realtime`` is False for a
  WAV, which drains as fast as the decoder fills, so its owner knows without asking its type). ``open_sink`` (``devices``) parses
  ``--output``; ``default`` with no device (or
  ``KITHARA_AUDIO_DEVICE=none``, or no PortAudio) gives a ``NullSink`` and a one-line message.
  A sink that can no longer play (a WAV on a full disk, a device PortAudio stopped) sets
  ``error`` (an ``OutputError``) once and stops consuming; it never raises from its thread.

Never:
- imports PyAV with ``kithara_cli.audio``, ``audio.ring``, ``audio.output`` or ``audio.devices``
  (the package's names load on first use);
- imports sounddevice at module import (only ``open_sink``/``DeviceSink``/``list_devices`` do);
- imports numpy on the play path: PCM moves as bytes (PyAV planes -> ring -> a raw PortAudio
  stream); numpy loads only when the volume leaves 1.0 or a WAV is written (~80 ms saved of
  time to first audio);
- publishes events or logs from the audio callback (a watcher thread publishes ``Underrun``);
- reads a whole file to start playing;
- leaves a read of a ``stream.ByteStream`` blocked after ``stop()`` (it ends within 0.1 s);
  ``seek()`` still takes effect when a blocked read returns (the source's owner can wake it).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from kithara_cli.lazy import lazy_exports, lazy_where

if TYPE_CHECKING:
    from kithara_cli.audio.bounds import DecoderLimits
    from kithara_cli.audio.container import PROBE_OPTIONS, SourceInfo
    from kithara_cli.audio.decoder import Decoder
    from kithara_cli.audio.decoder_input import DecoderInput, FileInput
    from kithara_cli.audio.devices import DEVICE_ENV, NO_DEVICE_MESSAGE, list_devices, open_sink
    from kithara_cli.audio.output import DeviceSink, NullSink, Sink, WavSink, float_to_s16
    from kithara_cli.audio.reader import CountingReader, demuxer_for_hint
    from kithara_cli.audio.ring import PcmRing

# Loaded on first use (PEP 562): the ring and the sinks import without PyAV, so a replay can
# start playing its cached head while PyAV loads (``play.head``).
_WHERE = lazy_where(
    bounds=("DecoderLimits",),
    container=(
        "PROBE_OPTIONS",
        "SourceInfo",
    ),
    decoder=("Decoder",),
    decoder_input=(
        "DecoderInput",
        "FileInput",
    ),
    devices=(
        "DEVICE_ENV",
        "NO_DEVICE_MESSAGE",
        "list_devices",
        "open_sink",
    ),
    output=(
        "DeviceSink",
        "NullSink",
        "Sink",
        "WavSink",
        "float_to_s16",
    ),
    reader=(
        "CountingReader",
        "demuxer_for_hint",
    ),
    ring=("PcmRing",),
)

__getattr__ = lazy_exports(__name__, _WHERE)


__all__ = [
    "DEVICE_ENV",
    "NO_DEVICE_MESSAGE",
    "PROBE_OPTIONS",
    "CountingReader",
    "Decoder",
    "DecoderInput",
    "DecoderLimits",
    "DeviceSink",
    "FileInput",
    "NullSink",
    "PcmRing",
    "Sink",
    "SourceInfo",
    "WavSink",
    "demuxer_for_hint",
    "float_to_s16",
    "list_devices",
    "open_sink",
]
