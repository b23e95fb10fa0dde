"""Commands: wire the layers together for each CLI verb; argument handling and wiring only.

The playback session lives in ``play``, HLS fetching in ``hls.fetch_cmd``, progressive
fetching in ``file``; nothing below imports this package (``hls.fetch_cmd`` takes its options
through typed Protocols that ``FetchOptions`` and ``CommonOptions`` fit).
"""
