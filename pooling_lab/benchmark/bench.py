"""Time every op, pass and style, and measure their memory; compare with PyTorch.

``python -m pooling_lab bench`` times every op (max, avg, conv) and pass (forward, backward,
and their sum, a training *step*) in every style on one case, and prints Markdown tables, the
columns explained by :data:`LEGEND` under them; progress and notes go to stderr. Example:
``python -m pooling_lab bench --op max --shape 32 64 64 32 --kernel 3 --stride 2
--torch-python /path/to/python-with-torch``.

Times come from :mod:`pooling_lab.measure` (a slow naive call's from a crop, marked ``~``);
PyTorch's from :mod:`pooling_lab.benchmark.torch_worker`, a process of its own, on its default
CPU path (oneDNN on) and one thread, as NumPy's BLAS here (see :mod:`pooling_lab.cli`).
"""

import json
import math
import os
import platform
import re
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np

from .. import OPS as OP_FUNCTIONS, STYLES, measure, op_functions, rules
from ..cli import output_file
from ..geometry import Geometry, conv_geometry, pool_geometry
from . import torch_worker

#: The command multiplies matrices (convolution): it takes ``--threads``.
USES_BLAS = True

OPS, PASSES = tuple(OP_FUNCTIONS), ("forward", "backward", "step")


def quiet(message: str) -> None:
    """The default ``progress`` (told what the benchmark is doing): it tells no one."""


#: The naive style runs for real only if one call is expected to take at most this long;
#: otherwise it runs on a crop with about ``NAIVE_CROP_POSITIONS`` output positions per image.
NAIVE_SECONDS, NAIVE_CROP_POSITIONS = 2.0, 16 * 16

#: A call slower than this says on stderr how long its timed runs will take.
SLOW_CALL_SECONDS = 1.0

#: The most bytes a case's arrays may take together (x, the output, and w for conv), checked
#: before any is allocated: the styles hold several arrays of that size at once.
LARGEST_CASE_BYTES = 2**30

#: The case and repeats without options, and with ``--quick``.
DEFAULT_SHAPE, DEFAULT_REPEATS = (8, 64, 64, 16), 7
QUICK_SHAPE, QUICK_REPEATS = (2, 32, 32, 8), 3

LEGEND = """Columns:
  median ms   the median of the timed runs, after one warm-up run
  spread ms   the interquartile range of those runs: the middle half lies within it
  x naive     the naive style's median / this one (higher is faster)
  peak MB     the most memory the call allocates at once beyond its inputs (tracemalloc)
  x copy      forward median / the copy limit, the time np.copyto takes to move the input
              and the output bytes once (no forward pass can go below 1.0)
  torch ms    PyTorch's median on the same input (default CPU path, 1 thread, own process)
  x torch     this median / PyTorch's (below 1: faster than PyTorch)
  step        a row adding forward and backward: one training step through the layer"""

#: Printed only when a cell of the table is estimated.
ESTIMATED_NOTE = ("~ estimated: the naive style ran on a crop of the input and its times were "
                  "scaled by the number of output positions.")


@dataclass(frozen=True)
class Case:
    """One configuration to time; pairs are (rows, cols)."""

    ops: tuple[str, ...] = OPS                      # of "max", "avg", "conv"
    shape: tuple[int, int, int, int] = DEFAULT_SHAPE  # (N, H, W, C) of x
    kernel: tuple[int, int] = (3, 3)                # the pooling window or conv kernel
    stride: tuple[int, int] = (2, 2)
    padding: tuple[int, int] = (0, 0)               # zeros (-inf: max) on both sides
    dilation: tuple[int, int] = (1, 1)
    out_channels: int = 16                          # conv's C_out: w is (KH, KW, C, C_out)
    dtype: str = "float32"                          # or "float64"
    styles: tuple[str, ...] = tuple(STYLES)         # names from pooling_lab.STYLES

    def describe(self, op: str) -> str:
        """The case's name in the tables: ``max x (8, 64, 64, 16) size 3 stride 2 float32``."""
        def pair(values):
            return str(values[0]) if values[0] == values[1] else f"{values[0]}x{values[1]}"

        text = (f"conv x {self.shape} w {(*self.kernel, self.shape[3], self.out_channels)}"
                if op == "conv" else f"{op} x {self.shape} size {pair(self.kernel)}")
        text += f" stride {pair(self.stride)}"
        text += f" padding {pair(self.padding)}" * (self.padding != (0, 0))
        text += f" dilation {pair(self.dilation)}" * (self.dilation != (1, 1))
        return f"{text} {self.dtype}"


def case_geometry(case: Case, op: str, shape=None) -> Geometry:
    """Where ``op``'s windows lie on an input of ``shape`` (default: the case's own); a
    ValueError with the contract's message if the contract refuses the case."""
    shape, options = shape or case.shape, (case.stride, case.padding, case.dilation)
    if op == "conv":
        return conv_geometry(shape, (*case.kernel, shape[3], case.out_channels), *options)
    return pool_geometry(shape, case.kernel, *options)


def case_bytes(case: Case, op: str, weights: bool = True) -> int:
    """The bytes of x, the output (N, OH, OW, C or C_out) and, for conv unless not ``weights``,
    w; Python integers, so no shape overflows."""
    channels = case.out_channels if op == "conv" else case.shape[3]
    out_shape = (case.shape[0], *case_geometry(case, op).out_hw, channels)
    count = math.prod(case.shape) + math.prod(out_shape)
    if op == "conv" and weights:
        count += math.prod(case.kernel) * case.shape[3] * case.out_channels
    return count * np.dtype(case.dtype).itemsize


def _arrays(case: Case, op: str, shape=None) -> dict:
    """Random x (N, H, W, C), seed 0 as PyTorch's; for conv w (KH, KW, C, C_out) and b (C_out,)."""
    rng = np.random.default_rng(0)
    arrays = {"x": rng.standard_normal(shape or case.shape).astype(case.dtype)}
    if op == "conv":
        w_shape = (*case.kernel, case.shape[3], case.out_channels)
        scale = np.sqrt(np.prod(w_shape[:3]))             # keeps the outputs near unit size
        arrays["w"] = (rng.standard_normal(w_shape) / scale).astype(case.dtype)
        arrays["b"] = rng.standard_normal(case.out_channels).astype(case.dtype)
    return arrays


def _forward_call(style_name: str, case: Case, op: str, shape=None):
    """``op``'s forward pass in ``style_name`` on :func:`_arrays`, as a call without arguments."""
    forward, arrays = op_functions(style_name, op)[0], _arrays(case, op, shape)
    options = {"stride": case.stride, "padding": case.padding, "dilation": case.dilation}
    if op == "conv":
        return lambda: forward(arrays["x"], arrays["w"], arrays["b"], **options)
    return lambda: forward(arrays["x"], case.kernel, **options)


def _crop_shape(case: Case, op: str) -> tuple:
    """An input shape with at most ``NAIVE_CROP_POSITIONS`` output positions per image: each
    axis keeps ``min(16, OH)`` windows, the input length whose padded length holds exactly that
    many, ``(out - 1) * stride + span - padding``, never more than the case's own."""
    geometry, side = case_geometry(case, op), math.isqrt(NAIVE_CROP_POSITIONS)
    crop_hw = (min(length, max(1, (min(side, out) - 1) * stride + span - sum(padding)))
               for length, out, stride, span, padding in zip(
                   case.shape[1:3], geometry.out_hw, geometry.stride, geometry.span,
                   geometry.padding))
    return (case.shape[0], *crop_hw, case.shape[3])


def time_runs(call, repeats: int, clock=time.perf_counter, progress=quiet, label: str = "") -> list:
    """:func:`pooling_lab.measure.seconds`, telling ``progress`` first how long the runs will
    take when the warm-up call took longer than :data:`SLOW_CALL_SECONDS`."""
    _, warm_up = measure.timed(call)
    if warm_up > SLOW_CALL_SECONDS:
        progress(f"{label}{repeats} timed runs of about {warm_up:.1f} s each")
    return measure.seconds(call, repeats, clock, warm_up=False)


def copy_limit(case: Case, op: str, repeats: int, clock) -> float:
    """Seconds ``np.copyto`` needs to move the bytes a forward pass must read and write: x copied
    into a ready array (x's bytes read, as many written), scaled to the bytes of x and output."""
    x = _arrays(case, op)["x"]
    target = np.empty_like(x)
    seconds = measure.median_seconds(lambda: np.copyto(target, x), repeats, clock)
    return seconds * case_bytes(case, op, weights=False) / (2 * x.nbytes)


@dataclass
class Row:
    """One line of the table (times in ms, memory in bytes); a failed style has only ``error``."""

    case: str
    op: str
    pass_: str
    style: str
    median_ms: float | None
    spread_ms: float | None
    repeats: int
    estimated: bool = False
    peak_bytes: int | None = None
    x_naive: float | None = None
    x_copy: float | None = None
    torch_ms: float | None = None
    x_torch: float | None = None
    error: str | None = None         # why the call failed


def measure_style(case: Case, op: str, style_name: str, repeats: int, clock,
                  memory: bool = True, progress=quiet) -> list:
    """Forward, backward and step rows of one style on one op."""
    forward, scale, estimated = _forward_call(style_name, case, op), 1.0, False
    if style_name == "naive" and (crop := _crop_shape(case, op)) != case.shape:
        # Guess the full time from one call on the crop; run the full case if it is quick.
        crop_forward = _forward_call(style_name, case, op, crop)
        _, seconds = measure.timed(crop_forward)
        positions = (math.prod(case_geometry(case, op).out_hw)
                     / math.prod(case_geometry(case, op, crop).out_hw))
        if seconds * positions > NAIVE_SECONDS:
            forward, scale, estimated = crop_forward, positions, True
            repeats = max(3, repeats // 2)
    backward_fn = op_functions(style_name, op)[1]
    out, cache = forward()
    dout = np.random.default_rng(1).standard_normal(out.shape).astype(out.dtype)
    rows = []
    for pass_, call in (("forward", forward), ("backward", lambda: backward_fn(dout, cache))):
        times = time_runs(call, repeats, clock, progress, f"{style_name} {op} {pass_}: ")
        quartiles = np.percentile(np.asarray(times) * 1e3 * scale, [25, 50, 75])
        rows.append(Row(case.describe(op), op, pass_, style_name, float(quartiles[1]),
                        float(quartiles[2] - quartiles[0]), repeats, estimated))
    rows.append(replace(rows[0], pass_="step", median_ms=rows[0].median_ms + rows[1].median_ms,
                        spread_ms=rows[0].spread_ms + rows[1].spread_ms))
    if memory and not estimated:
        if rows[2].median_ms > 1e3 * SLOW_CALL_SECONDS:
            progress(f"{style_name} {op}: peak memory of forward, backward and a step")
        rows[0].peak_bytes = measure.peak_bytes(forward)
        rows[1].peak_bytes = measure.peak_bytes(lambda: backward_fn(dout, cache))
        del out, cache

        def step():
            out, cache = forward()                     # out stays alive, as in training
            return out, backward_fn(dout, cache)
        rows[2].peak_bytes = measure.peak_bytes(step)
    return rows


def torch_spec(case: Case, op: str, repeats: int, clock_name: str) -> dict:
    """The JSON case :mod:`pooling_lab.benchmark.torch_worker` reads, with its ``KEYS``."""
    spec = {**asdict(case), "op": op, "repeats": repeats, "clock": clock_name,
            "out_channels": case.out_channels if op == "conv" else None}
    return {key: spec[key] for key in torch_worker.KEYS}


def torch_times(case: Case, op: str, python: str, repeats: int, clock_name: str,
                timeout: float = 300, progress=quiet) -> dict | None:
    """PyTorch's forward, backward and step times in ms, or None, ``progress`` told why in one
    line; a worker that crashes (a signal, not its "bad case" or "no PyTorch" exit) runs again."""
    spec = json.dumps(torch_spec(case, op, repeats, clock_name))
    # By its path; -I (isolated mode) keeps the script's folder and PYTHONPATH off that path.
    command = [python, "-I", str(Path(torch_worker.__file__).resolve())]
    for then in ("retrying once", "no PyTorch times"):
        try:
            done = subprocess.run(command, input=spec, capture_output=True, text=True,
                                  timeout=timeout)
        except (OSError, subprocess.TimeoutExpired) as error:
            progress(f"no PyTorch times for {case.describe(op)}: {error}")
            return None
        if (code := done.returncode) == 0:
            return json.loads(done.stdout.strip().splitlines()[-1])
        reason = (done.stderr.strip().splitlines() or ["no message"])[-1]
        if code in (torch_worker.BAD_SPEC, torch_worker.NO_TORCH):
            progress(f"no PyTorch times for {case.describe(op)}: {reason}")
            return None
        status = f"signal {signal.Signals(-code).name}" if code < 0 else f"exit status {code}"
        progress(f"PyTorch crashed on {case.describe(op)} ({status}: {reason}); {then}")
    return None


def torch_available(python: str) -> str | None:
    """PyTorch's version if ``python`` (in isolated mode, as the worker runs) can import it."""
    try:
        done = subprocess.run([python, "-I", "-c", "import torch; print(torch.__version__)"],
                              capture_output=True, text=True, timeout=120)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout.strip() if done.returncode == 0 else None


def run_case(case: Case, repeats: int = DEFAULT_REPEATS, clock_name: str = "wall",
             torch_python: str | None = None, memory: bool = True,
             progress=quiet, rows: list | None = None) -> list:
    """Every op x pass x style of ``case``: a list of :class:`Row`, added to ``rows`` (a new
    list if None) as each style is measured, so an interrupted run keeps what it measured."""
    clock, rows = measure.CLOCKS[clock_name], [] if rows is None else rows
    for op in case.ops:
        op_rows, described = [], case.describe(op)
        for style_name in case.styles:
            progress(f"{described} · {style_name}")
            try:
                new = measure_style(case, op, style_name, repeats, clock, memory, progress)
            except Exception as error:          # one failing style must not lose the whole run
                message = f"{type(error).__name__}: {error}"
                progress(f"{described} · {style_name} FAILED: {message}")
                new = [Row(described, op, pass_, style_name, None, None, 0, error=message)
                       for pass_ in PASSES]
            op_rows += new
            rows += new
        limit_ms = copy_limit(case, op, repeats, clock) * 1e3
        torch_ms = None
        if torch_python:
            progress(f"{described} · torch (separate process)")
            torch_ms = torch_times(case, op, torch_python, repeats, clock_name, progress=progress)
        naive = {row.pass_: row.median_ms for row in op_rows
                 if row.style == "naive" and row.error is None}
        for row in (row for row in op_rows if row.error is None):
            if row.pass_ in naive and row.style != "naive":
                row.x_naive = naive[row.pass_] / row.median_ms
            if row.pass_ == "forward":
                row.x_copy = row.median_ms / limit_ms
            if torch_ms:
                row.torch_ms = torch_ms[row.pass_]
                row.x_torch = row.median_ms / row.torch_ms
    return rows


def _markdown(header: list, lines: list) -> str:
    """A Markdown table (readable in a terminal and in the README); a line's first cell, its
    case, is left empty when it repeats the line above's."""
    shown = [f"| {' | '.join(header)} |", "|" + "---|" * len(header)]
    for previous, line in zip([None, *lines], lines):
        first = "" if previous and previous[0] == line[0] else line[0]
        shown.append(f"| {' | '.join([first, *line[1:]])} |")
    return "\n".join(shown)


def format_table(rows) -> str:
    """The rows as a Markdown table, a failed style's error in its median cell."""
    lines = [[row.case, row.pass_, row.style, f"failed: {row.error}", *["–"] * 6] if row.error
             else [row.case, row.pass_, row.style, "~" * row.estimated + _number(row.median_ms),
                   "~" * row.estimated + _number(row.spread_ms), _number(row.x_naive, "x"),
                   _megabytes(row.peak_bytes), _number(row.x_copy, "x"), _number(row.torch_ms),
                   _number(row.x_torch, "x")] for row in rows]
    return _markdown(["case", "pass", "style", "median ms", "spread ms", "x naive", "peak MB",
                      "x copy", "torch ms", "x torch"], lines)


def format_comparison(rows, slower: str = "strided", faster: str = "fast") -> str:
    """``slower`` against ``faster`` per op and pass, a Markdown table ("" without both styles)."""
    medians = {(row.case, row.pass_, row.style): row.median_ms for row in rows if not row.error}
    lines = [[case, pass_, _number(median), _number(medians[case, pass_, faster]),
              _number(median / medians[case, pass_, faster], "x")]
             for (case, pass_, style), median in medians.items()
             if style == slower and (case, pass_, faster) in medians]
    header = ["case", "pass", f"{slower} ms", f"{faster} ms", f"{slower} / {faster}"]
    return _markdown(header, lines) if lines else ""


def format_notes(rows) -> str:
    """The legend, and the ``~`` footnote when a cell of ``rows`` is estimated."""
    return LEGEND + ("\n" + ESTIMATED_NOTE) * any(row.estimated for row in rows)


def _number(value, unit: str = "") -> str:
    return "–" if value is None else (f"{value:.3g}" if value < 100 else f"{value:,.0f}") + unit


def _megabytes(value) -> str:
    return "–" if value is None else f"{value / 2**20:.3g}"


def machine_state(clock_name: str, torch_version: str | None = None) -> dict:
    """What the numbers depend on: processor, load, versions, threads, clock."""
    cpu_info = Path("/proc/cpuinfo")
    text = cpu_info.read_text() if cpu_info.exists() else ""
    names = re.findall(r"^model name\s*: (.*)$", text, re.MULTILINE)
    cpu = names[0] if names else platform.processor() or platform.machine()
    try:
        blas = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
    except (TypeError, KeyError):                     # NumPy before 1.26 prints, returns None
        blas = {}
    return {"cpu": cpu, "cores": os.cpu_count(),
            "load_average_1_5_15": [round(load, 2) for load in os.getloadavg()],
            "python": platform.python_version(), "numpy": np.__version__,
            "blas": f"{blas.get('name', '?')} {blas.get('version', '')}".strip(),
            # Set by `python -m pooling_lab` before NumPy starts (see pooling_lab.cli).
            "blas_threads": os.environ.get("OPENBLAS_NUM_THREADS"),
            # Some machines set this to work around old OpenBLAS bugs; it picks slower kernels.
            "openblas_coretype": os.environ.get("OPENBLAS_CORETYPE"),
            "torch": torch_version, "clock": clock_name,
            "date_utc": time.strftime("%Y-%m-%d %H:%M", time.gmtime())}


def format_state(state: dict) -> str:
    load = ", ".join(str(value) for value in state["load_average_1_5_15"])
    threads = {None: "BLAS threads as BLAS chooses", "1": "1 BLAS thread"}.get(
        state["blas_threads"], f"{state['blas_threads']} BLAS threads")
    if state["openblas_coretype"]:
        threads += f", OPENBLAS_CORETYPE={state['openblas_coretype']}"
    torch = (f"PyTorch {state['torch']} (default CPU path, 1 thread, separate process)"
             if state["torch"] else "PyTorch not found")
    return (f"{state['cpu']}, {state['cores']} cores, load {load} · Python {state['python']}, "
            f"NumPy {state['numpy']}, {state['blas']} ({threads}) · {torch} · clock: "
            f"{state['clock']} · {state['date_utc']} UTC")


@dataclass(frozen=True)
class Target:
    """A promise on ``style``'s training step on ``case``, by ``kind``: "torch", time <= ``limit``
    x PyTorch's; "naive", speed-up over naive >= limit; "memory", peak <= limit x input bytes."""

    name: str
    case: Case
    op: str
    kind: str
    limit: float
    style: str = "fast"


#: Per kind of target: how its ratio reads, and whether the limit is a ceiling or a floor.
KINDS = {"torch": ("{:.2f}x torch", "at most"), "naive": ("{:,.0f}x faster", "at least"),
         "memory": ("{:.2f}x the input", "at most")}


def _targets() -> list:
    shown = ("strided", "fast")                # fast is judged, strided shown beside it
    pools = Case(ops=("max", "avg"), shape=(32, 64, 64, 32), styles=shown)
    conv = Case(ops=("conv",), shape=(16, 32, 32, 16), stride=(1, 1), out_channels=32, styles=shown)
    # (case, op, limit); in float64, where fast beats PyTorch, every limit is 1.5
    float32 = [(replace(pools, kernel=(size, size)), op, limit)
               for size, limit in ((2, 2.5), (3, 4.0)) for op in ("max", "avg")]
    float32 += [(conv, "conv", 3.0), (replace(conv, shape=(8, 64, 64, 3), kernel=(5, 5),
                                              out_channels=8), "conv", 3.5)]
    targets = [Target(case.describe(op), case, op, "torch", limit) for case, op, limit in
               float32 + [(replace(case, dtype="float64"), op, 1.5) for case, op, _ in float32]]
    photo = Case(ops=("max",), shape=(1, 512, 512, 3), styles=("naive", "strided", "fast"))
    for style, limit in (("fast", 100.0), ("strided", 30.0)):
        targets.append(Target(f"512x512x3 photo, max size 3 stride 2: {style} vs naive",
                              photo, "max", "naive", limit, style))
    memory = replace(pools, ops=("max",), stride=(1, 1), styles=("stacked", "strided", "fast"))
    targets.append(Target("memory: max x (32, 64, 64, 32) size 3 stride 1 float32, peak of "
                          "forward + backward", memory, "max", "memory", 4.0))
    return targets


TARGETS = _targets()


def _step_text(target: Target, row: Row, between: str | None = None) -> str:
    """One style's step as ``target`` reads it (peak memory, or median time), then, if
    ``between`` is given, the ratio judged: ``peak 80 MB, 5.00x the input``."""
    text = (f"peak {_megabytes(row.peak_bytes)} MB" if target.kind == "memory"
            else f"{'~' * row.estimated}{_number(row.median_ms)} ms")
    if between is not None:
        value = _target_value(target, row)
        text += between + ("not measured" if value is None else KINDS[target.kind][0].format(value))
    return text


def _target_value(target: Target, row: Row) -> float | None:
    """The ratio ``target`` judges, for one style's step row (None if it was not measured)."""
    if target.kind == "memory" and row.peak_bytes is not None:
        x_bytes = math.prod(target.case.shape) * np.dtype(target.case.dtype).itemsize
        return row.peak_bytes / x_bytes
    return {"torch": row.x_torch, "naive": row.x_naive}.get(target.kind)


def check_target(target: Target, rows) -> dict:
    """Whether ``rows`` (of the target's case) meet ``target``: a dict of the ``style`` judged,
    its step (``measured``), what it is compared with (``reference``), the ratio (``value``),
    ``met`` (True, False, or None: not measured, no PyTorch) and the ``strided`` style's figure
    when another style is judged."""
    step = {row.style: row for row in rows
            if row.op == target.op and row.pass_ == "step" and row.error is None}
    judged, reference, value, met = step.get(target.style), "–", None, None
    if judged and target.kind == "torch" and judged.torch_ms is not None:
        reference = f"torch {_number(judged.torch_ms)} ms"
    elif judged and target.kind == "naive":
        reference = f"naive {_step_text(target, step['naive']) if 'naive' in step else 'failed'}"
    elif judged and target.kind == "memory":
        reference = ", ".join(f"{style} {_step_text(target, row, ' = ')}"
                              for style, row in step.items() if row.peak_bytes is not None
                              and style not in (target.style, "strided")) or "–"
    if judged and (value := _target_value(target, judged)) is not None:
        met = bool(value >= target.limit if target.kind == "naive" else value <= target.limit)
    strided = step.get("strided") if target.style != "strided" else None
    return {"target": target.name, "kind": target.kind, "limit": target.limit,
            "style": target.style, "measured": _step_text(target, judged) if judged else "failed",
            "reference": reference, "value": value, "met": met,
            "strided": strided and _step_text(target, strided, ", ")}


def format_targets(results) -> str:
    """The results of :func:`check_target` as a Markdown table, a line per target."""
    lines = []
    for result in results:
        (text, bound), value = KINDS[result["kind"]], result["value"]
        shown = (f"{text.format(value)} ({bound} {_number(result['limit'])}x)" if value is not None
                 else "no PyTorch" if result["kind"] == "torch" and result["measured"] != "failed"
                 else "not measured")
        lines.append([result["target"], result["style"], result["measured"], result["reference"],
                      shown, {None: "–", True: "yes", False: "**NO**"}[result["met"]],
                      result["strided"] or "–"])
    return _markdown(["target", "style", "step", "compared with", "measured", "met",
                      "strided, for comparison"], lines)


def add_arguments(parser) -> None:
    """The options of ``python -m pooling_lab bench``."""
    option = parser.add_argument
    option("--op", nargs="+", choices=OPS, default=list(OPS), dest="ops",
           help="ops to time (default: all)")
    option("--style", nargs="+", choices=list(STYLES), default=list(STYLES), dest="styles",
           help="styles to time (default: all)")
    option("--shape", nargs=4, type=int, metavar=("N", "H", "W", "C"),
           help=f"shape of x (default: {' '.join(map(str, DEFAULT_SHAPE))}); x, the output and w "
                f"together at most {LARGEST_CASE_BYTES:,} bytes")
    for name, metavar, default, help in (
            ("--kernel", "K", 3, "pooling size or conv kernel: K or KH KW (default: 3)"),
            ("--stride", "S", 2, "S or SH SW (default: 2; the conv uses it too)"),
            ("--padding", "P", 0, "P or PH PW, added on both sides (default: 0; pooling allows "
                                  "at most half the window)"),
            ("--dilation", "D", 1, "D or DH DW, the step between a window's taps (default: 1)")):
        option(name, nargs="+", type=int, metavar=metavar, default=[default], help=help)
    option("--out-channels", type=int, metavar="C_OUT",
           help="conv C_out, a positive integer (default: C, x's channels)")
    option("--dtype", choices=("float32", "float64"), default="float32",
           help="dtype of every array (default: float32)")
    option("--repeats", type=int, help=f"timed runs after one warm-up run (default: "
                                       f"{DEFAULT_REPEATS}; {QUICK_REPEATS} with --quick)")
    option("--quick", action="store_true", help=f"a small case (x "
           f"{' '.join(map(str, QUICK_SHAPE))}) and {QUICK_REPEATS} repeats, a few seconds; "
           f"--shape and --repeats, when given, win over --quick (a note says so)")
    option("--targets", action="store_true", help="run the cases the course promises and check "
           "each target (the fast style is judged; the case options are not used)")
    option("--json", metavar="FILE",
           help="also write the results as JSON (on Ctrl-C: what was measured)")
    option("--torch-python", metavar="PYTHON", help="a Python that can import torch and numpy, "
           "run isolated (python -I: torch may live in its own venv); default: this one. One "
           "that is not an executable file is an error; one that cannot import torch only "
           "leaves the torch columns empty (a note says so)")
    option("--no-torch", action="store_true", help="skip the PyTorch columns")
    option("--no-memory", action="store_true", help="skip the tracemalloc runs (no peak MB column)")
    option("--clock", choices=tuple(measure.CLOCKS), default="wall",
           help="wall time, or this process's CPU time (steadier on a busy machine); default: wall")


def check_arguments(args):
    """Check the options (see :mod:`pooling_lab.cli`) and complete them for :func:`run`:
    ``repeats``, ``case`` (None for --targets), ``torch_python`` (None for --no-torch), ``json``
    (a Path) and ``notes``, what the options decided that the user may not expect."""
    args.notes, args.case = [], None
    if args.repeats is None:
        args.repeats = QUICK_REPEATS if args.quick else DEFAULT_REPEATS
    elif args.quick:
        args.notes.append(f"--quick with --repeats {args.repeats}: {args.repeats} timed runs "
                          f"(--repeats wins over --quick)")
    args.repeats = rules.positive_int(args.repeats, "--repeats")
    args.json = output_file(args.json, "--json") if args.json else None
    torch_python = args.torch_python or sys.executable       # checked even with --no-torch
    if shutil.which(torch_python) is None:
        raise ValueError(f"--torch-python must be an executable Python, a path or a name on "
                         f"PATH; got {torch_python!r}, which is not (or use --no-torch)")
    args.torch_python = None if args.no_torch else torch_python
    if args.targets:
        return args
    if args.shape is None:
        args.shape = QUICK_SHAPE if args.quick else DEFAULT_SHAPE
    elif args.quick:
        args.notes.append(f"--quick with --shape: x of shape {tuple(args.shape)} "
                          f"(--shape wins over --quick)")
    shape = tuple(rules.positive_int(length, f"--shape {axis}")
                  for length, axis in zip(args.shape, "NHWC", strict=True))
    out_channels = (shape[3] if args.out_channels is None
                    else rules.positive_int(args.out_channels, "--out-channels"))
    if len(args.padding) > 2 or min(args.padding) < 0:
        raise ValueError(f"--padding takes one or two integers >= 0; got {args.padding}")
    pairs = {name: rules.as_pair(values[0] if len(values) == 1 else tuple(values), f"--{name}")
             for name, values in (("kernel", args.kernel), ("stride", args.stride),
                                  ("dilation", args.dilation))}    # 3 -> (3, 3); 3 2 -> (3, 2)
    args.case = case = Case(tuple(args.ops), shape, padding=(args.padding[0], args.padding[-1]),
                            out_channels=out_channels, dtype=args.dtype,
                            styles=tuple(args.styles), **pairs)
    for op in case.ops:
        try:
            case_geometry(case, op)
        except ValueError as error:
            raise ValueError(f"{case.describe(op)}: {error}") from None
        if (needed := case_bytes(case, op)) > LARGEST_CASE_BYTES:
            raise ValueError(f"--shape {' '.join(map(str, shape))}: {op}'s arrays (x, output"
                             f"{', w' * (op == 'conv')}) would take {needed:,} bytes in "
                             f"{case.dtype}; the bench allows at most {LARGEST_CASE_BYTES:,} "
                             f"bytes (1 GiB)")
    return args


def _progress(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def run(settings) -> int:
    """Run the benchmark ``settings`` describe; print the tables; return the exit status (1
    when a style failed). On Ctrl-C, ``--json`` gets what was measured, marked interrupted."""
    for note in settings.notes:
        print(f"note: {note}", file=sys.stderr)
    torch_version = settings.torch_python and torch_available(settings.torch_python)
    if settings.torch_python and not torch_version:
        _progress(f"PyTorch not importable by {settings.torch_python}: no torch columns "
                  f"(name another Python with --torch-python)")
    state = machine_state(settings.clock, torch_version or None)
    results = {"machine": state, "interrupted": True, "cases": [], "targets": []}
    print(f"Machine: {format_state(state)}\n", flush=True)
    cases = [(case, []) for case in ([settings.case] if settings.case else
                                     dict.fromkeys(target.case for target in TARGETS))]
    try:
        for case, rows in cases:
            run_case(case, settings.repeats, settings.clock,
                     torch_version and settings.torch_python, not settings.no_memory, _progress,
                     rows)
            print(format_table(rows) + "\n", flush=True)
            if settings.case is None:
                results["targets"] += [check_target(target, rows) for target in TARGETS
                                       if target.case == case]
        results["interrupted"] = False
    finally:
        if settings.json:                   # each case's rows so far, even after Ctrl-C
            results["cases"] = [{"case": asdict(case), "rows": [asdict(row) for row in rows]}
                                for case, rows in cases if rows]
            # A second Ctrl-C, ignored while the file is written, cannot cut it short.
            previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
            try:
                settings.json.write_text(json.dumps(results, indent=1))
            finally:
                signal.signal(signal.SIGINT, previous)
    all_rows = [row for _, rows in cases for row in rows]
    if comparison := format_comparison(all_rows):
        print(f"strided (the lesson) against fast (the tuned code), medians:\n\n{comparison}\n")
    if settings.case is None:
        print("Targets (a training step = forward + backward; the fast style is judged):\n")
        print(format_targets(results["targets"]) + "\n")
    print(format_notes(all_rows))
    if settings.json:
        print(f"\nWrote {settings.json}")
    failures = sorted({f"{row.case} · {row.style}: {row.error}" for row in all_rows if row.error})
    for failure in failures:
        print(f"FAILED {failure}", file=sys.stderr)
    return 1 if failures else 0
