"""Judge one submitted notebook: its cells run in a sandbox, its verdicts given out here.

:func:`judge_notebook` starts :mod:`.child` in a sandbox that runs the cells the student changed
or added, then calls the student's functions on request. This side draws the cases, holds the
expected values and compares (``check.judge`` with a remote ``call``): the child receives only
one call's inputs and sends back only what the watch saw, in size-capped frames over a socket of
its own, read here with a deadline.

The sandbox is bubblewrap (``bwrap``): a read-only Python and NumPy, the watch and the child,
nothing else of the machine; a private empty ``/tmp``; no network; its own PID namespace, killed
as a whole; no new processes (a seccomp filter); limits of memory, CPU time, file size and open
files. Without bubblewrap (``sandbox="off"``, or "auto" where it is missing) the same child runs
as an ordinary process with the same limits: see TEACHING.md, "Safety".
"""

import ast
import contextlib
import errno
import functools
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import sysconfig
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from . import check, child, watch
from .exercises import ANSWER_PREAMBLE, EXERCISES
from .kernel import bound_names

HIDDEN_CASES = 3                      # random cases per exercise, drawn from the seed
NOTEBOOK_BYTES = 16 * 1024**2         # a larger file is not read
MESSAGE_CHARS = 4000                  # of each verdict, note and answer
GRACE = 1.0                           # seconds past a call's limit before the sandbox is killed
START_SECONDS, STATEMENT_SECONDS, CELLS_SECONDS = 20.0, 10.0, 60.0
SKIPPED_STATEMENTS = 3                # statements that hang or kill the child, skipped, at most
#: The child's own limits (soft = hard): address space, CPU seconds, file size, open files.
LIMITS = {"RLIMIT_AS": 1024**3, "RLIMIT_CPU": 120, "RLIMIT_FSIZE": 16 * 1024**2,
          "RLIMIT_NOFILE": 64}
TMP_BYTES = 32 * 1024**2              # the sandbox's /tmp
COURSE = Path(__file__).resolve().parents[2] / "notebooks"
_KINDS = ("returned", "none", "unsolved", "slow", "stuck", "memory", "modified", "forbidden",
          "switched")
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069]")
_SIGNALS = {int(number): number.name for number in signal.Signals}   # a real-time one has none


@dataclass
class Judged:
    """Each exercise's Verdict, the source of the cells that define it, notes on the file."""
    verdicts: dict = field(default_factory=dict)
    answers: dict = field(default_factory=dict)
    notes: list = field(default_factory=list)


class SandboxEnded(Exception):
    """The child ended, overran or sent what cannot be read: its exercise fails with this."""


def clean(text, limit=MESSAGE_CHARS) -> str:
    """``text`` without control characters (newlines and tabs kept), cut to ``limit``."""
    text = _CONTROL.sub("", str(text)[:limit + 1])
    return text if len(text) <= limit else text[:limit] + " [... cut]"


def _seccomp_fd() -> int:
    """A file (close it after) holding a seccomp filter (BPF) refusing new processes, allowing
    threads: no forks, no spawn; for bubblewrap's ``--seccomp FD``, or loaded by the child."""
    import pyseccomp as seccomp
    rules = seccomp.SyscallFilter(seccomp.ALLOW)
    for name in ("fork", "vfork"):
        rules.add_rule(seccomp.ERRNO(errno.EPERM), name)
    clone_thread = 0x10000                    # CLONE_THREAD: a thread shares the process
    rules.add_rule(seccomp.ERRNO(errno.EPERM), "clone", seccomp.Arg(0, seccomp.MASKED_EQ,
                                                                    clone_thread, 0))
    rules.add_rule(seccomp.ERRNO(errno.ENOSYS), "clone3")    # so glibc falls back to clone
    fd = os.memfd_create("seccomp")
    with open(fd, "wb", closefd=False) as program:       # export_bpf writes to a file's fileno
        rules.export_bpf(program)
    os.lseek(fd, 0, os.SEEK_SET)
    return fd


def _bwrap(seccomp_fd: int) -> list:
    """The bubblewrap command before the interpreter: what the child sees, nothing more."""
    base = os.path.realpath(sys.base_prefix)
    command = ["bwrap", "--unshare-all", "--unshare-user", "--uid", "65534", "--gid", "65534",
               "--cap-drop", "ALL", "--die-with-parent", "--new-session", "--clearenv",
               "--setenv", "PATH", "/usr/bin", "--setenv", "HOME", "/tmp",
               "--setenv", "OPENBLAS_NUM_THREADS", "1", "--setenv", "OMP_NUM_THREADS", "1",
               "--proc", "/proc", "--dev", "/dev", "--size", str(TMP_BYTES), "--tmpfs", "/tmp",
               "--chdir", "/tmp"]
    for folder in ("/usr/lib", "/usr/lib64", "/lib", "/lib64"):      # the C libraries
        command += (["--symlink", os.readlink(folder), folder] if os.path.islink(folder)
                    else ["--ro-bind-try", folder, folder])         # -try: skipped if missing
    command += ["--ro-bind", base, base]       # the interpreter and its standard library
    for key in ("purelib", "platlib"):         # ... without the base's installed packages
        hidden = sysconfig.get_path(key, vars={"base": base, "platbase": base})
        if os.path.isdir(hidden):
            command += ["--tmpfs", hidden]
    if os.path.isdir("/usr/lib/python3/dist-packages"):
        command += ["--tmpfs", "/usr/lib/python3/dist-packages"]
    numpy_folder = Path(np.__file__).parent
    for folder in (numpy_folder, numpy_folder.with_name("numpy.libs")):      # the libs if any
        command += ["--ro-bind-try", str(folder), f"/grader/site/{folder.name}"]
    for module in (child, watch):
        command += ["--ro-bind", module.__file__, f"/grader/{Path(module.__file__).name}"]
    return command + ["--seccomp", str(seccomp_fd), "--remount-ro", "/", "--"]


def _command(isolated: bool, channel: int, seccomp: int) -> list:
    """Start the child on the socket ``channel``, in bubblewrap or not; the seccomp program in
    the file ``seccomp`` (-1: none) is loaded by bubblewrap, or by the child itself."""
    python = os.path.realpath(getattr(sys, "_base_executable", sys.executable))
    if isolated:
        return [*_bwrap(seccomp), python, "-I", "-S", "/grader/child.py", str(channel),
                "/grader/site", json.dumps(LIMITS), "-1"]
    return [python, "-I", "-S", child.__file__, str(channel),
            str(Path(np.__file__).parent.parent), json.dumps(LIMITS), str(seccomp)]


@functools.lru_cache(maxsize=None)
def _seccomp_problem() -> str:
    """Why the seccomp program cannot be made here (Linux, pyseccomp, libseccomp), or ""."""
    try:
        os.close(_seccomp_fd())
    except (ImportError, OSError, RuntimeError, AttributeError) as error:
        return f"pyseccomp (with libseccomp) is not available: {error}"
    return ""


@functools.lru_cache(maxsize=None)
def sandbox_problem() -> str:
    """Why there is no bubblewrap sandbox here (one line), or "" when there is one."""
    if not shutil.which("bwrap"):
        return "bubblewrap (bwrap) is not installed"
    if _seccomp_problem():
        return _seccomp_problem()
    fd = _seccomp_fd()
    command = _command(True, 0, fd)[:-5] + ["-c", "import sys; sys.path.insert(0, "
                                        "'/grader/site'); import numpy"]
    try:
        done = subprocess.run(command, stdin=subprocess.DEVNULL, capture_output=True,
                              timeout=60, pass_fds=(fd,))
    except (OSError, subprocess.TimeoutExpired) as error:
        return f"bwrap does not start: {error}"
    finally:
        os.close(fd)
    last = (done.stderr.decode(errors="replace").strip().splitlines() or ["?"])[-1]
    return "" if done.returncode == 0 else f"bwrap cannot make a sandbox here: {last}"


def _placeholder(type_name: str, text: str):
    """What the student's function returned when it does not cross: named after its type."""
    name = re.sub(r"\W", "", str(type_name))[:60] or "object"
    return type(name, (), {"__repr__": lambda self: clean(text, 200)})()


class Sandbox:
    """The child, started with the cells and ``skip`` (statements not to run); ``ready``
    holds the names the cells define, ``failed`` their failures, or ``ended`` why it ended."""

    def __init__(self, cells: list, skip: list, isolated: bool):
        self.ended, self.failed, self.functions, self.isolated = "", [], [], isolated
        self.running, self.folder = None, tempfile.mkdtemp(prefix="pooling_lab_grade_")
        self.channel, child_end = socket.socketpair()
        seccomp = -1 if _seccomp_problem() else _seccomp_fd()
        fds = [child_end.fileno(), *([seccomp] if seccomp >= 0 else [])]
        try:
            self.process = subprocess.Popen(
                _command(isolated, child_end.fileno(), seccomp), cwd=self.folder,
                pass_fds=fds, start_new_session=True,
                env={"HOME": self.folder, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"},
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        finally:
            child_end.close()
            for fd in fds[1:]:
                os.close(fd)
        deadline = time.monotonic() + START_SECONDS        # Python, NumPy, the preamble
        last = deadline + CELLS_SECONDS                       # then the cells, in all
        try:
            child.send(self.channel, {"preamble": ANSWER_PREAMBLE, "cells": cells, "skip": skip})
            while True:
                message = self._receive(deadline)
                if "ready" in message:
                    break
                self.running = message["running"]
                deadline = min(time.monotonic() + STATEMENT_SECONDS, last)
            self.functions = [name for name in message["ready"] if isinstance(name, str)]
            self.failed = [f"{label} line {line} does not run: {error}"
                           for label, line, error in message["failed"]]
        except SandboxEnded as ended:
            self.ended = str(ended)
        except (KeyError, TypeError, ValueError) as error:      # not a message of ours
            self.close()
            self.ended = f"it sent a message the grader does not read ({type(error).__name__})"

    def _receive(self, deadline: float) -> dict:
        """The next message, or SandboxEnded (the child killed) past ``deadline``."""
        try:
            return child.unpack(child.receive(self.channel, deadline=deadline), _placeholder)
        except (TimeoutError, socket.timeout):
            self.close()
            raise SandboxEnded("took too long") from None
        except (OSError, EOFError) as error:
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(GRACE)           # its exit status says why
            self.close()
            code = self.process.returncode
            if self.isolated and code is not None and code > 128:   # bwrap's way to say
                code = -(code - 128)                                  # killed by a signal
            raise SandboxEnded(f"the process running it ended ({error})" if code is None else
                               "the process running it was killed by "
                               f"{_SIGNALS.get(-code, f'signal {-code}')}"
                               if code < 0 else f"the process running it exited ({code})"
                               ) from None
        except Exception as error:                 # too large, or not a frame of ours
            self.close()
            raise SandboxEnded(f"it sent a reply the grader does not read "
                               f"({type(error).__name__}: {clean(error, 200)})") from None

    def call(self, function: str, inputs: dict, limit: float, forbid_at: bool) -> watch.Call:
        """One watched call of ``function`` in the child, as :func:`watch.watched_call`."""
        if self.ended:
            raise SandboxEnded(self.ended)
        try:
            child.send(self.channel, {"function": function, "inputs": inputs, "limit": limit,
                                      "forbid_at": forbid_at})
            reply = self._receive(time.monotonic() + limit + GRACE)["call"]
            kind = reply["kind"]
            if not (kind in _KINDS or re.fullmatch(r"raised \w{1,100}", kind)):
                raise SandboxEnded(f"it sent a reply the grader does not read (kind {kind!r:.40})")
            names = [[clean(name, 100) for name in reply[key][:10]]
                     for key in ("forbidden", "switched", "shared", "called")]
            return watch.Call(kind, reply["result"], clean(reply["problem"]), *names[:2],
                              int(reply["work"]), int(reply["peak"]),
                              clean(reply["printed"], 20_000), *names[2:])
        except SandboxEnded as ended:
            self.close()                           # closed already, unless the kind was forged
            self.ended = str(ended)
            if ended.args[0] == "took too long":   # the watch's stop was swallowed
                return watch.Call("slow", None, "", [], [], 0, 0, "")
            raise
        except (OSError, KeyError, TypeError, ValueError, ArithmeticError,
                AttributeError) as error:
            self.close()
            self.ended = f"it sent a reply the grader does not read ({type(error).__name__})"
            raise SandboxEnded(self.ended) from None

    def close(self) -> None:
        """Kill the child with everything it started (bubblewrap's PID namespace goes with it)."""
        if self.process.poll() is None:
            try:
                os.killpg(self.process.pid, signal.SIGKILL)
            except OSError:
                self.process.kill()
        self.process.wait()
        self.channel.close()
        shutil.rmtree(self.folder, ignore_errors=True)    # renamed inside it: still removed
        self.ended = self.ended or "ended"


@functools.lru_cache(maxsize=None)
def course_sources() -> frozenset:
    """The sources of the course's own code cells (``notebooks/NN_*.ipynb``), when present."""
    return frozenset("".join(cell["source"]).strip()
                     for notebook in sorted(COURSE.glob("[0-9][0-9]_*.ipynb"))
                     for cell in json.loads(notebook.read_text(encoding="utf-8"))["cells"]
                     if cell["cell_type"] == "code")


def _python(source: str) -> str:
    """The cell as IPython runs it: magics, ``!`` lines and cell magics turned into calls."""
    try:
        from IPython.core.inputtransformer2 import TransformerManager
        return TransformerManager().transform_cell(source)
    except Exception:            # no IPython here, or it refuses the cell: parsed as it is
        return source


def student_cells(path: Path, notes: list) -> list:
    """``[(label, source as run, source as written)]``: the cells the student changed or added,
    labelled as Jupyter shows them (``[5]``, or ``code cell 7`` when never run)."""
    try:
        with open(path, "rb") as file:
            data = file.read(NOTEBOOK_BYTES + 1)
    except OSError as error:
        notes.append(f"cannot be read: {clean(error.strerror, 200)}")
        return []
    if len(data) > NOTEBOOK_BYTES:
        notes.append(f"too large (over {NOTEBOOK_BYTES // 1024**2} MiB): not graded")
        return []
    try:
        code = [(cell.get("execution_count"), "".join(cell["source"]))
                for cell in json.loads(data)["cells"] if cell["cell_type"] == "code"]
    except (ValueError, TypeError, KeyError, AttributeError, RecursionError, MemoryError):
        notes.append("not a notebook")
        return []
    if not code:
        notes.append("no code cell")
    cells, course = [], course_sources()
    for number, (count, source) in enumerate(code, start=1):
        label = f"[{count}]" if type(count) is int else f"code cell {number}"
        if not source.strip() or source.strip() in course:
            continue
        try:
            python = _python(source)
            ast.parse(python, label)
        except (SyntaxError, ValueError, RecursionError, MemoryError) as error:  # a NUL; too deep
            why = f"line {error.lineno}" if isinstance(error, SyntaxError) else type(error).__name__
            notes.append(f"{label} does not parse ({why}): not run")
            continue
        cells.append((label, python, source))
    if code and not cells:
        notes.append("no code cell changed or added: every code cell is the course's own")
    return cells


def judge_notebook(path: Path, exercises: list, *, seed: int, sandbox: str = "auto") -> Judged:
    """Judge ``exercises`` (function names of :data:`EXERCISES`) in the notebook at ``path``,
    with ``HIDDEN_CASES`` hidden cases each drawn from ``seed``. ``sandbox``: "auto"
    (bubblewrap where it works), "require" (a ValueError without it) or "off". Never raises
    for anything the submission does: that becomes a verdict or a note."""
    if sandbox not in ("auto", "require", "off"):
        raise ValueError(f"sandbox must be 'auto', 'require' or 'off'; got {sandbox!r}")
    if sandbox == "require" and sandbox_problem():
        raise ValueError(f"--sandbox require: no sandbox here: {sandbox_problem()}")
    if unknown := [name for name in exercises if name not in EXERCISES]:
        raise ValueError(f"exercises must be names of EXERCISES; got {unknown}")
    isolated, judged, box = sandbox != "off" and not sandbox_problem(), Judged(), None
    try:
        cells = student_cells(Path(path), judged.notes)
        defined = [(bound_names(ast.parse(python)), written) for _, python, written in cells]
        for name in exercises:
            judged.answers[name] = clean("\n\n".join(
                written for names, written in defined if name in names), 20_000)
        runnable, skip = [(label, python) for label, python, _ in cells], []
        box = _start(runnable, skip, isolated, judged.notes) if cells else None
        functions = box.functions if box else []
        if cells and (missing := [name for name in exercises if name not in functions]):
            judged.notes.append(f"not defined: {' '.join(missing)}")
        for name in exercises:
            if name not in functions:
                judged.verdicts[name] = check.Verdict(False, f"NOT SOLVED YET {name}: no "
                                                      f"function {name} in the cells you wrote.")
                continue
            if box.ended:          # killed by the last exercise: a new one, its notes said
                box = _start(runnable, skip, isolated, notes=[])
            try:
                verdict = check.judge(name, functools.partial(box.call, name), seed=seed,
                                      hidden=HIDDEN_CASES)
            except SandboxEnded as ended:
                verdict = check.Verdict(False, f"FAILED {name}: {ended}.")
            judged.verdicts[name] = verdict._replace(message=clean(verdict.message))
    except Exception as error:                     # the grader's own failure: said, not raised
        judged.notes.append(f"the grader failed on this file: {type(error).__name__}: "
                            f"{clean(error, 300)}")
    finally:
        if box is not None:
            box.close()
    for name in exercises:
        judged.verdicts.setdefault(name, check.Verdict(False, f"FAILED {name}: not judged."))
    judged.notes = [clean(note, 500) for note in judged.notes]
    return judged


def _start(cells, skip, isolated, notes: list) -> Sandbox:
    """A sandbox that has run ``cells``; a statement that hangs or ends it is skipped (added to
    ``skip``). ``notes`` gets what the run says: statements skipped or failed, why it ended."""
    while True:
        box = Sandbox(cells, skip, isolated)
        if not box.ended or box.running is None or len(skip) >= SKIPPED_STATEMENTS:
            break
        try:
            number, index = box.running
            label, python = cells[number]
            line = ast.parse(python).body[index].lineno
        except (IndexError, TypeError, ValueError):     # not one of its statements: forged
            break
        notes.append(f"{label} line {line} stopped the grading ({box.ended}): not run")
        skip.append([number, index])
    notes += box.failed
    if box.ended:
        notes.append(f"the code cells could not be run: {box.ended}")
    return box
