"""``refkeras conformance``: check a backend against the reference and print the report."""

from __future__ import annotations

import argparse
import sys


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--backend",
        required=True,
        help="backend to check: numpy, numba, jax, cupy, or package.module:attr",
    )
    parser.add_argument("--profile", default="ci", choices=("ci", "nightly", "repro"))
    parser.add_argument("--report", metavar="OUT.json", help="also write the JSON report here")
    parser.add_argument(
        "--only",
        metavar="PATTERN",
        help="components to check: globs, comma-separated (primitive.conv, 'primitive.*', layer)",
    )
    parser.add_argument("--repro", metavar="FILE.npz", help="rerun one saved failing case")
    parser.add_argument(
        "--deviations",
        metavar="FILE.toml",
        help="declared deviations (default: the packaged file of the backend)",
    )
    parser.add_argument(
        "--repro-dir",
        default="conformance-repro",
        help="where failing cases are saved (default: ./conformance-repro)",
    )
    parser.add_argument("--seed", type=int, help="hypothesis seed (instead of derandomizing)")
    parser.add_argument("--quiet", action="store_true", help="print only failures and summary")


def run(args: argparse.Namespace) -> int:
    """Run from parsed arguments; the exit status is 1 when anything failed."""
    try:
        from conformance import runner
    except ImportError as e:
        if e.name not in ("hypothesis", "ml_dtypes"):
            raise
        print(
            f'The conformance suite needs {e.name!r}: pip install "refkeras[conformance]"',
            file=sys.stderr,
        )
        return 2

    log = None if args.quiet else print
    if args.repro or args.profile == "repro":
        if not args.repro:
            print("--profile repro needs --repro FILE.npz", file=sys.stderr)
            return 2
        report = runner.rerun(args.repro, args.backend, log=print)
    else:
        if log:
            from conformance.report import Report

            print(Report("", "", "").header())
        report = runner.run(
            args.backend,
            profile=args.profile,
            only=args.only,
            deviations_file=args.deviations,
            repro_dir=args.repro_dir,
            seed_value=args.seed,
            log=log,
        )
    if args.quiet or args.repro:
        print(report.table())
    print(report.summary())
    if args.report:
        report.write_json(args.report)
    return 1 if report.failures or not report.results else 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="refkeras conformance", description=__doc__)
    add_arguments(parser)
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
