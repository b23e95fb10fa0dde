"""File: a single URL, fetched to a file (``fetch``) or played while it downloads (``source``).

Promises: ``ProgressiveFetch`` writes only to ``FILE.part`` and ``FILE.kithara.json`` until the
download is whole, then moves it into place atomically; a later run resumes from the state file
when the remote's validators (size, ETag, Last-Modified) agree, and starts over when they don't
(or when nothing identifies the bytes on disk, or the state file is malformed or claims
bytes past the part's end: so a run that fails or is interrupted with
such bytes removes them rather than leave a part no run will use). Every part is pinned to one version: another
version anywhere starts the file over (once), then fails. A body with no length is read to
its end; with ``max_size`` it stops there and is kept, without it a body past 2 GiB is an
error naming ``--max-size``. ``state.ResumeState`` is the resume record beside the part
(``FILE.kithara.json``; HLS fetches keep theirs in it too, ``kind``/``extra``): no URL in it
holds its ``user:password@`` (kept as ``***@``), so it belongs to a URL by the masked form.
``ProgressiveSource`` (playback, a ``stream.Source``) caches the body in a sparse file, fetches
from the reader's position (a seek re-aims it at demand priority), holds back after the first
512 KiB until playback starts, then fills the rest; it pins every request to its first
response's version and fails with RemoteChangedError rather than play two versions. Its
first request asks for ICY metadata; a first response that is an ICY answer is handed to
``radio.LiveStream``; one with no length and no Range (a file served chunked or
close-delimited) is kept whole like a file, its one request paced 32 MiB ahead of the
reader, up to 256 MiB, past which it goes on in a ``LiveStream`` window. ``ProgressiveFetch`` stops at an
Icecast/SHOUTcast answer (``radio.live.LiveStreamFound``): the command records it instead.
``lock.OutputLock`` makes one process the only writer of an output (for HLS fetches too): an
exclusive ``flock`` on ``FILE.kithara.lock`` held for the whole fetch.
Never: leaves a half-written file at the output path, or keeps a body in memory.
"""

from kithara_cli.file.fetch import FetchResult, ProgressiveFetch, check_output

__all__ = ["FetchResult", "ProgressiveFetch", "check_output"]
