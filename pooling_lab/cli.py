"""The ``pooling-lab`` command (also ``python -m pooling_lab``) and its :data:`COMMANDS`.

Each command is a module of this package, listed once in :data:`COMMANDS`, that provides:

* its docstring: the first line is the command's one-line help, the first two paragraphs the
  description that ``--help`` shows;
* ``add_arguments(parser)``: its options, on an ``argparse`` parser;
* ``check_arguments(args) -> settings``: every option checked before any work, raising
  ``ValueError`` or ``TypeError`` for a bad value, ``OSError`` for a file (:func:`output_file`
  checks one to write), with a message naming the option, the value received and what is allowed;
* ``run(settings) -> int``: the work; it returns the exit status;
* ``USES_BLAS = True``, only if it multiplies matrices: such a command takes ``--threads``
  (default 1, as the PyTorch numbers: BLAS threads waiting for a busy core can make a small
  product ten times slower), set by :func:`restart` in :data:`THREAD_VARIABLES`.

Exit statuses, the same for every command: 0 done; 2 a bad option or file (one line on stderr,
before any work), or out of memory should the checks still let a case through; 130 stopped with
Ctrl-C (one line on stderr). A command may add its own (``bench`` 1, ``demo`` 3).
"""

import argparse
import importlib
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

#: The commands, each run by the module of this package of the same name.
COMMANDS = {"demo": "benchmark.demo", "bench": "benchmark.bench", "grade": "classroom.grade",
            "release": "classroom.release", "slides": "classroom.slides",
            "export": "classroom.export"}

#: Environment variables that set the number of BLAS threads, read when NumPy starts.
THREAD_VARIABLES = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")

#: The exit status of a bad option or file (as argparse uses), and of Ctrl-C (128 + SIGINT).
USAGE_ERROR, INTERRUPTED = 2, 130


class OneLineParser(argparse.ArgumentParser):
    """An ``ArgumentParser`` whose errors are one line on stderr (``--help`` shows the usage)."""

    def error(self, message):
        self.exit(USAGE_ERROR, f"{self.prog}: error: {message} (see --help)\n")


def output_file(path: str, option: str, formats=None) -> Path:
    """The file ``option`` names, ``~`` expanded, once it is known that it can be written: a
    folder, a missing folder or a suffix not in ``formats`` (if given) is a ValueError, a file
    that cannot be opened for appending (no permission, /proc...) an OSError."""
    file = Path(path).expanduser()
    if file.is_dir():
        raise ValueError(f"{option} must name a file; got the folder {path!r}")
    if not file.parent.is_dir():
        raise ValueError(f"{option} {path!r}: the folder {str(file.parent)!r} does not exist")
    if formats is not None and file.suffix.lstrip(".").lower() not in formats:
        raise ValueError(f"{option} must end in one of {sorted(formats)}; got {path!r}")
    existed = file.exists()
    try:
        open(file, "a").close()                  # creates the file if need be (removed again)
    except OSError as error:
        raise OSError(f"{option} {path!r} cannot be written: {error.strerror}") from None
    if not existed:
        file.unlink()
    return file


def build_parser() -> argparse.ArgumentParser:
    """The parser of every command, each described by its module's docstring, reST removed."""
    parser = OneLineParser(prog="pooling-lab", description="Max pool, average pool and 2-D "
                           "convolution, forward and backward, in four NumPy styles (naive loops, "
                           "slice-stacking, strided views, and the strided idea tuned for speed).")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, path in COMMANDS.items():
        module = importlib.import_module(f"pooling_lab.{path}")
        paragraphs = re.sub(r":\w+:`[.~]?([^`]*)`", r"\1", module.__doc__).replace(
            "``", "").split("\n\n")
        sub = commands.add_parser(name, help=paragraphs[0].splitlines()[0],
                                  description="\n\n".join(paragraphs[:2]),
                                  formatter_class=argparse.RawDescriptionHelpFormatter)
        module.add_arguments(sub)
        if getattr(module, "USES_BLAS", False):
            sub.add_argument("--threads", type=int, default=1, help="BLAS threads (default 1, as "
                             "PyTorch's here); 0 keeps the environment as it is")
        sub.set_defaults(module=module)
    return parser


def restart(argv: list, threads: int) -> int:
    """Run the command again in a child process with ``threads`` BLAS threads; its exit status.

    Ctrl-C in a terminal reaches both processes, and the child ends as any command does; a
    SIGINT sent to this process alone is passed on if the child is still running 2 s later."""
    env = dict(os.environ, **{name: str(threads) for name in THREAD_VARIABLES})
    child = subprocess.Popen([sys.executable, "-m", "pooling_lab", *argv], env=env)
    try:
        return child.wait()
    except KeyboardInterrupt:
        try:
            return child.wait(timeout=2)
        except subprocess.TimeoutExpired:
            child.send_signal(signal.SIGINT)
            return child.wait()


def main(argv=None) -> int:
    """Parse ``argv`` (default: the command line) and run the command; return its exit code."""
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = build_parser()
    args = parser.parse_args(argv)
    threads = getattr(args, "threads", 0)
    if threads < 0:
        parser.error(f"argument --threads: must be 0 (keep the environment) or a positive "
                     f"number of threads; got {threads}")
    if threads > 0 and any(os.environ.get(name) != str(threads) for name in THREAD_VARIABLES):
        return restart(argv, threads)
    name = f"pooling-lab {args.command}"
    try:
        try:
            settings = args.module.check_arguments(args)
        except (ValueError, TypeError, OSError) as error:
            print(f"{name}: error: {error}", file=sys.stderr)
            return USAGE_ERROR
        return args.module.run(settings)
    except MemoryError as error:          # a safety net: the checks should refuse first
        reason = (str(error).splitlines() or ["MemoryError"])[0]
        print(f"{name}: error: out of memory ({reason}); use a smaller case", file=sys.stderr)
        return USAGE_ERROR
    except KeyboardInterrupt:
        print(f"{name}: stopped (Ctrl-C)", file=sys.stderr)
        return INTERRUPTED
