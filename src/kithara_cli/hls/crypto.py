"""AES-128 segment decryption (HLS METHOD=AES-128: whole-segment CBC with PKCS#7 padding).

Every failure is a ``DecryptionError``: a wrong key shows up as bad padding, and a server that
sends an HTML error page instead of a key shows up as a key of the wrong length.
"""

from __future__ import annotations

import threading

from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from kithara_cli.errors import DecryptionError
from kithara_cli.hls.model import Key

__all__ = ["BLOCK", "KeyCache", "decrypt_segment", "segment_iv"]

BLOCK = 16


def segment_iv(key: Key, sequence: int) -> bytes:
    """The IV from the EXT-X-KEY tag, else the media sequence number as 16 big-endian bytes."""
    if key.iv is not None:
        if len(key.iv) != BLOCK:
            raise DecryptionError(f"IV is {len(key.iv)} bytes, expected {BLOCK}")
        return key.iv
    if not 0 <= sequence < 2 ** (8 * BLOCK):
        raise DecryptionError(f"media sequence {sequence} cannot form an IV")
    return sequence.to_bytes(BLOCK, "big")


def decrypt_segment(data: bytes, key_bytes: bytes, iv: bytes) -> bytes:
    """AES-128-CBC decrypt ``data`` and strip its PKCS#7 padding."""
    if len(key_bytes) != BLOCK:
        raise DecryptionError(f"AES-128 key is {len(key_bytes)} bytes, expected {BLOCK}")
    if len(iv) != BLOCK:
        raise DecryptionError(f"IV is {len(iv)} bytes, expected {BLOCK}")
    if not data:
        raise DecryptionError("encrypted segment is empty")
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


class KeyCache:
    """Thread-safe URI -> key bytes, so concurrent segment fetches share one key request."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._keys: dict[str, bytes] = {}

    def get(self, uri: str) -> bytes | None:
        with self._lock:
            return self._keys.get(uri)

    def put(self, uri: str, data: bytes) -> None:
        """Store a fetched key, refusing anything but 16 bytes (an error page, say)."""
        if len(data) != BLOCK:
            raise DecryptionError(f"key at {uri} is {len(data)} bytes, expected {BLOCK}")
        with self._lock:
            self._keys[uri] = bytes(data)

    def __contains__(self, uri: object) -> bool:
        with self._lock:
            return uri in self._keys

    def __len__(self) -> int:
        with self._lock:
            return len(self._keys)
