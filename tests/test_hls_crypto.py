"""AES-128 segment decryption, IV rules and the key cache."""

from __future__ import annotations

import os
import threading

import pytest
from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from kithara_cli.errors import DecryptionError
from kithara_cli.hls.crypto import KeyCache, decrypt_segment, segment_iv
from kithara_cli.hls.model import Key

KEY = bytes(range(16))
IV = bytes.fromhex("00112233445566778899aabbccddeeff")


def encrypt(plain: bytes, key: bytes, iv: bytes) -> bytes:
    """What an HLS packager does: PKCS#7 pad, then AES-128-CBC."""
    padder = padding.PKCS7(128).padder()
    padded = padder.update(plain) + padder.finalize()
    encryptor = Cipher(algorithms.AES(key), modes.CBC(iv)).encryptor()
    return encryptor.update(padded) + encryptor.finalize()


@pytest.mark.parametrize("size", [0, 1, 15, 16, 17, 188 * 7, 100_003])
def test_round_trip(size: int) -> None:
    plain = os.urandom(size)
    data = encrypt(plain, KEY, IV)
    assert len(data) % 16 == 0 and len(data) > size
    assert decrypt_segment(data, KEY, IV) == plain


def test_segment_iv_from_tag() -> None:
    assert segment_iv(Key("AES-128", "https://k", IV, None), 12345) == IV


@pytest.mark.parametrize(
    ("sequence", "iv"),
    [
        (0, bytes(16)),
        (1, bytes(15) + b"\x01"),
        (258, bytes(14) + b"\x01\x02"),
        (2**64 - 1, bytes(8) + b"\xff" * 8),
    ],
)
def test_segment_iv_from_media_sequence(sequence: int, iv: bytes) -> None:
    assert segment_iv(Key("AES-128", "https://k", None, None), sequence) == iv


def test_segment_iv_round_trip_with_sequence() -> None:
    key = Key("AES-128", "https://k", None, None)
    iv = segment_iv(key, 77)
    assert decrypt_segment(encrypt(b"segment 77", KEY, iv), KEY, iv) == b"segment 77"


def test_segment_iv_negative_sequence() -> None:
    with pytest.raises(DecryptionError):
        segment_iv(Key("AES-128", "https://k", None, None), -1)


def test_wrong_key_is_bad_padding() -> None:
    data = encrypt(b"x" * 1000, KEY, IV)
    wrong = bytes(16)
    # A wrong key yields random plaintext; its last byte is a valid 1-byte pad ~1/256 of the
    # time, so try a few keys and require the error for almost all of them.
    failures = 0
    for i in range(20):
        try:
            decrypt_segment(data, bytes([i]) + wrong[1:], IV)
        except DecryptionError as exc:
            assert "padding" in str(exc)
            failures += 1
    assert failures >= 18


def test_wrong_iv_corrupts_only_first_block() -> None:
    # CBC: a wrong IV garbles block one and nothing else, so it cannot be detected here.
    data = encrypt(b"A" * 64, KEY, IV)
    out = decrypt_segment(data, KEY, bytes(16))
    assert out[16:] == b"A" * 48 and out[:16] != b"A" * 16


@pytest.mark.parametrize("key", [b"", b"short", bytes(15), bytes(17), bytes(32)])
def test_bad_key_length(key: bytes) -> None:
    with pytest.raises(DecryptionError, match=f"{len(key)} bytes, expected 16"):
        decrypt_segment(encrypt(b"abc", KEY, IV), key, IV)


@pytest.mark.parametrize("cut", [1, 15, 17])
def test_data_not_multiple_of_16(cut: int) -> None:
    data = encrypt(b"y" * 100, KEY, IV)
    with pytest.raises(DecryptionError, match="multiple of 16"):
        decrypt_segment(data[:-cut], KEY, IV)


def test_empty_data_and_bad_iv() -> None:
    with pytest.raises(DecryptionError, match="empty"):
        decrypt_segment(b"", KEY, IV)
    with pytest.raises(DecryptionError, match="IV"):
        decrypt_segment(encrypt(b"z", KEY, IV), KEY, IV[:8])


def test_key_cache() -> None:
    cache = KeyCache()
    assert cache.get("https://k/1") is None
    cache.put("https://k/1", KEY)
    assert cache.get("https://k/1") == KEY
    assert "https://k/1" in cache and len(cache) == 1
    with pytest.raises(DecryptionError, match=r"key at https://k/2 is 12 bytes, expected 16"):
        cache.put("https://k/2", b"<html>oops</")
    assert cache.get("https://k/2") is None


def test_key_cache_threads() -> None:
    cache = KeyCache()

    def worker(n: int) -> None:
        for i in range(200):
            cache.put(f"https://k/{(n * 200 + i) % 50}", bytes([i % 256]) * 16)
            cache.get(f"https://k/{i % 50}")

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(cache) == 50
