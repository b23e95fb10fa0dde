"""File: progressive (single-URL) sources.

Promises: ``ProgressiveFetch`` writes only to ``FILE.part`` and ``FILE.kithara.json`` until the
download is whole, then moves it into place atomically; a later run resumes from the state file
when the remote's validators (size, ETag, Last-Modified) agree, and starts over when they don't.
``lock.OutputLock`` makes one process the only writer of an output (for HLS fetches too): an
exclusive ``flock`` on ``FILE.kithara.lock`` held for the whole fetch.
Never: leaves a half-written file at the output path, or keeps a body in memory.
"""

from kithara_cli.file.fetch import FetchResult, ProgressiveFetch, check_output

__all__ = ["FetchResult", "ProgressiveFetch", "check_output"]
