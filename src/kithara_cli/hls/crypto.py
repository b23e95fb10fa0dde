"""Whole-segment decryption: METHOD=AES-128 and AES-256 (CBC, PKCS#7), AES-256-CTR.

The three methods hls.js decrypts. CBC restarts at every segment with the IV from the tag or
the media sequence number; CTR takes that IV as its initial counter block and, as hls.js asks
WebCrypto (``length: 64``), counts in the low 64 bits only. Every failure is a
``DecryptionError``: a wrong key shows up as bad padding, and a server that sends an HTML error
page instead of a key shows up as a key of the wrong length.
"""

from __future__ import annotations

import threading

from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from kithara_cli.errors import DecryptionError
from kithara_cli.hls.model import KEY_BYTES, Key

__all__ = ["BLOCK", "KeyCache", "decrypt_segment", "segment_iv"]

BLOCK = 16
_COUNTER_SPAN = 1 << 64  # CTR counts in the low 64 bits of the block (hls.js: length 64)


def segment_iv(key: Key, sequence: int) -> bytes:
    """The IV from the EXT-X-KEY tag, else the media sequence number as 16 big-endian bytes."""
    if key.iv is not None:
        if len(key.iv) != BLOCK:
            raise DecryptionError(f"IV is {len(key.iv)} bytes, expected {BLOCK}")
        return key.iv
    if not 0 <= sequence < 2 ** (8 * BLOCK):
        raise DecryptionError(f"media sequence {sequence} cannot form an IV")
    return sequence.to_bytes(BLOCK, "big")


def decrypt_segment(
    data: bytes | bytearray, key_bytes: bytes, iv: bytes, method: str = "AES-128"
) -> bytes:
    """Decrypt a whole segment by ``method`` (CBC: and strip its PKCS#7 padding)."""
    size = KEY_BYTES.get(method)
    if size is None:
        raise DecryptionError(f"encryption method {method} is not supported")
    if len(key_bytes) != size:
        raise DecryptionError(f"{method} key is {len(key_bytes)} bytes, expected {size}")
    if len(iv) != BLOCK:
        raise DecryptionError(f"IV is {len(iv)} bytes, expected {BLOCK}")
    if not data:
        raise DecryptionError("encrypted segment is empty")
    if method == "AES-256-CTR":
        return _ctr64(bytes(data), bytes(key_bytes), bytes(iv))
    if len(data) % BLOCK:
        raise DecryptionError(
            f"encrypted segment is {len(data)} bytes, not a multiple of {BLOCK} (truncated?)"
        )
    decryptor = Cipher(algorithms.AES(bytes(key_bytes)), modes.CBC(bytes(iv))).decryptor()
    plain = decryptor.update(bytes(data)) + decryptor.finalize()
    unpadder = padding.PKCS7(8 * BLOCK).unpadder()
    try:
        return unpadder.update(plain) + unpadder.finalize()
    except ValueError:
        raise DecryptionError("bad PKCS#7 padding after decryption (wrong key or IV?)") from None


def _ctr64(data: bytes, key: bytes, iv: bytes) -> bytes:
    """AES-CTR whose counter is the low 64 bits of the block, wrapping without carry.

    cryptography's CTR carries into the high half; the two agree until the low half wraps,
    so decrypt up to the wrap with it and restart the rest from a counter of zero.
    """
    high, low = iv[:8], int.from_bytes(iv[8:], "big")
    out: list[bytes] = []
    counter = low
    pos = 0
    while pos < len(data):
        room = (_COUNTER_SPAN - counter) * BLOCK  # bytes before the low half wraps
        chunk = data[pos : pos + room]
        block = high + counter.to_bytes(8, "big")
        decryptor = Cipher(algorithms.AES(key), modes.CTR(block)).decryptor()
        out.append(decryptor.update(chunk) + decryptor.finalize())
        pos += len(chunk)
        counter = 0
    return b"".join(out)


class KeyCache:
    """Thread-safe URI -> key bytes, so concurrent segment fetches share one key request."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._keys: dict[str, bytes] = {}

    def get(self, uri: str) -> bytes | None:
        with self._lock:
            return self._keys.get(uri)

    def put(self, uri: str, data: bytes, size: int = BLOCK) -> None:
        """Store a fetched key, refusing anything but ``size`` bytes (an error page, say)."""
        if len(data) != size:
            raise DecryptionError(f"key at {uri} is {len(data)} bytes, expected {size}")
        with self._lock:
            self._keys[uri] = bytes(data)

    def __contains__(self, uri: object) -> bool:
        with self._lock:
            return uri in self._keys

    def __len__(self) -> int:
        with self._lock:
            return len(self._keys)
