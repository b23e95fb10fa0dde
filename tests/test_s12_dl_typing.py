"""A failure the downloader cannot type still ends its job.

Before: when typing a transport failure raised (``classify_http_error`` choked on a host that
httpx.URL refused), the exception escaped the job: it never finished, ``fetch`` exited 6
("download incomplete") and ``play`` waited for ever. The cause found then is fixed; this holds
the boundary itself: whatever goes wrong while typing, the job fails with a typed error.
"""

from __future__ import annotations

import pytest

from kithara_cli.dl import Downloader, downloader, transfer
from kithara_cli.errors import KitharaError, NetworkError
from kithara_cli.events import EventBus


def test_a_failure_that_cannot_be_typed_still_fails_the_job(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async def untyped(*args: object) -> object:
        raise RuntimeError("a failure no layer below typed")

    def broken(exc: BaseException, url: str) -> KitharaError:
        raise ValueError("a bug while naming the error")

    monkeypatch.setattr(transfer, "transfer", untyped)
    monkeypatch.setattr(downloader, "classify_http_error", broken)
    with Downloader(EventBus()) as dl, pytest.raises(NetworkError, match="RuntimeError"):
        dl.fetch_bytes("http://127.0.0.1:9/x.mp3", timeout=10)
