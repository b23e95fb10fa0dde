"""What an HLS fetch's state file must hold so a resume never splices two versions.

A count of segments says nothing about which segments: a playlist re-cut at the same length,
or the same URIs serving new bytes, would resume into a file of two versions. So the state
names the playlist (a digest of every segment's URI without its query, range, sequence,
duration, key and init section) and each written segment's identity (its validators or
length); a resume checks the digest, and asks the server whether the last written segment
is still the same version (its bytes at the new URI, pinned to the recorded identity).

No URI in it holds a password: a playlist at ``user:password@host`` resolves its segments'
URIs to that host with the same credentials, so each stored URI is masked (``***@``), and the
digest is taken over the URIs without their credentials too (a plain digest of a password
lets it be guessed offline). The validators, not the credentials, tell the versions apart.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass

from kithara_cli.dl import Downloader, FetchCmd, Identity, Priority
from kithara_cli.errors import KitharaError, RemoteChangedError
from kithara_cli.hls.model import InitSection, Segment
from kithara_cli.ui.sanitize import redact_userinfo


def _stable(uri: str | None) -> str | None:
    """A URI without its query or credentials: signed URLs get new tokens on every load of a
    playlist, and a resume must survive that (the last segment's validators still catch new
    bytes); credentials are not kept (see above)."""
    return None if uri is None else redact_userinfo(uri.split("#", 1)[0].split("?", 1)[0])


def init_entry(init: InitSection | None) -> list[object]:
    """The init section written last, as the state keeps it (its URI masked)."""
    if init is None:
        return []
    return [redact_userinfo(init.uri), list(init.byterange) if init.byterange else None]


def saved_init(segments: Sequence[Segment], entry: object) -> InitSection | None:
    """The playlist's own init section (with the key that encrypts it, if one does) that
    ``init_entry`` saved, or None. URIs compare masked: a state an older kithara wrote kept
    them whole."""
    if not isinstance(entry, list) or len(entry) != 2 or not isinstance(entry[0], str):
        return None
    br = entry[1]
    saved = (redact_userinfo(entry[0]), tuple(br) if isinstance(br, list) and br else None)
    inits = (s.init for s in segments if s.init is not None)
    return next((i for i in inits if (redact_userinfo(i.uri), i.byterange) == saved), None)


def playlist_digest(segments: Sequence[Segment]) -> str:
    """One string that changes whenever any segment's place, bytes' source or key does."""
    rows = []
    for s in segments:
        key = s.key
        init = s.init
        rows.append(
            [
                _stable(s.uri),
                list(s.byterange) if s.byterange else None,
                s.sequence,
                round(s.duration, 6),
                [key.method, _stable(key.uri), key.iv.hex() if key.iv else None] if key else None,
                [_stable(init.uri), list(init.byterange) if init.byterange else None]
                if init
                else None,
                s.discontinuity_sequence,
            ]
        )
    return hashlib.sha256(json.dumps(rows).encode()).hexdigest()


@dataclass(frozen=True)
class SegmentRecord:
    """A written segment as the state file keeps it."""

    uri: str
    byterange: tuple[int, int] | None
    identity: Identity

    def as_list(self) -> list[object]:
        byterange = list(self.byterange) if self.byterange else None
        return [redact_userinfo(self.uri), byterange, self.identity.as_list()]

    @classmethod
    def from_list(cls, data: object) -> SegmentRecord | None:
        if not isinstance(data, list) or len(data) != 3 or not isinstance(data[0], str):
            return None
        br = data[1]
        identity = Identity.from_list(data[2])
        if identity is None:
            return None
        byterange = (int(br[0]), int(br[1])) if isinstance(br, list) and len(br) == 2 else None
        return cls(data[0], byterange, identity)

    @classmethod
    def of(cls, segment: Segment, identity: Identity | None) -> SegmentRecord:
        return cls(segment.uri, segment.byterange, identity or Identity())


def still_same(dl: Downloader, record: SegmentRecord, timeout: float = 60.0) -> bool:
    """Ask for one byte of the segment, pinned to its recorded identity: is it unchanged?

    A segment that cannot be identified counts as changed; a network failure does not (the
    fetch proper will meet it and say so).
    """
    if not record.identity.known:
        return False
    start = record.byterange[0] if record.byterange else 0

    def discard(offset: int, data: bytes) -> None:
        pass

    cmd = FetchCmd(
        url=record.uri,
        sink=discard,
        start=start,
        end=start + 1,
        priority=Priority.DEMAND,
        label="resume check",
        identity=record.identity,
        on_change="fail",
    )
    outcome = dl.submit(cmd).result(timeout)
    if outcome.state == "failed":
        error: KitharaError | None = outcome.error
        return not isinstance(error, RemoteChangedError)
    return True
