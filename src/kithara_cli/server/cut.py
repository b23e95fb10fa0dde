"""Ending a connection in the middle of a body, as a failing server does: a clean FIN or a
reset. Files, dynamic routes and radio mounts all cut the same way."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import struct
import time


async def cut_connection(transport: asyncio.Transport | None, *, reset: bool) -> None:
    """End the connection mid-body: RST (SO_LINGER 0 + abort) or a clean FIN."""
    if transport is None:
        return
    # Let what was written reach the socket first, so the client gets the promised bytes.
    deadline = time.monotonic() + 1.0
    while transport.get_write_buffer_size() and time.monotonic() < deadline:
        await asyncio.sleep(0.002)
    if not reset:
        transport.close()
        return
    sock = transport.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    transport.abort()
