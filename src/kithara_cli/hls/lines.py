"""Line-level pass over a playlist before the m3u8 package sees it: variables, caps, tolerance.

Done on the text because m3u8 casts as it reads (one junk number fails the whole playlist with
a bare ValueError) and silently drops what it does not expect. Here: EXT-X-DEFINE variables
are substituted (RFC 8216bis 4.3.4.4: NAME/VALUE, IMPORT from the multivariant playlist,
QUERYPARAM from the playlist URL); a URI line with no #EXTINF or STREAM-INF before it is
skipped with a warning, as hls.js and FFmpeg skip it; the numbers we read are checked so a bad
one is a ``PlaylistError`` naming the line; EXT-X-STREAM-INF keeps only the attributes we use,
so a junk FRAME-RATE or PROGRAM-ID cannot fail a ladder. Bytes become text here (``decode``):
UTF-8, except that a tag line in Windows-1252 (a hand-made radio playlist's #EXTINF title) is
read as such; a URI line must be UTF-8.
"""

from __future__ import annotations

import re
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

from kithara_cli.errors import PlaylistError
from kithara_cli.hls import MAX_PLAYLIST_BYTES

__all__ = [
    "MAX_SEGMENTS",
    "MAX_VARIANTS",
    "Prepared",
    "decode",
    "prepare",
    "register_imports",
]

MAX_SEGMENTS = 100_000
MAX_VARIANTS = 1_000
MAX_DEFINES = 1_000
MAX_LINE_GROWTH = 4  # substituted text may grow to this multiple of the original at most

_VAR_REF = re.compile(r"\{\$([A-Za-z0-9_-]+)\}")
_VAR_NAME = re.compile(r"[A-Za-z0-9_-]+")
_ATTRIBUTES = re.compile(r"""((?:[^,"']|"[^"]*"|'[^']*')+)""")  # as m3u8's own split
_INT = re.compile(r"[+-]?\d{1,40}")  # 2**128 has 39 digits
_COUNT = re.compile(r"\d{1,9}")
_FLOAT = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")
# STREAM-INF attributes the model reads; the rest are dropped before m3u8 casts them.
_STREAM_INF_KEEP = frozenset({"BANDWIDTH", "AVERAGE-BANDWIDTH", "CODECS", "AUDIO", "RESOLUTION"})
_STREAM_INF_NUMBERS = ("BANDWIDTH", "AVERAGE-BANDWIDTH")

# Variables a multivariant playlist defined, by the URI of each variant and rendition it names,
# so that a media playlist loaded later (by whatever layer) can IMPORT them. Bounded.
_IMPORTS: OrderedDict[str, dict[str, str]] = OrderedDict()
_IMPORTS_CAP = 4096


@dataclass(frozen=True)
class Prepared:
    """The text m3u8 should parse, the variables defined, and what was tolerated."""

    content: str
    defines: dict[str, str]
    warnings: tuple[str, ...]
    lower_case: str = ""  # the first tag written in lower case ("line 3: '#extinf'"), if any


def register_imports(uris: list[str], defines: Mapping[str, str]) -> None:
    """Remember a multivariant playlist's variables for the media playlists it names."""
    if not defines:
        return
    shared = dict(defines)
    for uri in uris:
        _IMPORTS[uri] = shared
        _IMPORTS.move_to_end(uri)
    while len(_IMPORTS) > _IMPORTS_CAP:
        _IMPORTS.popitem(last=False)


def decode(text: str | bytes) -> str:
    """The playlist as text, from its #EXTM3U on (a BOM and blank lines before it are
    skipped); over ``MAX_PLAYLIST_BYTES``, or no #EXTM3U, is a ``PlaylistError``."""
    if len(text) > MAX_PLAYLIST_BYTES:
        raise PlaylistError(f"playlist too large (over {MAX_PLAYLIST_BYTES // 2**20} MiB)")
    if isinstance(text, bytes | bytearray | memoryview):
        raw = bytes(text)
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            text = _decode_lines(raw, exc)
    content = text.lstrip("\ufeff \t\r\n")
    if not content.startswith("#EXTM3U"):
        if content[:7].upper() == "#EXTM3U":  # FFmpeg and hls.js refuse it too
            raise PlaylistError(
                f"not an HLS playlist: {content[:7]!r} in lower case (HLS tags are upper case)"
            )
        raise PlaylistError("not an HLS playlist (no #EXTM3U)")
    return content


def _decode_lines(data: bytes, first: UnicodeDecodeError) -> str:
    """A playlist that is not all UTF-8: tag lines (an #EXTINF title, a rendition NAME) in
    Windows-1252, as hand-made radio playlists write them, are read so (``icy.decode_text``);
    a URI line must be UTF-8, since what it names cannot be guessed."""
    from kithara_cli.radio.icy import decode_text

    lines = []
    at = 0
    for raw in data.splitlines(keepends=True):
        try:
            lines.append(raw.decode("utf-8"))
        except UnicodeDecodeError as exc:
            if not raw.lstrip().startswith(b"#"):
                raise PlaylistError(f"playlist is not UTF-8 (byte {at + exc.start})") from first
            lines.append(decode_text(raw))
        at += len(raw)
    return "".join(lines)


def prepare(content: str, url: str, imports: Mapping[str, str] | None = None) -> Prepared:
    """Substitute variables, enforce the caps, skip stray URIs and check the numbers we read.

    Splits lines exactly as m3u8 does (``strip().splitlines()``) so line numbers agree.
    ``imports``: the multivariant playlist's variables (None: those registered for ``url``).
    """
    lines = content.strip().splitlines()
    warnings: list[str] = []
    defines: dict[str, str] = {}
    out: list[str] = []
    n_segments = n_variants = 0
    expect_segment = expect_variant = False
    lower_case = ""
    budget = max(len(content), 1 << 16) * MAX_LINE_GROWTH
    for lineno, raw in enumerate(lines, 1):
        line = raw.strip()
        if not line:
            continue
        if line.startswith("#EXT-X-DEFINE:"):
            _define(line, lineno, url, imports, defines)
            continue
        if "{$" in line:
            line = _substitute(line, lineno, defines)
            budget -= len(line)
            if budget < 0:
                raise PlaylistError("playlist too large after EXT-X-DEFINE substitution")
        if line.startswith("#"):
            tag = line.split(":", 1)[0]
            if not lower_case and tag != tag.upper() and _is_hls_tag(tag.upper()):
                lower_case = f"line {lineno}: {_short(tag, 40)!r}"
            if tag == "#EXTINF":
                n_segments += 1
                if n_segments > MAX_SEGMENTS:
                    raise PlaylistError(f"playlist has more than {MAX_SEGMENTS} segments")
                duration = line.partition(":")[2].split(",")[0]
                _check_number(lineno, "#EXTINF duration", _FLOAT, duration)
                expect_segment = True
            elif tag == "#EXT-X-BYTERANGE":
                expect_segment = True
            elif tag in ("#EXT-X-MEDIA-SEQUENCE", "#EXT-X-DISCONTINUITY-SEQUENCE"):
                _check_number(lineno, tag[1:], _INT, line.partition(":")[2])
            elif tag == "#EXT-X-SKIP":
                _skip(line, lineno, out, warnings)
                continue
            elif tag == "#EXT-X-STREAM-INF":
                n_variants += 1
                if n_variants > MAX_VARIANTS:
                    raise PlaylistError(f"playlist has more than {MAX_VARIANTS} variants")
                line = _stream_inf(line, lineno, warnings)
                expect_variant = True
        elif expect_segment:
            expect_segment = False
        elif expect_variant:
            expect_variant = False
        else:
            warnings.append(f"line {lineno}: skipped URI {_short(line)!r} without #EXTINF")
            continue
        out.append(line)
    return Prepared("\n".join(out), defines, tuple(warnings), lower_case)


def _is_hls_tag(tag: str) -> bool:
    """An HLS tag's name. Tags are case-sensitive (RFC 8216 4.1): FFmpeg and hls.js ignore
    ``#extinf`` as any unknown line, so kithara does too, but says so if nothing is left."""
    return tag in ("#EXTM3U", "#EXTINF") or tag.startswith("#EXT-X-")


def _define(
    line: str,
    lineno: int,
    url: str,
    imports: Mapping[str, str] | None,
    defines: dict[str, str],
) -> None:
    attrs = _attributes(line.partition(":")[2])
    where = f"line {lineno}: EXT-X-DEFINE"
    if "NAME" in attrs:
        name, value = attrs["NAME"], attrs.get("VALUE")
        if value is None:
            raise PlaylistError(f"{where} NAME={_short(name)!r} without VALUE")
    elif "IMPORT" in attrs:
        name = attrs["IMPORT"]
        source = imports if imports is not None else _IMPORTS.get(url, {})
        value = source.get(name)
        if value is None:
            raise PlaylistError(
                f"{where} IMPORT={_short(name)!r}: not defined by a multivariant playlist"
            )
    elif "QUERYPARAM" in attrs:
        name = attrs["QUERYPARAM"]
        try:
            values = parse_qs(urlsplit(url).query, keep_blank_values=True).get(name)
        except ValueError:
            values = None
        if not values:
            raise PlaylistError(f"{where} QUERYPARAM={_short(name)!r}: not in the playlist URL")
        value = values[0]
    else:
        raise PlaylistError(f"{where} needs NAME, IMPORT or QUERYPARAM")
    if not _VAR_NAME.fullmatch(name):
        raise PlaylistError(f"{where}: bad variable name {_short(name)!r}")
    if name in defines:
        raise PlaylistError(f"{where}: variable {_short(name)!r} defined twice")
    if len(defines) >= MAX_DEFINES:
        raise PlaylistError(f"playlist defines more than {MAX_DEFINES} variables")
    defines[name] = value


def _substitute(line: str, lineno: int, defines: Mapping[str, str]) -> str:
    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in defines:
            raise PlaylistError(
                f"line {lineno}: variable {{${_short(name)}}} is not defined (EXT-X-DEFINE)"
            )
        return defines[name]

    if line.startswith("#") and ":" not in line:
        return line
    return _VAR_REF.sub(value, line)


def _attributes(text: str) -> dict[str, str]:
    """NAME=value pairs of an attribute list, quotes removed (first occurrence wins)."""
    attrs: dict[str, str] = {}
    for part in _ATTRIBUTES.findall(text):
        name, sep, value = part.partition("=")
        if not sep:
            continue
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] == '"':
            value = value[1:-1]
        attrs.setdefault(name.strip().upper(), value)
    return attrs


def _stream_inf(line: str, lineno: int, warnings: list[str]) -> str:
    """The STREAM-INF line with only the attributes we read; a bad BANDWIDTH is dropped (the
    variant then has none, as when the server omits it) with a warning."""
    kept: list[str] = []
    for part in _ATTRIBUTES.findall(line.partition(":")[2]):
        name, sep, value = part.partition("=")
        key = name.strip().upper()
        if not sep or key not in _STREAM_INF_KEEP:
            continue
        value = value.strip()
        if key in _STREAM_INF_NUMBERS:
            if not _FLOAT.fullmatch(value) or not 0 <= float(value) < 1e15:
                warnings.append(f"line {lineno}: ignored {key}={_short(value)!r}")
                continue
            value = str(int(float(value)))
        kept.append(f"{key}={value}")
    return "#EXT-X-STREAM-INF:" + ",".join(kept)


def _skip(line: str, lineno: int, out: list[str], warnings: list[str]) -> None:
    """An LL-HLS delta update (EXT-X-SKIP, which kithara never asks for: a server or cache
    that sends one anyway) lists its segments from SKIPPED-SEGMENTS after MEDIA-SEQUENCE:
    the numbers start there, as hls.js counts them, else every segment would take the number
    of one skipped."""
    skipped = _attributes(line.partition(":")[2]).get("SKIPPED-SEGMENTS", "")
    _check_number(lineno, "SKIPPED-SEGMENTS", _COUNT, skipped)
    at = next((i for i, x in enumerate(out) if x.startswith("#EXT-X-MEDIA-SEQUENCE:")), None)
    first = 0 if at is None else int(out[at].partition(":")[2])
    tag = f"#EXT-X-MEDIA-SEQUENCE:{first + int(skipped)}"
    if at is None:
        out.append(tag)
    else:
        out[at] = tag
    warnings.append(f"line {lineno}: a delta update: {int(skipped)} older segments not listed")


def _check_number(lineno: int, what: str, pattern: re.Pattern[str], text: str) -> None:
    if pattern.fullmatch(text.strip()) is None:
        raise PlaylistError(
            f"malformed playlist: line {lineno}: bad {what} {_short(text.strip())!r}"
        )


def _short(text: str, limit: int = 80) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."
