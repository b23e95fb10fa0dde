"""Two processes on one cache while the remote file changes: one replaces the entry with the
new version while the other is still serving the old one from it. The reader must get the
bytes of the version it looked up, or none (then the network, pinned to that version), never
the other version's bytes at the same offsets."""

from __future__ import annotations

from pathlib import Path

from kithara_cli.cache.hook import DiskCache
from kithara_cli.cache.store import CacheStore, EntryMeta

URL = "http://h/song.mp3"
SIZE = 2000


def test_a_reader_never_gets_the_bytes_of_a_version_put_after_its_lookup(
    tmp_path: Path,
) -> None:
    """Before: ``read`` served whatever piece held the offset by then: the first half of
    version 1, then the second half of version 2."""
    writer = CacheStore(tmp_path)
    v1 = EntryMeta(URL, '"v1"', None, SIZE)
    writer.put(v1, 0, b"1" * SIZE)
    reader_store = CacheStore(tmp_path)  # the other process
    reader = DiskCache(lambda: reader_store)
    copy = reader.lookup(URL)
    assert copy is not None and copy.spans == ((0, SIZE),)
    assert reader.read(copy, 0, SIZE // 2) == b"1" * (SIZE // 2)
    # Meanwhile the other process learns of version 2 and stores it over the same bytes.
    writer.put(EntryMeta(URL, '"v2"', None, SIZE), 0, b"2" * SIZE)
    assert reader.read(copy, SIZE // 2, SIZE) is None  # not version 2's bytes
    fresh = reader.lookup(URL)
    assert fresh is not None and fresh.identity.etag == '"v2"'
    assert reader.read(fresh, SIZE // 2, SIZE) == b"2" * (SIZE // 2)
    reader.close()
    writer.close()
