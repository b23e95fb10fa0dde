"""Commands: wire the layers together for each CLI verb; argument handling and wiring only.

The playback session lives in ``play``; HLS fetching is ``hls`` (loader, segment scheduler,
writer, playlist worker) wired by ``fetch_hls``; progressive fetching is ``file``. Nothing below
imports this package; the two fetch modules share ``FetchOptions`` and the progress view
through ``fetch_shared``, so they do not import each other.
"""
