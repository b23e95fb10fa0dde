"""A br-encoded body cut short is an error, not a file.

Found in session 16: kithara asks ``Accept-Encoding: identity``, but a misconfigured proxy
may send ``Content-Encoding: br`` anyway; with a brotli package installed, a close-delimited
br body (no Content-Length: nothing else tells where it ends) cut off half-way was decoded up
to the cut and ``kithara fetch`` saved 32752 of 160958 bytes with exit 0 (brotli's
``process`` raises nothing on a stream that merely stops). A gzip body in the same state
already failed (zlib's ``eof``); now br asks its decompressor whether the stream ended
(``is_finished``, in both brotli packages) and a cut-short body is a TruncatedBodyError
(retried; one line, exit 3, nothing at --out).

The venv has no brotli package (br bodies are refused by name there), so the decoder is
given a decompressor with brotli's interface over a real compressed stream (zlib's).
"""

from __future__ import annotations

import types
import zlib

import pytest

from kithara_cli.errors import TruncatedBodyError
from kithara_cli.net.encoding import _Brotli


class _Decompressor:
    """brotli.Decompressor's interface (``process``, ``is_finished``), over zlib."""

    def __init__(self) -> None:
        self._d = zlib.decompressobj()

    def process(self, data: bytes) -> bytes:
        return self._d.decompress(data)

    def is_finished(self) -> bool:
        return self._d.eof


MODULE = types.SimpleNamespace(Decompressor=_Decompressor)
DATA = bytes(range(256)) * 400


def test_a_br_body_cut_short_is_not_taken_whole() -> None:
    encoded = zlib.compress(DATA)
    cut = _Brotli(MODULE, "http://example.test/a.mp3")
    got = cut.decode(encoded[: len(encoded) // 2])
    assert 0 < len(got) < len(DATA)
    with pytest.raises(TruncatedBodyError, match="br body cut short"):
        cut.flush()
    whole = _Brotli(MODULE, "http://example.test/a.mp3")
    assert whole.decode(encoded) + whole.flush() == DATA
