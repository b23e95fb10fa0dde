"""UI: what a person sees - progress bars, the live dashboard, log lines.

Promises: reads events (snapshots or a bounded queue) and the player's typed
``play.Snapshot``, never blocks the downloader, decoder or audio callback; text from the network reaches a terminal only through ``ui.sanitize`` (control
characters, escape sequences and bidi overrides shown as visible escapes, lines capped with an
ellipsis, a URL's credentials shown as ``***@``, printable text in any script as itself, with
the joiners and flag tags of ordinary writing) and is never parsed as Rich markup; NO_COLOR
and non-TTY outputs are respected, and a dumb terminal (``TERM=dumb``), which cannot redraw,
gets the plain lines as they happen; a reader of stderr or stdout that leaves early changes no
exit code, and a stdout whose encoding lacks a character (a Latin-1 locale) shows an escape;
a stderr whose encoding is not UTF-8 gets the dashboards in ASCII (``ui.glyphs``), every frame
line within the width, what else it lacks shown as ``?``.
Machine output (``--events``, ``fetch --list --json``) is JSON and stays raw.
Never: decides anything about downloading or playback.
"""
