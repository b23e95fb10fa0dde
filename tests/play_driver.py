"""Drives a playback session in its own process (fresh PortAudio, the test's ALSA config).

Usage: python tests/play_driver.py URL --seek 17 [--pause-first] [--output SPEC]
Prints one JSON line: the events seen (names and a few fields).
"""

from __future__ import annotations

import argparse
import json
import sys
import time

from kithara_cli.dl import Downloader
from kithara_cli.events import EventBus, event_to_dict
from kithara_cli.play import Player, PlayerSettings


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("url")
    parser.add_argument("--output", default="default")
    parser.add_argument("--seek", type=float, default=None)
    parser.add_argument("--pause", type=float, default=0.0, help="pause this long, then resume")
    parser.add_argument("--timeout", type=float, default=40.0)
    ns = parser.parse_args()
    bus = EventBus()
    seen: list[dict[str, object]] = []
    bus.subscribe(lambda e: seen.append(event_to_dict(e)))
    with Downloader(bus) as dl:
        player = Player(bus, PlayerSettings(output=ns.output, buffer=2.0), dl)
        player.open(ns.url)
        deadline = time.monotonic() + ns.timeout
        while not any(e["event"] == "PlaybackStarted" for e in seen):
            if player.ended or time.monotonic() > deadline:
                break
            time.sleep(0.001)
        if ns.pause or ns.seek is not None:
            player.toggle_pause()
            if ns.seek is not None:
                player.seek_to(ns.seek)
            time.sleep(ns.pause or 0.2)
            player.toggle_pause()
        player.wait(max(0.0, deadline - time.monotonic()))
        ended = player.ended
        error = str(player.error) if player.error else None
        player.close()
    names = [
        {
            k: v
            for k, v in e.items()
            if k in ("event", "latency", "target", "output_rate", "message")
        }
        for e in seen
        if e["event"] not in ("Position", "BufferLevel", "RequestProgress")
    ]
    print(json.dumps({"ended": ended, "error": error, "events": names}))
    sys.stdout.flush()


if __name__ == "__main__":
    main()
