"""Segment keys (AES-128, AES-256): fetched once per URI, shared by every segment naming them."""

from __future__ import annotations

import threading
from concurrent.futures import Future
from typing import TYPE_CHECKING

from kithara_cli.dl import Downloader, Priority
from kithara_cli.errors import DecryptionError, KitharaError, UnsupportedError
from kithara_cli.hls.model import KEY_BYTES, Key

if TYPE_CHECKING:
    from kithara_cli.hls.crypto import KeyCache


class KeyStore:
    """Fetches keys through the downloader; concurrent askers of one URI share one request."""

    def __init__(self, downloader: Downloader) -> None:
        self.dl = downloader
        self._cache: KeyCache | None = None
        self._lock = threading.Lock()
        self._pending: dict[str, Future[bytes]] = {}

    @property
    def cache(self) -> KeyCache:
        # Imported on first use: cryptography costs ~20 ms of start-up that clear streams skip.
        if self._cache is None:
            from kithara_cli.hls.crypto import KeyCache

            with self._lock:
                if self._cache is None:
                    self._cache = KeyCache()
        return self._cache

    def get(self, key: Key) -> bytes:
        size = KEY_BYTES.get(key.method)
        if size is None:
            raise UnsupportedError(f"encryption method {key.method} is not supported")
        if not key.uri:
            raise DecryptionError(f"{key.method} key has no URI")
        cached = self.cache.get(key.uri)
        if cached is not None:
            return cached
        with self._lock:
            fut = self._pending.get(key.uri)
            owner = fut is None
            if fut is None:
                fut = Future()
                self._pending[key.uri] = fut
        if not owner:
            return fut.result()
        try:
            body, _ = self.dl.fetch_bytes(
                key.uri, label="key", priority=Priority.DEMAND, max_bytes=1024, cache="none"
            )  # AES keys never reach the persistent cache
            self.cache.put(key.uri, body, size)
            fut.set_result(body)
            return body
        except KitharaError as exc:
            err = DecryptionError(f"cannot fetch key {key.uri}: {exc}")
            if not isinstance(exc, DecryptionError):
                # A refused or unreachable key server is an HTTP or network failure (exit 4
                # or 3, retryable as it was), not bad content: as a failed segment says.
                err.exit_code, err.retryable = exc.exit_code, exc.retryable
            fut.set_exception(err)
            raise err from exc
        finally:
            with self._lock:
                self._pending.pop(key.uri, None)
