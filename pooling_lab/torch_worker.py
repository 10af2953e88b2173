"""PyTorch's times for one benchmark case, measured in a process of its own.

:mod:`pooling_lab.bench` starts this module with a Python that can import PyTorch (named with
``--torch-python``), writes one case to its standard input as JSON and reads one JSON line
back::

    $ echo '{"op": "max", "shape": [8, 64, 64, 16], "kernel": [3, 3], "stride": [2, 2],
    ...      "padding": [0, 0], "dilation": [1, 1], "out_channels": null, "dtype": "float32",
    ...      "repeats": 7, "clock": "wall"}' | python -m pooling_lab.torch_worker
    {"forward": 1.9, "backward": 3.1, "step": 5.0, "version": "2.13.0+cpu"}

Times are medians in milliseconds, after one warm-up call, timed by :mod:`pooling_lab.measure`
(loaded by its path), on PyTorch's default CPU path (oneDNN on, as its users run it) with one
thread. A bad case ends with one line on stderr and exit status 2; a Python without PyTorch
with one line on stderr and exit status 3.

Why a separate process: a process that mixed PyTorch and NumPy timings once aborted with heap
corruption, and two processes cannot slow each other's caches or allocators.

This file imports only the standard library, NumPy and its sibling ``measure.py`` (PyTorch when
it runs, never when it is imported), so ``bench`` runs it by its path with a Python that has
PyTorch and NumPy but not this package.
"""

from __future__ import annotations

import importlib.util
import json
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

OPS = ("max", "avg", "conv")
DTYPES = ("float32", "float64")
CLOCKS = ("wall", "cpu")

#: Exit status for a case that cannot be read, and for a Python without PyTorch.
BAD_SPEC, NO_TORCH = 2, 3


class SpecError(ValueError):
    """The JSON case on stdin is not one this worker can run."""


@dataclass(frozen=True)
class Spec:
    """One case, as :mod:`pooling_lab.bench` describes it.

    Attributes
    ----------
    op : "max", "avg" or "conv"
    shape : (N, H, W, C) of x
    kernel, stride, dilation : (rows, cols)
    padding : (rows, cols), zeros added on both sides of each axis
    out_channels : C_out for "conv", None for pooling
    dtype : "float32" or "float64"
    repeats : timed runs after one warm-up run
    clock : "wall" (time.perf_counter) or "cpu" (time.process_time)
    """

    op: str
    shape: tuple[int, int, int, int]
    kernel: tuple[int, int]
    stride: tuple[int, int]
    padding: tuple[int, int]
    dilation: tuple[int, int]
    out_channels: int | None
    dtype: str
    repeats: int
    clock: str


def _ints(value, key: str, length: int, smallest: int) -> tuple:
    """A JSON list of ``length`` integers, each at least ``smallest``, as a tuple."""
    if (not isinstance(value, list) or len(value) != length
            or not all(type(item) is int and item >= smallest for item in value)):
        raise SpecError(f"{key!r} must be a list of {length} integers >= {smallest}; "
                        f"got {value!r}")
    return tuple(value)


def _choice(value, key: str, allowed: tuple) -> str:
    if value not in allowed:
        raise SpecError(f"{key!r} must be one of {list(allowed)}; got {value!r}")
    return value


def parse_spec(text: str) -> Spec:
    """Read the JSON case sent by ``bench``.

    Raises
    ------
    SpecError
        The text is not a JSON object with exactly the fields of :class:`Spec`, or a field
        has a value the worker cannot run (named in the message).
    """
    try:
        fields = json.loads(text)
    except json.JSONDecodeError as error:
        raise SpecError(f"the case must be one JSON object; got {text[:60]!r} ({error})") from None
    if not isinstance(fields, dict):
        raise SpecError(f"the case must be one JSON object; got {type(fields).__name__}")
    expected = set(Spec.__dataclass_fields__)
    if set(fields) != expected:
        missing, unknown = sorted(expected - set(fields)), sorted(set(fields) - expected)
        raise SpecError(f"the case must have the fields {sorted(expected)}; "
                        f"missing {missing}, unknown {unknown}")
    op = _choice(fields["op"], "op", OPS)
    out_channels = fields["out_channels"]
    if op == "conv":
        out_channels = _ints([out_channels], "out_channels", 1, 1)[0]
    elif out_channels is not None:
        raise SpecError(f"'out_channels' must be null for pooling; got {out_channels!r}")
    return Spec(op=op, shape=_ints(fields["shape"], "shape", 4, 1),
                kernel=_ints(fields["kernel"], "kernel", 2, 1),
                stride=_ints(fields["stride"], "stride", 2, 1),
                padding=_ints(fields["padding"], "padding", 2, 0),
                dilation=_ints(fields["dilation"], "dilation", 2, 1),
                out_channels=out_channels, dtype=_choice(fields["dtype"], "dtype", DTYPES),
                repeats=_ints([fields["repeats"]], "repeats", 1, 1)[0],
                clock=_choice(fields["clock"], "clock", CLOCKS))


def _measure_module():
    """``pooling_lab.measure``, loaded from the file beside this one: the package itself may not
    be importable by the Python that runs the worker."""
    spec = importlib.util.spec_from_file_location("measure", Path(__file__).with_name("measure.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def measure(spec: Spec, torch) -> dict:
    """Time ``spec``'s layer forward and backward with the ``torch`` module given.

    Returns
    -------
    times : dict
        ``forward``, ``backward`` and ``step`` (their sum) in milliseconds, and ``version``.

    Raises
    ------
    SpecError
        PyTorch has no such layer (its ``avg_pool2d`` takes no dilation).
    """
    functional = torch.nn.functional
    median_seconds = _measure_module().median_seconds
    clock = time.process_time if spec.clock == "cpu" else time.perf_counter
    dtype = getattr(torch, spec.dtype)
    # The same x as bench's NumPy run (seed 0), laid out channels-last in memory like our
    # (N, H, W, C) arrays; PyTorch's index order is (N, C, H, W).
    x_nhwc = np.random.default_rng(0).standard_normal(spec.shape).astype(spec.dtype)
    x = torch.from_numpy(x_nhwc).permute(0, 3, 1, 2).contiguous(
        memory_format=torch.channels_last)               # (N, H, W, C) -> (N, C, H, W)
    params = []
    if spec.op == "conv":
        kh, kw = spec.kernel
        channels = spec.shape[3]
        weight = torch.randn(spec.out_channels, channels, kh, kw, dtype=dtype)
        weight /= (kh * kw * channels) ** 0.5            # keeps the outputs near unit size
        bias = torch.randn(spec.out_channels, dtype=dtype)
        params = [weight, bias]

        def layer(t):
            return functional.conv2d(t, weight, bias, stride=spec.stride,
                                     padding=spec.padding, dilation=spec.dilation)
    elif spec.op == "max":
        def layer(t):
            return functional.max_pool2d(t, spec.kernel, stride=spec.stride,
                                         padding=spec.padding, dilation=spec.dilation)
    else:
        if spec.dilation != (1, 1):
            raise SpecError(f"PyTorch's avg_pool2d takes no dilation; got {list(spec.dilation)}")

        def layer(t):
            return functional.avg_pool2d(t, spec.kernel, stride=spec.stride,
                                         padding=spec.padding, count_include_pad=True)

    with torch.no_grad():
        forward_ms = 1e3 * median_seconds(lambda: layer(x), spec.repeats, clock)
    x_grad = x.detach().clone().requires_grad_(True)
    for param in params:
        param.requires_grad_(True)
    out = layer(x_grad)
    dout = torch.randn(out.shape, dtype=dtype).contiguous(memory_format=torch.channels_last)

    def backward():
        x_grad.grad = None
        for param in params:
            param.grad = None
        out.backward(dout, retain_graph=True)            # the graph is reused by every run

    backward_ms = 1e3 * median_seconds(backward, spec.repeats, clock)
    return {"forward": forward_ms, "backward": backward_ms, "step": forward_ms + backward_ms,
            "version": torch.__version__}


def main() -> int:
    """Read a case on stdin, print its times as one JSON line; return the exit status."""
    try:
        spec = parse_spec(sys.stdin.read())
    except SpecError as error:
        print(f"torch_worker: bad case: {error}", file=sys.stderr)
        return BAD_SPEC
    try:
        import torch
    except ImportError as error:
        print(f"torch_worker: PyTorch is not importable by {sys.executable} ({error}); "
              f"name a Python that has it with --torch-python", file=sys.stderr)
        return NO_TORCH
    torch.set_num_threads(1)                  # one thread, as the NumPy styles; oneDNN as default
    try:
        times = measure(spec, torch)
    except SpecError as error:
        print(f"torch_worker: bad case: {error}", file=sys.stderr)
        return BAD_SPEC
    print(json.dumps(times))
    return 0


if __name__ == "__main__":
    sys.exit(main())
