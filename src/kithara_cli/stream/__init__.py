"""Stream: a synchronous, seekable file-like view over a source that is still downloading.

Promises: ``read`` blocks until at least one byte at the position is present and returns what
is contiguous (up to the size asked); it returns ``b""`` when the source proves the end (a
known total, every byte below it present), and otherwise only for a reason it records: the
source failed (``failure``, the source's typed error, for the reader's owner to raise), the
source was closed under the read (``source_closed``), or ``cancel`` said so (``cancelled``,
asked every 0.1 s while a read waits). ``seek`` from the start or the current position is
instant; from the end it needs the length, and waits for it (``Source.wait_length``, up to 30 s
in 0.1 s slices that ask ``cancel``) where a progressive source's first response will tell it.
It returns -1 when it cannot be done, and tells the source where the reader went, so that it
can re-aim its fetching (demand priority) before the next read waits.
``Source`` is the one seam below: every source (``file.ProgressiveSource``, ``hls.HlsSource``
and its run parts, ``play.record.RecordingTap`` around either, ``stream.offset.OffsetSource``: one seen from a
later byte on, ``stream.cover_blank.BlankedSource``: one with an MP4's pictures read as zeros) implements all of it
(``sequential``, ``continuation``, ``wait_length``, ``peek_ready``, ``read_aside``,
``fetching`` with defaults by subclassing it); nothing probes a source with getattr.
``ready``/``read_aside`` look at bytes beside the reader (a file's tail, what has downloaded ahead) without waiting and without moving
it. ``stall_waited`` counts the seconds reads stalled on bytes a request was bringing
(``Source.fetching``; waits past ``STALL_GRACE``): the network's time, which the decoder's
start bounds do not charge.
Never: raises out of ``read``/``seek`` (PyAV calls them from inside FFmpeg, where an exception
is retried over or printed as "dropped"), fetches by itself, holds bytes in memory beyond the
caller's buffer, or guesses EOF without saying why.
"""

from kithara_cli.stream.byte_stream import ByteStream, Source

__all__ = ["ByteStream", "Source"]
