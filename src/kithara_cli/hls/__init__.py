"""HLS: playlists, variants and renditions, AES-128, and segment fetching.

Split as streamlink does: the *worker* (``loader``, ``writer.LiveFollower``) loads and reloads playlists, the
*writer* (``writer`` for fetch, ``source`` for play) fetches segments through the downloader
and puts their bytes in order, and the reader (``stream.ByteStream``) serves bytes.

Promises: only http(s) URIs are followed from a remote playlist (never file:, data: or a
local path); keys are fetched once per URI; a segment is decrypted (AES-128-CBC, IV from the
tag or the media sequence number) before anything else sees it, and a wrong key is an error,
never garbage in the output; init sections (EXT-X-MAP) are written where they first appear
and again only where they change. A live playlist is followed (``writer.LiveFollower``) for
fetch and play alike: from the live edge, reloaded at its target duration, until ENDLIST;
live play still switches variants, matching segments by media sequence number.
Never: fetches the video of a variant whose audio lives in a separate rendition; parses
playlists by hand (the m3u8 package does).
"""

# Cap on one playlist's size (hostile or broken servers); here so that the player can fetch a
# master playlist before the HLS modules (and m3u8) load.
MAX_PLAYLIST_BYTES = 8 * 1024 * 1024
