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
corruption (``bench`` runs a crashed worker once more), and two processes cannot slow each
other's caches or allocators.

This file imports only the standard library, NumPy and its sibling ``measure.py`` (PyTorch when
it runs, never when it is imported), so ``bench`` runs it by its path with a Python that has
PyTorch and NumPy but not this package.
"""

from __future__ import annotations

import importlib.util
import json
import sys
import time
from functools import partial
from pathlib import Path
from types import SimpleNamespace

import numpy as np

#: Each field of the case: the values allowed, or (how many integers, the smallest allowed).
#: ``shape`` is (N, H, W, C) of x; ``kernel``, ``stride``, ``padding`` (zeros on both sides) and
#: ``dilation`` are (rows, cols); ``out_channels`` is null for pooling; ``repeats`` counts the
#: timed runs after one warm-up; ``clock`` "wall" is time.perf_counter, "cpu" time.process_time.
FIELDS = {"op": ("max", "avg", "conv"), "shape": (4, 1), "kernel": (2, 1), "stride": (2, 1),
          "padding": (2, 0), "dilation": (2, 1), "out_channels": (1, 1),
          "dtype": ("float32", "float64"), "repeats": (1, 1), "clock": ("wall", "cpu")}

#: Exit status for a case that cannot be read, and for a Python without PyTorch.
BAD_SPEC, NO_TORCH = 2, 3


class SpecError(ValueError):
    """The JSON case on stdin is not one this worker can run."""


def parse_spec(text: str) -> SimpleNamespace:
    """Read the JSON case sent by ``bench``: one object with the keys of :data:`FIELDS`, lists
    read as tuples. A SpecError names what is wrong: not such an object, or a field whose value
    the worker cannot run."""
    try:
        fields = json.loads(text)
    except json.JSONDecodeError as error:
        raise SpecError(f"the case must be one JSON object; got {text[:60]!r} ({error})") from None
    if not isinstance(fields, dict):
        raise SpecError(f"the case must be one JSON object; got {type(fields).__name__}")
    if set(fields) != set(FIELDS):
        missing, unknown = sorted(set(FIELDS) - set(fields)), sorted(set(fields) - set(FIELDS))
        raise SpecError(f"the case must have the fields {sorted(FIELDS)}; "
                        f"missing {missing}, unknown {unknown}")
    for key, allowed in FIELDS.items():
        value = fields[key]
        if key == "out_channels" and fields["op"] != "conv":
            if value is not None:
                raise SpecError(f"'out_channels' must be null for pooling; got {value!r}")
        elif isinstance(allowed[0], str):
            if value not in allowed:
                raise SpecError(f"{key!r} must be one of {list(allowed)}; got {value!r}")
        else:
            count, smallest = allowed
            numbers = value if count > 1 and isinstance(value, list) else [value]
            if len(numbers) != count or not all(type(number) is int and number >= smallest
                                                for number in numbers):
                what = "an integer" if count == 1 else f"a list of {count} integers"
                raise SpecError(f"{key!r} must be {what} >= {smallest}; got {value!r}")
            fields[key] = tuple(numbers) if count > 1 else value
    return SimpleNamespace(**fields)


def _measure_module():
    """``pooling_lab.measure``, loaded from the file beside this one: the package itself may not
    be importable by the Python that runs the worker."""
    path = Path(__file__).with_name("measure.py")
    spec = importlib.util.spec_from_file_location("measure", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def measure(spec: SimpleNamespace, torch) -> dict:
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
    options = {"kernel_size": spec.kernel, "stride": spec.stride, "padding": spec.padding}
    params = []
    if spec.op == "conv":
        kh, kw = spec.kernel
        channels = spec.shape[3]
        weight = torch.randn(spec.out_channels, channels, kh, kw, dtype=dtype)
        weight /= (kh * kw * channels) ** 0.5            # keeps the outputs near unit size
        params = [weight, torch.randn(spec.out_channels, dtype=dtype)]
        del options["kernel_size"]                       # the kernel is weight's shape
        layer = partial(functional.conv2d, weight=weight, bias=params[1],
                        dilation=spec.dilation, **options)
    elif spec.op == "max":
        layer = partial(functional.max_pool2d, dilation=spec.dilation, **options)
    elif spec.dilation != (1, 1):
        raise SpecError(f"PyTorch's avg_pool2d takes no dilation; got {list(spec.dilation)}")
    else:
        layer = partial(functional.avg_pool2d, count_include_pad=True, **options)
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
        try:
            import torch
        except ImportError as error:
            print(f"torch_worker: PyTorch is not importable by {sys.executable} ({error}); "
                  f"name a Python that has it with --torch-python", file=sys.stderr)
            return NO_TORCH
        torch.set_num_threads(1)              # one thread, as the NumPy styles; oneDNN as default
        times = measure(spec, torch)
    except SpecError as error:
        print(f"torch_worker: bad case: {error}", file=sys.stderr)
        return BAD_SPEC
    print(json.dumps(times))
    return 0


if __name__ == "__main__":
    sys.exit(main())
