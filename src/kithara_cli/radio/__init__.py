"""Radio: endless streams, ICY titles and station links.

Promises:
- ``icy``: ICY metadata blocks are stripped from the audio (the decoder sees what the same
  stream without metadata would give) and their StreamTitle/StreamUrl read (UTF-8, else
  Windows-1251 when it reads as Cyrillic words, else Windows-1252; UTF-8 BOMs dropped; a
  value ends at the ``';`` that the next ``Key='`` or the end follows); a block is a title
  change only when its StreamTitle differs from the one in force (a repeated block, a
  StreamUrl alone, a reconnect's first block are none); ``icy-*`` headers (their text read
  the same way) become the StationDetails event, and any ``icy-*`` header (``icy-pub``
  alone too) marks an ICY answer, endless. Text
  is raw network text: every caller that shows it sanitises it (``ui.sanitize``).
- ``live``: an ICY answer is an endless stream for playback (``fetch --duration`` also
  records a body with no length): no Range, a bounded in-memory window (``window``),
  reconnects to the live edge with backoff (ICY only), each gap published, and a typed
  LiveStreamLost after a bounded number of failures. ``continue_body`` takes over a body
  already under way (``file.source``: a file with no length past its cap).
- ``pace``: slowness is judged against playback, not a soft timeout: LoadSlow once the audio
  bytes arrive under 0.9x the stream's byte rate (``icy-br`` unless the MP3/AAC frame headers
  say otherwise by more than a third: ``frame_rate``; else measured from the decoder)
  over a 4 s window for 1.5 s, LoadRecovered once at or over 1.0x for 1.5 s; never while our
  own window holds the stream back. A pure decision on an injectable clock.
- ``titles``: now-playing titles found in the media (chained Ogg links, HLS ID3) are kept
  in a ``TitleQueue`` by the timeline second their audio plays; the player publishes each
  once, when its playback position gets there (ICY titles are placed by byte offset
  instead), and after a seek the title in force at the target (an empty title when none is
  known there). A title equal to the one in force where it is found is no change (HLS
  repeats it in every segment, and again when a segment is fetched again).
- ``ogg_parts``: a live Ogg stream is read in parts, one more at each new link whose
  sample rate or channels differ from its part's first link (FFmpeg 8 refuses such a link
  mid-demux); the decoder opens each part where the last ended, so the audio runs on.
- ``links``: .pls, non-HLS .m3u/.m3u8 and .xspf station links parsed (XSPF with DOCTYPE and
  ENTITY refused, so no entity expansion), entries in order (UTF-8, UTF-16, Windows-1251 or
  -1252 text); a remote list names only http(s) URLs, and a malformed entry is skipped, never
  raised.
- ``record`` / ``fetch_live``: a recording is the stream's audio without ICY blocks, written
  to ``FILE.part`` and renamed into place when it ends (``--duration``, Ctrl-C, a lost
  stream after some audio), with ``FILE.cue`` listing every title at its time; never a half
  file at ``FILE``. ``--split-tracks`` cuts at ICY titles only: any other source (an Ogg
  mount, a stream without ICY titles, a file, HLS) is a UsageError before anything is
  written.
Never: sends a Range to a live stream, keeps more than the window of it in memory or any of
it on disk (unless recording), or shows network text unsanitised (it shows none itself).
A body with no length that is not ICY is read to its end and ends there (no reconnect): it
may be a finite file served close-delimited (playback keeps it as a file: ``file.source``).
"""
