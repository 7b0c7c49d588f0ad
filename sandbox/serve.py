"""Entry point of the sandbox server process: `python -m sandbox.serve --port N`.

It loads exactly what the tests load (settings, moto config, fidelity
extensions) and turns the lifecycle simulation on (unless --no-lifecycle),
then serves moto on 127.0.0.1 until SIGTERM/SIGINT, when it shuts down
cleanly so nothing is left listening.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import threading
from typing import Any


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sandbox.serve", description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--host", default="127.0.0.1", help="loopback only; anything else is refused")
    parser.add_argument("--scale", type=float, default=None,
                        help="real seconds per AWS second (default INFRA_SANDBOX_SCALE or 1 min = 10 ms)")
    parser.add_argument("--no-lifecycle", action="store_true", help="make every resource ready at once")
    parser.add_argument("--log-requests", action="store_true",
                        default=os.environ.get("INFRA_SANDBOX_LOG_REQUESTS", "") not in ("", "0"),
                        help="a line per request in server.log (default INFRA_SANDBOX_LOG_REQUESTS; off)")
    args = parser.parse_args(argv)
    if args.host not in ("127.0.0.1", "localhost", "::1"):
        parser.error("the sandbox only listens on loopback (127.0.0.1)")

    from sandbox import settings

    settings.apply_env()
    settings.apply_moto_config()

    from moto.moto_server.threaded_moto_server import ThreadedMotoServer

    from sandbox import lifecycle
    from sandbox.extensions import install

    install()
    if args.no_lifecycle:
        lifecycle.disable()
    else:
        lifecycle.enable(args.scale)

    if not args.log_requests:
        # werkzeug logs every request at INFO: a sixth of the server's CPU in an apply, and a server.log that
        # grows by thousands of lines a run. Errors (a request that raised) are still logged.
        logging.getLogger("werkzeug").setLevel(logging.WARNING)
    server = ThreadedMotoServer(ip_address=args.host, port=args.port, verbose=False)
    stop = threading.Event()

    def on_signal(signum: int, frame: Any) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    server.start()
    print(f"sandbox listening on http://{args.host}:{args.port}", flush=True)
    while not stop.wait(0.1):
        pass
    server.stop()
    # Out at once: the interpreter's teardown of moto's heap (hundreds of MB of backends, frozen out of the
    # GC by the warm start) took 2 s of every `sandbox down`, and the server holds nothing to save.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


if __name__ == "__main__":
    sys.exit(main())
