"""HLS: playlists, variants and renditions, AES-128/256, and segment fetching.

Split as streamlink does: the *worker* (``loader``, ``writer.LiveFollower``) loads and reloads playlists, the
*writer* (``writer`` for fetch, ``source`` for play) fetches segments through the downloader
and puts their bytes in order, and the reader (``stream.ByteStream``) serves bytes.

Promises: only http(s) URIs are followed from a remote playlist (never file:, data: or a
local path); keys are fetched once per URI; a segment is decrypted (AES-CBC or CTR, IV from the
tag or the media sequence number) before anything else sees it, and a wrong key is an error,
never garbage in the output; init sections (EXT-X-MAP) are written where they first appear
and again only where they change. A live playlist is followed (``writer.LiveFollower``) for
fetch and play alike: from the live edge, reloaded at its target duration, until ENDLIST;
live play still switches variants, matching segments by media sequence number.
Tolerant where hls.js and FFmpeg are (``lines``): a URI line with no #EXTINF is skipped with a
warning, a short IV is zero-filled on the left, EXT-X-DEFINE variables are substituted (NAME,
IMPORT, QUERYPARAM), negative and huge media sequence numbers are kept, a bad BANDWIDTH is
dropped; a bad number we need is a ``PlaylistError`` naming its line. AES-128, AES-256 (CBC)
and AES-256-CTR (hls.js's 64-bit counter) are decrypted. I-frames-only playlists are refused and
video-only variants never join an audio ladder (``select.audio_ladder``). A live playlist that
brings no new segment for 3 target durations is a ``PlaylistError`` (hls.js's
PLAYLIST_UNCHANGED_ERROR), never a silent wait.
Never: fetches the video of a variant whose audio lives in a separate rendition; parses
playlists by hand (the m3u8 package does; ``lines`` only checks and rewrites lines first).
"""

# Cap on one playlist's size (hostile or broken servers); here so that the player can fetch a
# master playlist before the HLS modules (and m3u8) load.
MAX_PLAYLIST_BYTES = 8 * 1024 * 1024


def looks_like_hls(url: str) -> bool:
    """The one test for "this URL is an HLS playlist": its path ends in .m3u8/.m3u (the query
    and fragment do not count). Here, light, so that fetch and play decide before m3u8 loads."""
    from urllib.parse import urlsplit

    return urlsplit(url).path.lower().endswith((".m3u8", ".m3u"))
