"""``python -m stripe_sandbox [--host 127.0.0.1] [--port 12111] [--state FILE]``."""

from __future__ import annotations

import argparse
import contextlib
import ipaddress
import sys

from .sandbox import Sandbox


def _delays(text: str) -> tuple[float, ...]:
    try:
        return tuple(float(x) for x in text.split(",") if x.strip())
    except ValueError:
        raise argparse.ArgumentTypeError("expected comma-separated seconds, e.g. 5,30,120")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m stripe_sandbox", description="A local Stripe for development and tests."
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=12111, help="0 picks a free port")
    parser.add_argument("--state", metavar="FILE", help="persist state to FILE (JSON)")
    parser.add_argument(
        "--allow-remote", action="store_true", help="allow binding to a non-loopback address"
    )
    parser.add_argument(
        "--webhook-retry-delays",
        type=_delays,
        default=None,
        metavar="S,S,...",
        help="seconds between webhook retries",
    )
    parser.add_argument("--verbose", action="store_true", help="log every request")
    args = parser.parse_args(argv)
    try:
        loopback = ipaddress.ip_address(args.host).is_loopback
    except ValueError:
        loopback = args.host == "localhost"
    if not loopback and not args.allow_remote:
        parser.error(
            f"refusing to listen on {args.host}: pass --allow-remote to expose the "
            "sandbox beyond this machine"
        )
    kwargs = {"retry_delays": args.webhook_retry_delays} if args.webhook_retry_delays else {}
    sandbox = Sandbox(args.host, args.port, args.state, verbose=args.verbose, **kwargs)
    print(f"stripe sandbox listening on {sandbox.url}", flush=True)
    with contextlib.suppress(KeyboardInterrupt):
        sandbox.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())
