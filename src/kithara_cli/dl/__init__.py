"""Downloader: an asyncio loop on its own thread that runs fetch commands.

Promises:
- one set of httpx clients shared by every request (a client per 8 requests in flight:
  httpx's pool costs O(connections) per request, so one pool of 32 is slower than four of 8);
  at most ``max_concurrent`` requests in flight; DEMAND commands (a reader is waiting) start
  before PREFETCH ones;
- every accepted ``FetchCmd`` gets exactly one ``on_complete`` (ok, failed or cancelled, also
  when cancelled while still queued), called on the downloader thread;
- a body cut short, reset or stalled is resumed with Range from the last byte received; a
  server that ignores Range has its leading bytes skipped; 429/5xx are retried with backoff
  and jitter, honouring Retry-After; retries reset while bytes keep arriving;
- LoadSlow is published once a fetch outlives its soft timeout; the fetch is not aborted;
- every step of a request's life is an event on the bus.
Never: decides what to fetch (peers do), blocks its loop on disk or CPU work beyond handing a
chunk to the command's sink, or retries a fatal error.
"""

from kithara_cli.dl.command import FetchCmd, FetchHandle, FetchOutcome, Priority, ResponseInfo
from kithara_cli.dl.downloader import Downloader

__all__ = ["Downloader", "FetchCmd", "FetchHandle", "FetchOutcome", "Priority", "ResponseInfo"]
