"""The resume state kept beside a partial download.

The file is left beside the output, maybe for days, maybe synced or shared with it: a URL's
``user:password@`` is written as ``***@`` (``ui.sanitize.redact_userinfo``), and nothing else
of the password (no digest of it either: a plain one would let a weak password be guessed
offline). So a state belongs to a URL by the masked form alone, and what keeps a resume from
splicing two files is what always did: the validators stored with it (length, strong ETag,
Last-Modified), which the server is asked to match before a byte is appended. Other
credentials for the same URL resume it when the server gives them the same version.
"""

from __future__ import annotations

import errno
import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path

from kithara_cli.dl.validate import Identity
from kithara_cli.ui.sanitize import redact_userinfo

STATE_VERSION = 1


@dataclass
class ResumeState:
    """What a later run needs to continue: which bytes are in the .part, and of what."""

    url: str
    total: int | None = None
    etag: str | None = None
    last_modified: str | None = None
    ranges: list[list[int]] = field(default_factory=list)
    kind: str = "progressive"
    extra: dict[str, object] = field(default_factory=dict)
    version: int = STATE_VERSION

    def belongs_to(self, url: str) -> bool:
        """This state is of ``url``, credentials aside (they are not kept; an older kithara
        kept them, and its state resumes too)."""
        return redact_userinfo(self.url) == redact_userinfo(url)

    def identity(self) -> Identity:
        """The version the bytes on disk are of (``known``: a later run can tell)."""
        return Identity.of(self.etag, self.last_modified, self.total)

    def same_remote(self, total: int | None, etag: str | None, last_modified: str | None) -> bool:
        """Validators agree (a missing validator on either side is not a disagreement)."""
        if self.total is not None and total is not None and self.total != total:
            return False
        if self.etag and etag and self.etag != etag:
            return False
        return not (self.last_modified and last_modified and self.last_modified != last_modified)


def part_paths(out: Path) -> tuple[Path, Path]:
    """(partial data, state file) beside the output: never the output path itself."""
    return out.with_name(out.name + ".part"), out.with_name(out.name + ".kithara.json")


def part_holds(part: Path, state: ResumeState) -> bool:
    """The .part reaches as far as the state says bytes were written (a part cut short
    since, by hand or by the disk, would resume into a file with a hole of zeros)."""
    end = max((b for _, b in state.ranges), default=0)
    try:
        return part.stat().st_size >= end
    except OSError:
        return False


def load_state(path: Path) -> ResumeState | None:
    """The state beside a part, or None if there is none or it cannot be true (then the
    fetch starts over: a state of the wrong shape must not stop every later run)."""
    try:
        data = json.loads(path.read_text())
        if not isinstance(data, dict) or data.get("version") != STATE_VERSION:
            return None
        state = ResumeState(**data)
    except (OSError, ValueError, TypeError):
        return None
    return state if _well_formed(state) else None


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _well_formed(state: ResumeState) -> bool:
    """Every field of its type; ranges ordered pairs inside the total."""
    texts = (state.etag, state.last_modified)
    if not isinstance(state.url, str) or not isinstance(state.kind, str):
        return False
    if not isinstance(state.extra, dict) or not all(t is None or isinstance(t, str) for t in texts):
        return False
    total = state.total
    if total is not None and (not _is_int(total) or total < 0):
        return False
    if not isinstance(state.ranges, list):
        return False
    for pair in state.ranges:
        if not (isinstance(pair, list) and len(pair) == 2 and all(_is_int(x) for x in pair)):
            return False
        if not 0 <= pair[0] < pair[1] or (total is not None and pair[1] > total):
            return False
    return True


def save_state(path: Path, state: ResumeState) -> None:
    """Atomic: a reader (or a later run after kill -9) sees the old or the new state, whole.

    On a full disk there is no room for the new file, so the state is written over the old
    one in place (its blocks are there already): what was downloaded stays resumable once
    space is freed. A crash inside that one write leaves a state no run takes (it starts over).
    """
    tmp = path.with_name(path.name + ".tmp")
    data = asdict(state)
    data["url"] = redact_userinfo(state.url)
    text = json.dumps(data)
    try:
        tmp.write_text(text)
        os.replace(tmp, path)
    except OSError as exc:
        remove_quietly(tmp)
        if exc.errno not in (errno.ENOSPC, errno.EDQUOT) or not path.exists():
            raise
        with path.open("r+") as fh:
            fh.write(text)
            fh.truncate()


def remove_quietly(*paths: Path) -> None:
    for p in paths:
        try:
            p.unlink()
        except FileNotFoundError:
            pass
        except OSError:
            pass
