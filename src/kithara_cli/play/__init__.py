"""Play: one playback session of one URL or file, below ``commands`` and above hls/file/audio.

``Player`` opens the target as a source (a local file, a progressive download through
``file.ProgressiveSource`` -- an endless one handed to ``radio.LiveStream`` --, or an HLS
ladder through ``hls.HlsSource`` with an ABR controller; a station link raises its entries
as ``radio.links.StationLinkFound`` for ``queue.PlayQueue``),
decodes it (``audio.Decoder``) into a ring and a sink, and turns what the threads do into
playback events. Keys (``keys.handle_key``) and the UI drive it through a few methods and read
its typed ``Snapshot``. A live stream cannot seek; titles (ICY, chained Ogg, HLS ID3) are
published (``TitleChanged``, ``now_playing``) when their audio plays, and after a seek the
one in force at the target; so are a file's chapters (``TitleChanged(chapter=True)``; the
chapter keys seek between them; ``--start #N`` starts at one: ``chapter_start``). ``settings.record`` records what plays, whatever
the source (``record``: a radio stream's audio as it comes; a file's own bytes; HLS segments
as ``fetch`` writes them, the variants played, remuxed to FILE's container), to FILE.part
renamed at the end, never a half file at FILE. A file served with no length and no Range is
played as a file (seekable; its duration known once it has arrived). A response whose
Content-Type names no audio is told by its first bytes (``served``): a station link or HLS
under a plain name is opened as one, a web page (a captive portal) or an empty body is a
one-line error saying so, anything else goes to the decoder.
A URL replayed from 0 whose cached parts are usable without a request (fresh, or
``--offline``) starts with the head kept beside it (``head``: the first second of audio as an
earlier play wrote it to the ring, from the same versions at the same output format; for
HLS the first segment's, and the replay starts on its variant) before the network thread
and PyAV load; the decoder decodes from the start and drops as many frames (a ``Notice``
says so). A play from 0 of a progressive file or a VOD HLS presentation (not encrypted)
keeps that head for the next replay.

Promises: the network side starts before PyAV and PortAudio load (their imports overlap the
first round trips); every thread it starts is stopped and joined by ``close()``; time to first
audio counts from the process's start. Never: draws, reads the terminal or parses arguments
(``commands`` and ``ui`` do); speaks HTTP or HLS itself (the layers below do).
"""

from kithara_cli.play.clock import seconds_since_process_start
from kithara_cli.play.session import Player
from kithara_cli.play.settings import PlayerSettings, Start, parse_bitrate, parse_start, parse_time
from kithara_cli.play.snapshot import PlaybackSnapshot, Snapshot

__all__ = [
    "PlaybackSnapshot",
    "Player",
    "PlayerSettings",
    "Snapshot",
    "Start",
    "parse_bitrate",
    "parse_start",
    "parse_time",
    "seconds_since_process_start",
]
