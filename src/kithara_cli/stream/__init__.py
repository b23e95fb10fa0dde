"""Stream: a synchronous, seekable file-like view over a source that is still downloading.

Promises: ``read`` blocks until at least one byte at the position is present and returns what
is contiguous (up to the size asked); it returns ``b""`` only when the source proves the end (a
known total, every byte below it present); a failed download raises the source's typed error
instead of hanging; ``seek`` is instant, and tells the source where the reader went, so that it
can re-aim its fetching (demand priority) before the next read waits.
Never: fetches by itself, holds bytes in memory beyond the caller's buffer, or guesses EOF.
"""

from kithara_cli.stream.byte_stream import ByteStream, Source

__all__ = ["ByteStream", "Source"]
