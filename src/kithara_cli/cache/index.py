"""Opening the cache's SQLite index: writable (WAL, the schema made or brought up to date), or
read-only when kithara may not write there.

A cache prepared elsewhere and mounted read-only (a CI job's, a container's layer), or one
owned by another user, cannot take a WAL journal, its shared-memory file, or a lock: SQLite
then refuses even to read it ("unable to open database file"). Such a directory is opened
read-only instead: ``mode=ro``, else ``immutable=1`` (no lock, no journal: what a read-only
medium is), and nothing is ever written there (``CacheStore.read_only``). A WAL journal left
beside an immutable index without its shared-memory file cannot be read: what it held since
the last checkpoint is missing (a kithara that closes its cache leaves none).
"""

from __future__ import annotations

import os
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path

from kithara_cli.cache.paths import INDEX_NAME
from kithara_cli.ui.sanitize import redact_userinfo

SCHEMA = """
CREATE TABLE IF NOT EXISTS entries(
    key TEXT PRIMARY KEY, url TEXT NOT NULL, etag TEXT, last_modified TEXT,
    total INTEGER, ranges INTEGER NOT NULL DEFAULT 1, content_type TEXT,
    size INTEGER NOT NULL DEFAULT 0, created REAL NOT NULL, last_used REAL NOT NULL,
    fresh_until REAL, directives INTEGER NOT NULL DEFAULT 0, said TEXT, vary TEXT);
CREATE TABLE IF NOT EXISTS pieces(
    key TEXT NOT NULL, start INTEGER NOT NULL, "end" INTEGER NOT NULL, file TEXT NOT NULL,
    sha256 TEXT NOT NULL, PRIMARY KEY(key, start, "end"));
CREATE TABLE IF NOT EXISTS pins(key TEXT NOT NULL, pid INTEGER NOT NULL, PRIMARY KEY(key, pid));
CREATE TABLE IF NOT EXISTS meta(name TEXT PRIMARY KEY, value TEXT);
"""

# Columns added since the first release of the schema: (name, declaration).
ADDED_COLUMNS = (
    ("fresh_until", "REAL"),
    ("directives", "INTEGER NOT NULL DEFAULT 0"),
    ("said", "TEXT"),  # the response's lifetime headers (dl.freshness.Freshness.said)
    ("vary", "TEXT"),  # what its request sent of the headers its Vary names (cache.vary)
)

BUSY = frozenset({"SQLITE_BUSY", "SQLITE_LOCKED"})  # another connection holds the lock


@dataclass(frozen=True)
class Index:
    db: sqlite3.Connection
    read_only: bool
    columns: frozenset[str]  # of ``entries``: a read-only index made by an older kithara lacks some


def writable(root: Path) -> bool:
    """May this process write the cache directory and its index? (access(2) says no for a
    read-only mount even to root.) A directory not made yet is made, so it is writable."""
    index = root / INDEX_NAME
    if not root.is_dir():
        return True
    return os.access(root, os.W_OK) and (not index.exists() or os.access(index, os.W_OK))


def open_index(root: Path, timeout: float) -> Index:
    if not writable(root):
        return _read_only(root)
    db = sqlite3.connect(
        root / INDEX_NAME, timeout=timeout, isolation_level=None, check_same_thread=False
    )
    try:
        _switch_to_wal(db, timeout)
        db.execute("PRAGMA synchronous=NORMAL")
        db.execute("BEGIN IMMEDIATE")
        try:
            _bring_up_to_date(db)
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")
    except BaseException:
        db.close()
        raise
    return Index(db, False, _columns(db))


def _bring_up_to_date(db: sqlite3.Connection) -> None:
    for stmt in SCHEMA.strip().split(";"):
        if stmt.strip():
            db.execute(stmt)
    have = _columns(db)
    for name, declaration in ADDED_COLUMNS:
        if name not in have:  # a cache made by an older kithara
            db.execute(f"ALTER TABLE entries ADD COLUMN {name} {declaration}")
    # A URL's password is kept in its key's digest only: an older kithara stored it
    old = db.execute("SELECT key, url FROM entries WHERE url LIKE '%@%'")
    masked = [(redact_userinfo(u), k) for k, u in old.fetchall() if redact_userinfo(u) != u]
    db.executemany("UPDATE entries SET url=? WHERE key=?", masked)


def _columns(db: sqlite3.Connection) -> frozenset[str]:
    return frozenset(r[1] for r in db.execute("PRAGMA table_info(entries)"))


def _read_only(root: Path) -> Index:
    """``mode=ro`` reads a WAL index whose shared-memory file is there (another user's
    kithara has it open); without one (a read-only mount) only ``immutable=1`` opens it."""
    uri = (root / INDEX_NAME).absolute().as_uri()
    failure: sqlite3.Error | None = None
    for query in ("?mode=ro", "?mode=ro&immutable=1"):
        db = sqlite3.connect(uri + query, uri=True, isolation_level=None, check_same_thread=False)
        try:
            columns = _columns(db)
            if not columns:  # no such table: not a cache's index
                raise sqlite3.DatabaseError("file is not a kithara cache index")
            return Index(db, True, columns)
        except sqlite3.Error as exc:
            db.close()
            failure = exc
    assert failure is not None
    raise failure


def _switch_to_wal(db: sqlite3.Connection, timeout: float) -> None:
    """WAL lets readers and one writer work at once. Switching a new index to it takes an
    exclusive lock for which SQLite calls no busy handler: two players opening a fresh
    cache together saw "database is locked" (one in twelve), and the loser went without a
    cache. So it is retried here; a database that is WAL already needs no lock at all."""
    deadline = time.monotonic() + timeout
    delay = 0.005
    while True:
        try:
            db.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if exc.sqlite_errorname not in BUSY or time.monotonic() > deadline:
                raise
        time.sleep(delay)
        delay = min(delay * 2, 0.1)
