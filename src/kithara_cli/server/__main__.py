"""``python -m kithara_cli.server ROOT``: serve a folder by hand, optionally slow."""

from __future__ import annotations

import argparse
import signal
import sys
import threading

from . import Faults, MediaServer


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m kithara_cli.server", description="Serve ROOT over loopback HTTP."
    )
    parser.add_argument("root", metavar="ROOT", help="folder to serve")
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default loopback)")
    parser.add_argument("--port", type=int, default=0, help="port (default: any free one)")
    parser.add_argument("--latency", type=float, default=0.0, help="seconds before each response")
    parser.add_argument("--rate", type=float, default=None, help="bytes/s per connection")
    args = parser.parse_args(argv)

    server = MediaServer(args.root, host=args.host, port=args.port)
    if args.latency or args.rate:
        server.set_faults("*", Faults(latency=args.latency, rate_per_conn=args.rate))
    done = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: done.set())
    with server:
        print(f"serving {server.root} at {server.base_url}/  (Ctrl-C to stop)", flush=True)
        while not done.wait(0.5):
            pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
