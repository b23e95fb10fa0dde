"""kithara: fetch and play audio over HTTP (HLS with adaptive bitrate, progressive files).

The data path reads top to bottom: URL -> peer (``file``/``hls``) -> downloader (``dl``, over
``net``) -> storage -> stream -> decoder -> ring buffer -> device (``audio``); ``play`` runs
that path as one playback session, and ``commands`` wire a verb to it. Every layer publishes
typed ``events`` on one bus; the ``ui`` and ``bench`` read them.
"""

__version__ = "0.1.0"
