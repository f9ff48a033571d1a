"""Command line: ``co2plan <command>``. Stages are imported lazily so that --help is instant."""

from __future__ import annotations

import argparse
import sys


def _cmd_sample(args: argparse.Namespace) -> int:
    from features.sample import write_sample

    out = write_sample(args.out, size=args.size, seed=args.seed, fmt=args.format)
    print(f"sample '{args.size}' (seed {args.seed}) written to {out}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="co2plan", description=__doc__)
    sub = p.add_subparsers(dest="command", required=True)

    s = sub.add_parser("sample", help="generate the embedded sample network")
    s.add_argument("--size", choices=["demo", "large"], default="demo")
    s.add_argument("--seed", type=int, default=7)
    s.add_argument("--format", choices=["csv", "parquet"], default="parquet")
    s.add_argument("--out", default=None, help="output folder (default: lake/_sample/<size>)")
    s.set_defaults(func=_cmd_sample)
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
