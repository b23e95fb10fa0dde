"""Storage: a sparse on-disk resource that knows which byte ranges it holds.

Promises: ``write_at`` lands bytes on disk (page cache) before they count as present;
``wait_range`` parks a synchronous reader until its bytes are present, the resource fails, or
it is closed - it has no wall-clock budget of its own unless the caller passes one; end of data
is proven (a known total and every byte below it), never guessed.
Never: holds downloaded bytes in memory, or talks to the network (the downloader feeds it).
This is the one seam between the async network half and the sync decoder half.
"""

from kithara_cli.storage.ranges import RangeSet
from kithara_cli.storage.resource import ResourceClosed, ResourceFailed, SparseResource

__all__ = ["RangeSet", "ResourceClosed", "ResourceFailed", "SparseResource"]
