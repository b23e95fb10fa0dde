"""What a response whose Content-Type names no audio holds, told by its first bytes.

A Wi-Fi login page (the captive portal answers every URL with 200 and text/html), a station
link or an HLS playlist served under a plain name as text/plain or octet-stream, or audio
for the decoder to judge: mpv and ffplay probe content the same way. Audio and video types
are taken at their word (no wait for a byte before the decoder starts).
"""

from __future__ import annotations

from typing import Literal

from kithara_cli.radio.links import link_kind

SNIFF_BYTES = 4096
MEDIA_TYPES = ("application/ogg", "application/x-ogg", "application/mp4")
HTML_TYPES = ("text/html", "application/xhtml+xml")
_PAGE_STARTS = (b"<!doctype html", b"<html", b"<head", b"<body")
_LIST_STARTS = (b"#extm3u", b"[playlist]", b"http://", b"https://")


def media_type(content_type: str | None) -> str:
    """``text/html; charset=utf-8`` -> ``text/html``."""
    return (content_type or "").split(";")[0].strip().lower()


def worth_sniffing(content_type: str | None) -> bool:
    """True unless the type names audio or video."""
    ctype = media_type(content_type)
    return not ctype.startswith(("audio/", "video/")) and ctype not in MEDIA_TYPES


def served_kind(first: bytes, content_type: str | None) -> Literal["page", "list"] | None:
    """ "page" (a web page), "list" (a station link or an HLS playlist), or None."""
    head = first.lstrip(b"\xef\xbb\xbf \t\r\n")[:64].lower()
    if head.startswith(_LIST_STARTS) or link_kind(first) is not None:
        return "list"
    if head.startswith(_PAGE_STARTS):
        return "page"
    if media_type(content_type) in HTML_TYPES and head.startswith(b"<"):
        return "page"
    return None
