"""Benchmark: how fast is each style, how much memory does it take, how far from the limits?

``python -m pooling_lab bench`` times every op (max, avg, conv) and pass (forward, backward)
in every style on one case and prints a table:

* **median** of repeated runs after a warm-up call, and the **spread** (the interquartile
  range) of those runs;
* **x naive**: the speed-up over the naive style. When one naive call would take more than
  ``NAIVE_SECONDS``, the naive style runs on a crop of the input and its time is scaled by the
  number of output positions, marked ``~`` (estimated);
* **peak MB**: the most memory the call allocates beyond its inputs, from ``tracemalloc``
  (NumPy reports its array buffers to it);
* **x copy**: the forward time as a multiple of the *copy limit*, the time ``np.copyto``
  takes to move as many bytes as the op must at least read and write (the input once, the
  output once). No forward pass can beat 1.0;
* **torch ms** and **x torch**: if PyTorch is importable (by this Python or by the one named
  with ``--torch-python``), its time on the same arrays, on one thread. PyTorch runs in a
  separate process: a process that mixed PyTorch and NumPy timings here once aborted with
  heap corruption, and separate processes cannot slow each other's caches or allocators.

A *step* row adds the forward and backward medians (and spreads): one training step through
the layer. Its peak memory is measured on forward and backward run together, the output kept.

``--targets`` runs the cases the course promises (see ``TARGETS``) and ends with a table of
each target, the measured ratio and whether it is met. ``--json FILE`` writes everything.

The library is single-threaded except for the matrix products of convolution; so that the
comparison with PyTorch (one thread) is fair, ``python -m pooling_lab`` runs with one BLAS
thread unless ``--threads`` says otherwise (see :mod:`pooling_lab.__main__`).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
import tracemalloc
from dataclasses import asdict, dataclass, replace

import numpy as np

from . import STYLES

OPS = ("max", "avg", "conv")
PASSES = ("forward", "backward", "step")

#: The naive style runs for real only if one call is expected to take at most this long.
NAIVE_SECONDS = 2.0

#: Otherwise it runs on a crop with about this many output positions per image.
NAIVE_CROP_POSITIONS = 16 * 16


# --------------------------------------------------------------------------------------------
# A benchmark case
# --------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Case:
    """One configuration to time.

    Attributes
    ----------
    ops : tuple of "max", "avg", "conv"
    shape : (N, H, W, C) of x
    kernel : (KH, KW): pooling window, or the convolution's kernel
    stride : (SH, SW)
    out_channels : C_out of the convolution (w is (KH, KW, C, C_out))
    dtype : "float32" or "float64"
    styles : names from ``pooling_lab.STYLES``
    label : a short name for tables
    """

    ops: tuple = OPS
    shape: tuple = (8, 64, 64, 16)
    kernel: tuple = (3, 3)
    stride: tuple = (2, 2)
    out_channels: int = 16
    dtype: str = "float32"
    styles: tuple = tuple(STYLES)
    label: str = ""

    def describe(self, op: str) -> str:
        n, h, w, c = self.shape
        if op == "conv":
            return (f"conv x ({n}, {h}, {w}, {c}) w ({self.kernel[0]}, {self.kernel[1]}, {c}, "
                    f"{self.out_channels}) stride {_pair_text(self.stride)} {self.dtype}")
        return (f"{op} x ({n}, {h}, {w}, {c}) size {_pair_text(self.kernel)} "
                f"stride {_pair_text(self.stride)} {self.dtype}")


def _pair_text(pair) -> str:
    return str(pair[0]) if pair[0] == pair[1] else f"{pair[0]}x{pair[1]}"


def _arrays(case: Case, op: str, shape=None, seed: int = 0) -> dict:
    """Seeded random inputs: x (N, H, W, C), and w, b for conv."""
    rng = np.random.default_rng(seed)
    shape = case.shape if shape is None else shape
    arrays = {"x": rng.standard_normal(shape).astype(case.dtype)}
    if op == "conv":
        w_shape = (*case.kernel, shape[3], case.out_channels)
        scale = np.sqrt(np.prod(w_shape[:3]))             # keeps the outputs near unit size
        arrays["w"] = (rng.standard_normal(w_shape) / scale).astype(case.dtype)
        arrays["b"] = rng.standard_normal(case.out_channels).astype(case.dtype)
    return arrays


def _calls(style, case: Case, op: str, arrays: dict):
    """The forward and backward calls of ``op`` in ``style``, ready to time.

    Returns
    -------
    forward : callable () -> (out, cache)
    backward : callable (dout, cache) -> gradients
    """
    if op == "conv":
        def forward():
            return style.conv_forward(arrays["x"], arrays["w"], arrays["b"], stride=case.stride)
        return forward, style.conv_backward
    forward_fn = getattr(style, f"{op}_pool_forward")

    def forward():
        return forward_fn(arrays["x"], case.kernel, stride=case.stride)
    return forward, getattr(style, f"{op}_pool_backward")


def _out_hw(case: Case, hw) -> tuple:
    return tuple((length - k) // s + 1 for length, k, s in zip(hw, case.kernel, case.stride))


def _crop_shape(case: Case) -> tuple:
    """An input shape with about ``NAIVE_CROP_POSITIONS`` output positions per image."""
    n, h, w, c = case.shape
    side = int(np.sqrt(NAIVE_CROP_POSITIONS))
    oh, ow = (min(side, out) for out in _out_hw(case, (h, w)))
    return (n, (oh - 1) * case.stride[0] + case.kernel[0],
            (ow - 1) * case.stride[1] + case.kernel[1], c)


# --------------------------------------------------------------------------------------------
# Measuring
# --------------------------------------------------------------------------------------------

def _clock(name: str):
    """``wall``: time.perf_counter; ``cpu``: time.process_time, the CPU time of this process
    (steadier than wall time on a machine other people are using)."""
    return time.process_time if name == "cpu" else time.perf_counter


def time_call(fn, repeats: int, clock=time.perf_counter) -> list:
    """Run ``fn`` once to warm up, then ``repeats`` times; return the times in seconds."""
    fn()
    times = []
    for _ in range(repeats):
        start = clock()
        fn()
        times.append(clock() - start)
    return times


def peak_bytes(fn) -> int:
    """The most memory ``fn()`` allocates at once beyond what existed before it (tracemalloc)."""
    was_tracing = tracemalloc.is_tracing()
    if not was_tracing:
        tracemalloc.start()
    tracemalloc.reset_peak()
    before, _ = tracemalloc.get_traced_memory()
    fn()
    _, peak = tracemalloc.get_traced_memory()
    if not was_tracing:
        tracemalloc.stop()
    return peak - before


def copy_limit(case: Case, op: str, repeats: int, clock) -> float:
    """Seconds ``np.copyto`` needs to move the bytes a forward pass must read and write.

    We time copying x into a ready array (read x, write as many bytes), then scale to the
    bytes of x plus the bytes of the output.
    """
    x = _arrays(case, op)["x"]
    target = np.empty_like(x)
    seconds = statistics.median(time_call(lambda: np.copyto(target, x), repeats, clock))
    out_channels = case.out_channels if op == "conv" else case.shape[3]
    out_bytes = case.shape[0] * np.prod(_out_hw(case, case.shape[1:3])) * out_channels * x.itemsize
    return seconds * (x.nbytes + out_bytes) / (2 * x.nbytes)


@dataclass
class Row:
    """One line of the table (times in milliseconds, memory in bytes)."""

    case: str
    op: str
    pass_: str
    style: str
    median_ms: float
    spread_ms: float
    repeats: int
    estimated: bool = False
    peak_bytes: int | None = None
    x_naive: float | None = None
    x_copy: float | None = None
    torch_ms: float | None = None
    x_torch: float | None = None
    error: str | None = None         # why the call failed (then median_ms is None)


def _summarise(times) -> tuple:
    quartiles = np.percentile(np.asarray(times) * 1e3, [25, 50, 75])
    return float(quartiles[1]), float(quartiles[2] - quartiles[0])


def measure_style(case: Case, op: str, style_name: str, repeats: int, clock,
                  memory: bool = True) -> list:
    """Forward, backward and step rows of one style on one op."""
    style = STYLES[style_name]
    arrays = _arrays(case, op)
    scale, estimated = 1.0, False
    if style_name == "naive":
        crop = _crop_shape(case)
        if crop != case.shape:
            # Guess the full time from one call on the crop; run the full case if it is quick.
            crop_arrays = _arrays(case, op, shape=crop)
            forward, _ = _calls(style, case, op, crop_arrays)
            start = time.perf_counter()
            forward()
            positions = np.prod(_out_hw(case, case.shape[1:3])) / np.prod(_out_hw(case, crop[1:3]))
            if (time.perf_counter() - start) * positions > NAIVE_SECONDS:
                arrays, scale, estimated = crop_arrays, float(positions), True
                repeats = max(3, repeats // 2)
    forward, backward = _calls(style, case, op, arrays)
    out, cache = forward()
    dout = np.random.default_rng(1).standard_normal(out.shape).astype(out.dtype)
    rows = []
    medians = {}
    for pass_, fn in (("forward", forward), ("backward", lambda: backward(dout, cache))):
        median, spread = _summarise(time_call(fn, repeats, clock))
        medians[pass_] = median * scale
        rows.append(Row(case.describe(op), op, pass_, style_name, median * scale,
                        spread * scale, repeats, estimated))
    rows.append(Row(case.describe(op), op, "step", style_name, sum(medians.values()),
                    rows[0].spread_ms + rows[1].spread_ms, repeats, estimated))
    if memory and not estimated:
        rows[0].peak_bytes = peak_bytes(forward)
        rows[1].peak_bytes = peak_bytes(lambda: backward(dout, cache))
        del out, cache

        def step():
            out, cache = forward()                     # out stays alive, as in training
            return out, backward(dout, cache)
        rows[2].peak_bytes = peak_bytes(step)
    return rows


# --------------------------------------------------------------------------------------------
# PyTorch, in its own process
# --------------------------------------------------------------------------------------------

#: Run by ``python -c`` in the PyTorch process: reads the case as JSON on stdin, prints JSON.
TORCH_WORKER = r"""
import json, sys, time
import numpy as np
import torch
torch.backends.mkldnn.enabled = False   # its oneDNN path corrupted the heap on this machine
torch.set_num_threads(1)
import torch.nn.functional as F

spec = json.load(sys.stdin)
clock = time.process_time if spec["clock"] == "cpu" else time.perf_counter
dtype = getattr(torch, spec["dtype"])
rng = np.random.default_rng(0)
n, h, w, c = spec["shape"]
# Same values as the NumPy run; channels-last memory, as our (N, H, W, C) arrays.
x = torch.from_numpy(rng.standard_normal((n, h, w, c)).astype(spec["dtype"]))
x = x.permute(0, 3, 1, 2).contiguous(memory_format=torch.channels_last)
kh, kw = spec["kernel"]
if spec["op"] == "conv":
    weight = torch.randn(spec["out_channels"], c, kh, kw, dtype=dtype) / (kh * kw * c) ** 0.5
    bias = torch.randn(spec["out_channels"], dtype=dtype)
    params = [weight, bias]
    layer = lambda t: F.conv2d(t, weight, bias, stride=spec["stride"])
elif spec["op"] == "max":
    params = []
    layer = lambda t: F.max_pool2d(t, spec["kernel"], stride=spec["stride"])
else:
    params = []
    layer = lambda t: F.avg_pool2d(t, spec["kernel"], stride=spec["stride"])

def timed(fn, repeats):
    fn()
    times = []
    for _ in range(repeats):
        start = clock(); fn(); times.append(clock() - start)
    return float(np.median(times) * 1e3)

with torch.no_grad():
    forward_ms = timed(lambda: layer(x), spec["repeats"])
xg = x.detach().clone().requires_grad_(True)
for p in params:
    p.requires_grad_(True)
y = layer(xg)
dout = torch.randn(y.shape, dtype=dtype).contiguous(memory_format=torch.channels_last)

def backward():
    xg.grad = None
    for p in params:
        p.grad = None
    y.backward(dout, retain_graph=True)

backward_ms = timed(backward, spec["repeats"])
print(json.dumps({"forward": forward_ms, "backward": backward_ms,
                  "step": forward_ms + backward_ms, "version": torch.__version__}))
"""


def torch_times(case: Case, op: str, python: str, repeats: int, clock_name: str,
                timeout: float = 300) -> dict | None:
    """PyTorch's forward, backward and step times in ms, or None if PyTorch is not there."""
    spec = {"op": op, "shape": list(case.shape), "kernel": list(case.kernel),
            "stride": list(case.stride), "out_channels": case.out_channels,
            "dtype": case.dtype, "repeats": repeats, "clock": clock_name}
    try:
        done = subprocess.run([python, "-c", TORCH_WORKER], input=json.dumps(spec),
                              capture_output=True, text=True, timeout=timeout)
    except (OSError, subprocess.TimeoutExpired):
        return None
    if done.returncode != 0:
        return None
    return json.loads(done.stdout.strip().splitlines()[-1])


def torch_available(python: str) -> str | None:
    """PyTorch's version if ``python`` can import it, else None."""
    try:
        done = subprocess.run([python, "-c", "import torch; print(torch.__version__)"],
                              capture_output=True, text=True, timeout=120)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout.strip() if done.returncode == 0 else None


# --------------------------------------------------------------------------------------------
# Running a case, printing the table
# --------------------------------------------------------------------------------------------

def run_case(case: Case, repeats: int = 7, clock_name: str = "wall", torch_python=None,
             memory: bool = True, progress=None) -> list:
    """Every op x pass x style of ``case``: a list of :class:`Row`."""
    clock = _clock(clock_name)
    rows = []
    for op in case.ops:
        op_rows = []
        for style_name in case.styles:
            if progress:
                progress(f"{case.describe(op)} · {style_name}")
            try:
                op_rows += measure_style(case, op, style_name, repeats, clock, memory)
            except Exception as error:          # one failing style must not lose the whole run
                message = f"{type(error).__name__}: {error}"
                if progress:
                    progress(f"{case.describe(op)} · {style_name} FAILED: {message}")
                op_rows += [Row(case.describe(op), op, pass_, style_name, None, None, 0,
                                error=message) for pass_ in PASSES]
        limit_ms = copy_limit(case, op, repeats, clock) * 1e3
        torch_ms = None
        if torch_python:
            if progress:
                progress(f"{case.describe(op)} · torch (separate process)")
            torch_ms = torch_times(case, op, torch_python, repeats, clock_name)
        naive = {row.pass_: row.median_ms for row in op_rows
                 if row.style == "naive" and row.error is None}
        for row in op_rows:
            if row.error:
                continue
            if row.pass_ in naive and row.style != "naive":
                row.x_naive = naive[row.pass_] / row.median_ms
            if row.pass_ == "forward":
                row.x_copy = row.median_ms / limit_ms
            if torch_ms:
                row.torch_ms = torch_ms[row.pass_]
                row.x_torch = row.median_ms / row.torch_ms
        rows += op_rows
    return rows


def format_table(rows) -> str:
    """The rows as a Markdown table (readable in a terminal and in the README)."""
    lines = ["| case | pass | style | median ms | spread ms | x naive | peak MB | x copy "
             "| torch ms | x torch |", "|" + "---|" * 10]
    previous_case = None
    for row in rows:
        case = "" if row.case == previous_case else row.case     # name each case once
        previous_case = row.case
        tilde = "~" if row.estimated else ""
        if row.error:
            lines.append(f"| {case} | {row.pass_} | {row.style} | failed: {row.error} "
                         f"|{' – |' * 7}")
            continue
        lines.append(
            f"| {case} | {row.pass_} | {row.style} | {tilde}{_number(row.median_ms)} "
            f"| {tilde}{_number(row.spread_ms)} | {_ratio(row.x_naive)} "
            f"| {_megabytes(row.peak_bytes)} | {_ratio(row.x_copy)} | {_number(row.torch_ms)} "
            f"| {_ratio(row.x_torch)} |")
    return "\n".join(lines)


def _number(value) -> str:
    if value is None:
        return "–"
    return f"{value:.3g}" if value < 100 else f"{value:,.0f}"


def _ratio(value) -> str:
    return "–" if value is None else _number(value) + "x"


def _megabytes(value) -> str:
    return "–" if value is None else f"{value / 2**20:.3g}"


def machine_state(clock_name: str, torch_version=None) -> dict:
    """What the numbers depend on: processor, load, versions, threads, clock."""
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as info:
            cpu = next(line.split(":", 1)[1].strip() for line in info
                       if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    try:
        blas = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
    except (TypeError, KeyError):                     # NumPy before 1.26 prints, returns None
        blas = {}
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "load_average_1_5_15": [round(load, 2) for load in os.getloadavg()],
        "python": platform.python_version(),
        "numpy": np.__version__,
        "blas": f"{blas.get('name', '?')} {blas.get('version', '')}".strip(),
        "blas_threads": os.environ.get("OPENBLAS_NUM_THREADS", "default"),
        "torch": torch_version,
        "clock": clock_name,
        "date_utc": time.strftime("%Y-%m-%d %H:%M", time.gmtime()),
    }


def format_state(state: dict) -> str:
    load = ", ".join(str(value) for value in state["load_average_1_5_15"])
    torch = (f"PyTorch {state['torch']} (1 thread, separate process)" if state["torch"]
             else "PyTorch not found")
    return (f"{state['cpu']}, {state['cores']} cores, load {load} · Python {state['python']}, "
            f"NumPy {state['numpy']}, {state['blas']} ({state['blas_threads']} BLAS threads) · "
            f"{torch} · clock: {state['clock']} · {state['date_utc']} UTC")


# --------------------------------------------------------------------------------------------
# The promised targets
# --------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Target:
    """A promise: ``measure`` of ``case`` compared with ``limit``."""

    name: str
    case: Case
    op: str
    kind: str            # "torch": strided step <= limit x torch; "naive": speed-up >= limit;
    limit: float         # "memory": strided step peak <= limit x input bytes
    styles: tuple = ("strided",)


def _targets() -> list:
    pools = Case(ops=("max", "avg"), shape=(32, 64, 64, 32), styles=("strided",))
    convs = [Case(ops=("conv",), shape=(16, 32, 32, 16), kernel=(3, 3), stride=(1, 1),
                  out_channels=32, styles=("strided",)),
             Case(ops=("conv",), shape=(8, 64, 64, 3), kernel=(5, 5), stride=(1, 1),
                  out_channels=8, styles=("strided",))]
    targets = []
    for dtype, loose in (("float32", None), ("float64", 1.5)):
        for size, limit in ((2, 2.5), (3, 4.0)):
            case = replace(pools, kernel=(size, size), stride=(2, 2), dtype=dtype)
            for op in ("max", "avg"):
                targets.append(Target(case.describe(op), case, op, "torch", loose or limit))
        for case, limit in zip(convs, (3.0, 3.5)):
            case = replace(case, dtype=dtype)
            targets.append(Target(case.describe("conv"), case, "conv", "torch", loose or limit))
    photo = Case(ops=("max",), shape=(1, 512, 512, 3), kernel=(3, 3), stride=(2, 2),
                 styles=("naive", "strided"))
    targets.append(Target("512x512x3 photo, max size 3 stride 2: speed-up over naive",
                          photo, "max", "naive", 100.0, ("naive", "strided")))
    memory = Case(ops=("max",), shape=(32, 64, 64, 32), kernel=(3, 3), stride=(1, 1),
                  styles=("stacked", "strided"))
    targets.append(Target("memory: max x (32, 64, 64, 32) size 3 stride 1 float32, peak of "
                          "forward + backward", memory, "max", "memory", 4.0,
                          ("stacked", "strided")))
    return targets


TARGETS = _targets()


def check_target(target: Target, rows) -> dict:
    """Whether ``rows`` (of the target's case) meet ``target``.

    Returns
    -------
    result : dict
        ``value`` is the measured ratio (x torch, x naive, or peak / input bytes), ``met``
        True, False or None (no PyTorch); ``strided`` and ``reference`` describe the two
        measurements compared.
    """
    step = {row.style: row for row in rows
            if row.op == target.op and row.pass_ == "step" and row.error is None}
    if "strided" not in step:
        return {"target": target.name, "kind": target.kind, "limit": target.limit,
                "strided": "failed", "reference": "–", "value": None, "met": None}
    strided = step["strided"]
    x_bytes = float(np.prod(target.case.shape) * np.dtype(target.case.dtype).itemsize)
    result = {"target": target.name, "kind": target.kind, "limit": target.limit,
              "strided": f"{_number(strided.median_ms)} ms"}
    if target.kind == "torch":
        value = strided.x_torch
        result["reference"] = ("–" if strided.torch_ms is None
                               else f"torch {_number(strided.torch_ms)} ms")
    elif target.kind == "naive":
        value = strided.x_naive
        if "naive" in step:
            tilde = "~" if step["naive"].estimated else ""
            result["reference"] = f"naive {tilde}{_number(step['naive'].median_ms)} ms"
        else:
            result["reference"] = "naive failed"
    else:
        value = strided.peak_bytes / x_bytes
        result["strided"] = f"peak {_megabytes(strided.peak_bytes)} MB"
        result["reference"] = ", ".join(
            f"{style} peak {_megabytes(row.peak_bytes)} MB = {row.peak_bytes / x_bytes:.1f}x"
            for style, row in step.items() if style != "strided")
    result["value"] = None if value is None else float(value)
    if value is None:
        result["met"] = None
    else:
        result["met"] = bool(value >= target.limit if target.kind == "naive"
                             else value <= target.limit)
    return result


def format_targets(results) -> str:
    """The targets as a Markdown table: what was compared, the ratio, met or not."""
    lines = ["| target | strided | compared with | measured | met |", "|---|---|---|---|---|"]
    for result in results:
        value, limit = result["value"], _number(result["limit"])
        if value is None:
            failed = result["strided"] == "failed" or result["kind"] != "torch"
            shown = "not measured" if failed else "no PyTorch"
        elif result["kind"] == "torch":
            shown = f"{value:.2f}x torch (at most {limit}x)"
        elif result["kind"] == "naive":
            shown = f"{value:,.0f}x faster (at least {limit}x)"
        else:
            shown = f"{value:.2f}x the input (at most {limit}x)"
        met = "–" if result["met"] is None else ("yes" if result["met"] else "**NO**")
        lines.append(f"| {result['target']} | {result['strided']} | {result['reference']} "
                     f"| {shown} | {met} |")
    return "\n".join(lines)


# --------------------------------------------------------------------------------------------
# The command line
# --------------------------------------------------------------------------------------------

def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of ``python -m pooling_lab bench``."""
    parser.add_argument("--op", nargs="+", choices=OPS, default=list(OPS), dest="ops",
                        help="ops to time (default: all)")
    parser.add_argument("--style", nargs="+", choices=list(STYLES), default=list(STYLES),
                        dest="styles", help="styles to time (default: all)")
    parser.add_argument("--shape", nargs=4, type=int, metavar=("N", "H", "W", "C"),
                        default=(8, 64, 64, 16), help="shape of x (default: 8 64 64 16)")
    parser.add_argument("--kernel", nargs="+", type=int, metavar="K", default=[3],
                        help="pooling size or conv kernel: K or KH KW (default: 3)")
    parser.add_argument("--stride", nargs="+", type=int, metavar="S", default=[2],
                        help="S or SH SW (default: 2; the conv uses it too)")
    parser.add_argument("--out-channels", type=int, default=None,
                        help="conv C_out (default: C)")
    parser.add_argument("--dtype", choices=("float32", "float64"), default="float32")
    parser.add_argument("--repeats", type=int, default=7,
                        help="timed runs after one warm-up run (default: 7)")
    parser.add_argument("--quick", action="store_true",
                        help="a small case and 3 repeats: a few seconds")
    parser.add_argument("--targets", action="store_true",
                        help="run the cases the course promises and check each target")
    parser.add_argument("--json", metavar="FILE", help="also write the results as JSON")
    parser.add_argument("--torch-python", metavar="PYTHON", default=sys.executable,
                        help="a Python that can import torch (default: this one)")
    parser.add_argument("--no-torch", action="store_true", help="skip the PyTorch column")
    parser.add_argument("--no-memory", action="store_true", help="skip the tracemalloc runs")
    parser.add_argument("--clock", choices=("wall", "cpu"), default="wall",
                        help="wall time, or this process's CPU time (steadier on a busy "
                             "machine); default: wall")


def _pair(values, name: str) -> tuple:
    if len(values) not in (1, 2) or min(values) < 1:
        raise SystemExit(f"bench: --{name} takes one or two positive integers; got {values}")
    return (values[0], values[0]) if len(values) == 1 else tuple(values)


def main(args) -> int:
    """Run the benchmark described by the parsed ``args``; print the tables."""
    def progress(message):
        print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)

    torch_version = None
    if not args.no_torch:
        torch_version = torch_available(args.torch_python)
        if torch_version is None:
            progress(f"PyTorch not importable by {args.torch_python}: no torch column "
                     f"(name another Python with --torch-python)")
    torch_python = args.torch_python if torch_version else None
    state = machine_state(args.clock, torch_version)
    repeats = 3 if args.quick else args.repeats
    results = {"machine": state, "cases": [], "targets": []}
    all_rows = []
    print(f"Machine: {format_state(state)}\n")

    if args.targets:
        by_case = {}
        for target in TARGETS:
            by_case.setdefault((target.case, target.styles), []).append(target)
        for (case, styles), targets in by_case.items():
            case = replace(case, styles=styles)
            rows = run_case(case, repeats, args.clock, torch_python, not args.no_memory,
                            progress)
            results["cases"].append({"case": asdict(case), "rows": [asdict(row) for row in rows]})
            all_rows += rows
            print(format_table(rows) + "\n", flush=True)
            results["targets"] += [check_target(target, rows) for target in targets]
        print("Targets (strided style, a training step = forward + backward):\n")
        print(format_targets(results["targets"]))
    else:
        shape = (2, 32, 32, 8) if args.quick else tuple(args.shape)
        case = Case(ops=tuple(args.ops), shape=shape, kernel=_pair(args.kernel, "kernel"),
                    stride=_pair(args.stride, "stride"),
                    out_channels=args.out_channels or shape[3], dtype=args.dtype,
                    styles=tuple(args.styles))
        rows = run_case(case, repeats, args.clock, torch_python, not args.no_memory, progress)
        results["cases"].append({"case": asdict(case), "rows": [asdict(row) for row in rows]})
        all_rows += rows
        print(format_table(rows))
    print("\n~ estimated: the naive style ran on a crop, scaled by output positions. "
          "step = forward + backward medians. x copy: forward time / copy limit.")
    if args.json:
        with open(args.json, "w") as file:
            json.dump(results, file, indent=1)
        print(f"\nWrote {args.json}")
    failures = sorted({f"{row.case} · {row.style}: {row.error}" for row in all_rows if row.error})
    for failure in failures:
        print(f"FAILED {failure}", file=sys.stderr)
    return 1 if failures else 0
