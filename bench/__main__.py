"""python -m bench [demo|noop|scale|all] ... : see docs/performance.md."""

from __future__ import annotations

import argparse
import sys

from bench import walks

WALKS = {"unbounded": lambda: walks.ours(), "p10": lambda: walks.ours(10),
         "terraform": lambda: walks.terraform_like(10), "waves": walks.waves, "sequential": walks.sequential}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    ap.add_argument("what", nargs="?", default="all", choices=["demo", "dry", "noop", "scale", "all"])
    ap.add_argument("--env", default="production")
    ap.add_argument("--ms-per-minute", type=float, default=20.0,
                    help="real milliseconds per AWS minute in the latency model (default 20)")
    ap.add_argument("--sizes", default="100,1000,5000", help="synthetic plan sizes for `scale`")
    ap.add_argument("--moto-max", type=int, default=None, help="apply/destroy on moto only up to this size")
    ap.add_argument("--walks", default=None,
                    help="comma-separated subset of walks for `demo`: " + ", ".join(WALKS) + " (default: all)")
    args = ap.parse_args(argv)
    scale = args.ms_per_minute / 1000 / 60
    if args.what in ("demo", "all"):
        from bench import demo

        chosen = [WALKS[w.strip()]() for w in args.walks.split(",")] if args.walks else None
        print(demo.render(demo.run(args.env, scale, strategies=chosen)), flush=True)
    if args.what in ("dry", "all"):
        from bench import demo

        print("\n" + demo.dry(args.env, scale), flush=True)
    if args.what in ("noop", "all"):
        from bench import noop

        print("\n" + noop.render(noop.run(args.env)), flush=True)
    if args.what in ("scale", "all"):
        from bench import scale as scale_mod

        sizes = [int(s) for s in args.sizes.split(",")]
        print("\n" + scale_mod.render(scale_mod.run(sizes, args.moto_max)), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
