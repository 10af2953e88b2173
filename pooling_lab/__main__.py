"""The ``pooling-lab`` command (also ``python -m pooling_lab``).

    python -m pooling_lab demo [IMAGE]     the four styles on a photo, timed, and a picture
    python -m pooling_lab bench [options]  time and memory of every op, pass and style
    python -m pooling_lab bench --targets  the course's performance targets, checked
    python -m pooling_lab slides NB... --out DIR   reveal.js decks that need no network

Both commands run NumPy's BLAS (used by convolution) on one thread, as the PyTorch numbers
are: on a small shared machine, BLAS threads that wait for a busy core can make a small
matrix product ten times slower. BLAS reads its thread count once, when NumPy is imported,
so the command restarts itself with ``OPENBLAS_NUM_THREADS`` (and the OpenMP and MKL
equivalents) set; ``--threads 0`` keeps the environment as it is.

A bad option or file ends the command with one line on stderr, naming the problem, and exit
status 2, before any work: each command's ``check_arguments`` raises ``ValueError`` or
``TypeError`` (``OSError`` for a file), and :func:`main` prints its message. Those checks
bound the sizes, but should a command still run out of memory, the ``MemoryError`` ends it
the same way: one line and exit status 2.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys

#: Environment variables that set the number of BLAS threads, read when NumPy starts.
THREAD_VARIABLES = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")

#: The exit status of a bad option or file, as argparse uses.
USAGE_ERROR = 2


class OneLineParser(argparse.ArgumentParser):
    """An ``ArgumentParser`` whose errors are one line on stderr (``--help`` shows the usage)."""

    def error(self, message):
        self.exit(USAGE_ERROR, f"{self.prog}: error: {message} (see --help)\n")


def build_parser() -> argparse.ArgumentParser:
    from . import bench, demo, slides

    parser = OneLineParser(
        prog="pooling-lab",
        description="Max pool, average pool and 2-D convolution, forward and backward, in "
                    "four NumPy styles (naive loops, slice-stacking, strided views, and the "
                    "strided idea tuned for speed).")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    demo_parser = commands.add_parser(
        "demo", help="run the four styles on a photo and write a picture",
        description=demo.__doc__.split("\n\n")[1].replace("\n", " "))
    demo.add_arguments(demo_parser)
    bench_parser = commands.add_parser(
        "bench", help="time every op, pass and style; compare with PyTorch",
        description=bench.__doc__.split("\n\n")[0] + " Prints Markdown tables and a legend "
                    "of their columns; progress and notes go to stderr.",
        epilog="Example: python -m pooling_lab bench --op max --shape 32 64 64 32 "
               "--kernel 3 --stride 2 --torch-python /path/to/python-with-torch")
    bench.add_arguments(bench_parser)
    from . import grade, release, slides
    for module in (grade, release, slides):     # the integrator moves these into the command table
        sub = commands.add_parser(module.__name__.rsplit(".", 1)[1],
                                  help=module.__doc__.split(":")[0].lower(),
                                  description=module.__doc__.split("\n\n")[0])
        module.add_arguments(sub)
        sub.set_defaults(threads=0)     # their own processes set BLAS threads themselves
    for sub in (demo_parser, bench_parser):
        sub.add_argument("--threads", type=int, default=1,
                         help="BLAS threads (default 1, as PyTorch's here); 0 keeps the "
                              "environment as it is")
    return parser


def main(argv=None) -> int:
    """Parse ``argv`` (default: the command line) and run the command; return its exit code."""
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "slides":
        args.threads = 0                  # no BLAS work: no restart
    if args.threads < 0:
        parser.error(f"argument --threads: must be 0 (keep the environment) or a positive "
                     f"number of threads; got {args.threads}")
    wanted = str(args.threads)
    if args.threads > 0 and any(os.environ.get(name) != wanted for name in THREAD_VARIABLES):
        env = dict(os.environ, **{name: wanted for name in THREAD_VARIABLES})
        return subprocess.run([sys.executable, "-m", "pooling_lab", *argv], env=env).returncode
    from . import bench, demo, grade, release, slides
    command = {"demo": demo, "bench": bench, "grade": grade, "release": release,
               "slides": slides}[args.command]
    try:
        settings = command.check_arguments(args)
    except (ValueError, TypeError, OSError) as error:
        print(f"pooling-lab {args.command}: error: {error}", file=sys.stderr)
        return USAGE_ERROR
    try:
        return command.run(settings)
    except MemoryError as error:          # a safety net: the checks above should refuse first
        reason = (str(error).splitlines() or ["MemoryError"])[0]
        print(f"pooling-lab {args.command}: error: out of memory ({reason}); use a smaller "
              f"case", file=sys.stderr)
        return USAGE_ERROR


if __name__ == "__main__":
    sys.exit(main())
