"""UI: what a person sees - progress bars, the live dashboard, log lines.

Promises: reads events (snapshots or a bounded queue), never blocks the downloader, decoder or
audio callback; text from the network is shown literally (never parsed as Rich markup); NO_COLOR
and non-TTY outputs are respected.
Never: decides anything about downloading or playback.
"""
