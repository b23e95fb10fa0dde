"""Parse HLS playlists into the immutable model, treating every playlist as hostile input.

The m3u8 package does the line and attribute-list parsing; this module decides what to trust.
A remote playlist can name any URI, so (as ffmpeg learned with ``file:`` and ``concat:``
tricks) every URI is resolved against the *final* playlist URL and must come out http(s).
Anything malformed becomes a ``PlaylistError`` with a short reason, never a stray ValueError.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit

from kithara_cli.errors import PlaylistError, UnsupportedError
from kithara_cli.hls import MAX_PLAYLIST_BYTES
from kithara_cli.hls.audio_rates import declared_rate
from kithara_cli.hls.lines import MAX_SEGMENTS, MAX_VARIANTS, decode, prepare, register_imports
from kithara_cli.hls.m3u8_import import m3u8
from kithara_cli.hls.model import (
    DECRYPTABLE,
    InitSection,
    Key,
    MasterPlaylist,
    MediaPlaylist,
    Rendition,
    Segment,
    Variant,
)
from kithara_cli.hls.resolve import Resolver

__all__ = [
    "MAX_PLAYLIST_BYTES",
    "MAX_SEGMENTS",
    "MAX_VARIANTS",
    "check_key",
    "check_supported",
    "parse_playlist",
]

SUPPORTED_METHODS = DECRYPTABLE

# Tags we read. Every other tag is dropped before m3u8 sees it: the package casts attributes of
# tags we never use (PROGRAM-DATE-TIME, DATERANGE, PART, VERSION...) and one junk value there
# would otherwise fail the whole playlist. It also matches tags by prefix; exact names avoid that.
_USED_TAGS = frozenset(
    {
        "#EXTM3U",
        "#EXTINF",
        "#EXT-X-BYTERANGE",
        "#EXT-X-MEDIA-SEQUENCE",
        "#EXT-X-DISCONTINUITY-SEQUENCE",
        "#EXT-X-DISCONTINUITY",
        "#EXT-X-KEY",
        "#EXT-X-MAP",
        "#EXT-X-ENDLIST",
        "#EXT-X-PLAYLIST-TYPE",
        "#EXT-X-STREAM-INF",
        "#EXT-X-MEDIA",
        "#EXT-X-I-FRAMES-ONLY",
        "#EXT-X-GAP",
    }
)
_TARGET_DURATION_TAG = "#EXT-X-TARGETDURATION"
_TARGET_DURATION_KEY = "kithara_targetduration"
_MAP_KEYS = "kithara_map_keys"

_BYTERANGE = re.compile(r"(\d{1,19})(?:@(\d{1,19}))?")
_HEX_IV = re.compile(r"(?:0[xX])?([0-9a-fA-F]{1,64})")


def parse_playlist(
    text: str | bytes,
    url: str,
    *,
    allow_local: bool = False,
    imports: Mapping[str, str] | None = None,
) -> MasterPlaylist | MediaPlaylist:
    """Parse a master or media playlist fetched from ``url`` (the final URL after redirects).

    ``allow_local`` admits a ``file://`` URL or a filesystem path as ``url``, and file: URIs
    inside it; use it only for a playlist the user named on the command line. A remote
    playlist can never reach local files, whatever this flag says. ``imports``: the variables
    of the multivariant playlist that named this one (EXT-X-DEFINE IMPORT); None looks up
    those a master parsed earlier in this process registered for ``url``.
    """
    base, allow_file = _base_url(url, allow_local)
    prepared = prepare(decode(text), url, imports)
    data = _run_m3u8(prepared.content)
    resolver = Resolver(base, allow_file)
    try:
        segments = [s for s in data["segments"] if "uri" in s]  # trailing EXTINF without URI
        if data["is_variant"]:
            if segments:
                raise PlaylistError("playlist mixes variants (EXT-X-STREAM-INF) and segments")
            master = _build_master(data, resolver, prepared.warnings, prepared.defines)
            register_imports(
                [v.uri for v in master.variants] + [r.uri for r in master.renditions if r.uri],
                prepared.defines,
            )
            return master
        if data.get("is_i_frames_only"):
            # Key frames of a video (often byte ranges into its TS files): never audio, and a
            # decoder probing them for audio can wait a long time.
            raise UnsupportedError("EXT-X-I-FRAMES-ONLY playlist: video key frames, no audio")
        return _build_media(data, segments, resolver, prepared.warnings, prepared.lower_case)
    except (ValueError, TypeError, KeyError, AttributeError, OverflowError) as exc:
        raise PlaylistError(f"malformed playlist ({type(exc).__name__})") from exc


def check_supported(playlist: MasterPlaylist | MediaPlaylist) -> None:
    """Raise ``UnsupportedError`` naming the first encryption kithara cannot decrypt.

    Parsing keeps such keys so a playlist can still be listed; fetching must call this first.
    """
    if isinstance(playlist, MasterPlaylist):
        return
    seen: set[Key] = set()
    for segment in playlist.segments:
        key = segment.key
        if key is None or key in seen:
            continue
        seen.add(key)
        check_key(key)


def check_key(key: Key | None) -> None:
    """Raise ``UnsupportedError`` unless kithara can decrypt under ``key`` (None: clear): a
    method it knows, and the key itself at the URI (KEYFORMAT identity), not a DRM system's
    key request. The one rule, for a whole playlist and for each segment as it is asked."""
    if key is None or key.method == "NONE":
        return
    if key.method not in SUPPORTED_METHODS:
        drm = " (DRM)" if key.method.startswith("SAMPLE-AES") else ""
        raise UnsupportedError(f"HLS encryption METHOD={key.method} is not supported{drm}")
    if key.keyformat is not None and _unquote(key.keyformat).strip().lower() != "identity":
        shown = _short(key.keyformat, 60)
        raise UnsupportedError(f"HLS key format {shown!r} is not supported (DRM)")


# --- input checks ----------------------------------------------------------------------------


def _base_url(url: str, allow_local: bool) -> tuple[str, bool]:
    """Return the base to resolve against, and whether file: URIs are allowed."""
    try:
        parts = urlsplit(url)
    except ValueError as exc:
        raise PlaylistError(f"invalid playlist URL {_short(url)!r}: {exc}") from exc
    scheme = parts.scheme.lower()
    if scheme in ("http", "https"):
        if not parts.hostname:
            raise PlaylistError(f"invalid playlist URL {_short(url)!r}: no host")
        return url, False
    if allow_local:
        if scheme == "file":
            return url, True
        if not scheme or (len(scheme) == 1 and re.match(r"[A-Za-z]:[\\/]", url)):
            return Path(url).absolute().as_uri(), True  # plain path, incl. C:\ on Windows
    raise PlaylistError(f"playlist URL must be http or https: {_short(url)!r}")


def _run_m3u8(content: str) -> dict[str, Any]:
    where = [0, ""]  # the line m3u8 is on, for the message if it fails there

    def tag_filter(line: str, lineno: int, data: dict[str, Any], state: dict[str, Any]) -> bool:
        tag = line.split(":", 1)[0]
        where[:] = [lineno, tag]
        if tag == "#EXT-X-MAP":
            # Which EXT-X-KEY encrypts this MAP's init (RFC 8216 4.3.2.5): m3u8 does not say.
            data.setdefault(_MAP_KEYS, []).append(state.get("current_key"))
        elif tag == _TARGET_DURATION_TAG:
            # m3u8 casts with int(); real servers send "10.0", which the spec forbids but
            # players accept. Keep the raw text and validate it ourselves.
            data[_TARGET_DURATION_KEY] = line.partition(":")[2]
            return True
        return tag not in _USED_TAGS  # True = skip the line

    try:
        return m3u8.parse(content, strict=False, custom_tags_parser=tag_filter)
    except Exception as exc:  # the package raises bare ValueError, KeyError, IndexError...
        # Its messages are Python's ("could not convert string to float: ..."): name the line.
        raise PlaylistError(
            f"malformed playlist: cannot read line {where[0]} ({_short(str(where[1]), 40)})"
        ) from exc


# --- model building --------------------------------------------------------------------------


def _build_master(
    data: dict[str, Any],
    resolver: Resolver,
    warnings: tuple[str, ...],
    defines: dict[str, str],
) -> MasterPlaylist:
    variants: list[Variant] = []
    for index, entry in enumerate(data["playlists"]):
        info = entry["stream_info"]
        bandwidth = info.get("bandwidth", 0)  # REQUIRED by the spec; some servers omit it
        average = info.get("average_bandwidth")
        if bandwidth < 0 or (average is not None and average < 0):
            raise PlaylistError(f"variant {index}: negative BANDWIDTH")
        codecs = tuple(
            c.strip() for c in _unquote(info.get("codecs") or "").split(",") if c.strip()
        )
        variants.append(
            Variant(
                index=index,
                uri=resolver.resolve(entry["uri"], "variant"),
                bandwidth=bandwidth,
                average_bandwidth=average,
                codecs=codecs,
                audio_group=_unquote(info["audio"]) if info.get("audio") else None,
                resolution=_unquote(info["resolution"]) if info.get("resolution") else None,
            )
        )
    if not variants:
        raise PlaylistError("master playlist has no variant URIs")

    renditions: list[Rendition] = []
    for media in data["media"]:
        if _unquote(media.get("type") or "").upper() != "AUDIO":
            continue
        group_id = media.get("group_id")
        if not group_id:
            raise PlaylistError("EXT-X-MEDIA TYPE=AUDIO without GROUP-ID")
        language = media.get("language") or None
        uri = media.get("uri")
        renditions.append(
            Rendition(
                group_id=group_id,
                name=media.get("name") or language or group_id,
                language=language,
                default=_yes(media.get("default")),
                autoselect=_yes(media.get("autoselect")),
                channels=media.get("channels") or None,
                uri=resolver.resolve(uri, "rendition") if uri is not None else None,
                bitrate=declared_rate(media),
            )
        )
    return MasterPlaylist(
        url=resolver.base,
        variants=tuple(variants),
        renditions=tuple(renditions),
        warnings=warnings,
        defines=tuple(defines.items()),
    )


def _build_media(
    data: dict[str, Any],
    raw_segments: list[dict[str, Any]],
    resolver: Resolver,
    warnings: tuple[str, ...],
    lower_case: str = "",
) -> MediaPlaylist:
    # Negative and huge numbers are kept as written (hls.js and FFmpeg do): they only order
    # segments. A negative one cannot form a default IV; crypto says so if it is needed.
    media_sequence = data.get("media_sequence") or 0
    base_discontinuity = data.get("discontinuity_sequence") or 0
    raw_target = data.get(_TARGET_DURATION_KEY)
    given_target = None if raw_target is None else _target_duration(raw_target)
    unknown = 0  # segments of unknown length (#EXTINF:-1)

    keys: dict[int, Key | None] = {}  # m3u8 shares one dict per EXT-X-KEY: convert each once
    inits: dict[int, InitSection] = {}
    map_keys = {  # the key in force at each EXT-X-MAP
        id(m): _converted(k, keys, lambda k: _key(k, resolver))
        for m, k in zip(data["segment_map"], data.get(_MAP_KEYS, []), strict=False)
    }
    range_ends: dict[str, int] = {}  # per URI: where an offset-less EXT-X-BYTERANGE continues
    discontinuity_sequence = base_discontinuity
    segments: list[Segment] = []
    gaps: list[int] = []  # EXT-X-GAP segments' numbers
    carried = False  # a gap's EXT-X-DISCONTINUITY, for the segment after it
    for i, raw in enumerate(raw_segments):
        if "duration" not in raw:
            raise PlaylistError(f"segment {i}: EXT-X-BYTERANGE without #EXTINF")
        duration = raw["duration"]
        if not math.isfinite(duration):
            raise PlaylistError(f"segment {i}: bad #EXTINF duration {duration}")
        if duration < 0:
            # "#EXTINF:-1": length unknown, as M3U writes a stream's; some live encoders do
            # too. FFmpeg (so mpv) plays such segments: here each lasts the target duration.
            if given_target is None:
                raise PlaylistError(
                    f"segment {i}: #EXTINF:{duration:g} (unknown duration) without "
                    "EXT-X-TARGETDURATION: a plain M3U list, not HLS"
                )
            duration, unknown = given_target, unknown + 1
        uri = resolver.resolve(raw["uri"], "segment")

        byterange = None
        if raw.get("byterange") is not None:
            length, offset = _byterange(raw["byterange"], "EXT-X-BYTERANGE")
            if offset is None:
                offset = range_ends.get(uri, 0)
            byterange = (offset, length)
            range_ends[uri] = offset + length

        key = _converted(raw.get("key"), keys, lambda k: _key(k, resolver))
        init = _converted(
            raw.get("init_section"),
            inits,
            lambda i: _init_section(i, resolver, map_keys.get(id(i))),
        )

        discontinuity = bool(raw.get("discontinuity"))
        if discontinuity:
            discontinuity_sequence += 1  # as hls.js: a tag on the first segment counts too
        if raw.get("gap_tag"):
            # EXT-X-GAP: no media behind this URI (it is not to be loaded; hls.js steps over
            # it). Left out here, so no consumer asks for it; the numbers around it are kept.
            gaps.append(media_sequence + i)
            carried = carried or discontinuity
            continue
        discontinuity, carried = discontinuity or carried, False
        segments.append(
            Segment(
                uri=uri,
                duration=duration,
                sequence=media_sequence + i,
                byterange=byterange,
                key=key,
                init=init,
                discontinuity=discontinuity,
                discontinuity_sequence=discontinuity_sequence,
                title=str(raw.get("title") or "").strip(),
            )
        )

    if given_target is None:
        target = max((s.duration for s in segments), default=0.0)
    else:
        target = given_target

    warnings += (f"left out {len(gaps)} segment(s) marked EXT-X-GAP (no media)",) if gaps else ()
    if unknown:
        warnings += (
            f"{unknown} segment(s) of unknown length (#EXTINF:-1) taken as {target:g} s each",
        )
    endlist = bool(data.get("is_endlist"))
    if not segments and (endlist or raw_target is None):
        if lower_case:  # "#extinf" is no tag: FFmpeg and hls.js find no segment either
            raise PlaylistError(
                f"playlist has no segments: its tags are in lower case ({lower_case}); "
                "HLS tags are upper case"
            )
        raise PlaylistError("playlist has no segments or variants")
    playlist_type = (data.get("playlist_type") or "").strip().upper() or None
    return MediaPlaylist(
        url=resolver.base,
        segments=tuple(segments),
        target_duration=target,
        media_sequence=media_sequence,
        discontinuity_sequence=base_discontinuity,
        endlist=endlist,
        playlist_type=playlist_type,
        warnings=warnings,
        gaps=tuple(gaps),
    )


def _target_duration(raw: str) -> float:
    try:
        target = float(raw)
    except ValueError:
        raise PlaylistError(f"bad EXT-X-TARGETDURATION {_short(raw)!r}") from None
    if not math.isfinite(target) or target < 0:
        raise PlaylistError(f"bad EXT-X-TARGETDURATION {_short(raw)!r}")
    return target


_T = TypeVar("_T")


def _converted(
    raw: dict[str, Any] | None,
    seen: dict[int, _T],
    convert: Callable[[dict[str, Any]], _T],
) -> _T | None:
    """A segment's key or init section: m3u8 shares one dict per tag between the segments it
    covers, so each is converted once."""
    if raw is None:
        return None
    if id(raw) not in seen:
        seen[id(raw)] = convert(raw)
    return seen[id(raw)]


def _key(raw: dict[str, Any], resolver: Resolver) -> Key | None:
    method = _unquote(raw.get("method") or "").strip().upper()
    if not method:
        raise PlaylistError("EXT-X-KEY without METHOD")
    if method == "NONE":
        return None
    iv = None
    if raw.get("iv") is not None:
        iv = _iv(raw["iv"])
    keyformat = raw.get("keyformat") or None
    uri = raw.get("uri")
    if method in SUPPORTED_METHODS:
        if not uri:
            raise PlaylistError(f"{method} EXT-X-KEY without URI")
        if uri.lower().startswith("skd:"):
            raise UnsupportedError("FairPlay keys (skd://) are not supported (DRM)")
        uri = resolver.resolve(uri, "key")
    elif uri:
        # Never fetched: check_supported refuses the method first. Kept (joined, unchecked)
        # so that a DRM playlist, which often carries data: or skd: key URIs, can be listed.
        uri = resolver.join(uri)
    return Key(method=method, uri=uri or None, iv=iv, keyformat=keyformat)


def _iv(raw: str) -> bytes:
    """A 128-bit unsigned integer in hex. Shorter is zero-filled on the left (the value is
    what counts, and FFmpeg and hls.js accept it); longer only with leading zeros."""
    match = _HEX_IV.fullmatch(_unquote(raw).strip())
    value = int(match.group(1), 16) if match is not None else -1
    if not 0 <= value < 1 << 128:
        raise PlaylistError(f"bad EXT-X-KEY IV {_short(raw)!r} (want 0x and up to 32 hex digits)")
    return value.to_bytes(16, "big")


def _init_section(raw: dict[str, Any], resolver: Resolver, key: Key | None) -> InitSection:
    """An EXT-X-MAP; ``key``: the EXT-X-KEY in force at it. A whole-segment method encrypts
    the init section too, under the KEY's IV (it has no media sequence number to stand in)."""
    if not raw.get("uri"):
        raise PlaylistError("EXT-X-MAP without URI")
    byterange = None
    if raw.get("byterange") is not None:
        length, offset = _byterange(raw["byterange"], "EXT-X-MAP BYTERANGE")
        byterange = (offset or 0, length)
    if key is not None and key.method not in DECRYPTABLE:
        key = None  # SAMPLE-AES leaves the init clear (and is refused before any fetch)
    if key is not None and key.iv is None:
        raise PlaylistError(f"EXT-X-MAP under EXT-X-KEY METHOD={key.method} without IV")
    uri = resolver.resolve(raw["uri"], "EXT-X-MAP")
    return InitSection(uri=uri, byterange=byterange, key=key)


def _byterange(raw: str, what: str) -> tuple[int, int | None]:
    """Parse ``length[@offset]``; returns (length, offset or None)."""
    match = _BYTERANGE.fullmatch(_unquote(raw).strip())
    if match is None:
        raise PlaylistError(f"bad {what} {_short(raw)!r}")
    length = int(match.group(1))
    if length == 0:
        raise PlaylistError(f"empty {what} {_short(raw)!r}")
    offset = match.group(2)
    return length, int(offset) if offset is not None else None


def _unquote(value: str) -> str:
    """m3u8 strips quotes only from attributes it knows are strings; do it for the rest."""
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
        return value[1:-1]
    return value


def _yes(value: str | None) -> bool:
    return value is not None and _unquote(value).strip().upper() == "YES"


def _short(text: str, limit: int = 80) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."
