"""Commands: wire the layers together for each CLI verb; argument handling and wiring only.

The playback session lives in ``play``; HLS fetching is ``hls`` (loader, segment scheduler,
writer, playlist worker) wired by ``fetch_hls``; progressive fetching is ``file``. Nothing below
imports this package; ``fetch_hls`` takes its options through typed Protocols that
``FetchOptions`` and ``CommonOptions`` fit, so the two fetch modules do not import each other.
"""
