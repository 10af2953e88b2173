"""The watch: one call of a student's function, timed, traced and judged for what it *did*.

It compares nothing with an expected value: :mod:`.check` does, perhaps in another process
(``grade`` calls the function in a sandbox, judges outside it). This module imports only the
standard library and NumPy, so that it can run where nothing else of the package is.
"""

import builtins
import collections
import contextlib
import ctypes
import functools
import io
import linecache
import os
import sys
import sysconfig
import threading
import time
import traceback
import tracemalloc

import numpy as np

#: What a student's function may not call (nor ``notebooks/solutions``): modules and packages.
FORBIDDEN_MODULES = ("pooling_lab.naive", "pooling_lab.stacked", "pooling_lab.strided",
                     "pooling_lab.fast", "pooling_lab.layers", "torch")
_PACKAGE = os.path.dirname(os.path.dirname(os.path.realpath(__file__)))       # pooling_lab/
SOLUTIONS = os.path.join(os.path.dirname(_PACKAGE), "notebooks", "solutions") + os.sep

MEMORY_CAP = 2**30                    # bytes a call may hold at once, here and in grade alike
STOP_SECONDS, STOP_EVERY = 1.0, 0.01   # past the limit: a stop every 10 ms, for a second

#: One call watched. ``kind``: "returned", "none", "unsolved" (a stub), "raised <Error>", "slow",
#: "stuck" (not stoppable), "memory", "modified", "forbidden" or "switched"; ``forbidden`` and
#: ``switched``: the names called; ``work``: own lines run plus Python calls made (not printing);
#: ``peak``: bytes held at once; ``shared``: the arguments whose memory the result shares;
#: ``called``: the names of the student's own functions that ran.
Call = collections.namedtuple("Call", "kind result problem forbidden switched work peak printed "
                                      "shared called", defaults=((), ()))


class _TimeUp(BaseException):
    """Raised inside the student's code by the watch once a call passes its time limit."""


#: Calls that switch the watch off, by the id of the C function or of the Python code object.
_SWITCHES = {id(getattr(function, "__code__", function)):
             f"{function.__module__.strip('_')}.{function.__name__}" for function in (
                 sys.setprofile, sys.settrace, tracemalloc.stop, tracemalloc.clear_traces,
                 threading.setprofile, threading.settrace)}
# Threads first: once sys.setprofile is set, the profile sees the other calls.
_HOOK_SETTERS = threading.settrace, threading.setprofile, sys.settrace, sys.setprofile
_LIBRARY = tuple({os.path.realpath(folder) + os.sep for folder in (
    *(sysconfig.get_paths()[key] for key in ("stdlib", "platstdlib", "purelib", "platlib")),
    os.path.dirname(os.path.dirname(np.__file__)), _PACKAGE)})


@functools.lru_cache(maxsize=None)
def is_own(filename: str) -> bool:
    """Whether code of ``filename`` is the student's: not Python's, a package's or this one's."""
    return not (filename.startswith(("<frozen", "<string>", "<__array_function__"))
                or os.path.realpath(filename).startswith(_LIBRARY))


@functools.lru_cache(maxsize=None)
def _is_forbidden(module: str, filename="", own_file=None) -> bool:
    """Whether code of ``module``, or of a solutions ``filename`` but ``own_file``, is forbidden."""
    return module in FORBIDDEN_MODULES or module.split(".")[0] in FORBIDDEN_MODULES or (
        filename not in ("", own_file) and os.path.realpath(filename).startswith(SOLUTIONS))


def _forbidden_c(function, forbid_at: bool) -> str:
    """``"np.add.at"``, ``"torch.max"``: the name of a forbidden C function, else ``""``."""
    owner, name = getattr(function, "__self__", None), getattr(function, "__name__", "?")
    module = getattr(function, "__module__", None) or type(owner).__module__ or ""
    if forbid_at and isinstance(owner, np.ufunc) and name == "at":
        return f"np.{owner.__name__}.at"
    return f"{module}.{name}" if _is_forbidden(module) or _is_forbidden(
        type(owner).__module__) else ""


def _raised(fn, error) -> tuple[str, str]:
    """``(kind, problem)``: "unsolved" (a stub), or "raised <Error>", by whom and at which line."""
    frames = list(traceback.walk_tb(error.__traceback__))
    own = [(frame.f_code, line) for frame, line in frames if is_own(frame.f_code.co_filename)]
    outer = getattr(fn, "__name__", "your function")
    inner = ([outer] + [code.co_name for code, _ in own if not code.co_name.startswith("<")])[-1]
    who = f"`{inner}`, which `{outer}` calls," if inner != outer else "it"
    if isinstance(error, NotImplementedError) and is_own(frames[-1][0].f_code.co_filename):
        return "unsolved", (f"{who} raises NotImplementedError. " + (   # by the student, not NumPy
            "Write its body" if inner == outer else f"Solve `{inner}` first") + ", then run this "
            "cell again.")
    problem = f"  {who} raised {type(error).__name__}: {error}"
    if own:
        (code, line), file = own[-1], own[-1][0].co_filename
        cell = "ipykernel" in file or file.startswith("<ipython")     # a notebook cell's code
        source = linecache.getline(file, line).strip() or "(source not available)"
        problem += (f"\n  at line {line} of {'its cell' if cell else os.path.basename(file)}, in "
                    f"{code.co_name}: {source}")
    return f"raised {type(error).__name__}", problem


def _shared(result, passed: dict) -> list:
    """The arguments whose memory ``result`` (or an array of a tuple ``result``) may share."""
    results = result if isinstance(result, (tuple, list)) else (result,)
    return [key for key, value in passed.items() if isinstance(value, np.ndarray) and any(
        isinstance(item, np.ndarray) and np.may_share_memory(item, value) for item in results)]


def _stop(worker: threading.Thread, error) -> bool:
    """Raise ``error`` in ``worker`` again and again (a bare ``except:`` may catch one; a loop's
    jump back lies outside its ``try``) until it ends; whether it ended within a second."""
    give_up = time.perf_counter() + STOP_SECONDS
    while worker.is_alive() and time.perf_counter() < give_up:
        ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(worker.ident),
                                                   ctypes.py_object(error))
        worker.join(STOP_EVERY)
    return not worker.is_alive()


def watched_call(fn, inputs: dict, limit: float, forbid_at=False) -> Call:
    """``fn(*inputs.values())`` on copies of the arrays, in a thread of its own, watched there and
    in any thread it starts; past the deadline the watch raises :class:`_TimeUp` in it, then
    this thread does, until it ends. ``forbid_at`` fails scatters (a ufunc's ``.at``,
    ``np.bincount``)."""
    passed = {key: value.copy() if isinstance(value, np.ndarray) else value
              for key, value in inputs.items()}
    own_file = getattr(getattr(fn, "__code__", None), "co_filename", None)
    # forbidden, switched, called: dicts as ordered sets of the names ("" for none)
    forbidden, switched, called, work = {}, {}, {}, [0]
    deadline, printing = [time.perf_counter() + limit], [0]

    def on_line(frame, event, arg):
        work[0] += event == "line"
        if time.perf_counter() > deadline[0]:
            raise _TimeUp
        return on_line

    def on_frame(frame, event, arg):
        return on_line if is_own(frame.f_code.co_filename) else None

    def on_call(frame, event, arg):
        if event == "call":
            code, module = frame.f_code, frame.f_globals.get("__name__") or ""
            switched[_SWITCHES.get(id(code), "")] = None
            if _is_forbidden(module, code.co_filename, own_file) or (
                    forbid_at and code.co_name == "bincount" and module.startswith("numpy")):
                forbidden[f"{module}.{code.co_qualname}".replace("numpy._core.multiarray",
                                                                 "np")] = None
            called[code.co_name if is_own(code.co_filename) else ""] = None
            # a Python call per window counts, even from NumPy's code (np.apply_along_axis);
            # printing an array does not
            work[0] += not printing[0] and not code.co_filename.endswith("arrayprint.py")
        elif event in ("c_call", "c_return", "c_exception") and arg is builtins.print:
            printing[0] += 1 if event == "c_call" else -1
        elif event == "c_call":
            switched[_SWITCHES.get(id(arg), "")] = None
            forbidden[_forbidden_c(arg, forbid_at)] = None
            work[0] += is_own(frame.f_code.co_filename) and not printing[0]
        if time.perf_counter() > deadline[0]:
            raise _TimeUp

    done = {"result": None, "error": None, "slow": False, "switched": []}
    hooks = threading.gettrace(), threading.getprofile()      # the worker's own die with it

    def call() -> None:
        for setter, hook in zip(_HOOK_SETTERS, (on_frame, on_call, on_frame, on_call)):
            setter(hook)
        try:
            done["result"] = fn(*passed.values())
        except BaseException as raised:          # reported in the verdict (KeyboardInterrupt
            done["error"] = raised               # re-raised in the caller's thread; _TimeUp: slow)
        finally:
            end, deadline[0] = deadline[0], np.inf     # the watch's clean-up is never stopped
            done["slow"] = time.perf_counter() > end   # _TimeUp raised, or a long C call
            intact = (sys.getprofile() is on_call and sys.gettrace() is on_frame
                      and tracemalloc.is_tracing())
            done["switched"] = [name for name in switched if name] or (
                [] if intact or done["slow"] else ["a switch it reached"])

    printed, excepthook = io.StringIO(), threading.excepthook
    threading.excepthook = lambda args: (       # a thread the watch stopped ends silently
        None if args.exc_type is _TimeUp else excepthook(args))
    was_tracing, worker = tracemalloc.is_tracing(), threading.Thread(target=call, daemon=True)
    try:
        with contextlib.redirect_stdout(printed), contextlib.redirect_stderr(printed):
            if not was_tracing:                 # the most bytes held at once during the call
                tracemalloc.start()
            tracemalloc.reset_peak()
            before = tracemalloc.get_traced_memory()[0]
            worker.start()
            try:
                worker.join(limit + 0.1)
            except KeyboardInterrupt:           # the cell's stop button: stop the call, then it
                _stop(worker, KeyboardInterrupt)
                raise
            stopped = worker.is_alive()
            stuck = stopped and not _stop(worker, _TimeUp)
            peak = tracemalloc.get_traced_memory()[1] - before
    finally:
        threading.excepthook = excepthook
        if not was_tracing:
            tracemalloc.stop()
        for setter, hook in zip(_HOOK_SETTERS[:2], hooks):
            setter(hook)
    if stuck:
        return Call("stuck", None, "", [], [], work[0], peak, printed.getvalue())
    if isinstance(done["error"], KeyboardInterrupt):
        raise done["error"]
    kind, problem, result = "returned", "", done["result"]
    changed = [key for key, value in inputs.items() if isinstance(value, np.ndarray) and (
        value.shape != passed[key].shape or value.tobytes() != passed[key].tobytes())]
    named = [name for name in forbidden if name]
    if done["switched"] or named or done["slow"] or stopped:
        kind = "switched" if done["switched"] else "forbidden" if named else "slow"
    elif peak > MEMORY_CAP:
        kind = "memory"
    elif done["error"] is not None:
        kind, problem = _raised(fn, done["error"])
    elif changed:                                  # bitwise: signed zeros and NaN count too
        kind, problem = "modified", (f"  it modified its argument {', '.join(changed)} in place; "
                                     f"work on a new array (e.g. np.zeros_like or .copy()).")
    elif result is None:
        kind = "none"
    return Call(kind, result, problem, named, done["switched"], work[0], peak, printed.getvalue(),
                _shared(result, passed), [name for name in called if name])
