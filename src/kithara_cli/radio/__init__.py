"""Radio: endless streams, ICY titles and station links.

Promises:
- ``icy``: ICY metadata blocks are stripped from the audio (the decoder sees what the same
  stream without metadata would give) and their StreamTitle/StreamUrl read (UTF-8, else
  Latin-1); ``icy-*`` headers become a StationInfo. Text is raw network text: every caller
  that shows it sanitises it (``ui.sanitize``).
- ``live``: a response with no length, or an ICY answer, is an endless stream: no Range, no
  LoadSlow, a bounded in-memory window (``window``), reconnects to the live edge with backoff
  (ICY only), each gap published, and a typed LiveStreamLost after a bounded number of
  failures.
- ``links``: .pls, non-HLS .m3u/.m3u8 and .xspf station links parsed (XSPF with DOCTYPE and
  ENTITY refused, so no entity expansion), entries in order; a remote list names only
  http(s) URLs.
"""
