"""What an HLS fetch's state file must hold so a resume never splices two versions.

A count of segments says nothing about which segments: a playlist re-cut at the same length,
or the same URIs serving new bytes, would resume into a file of two versions. So the state
names the playlist (a digest of every segment's URI without its query, range, sequence,
duration, key and init section) and each written segment's identity (its validators or
length); a resume checks the digest, and asks the server whether the last written segment
is still the same version (its bytes at the new URI, pinned to the recorded identity).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass

from kithara_cli.dl import Downloader, FetchCmd, Identity, Priority
from kithara_cli.errors import KitharaError, RemoteChangedError
from kithara_cli.hls.model import Segment


def _stable(uri: str | None) -> str | None:
    """A URI without its query: signed URLs get new tokens on every load of a playlist, and
    a resume must survive that (the last segment's validators still catch new bytes)."""
    return None if uri is None else uri.split("#", 1)[0].split("?", 1)[0]


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
        return [self.uri, list(self.byterange) if self.byterange else None, self.identity.as_list()]

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
