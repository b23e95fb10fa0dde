"""Downloader: an asyncio loop on its own thread that runs fetch commands.

Promises:
- one httpx client shared by every request (its transport spreads them over small httpcore
  pools, see ``net.transport``: a pool costs O(connections) per request); at most
  ``max_concurrent`` requests in flight; DEMAND commands (a reader is waiting) start before
  PREFETCH ones;
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
