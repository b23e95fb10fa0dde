"""What a ``play`` argument names on this machine: a file, a station list saved to disk, or a
URL well-formed enough to open. Only the command line's own arguments come here: nothing a
server sends ever names a local path."""

from __future__ import annotations

from pathlib import Path

from kithara_cli.radio.links import (
    LINK_SUFFIXES,
    MAX_LINK_BYTES,
    StationLinkFound,
    link_kind,
    parse_link,
)


def check_target(target: str) -> Path:
    """``target`` as a local path, once it is either an existing file or a well-formed
    http(s) URL: a typo (``http://[::1``, a folder, "") is a usage error here,
    before anything parses it (urlsplit raised through the opener: an internal error)."""
    from kithara_cli.errors import UsageError
    from kithara_cli.net.urls import check_http_url

    if not target.strip():
        raise UsageError("an empty URL")
    local = Path(target)
    if "://" in target:
        check_http_url(target)
    elif local.is_dir():
        raise UsageError(f"a folder, not a file: {target}")
    elif not local.exists():
        from kithara_cli.net.urls import scheme_hint

        hint = scheme_hint(target)
        raise UsageError(f"no such file: {target} ({hint or 'and not an http(s) URL'})")
    return local


def open_link_file(path: Path) -> None:
    """A local file that is a station link raises its entries; anything else returns."""
    if path.suffix.lower() not in LINK_SUFFIXES or not path.is_file():
        return
    with path.open("rb") as f:
        data = f.read(MAX_LINK_BYTES + 1)
    kind = link_kind(data, None, path.name)
    if kind is not None:
        raise StationLinkFound(str(path), parse_link(data, kind, str(path), remote=False), kind)
