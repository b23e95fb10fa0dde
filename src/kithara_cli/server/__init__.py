"""Loopback media server: real HTTP with scriptable faults, for tests, demos and benchmarks.

``MediaServer(root).start()`` serves the files under ``root`` from a background thread with its
own asyncio loop (aiohttp's web server) and returns once it is listening.
``MediaServer(root, sock=...)`` serves on a socket the caller already listens on: its URL can
be handed out before the server is up (connections wait in the backlog until then).

It promises:

- GET and HEAD of regular files under ``root``; anything else is 404 (missing, directories,
  ``..``, symlinks that leave ``root``) or 405 (other methods). It never serves outside ``root``.
- Single byte ranges (``bytes=a-b``, ``a-``, ``-n``) as 206 with Content-Range; 416 with
  ``Content-Range: bytes */size`` when nothing is satisfiable; malformed and multi-range
  headers are ignored (200). Accept-Ranges, a strong ETag (size + mtime), Last-Modified, and
  If-Range (a changed validator gets the full 200); If-None-Match / If-Modified-Since that
  still match get a 304 with the validators. Content-Type by extension. No Cache-Control
  unless a route's ``Faults(cache_control=...)`` gives one.
- Unfaulted files go out by sendfile, at loopback speed.
- Faults per route (``set_faults(pattern, Faults(...))``, fnmatch on the path without the
  leading "/"; newest match wins): latency, first-byte delay, per-connection and shared rate
  limits, a bandwidth profile over time, RST or clean close mid-body, stalls, the first K
  requests failing with Retry-After, ignored Range, no Content-Length, redirect chains.
  Servers that lie: a new ETag per response, no validators, If-Range ignored, another
  version of the file from the Nth request on or every other request (``swap_*``), a
  gzip/deflate body nobody asked for, HTTP/1.0 close-delimited bodies, an endless body, and
  trickles down to 1 byte/s.
  Paced bodies are written in ~1/50 s slices against absolute deadlines (accurate to a few
  per cent), and connections sharing a rate take turns.
- ``add_route`` serves computed bodies (live playlists that advance with time).
- ``add_radio(path, Station(...))`` serves an endless Icecast-like mount (``server.radio``): a
  looped file paced at real time or a multiple, joined at the live edge, ``icy-*`` headers,
  ICY metadata blocks with scripted titles when asked (``Icy-MetaData: 1``), the SHOUTcast
  ``ICY 200 OK`` status line, cuts after N bytes or seconds (RST or close), 503s after a cut.
  ``add_radio(path, OggMount(station))`` (``server.ogg_radio``) serves a chained Ogg file as an
  Icecast Ogg mount: no ICY blocks, a listener joining mid-link gets the link's headers first.
  ``add_link(path, kind, urls)`` serves a .pls/.m3u/extended .m3u/.xspf station link.
- ``stats`` counts every request (method, path, Range, status) and body bytes per path,
  thread-safely, before the bytes reach the client; ``stats.seen()`` adds the headers each
  request came with (Cookie, User-Agent...).
- ``stop()`` closes the socket, cancels in-flight responses (even stalled ones) and ends the
  thread. Instances share nothing, so parallel test workers each run their own on port 0.

It never listens on anything but 127.0.0.1 unless ``host`` is given, never writes under
``root``, never follows a path out of ``root``, and is not meant to face a real network: no TLS,
no auth, no HTTP/2, no compression unless a fault asks for it, no directory listings.
"""

from .app import MediaServer, RouteHandler
from .faults import Faults
from .stats import RequestRecord, ServerStats

__all__ = ["Faults", "MediaServer", "RequestRecord", "RouteHandler", "ServerStats"]
