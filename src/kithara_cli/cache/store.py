"""The on-disk cache: an SQLite index (WAL) and one data file per stored piece of a resource.

A piece is a run of bytes [start, end) of one version of one URL. Its data file is written
under a unique temporary name, fsynced and renamed into place before the index row that names
it is committed, so a crash leaves at worst an orphan file, never a row pointing at half a
file. Reads check each file's length and SHA-256 (once per process); a bad piece is dropped
and reads as missing. Pieces of another version than the entry's are deleted, never combined.
An entry row also keeps the freshness its latest response gave it (``fresh_until``,
``directives``: see ``dl.freshness``); a confirmation from the server renews it.
Several processes may share a cache: SQLite serialises the index, temporary names carry the
pid and a random part, and entries pinned by a live process are never evicted.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from kithara_cli.cache.index import open_index, writable
from kithara_cli.cache.paths import DEFAULT_CAP, HEAD_PREFIX, entry_key, head_key, piece_name
from kithara_cli.pids import pid_alive
from kithara_cli.ui.sanitize import redact_userinfo

STORE_ERRORS = (sqlite3.Error, OSError)  # what a failing cache raises
# What SQLite calls an index that is not one (truncated, overwritten): no retry mends it.
DAMAGED = frozenset({"SQLITE_CORRUPT", "SQLITE_NOTADB"})
ENTRY_COLUMNS = (
    "etag", "last_modified", "total", "ranges", "content_type", "fresh_until", "directives",
    "said", "vary",
)  # fmt: skip
Scope = Callable[[str], "str | None"]  # a URL -> the credentials sent to it (cache.sent)


class CacheReadOnlyError(OSError):
    """A write asked of a cache kithara may not write (``CacheStore.read_only``)."""


def is_damaged(exc: BaseException) -> bool:
    """Did opening or reading fail because the index file is damaged (not locked, not full)?"""
    return isinstance(exc, sqlite3.Error) and exc.sqlite_errorname in DAMAGED


@dataclass(frozen=True)
class EntryMeta:
    """What is known of the version a resource's stored bytes belong to."""

    url: str
    etag: str | None
    last_modified: str | None
    total: int | None
    ranges: bool = True  # the server answered a Range with a 206
    content_type: str | None = None
    fresh_until: float | None = None  # epoch seconds (dl.freshness); None: always checked
    directives: int = 0  # dl.freshness.NO_CACHE | MUST_REVALIDATE
    said: str | None = None  # the latest response's lifetime headers (dl.freshness)
    # The values its request had of the headers its Vary names (``cache.vary.selecting``):
    # a response chosen by other ones is another representation, never joined to this one.
    vary: str | None = None

    def version(self) -> str:
        return f"{self.etag}\0{self.last_modified}\0{self.total}\0{self.vary}"

    def same_version(self, other: EntryMeta) -> bool:
        return self._version() == other._version()

    def _version(self) -> tuple[str | None, str | None, int | None, str | None]:
        return (self.etag, self.last_modified, self.total, self.vary)


@dataclass(frozen=True)
class EntryInfo:
    """One row of ``kithara cache ls``."""

    url: str
    size: int
    total: int | None
    last_used: float
    pinned: bool
    etag: str | None
    last_modified: str | None


@dataclass(frozen=True)
class Piece:
    start: int
    end: int
    file: str
    sha256: str


class CacheStore:
    """Thread-safe within a process (one connection under a lock); safe across processes."""

    def __init__(self, root: Path, cap: int | None = None, *, scope: Scope | None = None) -> None:
        self.root = root
        # The credentials a run sends to a URL (``cache.sent.SentHeaders.scope``), or None:
        # entries stored with other credentials, or none, are other entries (RFC 9111 3.5).
        self.scope = scope
        self.data = root / "data"
        self.tmp = root / "tmp"
        self.read_only = not writable(root)  # nothing is ever written there (cache.index)
        if not root.is_dir():
            # Private: the index names every URL played (signed links, credentials) and the
            # data is what was heard. A directory that exists (chosen, shared) keeps its mode.
            root.parent.mkdir(parents=True, exist_ok=True)
            with contextlib.suppress(FileExistsError):
                root.mkdir(mode=0o700)
        if not self.read_only:
            for d in (self.root, self.data, self.tmp):
                d.mkdir(parents=True, exist_ok=True)
        self._lock = threading.RLock()
        index = open_index(root, timeout=30)
        self._db, self.read_only = index.db, index.read_only
        # What ``entry`` reads: a column an older kithara's read-only index lacks reads as NULL.
        self._entry_columns = ", ".join(
            name if name in index.columns else "NULL" for name in ENTRY_COLUMNS
        )
        stored = self._meta("cap")
        self.cap = cap if cap is not None else (int(stored) if stored else DEFAULT_CAP)
        self._verified: set[str] = set()
        self._pinned: set[str] = set()
        if self.read_only:
            return
        if cap is not None and stored != str(cap):
            with self._tx():
                self._db.execute(
                    "INSERT OR REPLACE INTO meta(name, value) VALUES('cap', ?)", (str(cap),)
                )
        self._sweep()
        if cap is not None and stored != str(cap):
            self.evict()  # a new cap holds from now, whether or not this run stores anything

    def _sweep(self) -> None:
        """Remove the temporary parts of writers that died mid-write (their names carry the
        writer's pid): uncounted and never evicted, they would fill the disk for good; and
        the bodies of unknown length they were recording (``settle``): no lookup gives them."""
        for part in self.tmp.glob("*.part"):
            pieces = part.name.split(".")
            if len(pieces) == 4 and pieces[1].isdigit() and not pid_alive(int(pieces[1])):
                with contextlib.suppress(OSError):
                    part.unlink()
        with self._lock:
            unsettled = {
                k for (k,) in self._db.execute("SELECT key FROM entries WHERE total IS NULL")
            }
        for key in unsettled - (self._live_pins() if unsettled else set()):
            self._remove_key(key)

    # --- plumbing ---------------------------------------------------------------------------

    @contextlib.contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def _meta(self, name: str) -> str | None:
        with self._lock:
            row = self._db.execute("SELECT value FROM meta WHERE name=?", (name,)).fetchone()
        return row[0] if row else None

    def _scoped(self, url: str) -> str:
        scope = None if self.scope is None else self.scope(url)
        return url if scope is None else f"{url}\0scope\0{scope}"

    def _key(self, url: str) -> str:
        return entry_key(self._scoped(url))

    def _writing(self, doing: str) -> None:
        if self.read_only:
            raise CacheReadOnlyError(f"the cache at {self.root} is read-only: cannot {doing}")

    def _path(self, file: str) -> Path:
        return self.data / file[:2] / file

    def close(self) -> None:
        with self._lock:
            if self._pinned:
                with contextlib.suppress(sqlite3.Error), self._tx():
                    self._db.execute("DELETE FROM pins WHERE pid=?", (os.getpid(),))
                self._pinned.clear()
            self._db.close()

    # --- reading ----------------------------------------------------------------------------

    def entry(self, url: str) -> tuple[EntryMeta, list[Piece]] | None:
        key = self._key(url)
        with self._lock:
            row = self._db.execute(
                f"SELECT {self._entry_columns} FROM entries WHERE key=?", (key,)
            ).fetchone()
            if row is None:
                return None
            pieces = [
                Piece(*p)
                for p in self._db.execute(
                    'SELECT start, "end", file, sha256 FROM pieces WHERE key=? ORDER BY start',
                    (key,),
                )
            ]
        meta = EntryMeta(url, row[0], row[1], row[2], bool(row[3]), *row[4:9])
        return meta, pieces

    def read(
        self,
        url: str,
        start: int,
        end: int,
        *,
        one_piece: bool = False,
        version: EntryMeta | None = None,
    ) -> bytes | None:
        """Bytes [start, end) of the stored version, or None if any of them is missing or bad.

        ``one_piece``: stop at the end of the piece holding ``start`` (each data file is then
        read once however the caller walks a long range). ``version``: the version the caller
        looked up; None when the entry holds another by now (another process replaced it).
        """
        found = self.entry(url)
        if found is None:
            return None
        meta, pieces = found
        if version is not None and not meta.same_version(version):
            return None
        out = bytearray()
        pos = start
        while pos < end:
            best = max(
                (p for p in pieces if p.start <= pos < p.end), key=lambda p: p.end, default=None
            )
            if best is None:
                return None
            data = self._load(url, best)
            if data is None:
                return None
            upto = min(end, best.end)
            out += memoryview(data)[pos - best.start : upto - best.start]
            pos = upto
            if one_piece:
                break
        return bytes(out)

    def _load(self, url: str, piece: Piece) -> bytes | None:
        try:
            data = self._path(piece.file).read_bytes()
        except OSError:
            data = None
        if data is not None and piece.file not in self._verified:
            if (
                len(data) != piece.end - piece.start
                or hashlib.sha256(data).hexdigest() != piece.sha256
            ):
                data = None
            else:
                self._verified.add(piece.file)
        if data is None:
            self._drop_piece(url, piece)
        return data

    def _drop_piece(self, url: str, piece: Piece) -> None:
        if self.read_only:  # it stays, and reads as missing
            return
        key = self._key(url)
        with self._tx() as db:
            db.execute(
                'DELETE FROM pieces WHERE key=? AND start=? AND "end"=? AND file=?',
                (key, piece.start, piece.end, piece.file),
            )
            self._resize(key)
        with contextlib.suppress(OSError):
            self._path(piece.file).unlink()

    def touch(self, url: str) -> None:
        if self.read_only:
            return
        with self._tx() as db:
            db.execute("UPDATE entries SET last_used=? WHERE key=?", (time.time(), self._key(url)))

    def refresh(
        self, url: str, fresh_until: float | None, directives: int, said: str | None = None
    ) -> None:
        """The server confirmed the stored version: its freshness from that answer."""
        if self.read_only:
            return
        with self._tx() as db:
            db.execute(
                "UPDATE entries SET fresh_until=?, directives=?, said=? WHERE key=?",
                (fresh_until, directives, said, self._key(url)),
            )

    # --- writing ----------------------------------------------------------------------------

    def put(self, meta: EntryMeta, start: int, data: bytes) -> None:
        """Store bytes [start, start + len) of ``meta``'s version; another version is replaced."""
        if not data:
            return
        self._writing("store anything")
        end = start + len(data)
        file = piece_name(self._scoped(meta.url), start, end, meta.version())
        final = self._path(file)
        final.parent.mkdir(exist_ok=True)
        tmp = self.tmp / f"{file}.{os.getpid()}.{os.urandom(6).hex()}.part"
        try:
            with open(tmp, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, final)
        except BaseException:  # a full disk: what was written is not left to fill it more
            with contextlib.suppress(OSError):
                tmp.unlink()
            raise
        digest = hashlib.sha256(data).hexdigest()
        key = self._key(meta.url)
        stale: list[str] = []
        now = time.time()
        with self._tx() as db:
            row = db.execute(
                "SELECT etag, last_modified, total, vary FROM entries WHERE key=?", (key,)
            ).fetchone()
            if row is not None and meta.total is None and row[2] is not None:
                # Bytes of a body of unknown length, while another process's whole body has
                # ended and been settled (``settle``): that entry stays, these are not kept
                # (their file is named as its piece of the same bytes, if it has one: kept).
                if not db.execute("SELECT 1 FROM pieces WHERE file=?", (file,)).fetchone():
                    with contextlib.suppress(OSError):
                        final.unlink()
                return
            if row is not None and tuple(row) != meta._version():
                stale = [r[0] for r in db.execute("SELECT file FROM pieces WHERE key=?", (key,))]
                db.execute("DELETE FROM pieces WHERE key=?", (key,))
                db.execute("DELETE FROM entries WHERE key=?", (key,))
                row = None
            if row is None:
                db.execute(
                    "INSERT INTO entries(key, url, etag, last_modified, total, ranges, "
                    "content_type, size, created, last_used, fresh_until, directives, said, vary) "
                    "VALUES(?,?,?,?,?,?,?,0,?,?,?,?,?,?)",
                    (
                        key,
                        redact_userinfo(meta.url),  # shown by cache ls; the key has it all
                        meta.etag,
                        meta.last_modified,
                        meta.total,
                        int(meta.ranges),
                        meta.content_type,
                        now,
                        now,
                        meta.fresh_until,
                        meta.directives,
                        meta.said,
                        meta.vary,
                    ),
                )
            else:  # the latest response's freshness holds
                db.execute(
                    "UPDATE entries SET fresh_until=?, directives=?, said=? WHERE key=?",
                    (meta.fresh_until, meta.directives, meta.said, key),
                )
            db.execute(
                'INSERT OR REPLACE INTO pieces(key, start, "end", file, sha256) VALUES(?,?,?,?,?)',
                (key, start, end, file, digest),
            )
            db.execute("UPDATE entries SET last_used=? WHERE key=?", (now, key))
            self._resize(key)
        self._verified.add(file)
        for old in stale:
            if old != file:
                with contextlib.suppress(OSError):
                    self._path(old).unlink()
        if meta.total is not None:  # a body of unknown length makes room once it has one
            self.evict()

    def _resize(self, key: str) -> None:
        self._db.execute(
            'UPDATE entries SET size=(SELECT COALESCE(SUM("end" - start), 0) FROM pieces '
            "WHERE key=?) WHERE key=?",
            (key, key),
        )

    def settle(self, url: str, total: int | None) -> None:
        """A body recorded before its length was known (NULL: no lookup gives it) ended at
        ``total``; None: it did not (cut, endless), it goes. A known length stays as it is."""
        self._writing("settle an entry")
        key = self._key(url)
        if total is not None:
            with self._tx() as db:
                db.execute(
                    "UPDATE entries SET total=? WHERE key=? AND total IS NULL AND NOT EXISTS "
                    '(SELECT 1 FROM pieces WHERE key=? AND "end" > ?)',
                    (total, key, key, total),
                )
        with self._lock:
            row = self._db.execute("SELECT total FROM entries WHERE key=?", (key,)).fetchone()
        if row is not None and row[0] is None:
            self._remove_key(key)
        self.evict()

    # --- pins, eviction, removal ------------------------------------------------------------

    def pin(self, url: str) -> None:
        """Hold an entry for this process's life: eviction leaves it alone."""
        key = self._key(url)
        if key in self._pinned or self.read_only:  # nothing evicts from a read-only one
            return
        self._pinned.add(key)
        with self._tx() as db:
            db.execute("INSERT OR IGNORE INTO pins(key, pid) VALUES(?, ?)", (key, os.getpid()))

    def _live_pins(self) -> set[str]:
        with self._lock:
            rows = self._db.execute("SELECT key, pid FROM pins").fetchall()
        dead = [(k, p) for k, p in rows if not pid_alive(p)]
        if dead and not self.read_only:
            with self._tx() as db:
                db.executemany("DELETE FROM pins WHERE key=? AND pid=?", dead)
        return {k for k, p in rows if (k, p) not in set(dead)}

    def total_size(self) -> int:
        with self._lock:
            return int(self._db.execute("SELECT COALESCE(SUM(size), 0) FROM entries").fetchone()[0])

    def evict(self) -> None:
        """Drop least recently used, unpinned entries until the cache fits under its cap."""
        if self.read_only or self.total_size() <= self.cap:
            return
        pinned = self._live_pins()
        with self._lock:
            rows = self._db.execute(
                "SELECT key, url, size FROM entries ORDER BY last_used"
            ).fetchall()
        excess = self.total_size() - self.cap
        for key, _url, size in rows:
            if excess <= 0:
                break
            if key in pinned:
                continue
            self._remove_key(key)
            excess -= size

    def _remove_key(self, key: str) -> int:
        with self._tx() as db:
            files = [r[0] for r in db.execute("SELECT file FROM pieces WHERE key=?", (key,))]
            db.execute("DELETE FROM pieces WHERE key=?", (key,))
            n = db.execute("DELETE FROM entries WHERE key=?", (key,)).rowcount
        for f in files:
            with contextlib.suppress(OSError):
                self._path(f).unlink()
        return n

    def remove(self, url: str) -> bool:
        """Remove ``url``'s entry and its head (``cache.head``); for a URL without userinfo,
        those stored with any credentials (``scope``) too: ``cache rm URL`` sends none."""
        self._writing("remove anything")
        keys = {self._key(url), self._key(head_key(url))}
        if redact_userinfo(url) == url:
            with self._lock:
                rows = self._db.execute(
                    "SELECT key FROM entries WHERE url IN (?, ?)", (url, head_key(url))
                ).fetchall()
            keys.update(r[0] for r in rows)
        return sum(self._remove_key(k) for k in keys) > 0

    def clear(self) -> int:
        self._writing("clear it")
        with self._lock:
            keys = [r[0] for r in self._db.execute("SELECT key FROM entries")]
        for key in keys:
            self._remove_key(key)
        for leftover in self.tmp.glob("*.part"):
            with contextlib.suppress(OSError):
                leftover.unlink()
        return len(keys)

    def entries(self) -> list[EntryInfo]:
        pinned = self._live_pins()
        with self._lock:
            rows = self._db.execute(
                "SELECT key, url, size, total, last_used, etag, last_modified FROM entries "
                "WHERE substr(url, 1, ?) != ? ORDER BY last_used DESC",
                (len(HEAD_PREFIX), HEAD_PREFIX),  # heads are part of their resource's entry
            ).fetchall()
        return [EntryInfo(r[1], r[2], r[3], r[4], r[0] in pinned, r[5], r[6]) for r in rows]
