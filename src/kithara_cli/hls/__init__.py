"""HLS: playlists, variants and renditions, AES-128/256, and segment fetching.

One pipeline, split by role as streamlink's ``stream/segmented`` is: the playlist *worker*
(``loader`` loads, picks the variant for fetch (``select``) and builds playback's ladder
(``playback_ladder``, ``fixed_variant``); ``worker.LiveFollower`` reloads a live playlist);
one *segment scheduler* (``scheduler.SegmentFetcher``: it fills a consumer's
``SegmentWindow`` as far as one ``window.WindowPolicy`` allows, the consumer's position first
at demand priority; keys, byteranges, decryption, init sections fetched once; it is the live
follower's feed; typed messages ``SegmentDone``/``SegmentsAdded``/``FeedFailed``/``Wake`` to
its consumer's loop); and two consumers that only state what they need: the file writer for
fetch (``writer``: ``WindowPolicy.for_fetch``, twice its segments in flight) and the playback
source for play (``source``, a ``stream.Source``: ``WindowPolicy.for_play``, its prefetch and
the ABR's buffer target; the ABR picks the variant per segment and a failed one fails over).
``looks_like_hls`` (here) is the one test for "this URL is a playlist".

Promises: only http(s) URIs are followed from a remote playlist (never file:, data: or a
local path); keys are fetched once per URI; a segment is decrypted (AES-CBC or CTR, IV from the
tag or the media sequence number) before anything else sees it, and a wrong key is an error,
never garbage in the output; nor is a segment whose bytes are no media ``sniff`` knows (a
captive portal's page): fetch and play both refuse it (DecoderError); ``sniff`` knows TS,
fMP4 and packed ADTS, MP3, AC-3 and E-AC-3. A key of a KEYFORMAT other than identity (a DRM
system's) is refused before any key is asked (``playlist.check_key``); a key server's refusal
keeps its HTTP or network exit code. An init section (EXT-X-MAP) after an EXT-X-KEY of a
whole-segment method is decrypted with it, under the tag's IV (RFC 8216 4.3.2.5); with no IV
it is a ``PlaylistError``. Init sections are written where they first
appear and again only where they change; fetch refuses, before any segment, a change to audio
of another rate, layout or codec (one MP4 file cannot hold both); in TS / packed audio it
refuses another codec after an EXT-X-DISCONTINUITY (one decoder reads the file: the rest would
not decode; a live recording ends there instead, saved) and warns, naming the segment, of
another rate or layout. Play starts the decoder
afresh where the init changes, TS / packed audio changes codec (a switch), or at an
EXT-X-DISCONTINUITY (timestamps may start over), and where a segment starts before the audio
placed ends (a switch between variants cut unalike, 2 s and 6 s): it trims that one by
timestamp, so no span plays twice. Between VOD variants cut unalike a segment is picked by
media time, not by index: a switch to shorter segments fetches each one that covers the rest
of the slot, from the end of the audio placed (as hls.js after a level switch), so no span is
lost either.
Segments marked EXT-X-GAP are left out of the model (never asked for), with a warning.
A live playlist is followed (``worker.LiveFollower``) for
fetch and play alike: from the live edge, reloaded at its target duration, until ENDLIST;
live play still switches variants, matching segments by media sequence number. An origin
that restarts (the media sequence drops, with URIs never seen at those numbers, or a higher
discontinuity sequence) is followed on, its new segments fetched once and marked a
discontinuity; a stale edge copy (lower numbers, URIs already seen) brings nothing, even
after a restart (``sequence``). Live play takes another variant's segment only once that
variant's own playlist has restarted too (``picking.LiveEras``). A reload that
fails (an edge's 404, a 5xx, an error page) is ridden over as one that brought nothing new; a
live segment that answers 404/410 is a gap in a live fetch, as live play skips it (10 in a
row end either with that error: ``scheduler.MAX_GONE_IN_A_ROW``). A live
fetch that the stream ends that way (or by an unchanged playlist) keeps what it wrote at
--out (``commands.fetch_hls``). A variant whose media playlist fails to load is left out:
its redundant copy (same BANDWIDTH and CODECS, RFC 8216 6.2.3) serves instead, else (fetch's
best/worst, play's ABR) another variant (``loader.select``, ``picking._stand_in``); in play it
stays out of the ABR's picks (``picking._keep_dead_out``). A live playlist whose host dies
mid-stream is reloaded from its backup copy (``worker.LiveFollower``: fetch and play), and a
live fetch takes a segment that fails on the primary from the backup (``writer``).
LL-HLS tags (EXT-X-PART, PRELOAD-HINT, SERVER-CONTROL, RENDITION-REPORT) are read past:
whole segments only, never a part, no blocking reload asked.
Tolerant where hls.js and FFmpeg are (``lines``): a URI line with no #EXTINF is skipped with a
warning, a short IV is zero-filled on the left, EXT-X-DEFINE variables are substituted (NAME,
IMPORT, QUERYPARAM), negative and huge media sequence numbers are kept, a bad BANDWIDTH is
dropped, ``#EXTINF:-1`` (length unknown) lasts the target duration; a bad number we need is a
``PlaylistError`` naming its line, and tags in lower case are named as such when nothing is
left (FFmpeg and hls.js do not read them either). AES-128, AES-256 (CBC)
and AES-256-CTR (hls.js's 64-bit counter) are decrypted. I-frames-only playlists are refused and
video-only variants never join an audio ladder (``select.audio_ladder``); where audio comes
from EXT-X-MEDIA groups, one track (``--audio``, else the first variant's DEFAULT) is kept
across variants (``select.track_renditions``), and each group's rung is rated by its audio
(``audio_rates``), not by the video variant's BANDWIDTH. An LL-HLS delta update (EXT-X-SKIP) numbers
its segments after those skipped. URIs are resolved in ``resolve``. A live playlist that
brings no new segment for 3 target durations is a ``PlaylistError`` (hls.js's
PLAYLIST_UNCHANGED_ERROR), never a silent wait; if its reloads failed, that failure is the
error (a dead endpoint's 503: exit 3). Tag lines in Windows-1252 are read as such.
Titles (``id3``, ``ts_id3``): as each segment lands, the ID3v2 tags at the head of packed audio
(.aac/.mp3; every segment's, not only the first as FFmpeg) and the timed ID3 PES of MPEG-TS
(stream_type 0x15, timed by PTS from the segment's first audio) go into ``HlsSource.titles``
at their timeline second; the queue keeps them across seeks, so a seek shows the title in
force at its target even when that tag sat in an earlier segment. fMP4 ``emsg`` ID3 is not read.
Hostile tags give no title, never an error.
Never: fetches the video of a variant whose audio lives in a separate rendition; parses
playlists by hand (the m3u8 package does; ``lines`` only checks and rewrites lines first);
imports the UI or the command layer (``commands.fetch_hls`` wires a fetch and shows it).
"""

# Cap on one playlist's size (hostile or broken servers); here so that the player can fetch a
# master playlist before the HLS modules (and m3u8) load.
MAX_PLAYLIST_BYTES = 8 * 1024 * 1024


def looks_like_hls(url: str) -> bool:
    """The one test for "this URL is an HLS playlist": its path ends in .m3u8/.m3u (the query
    and fragment do not count). Here, light, so that fetch and play decide before m3u8 loads."""
    from urllib.parse import urlsplit

    return urlsplit(url).path.lower().endswith((".m3u8", ".m3u"))
