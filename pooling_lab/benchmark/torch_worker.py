"""PyTorch's times for one benchmark case, measured in a process of its own.

:mod:`pooling_lab.benchmark.bench` runs this file by its path with a Python that can import
PyTorch (``--torch-python``), writes one case to its standard input as JSON
(:func:`bench.torch_spec`) and reads one JSON line back::

    $ echo '{"op": "max", "shape": [8, 64, 64, 16], "kernel": [3, 3], "stride": [2, 2],
    ...      "padding": [0, 0], "dilation": [1, 1], "out_channels": null, "dtype": "float32",
    ...      "repeats": 7, "clock": "wall"}' | python -m pooling_lab.benchmark.torch_worker
    {"forward": 1.9, "backward": 3.1, "step": 5.0, "version": "2.13.0+cpu"}

Times are medians in milliseconds from :mod:`pooling_lab.measure`. A process of its own,
because one that mixed PyTorch and NumPy once aborted with heap corruption (``bench`` retries a
crashed worker once). This file imports only the standard library, NumPy and the package's
``measure.py`` (PyTorch only when it runs): that Python needs PyTorch and NumPy, not this package.
"""

import json
import runpy
import sys
from functools import partial
from pathlib import Path
from types import SimpleNamespace

import numpy as np

#: The keys of the case, in bench's order; lists are (rows, cols), except ``shape``, (N, H, W, C).
KEYS = ("op", "shape", "kernel", "stride", "padding", "dilation", "out_channels", "dtype",
        "repeats", "clock")

#: Exit status for a case that cannot be read (one line on stderr) and for a Python without torch.
BAD_SPEC, NO_TORCH = 2, 3


class SpecError(ValueError):
    """The JSON case on stdin is not one this worker can run."""


def parse_spec(text: str) -> SimpleNamespace:
    """The case ``bench`` sends, its lists read as tuples; a SpecError if it is not one JSON
    object with the keys of :data:`KEYS`, a known ``op`` and ``clock`` (bench writes the rest)."""
    try:
        fields = json.loads(text)
    except json.JSONDecodeError:
        fields = None
    if not isinstance(fields, dict) or set(fields) != set(KEYS):
        raise SpecError(f"the case must be one JSON object with the keys {sorted(KEYS)}; "
                        f"got {text[:80]!r}")
    for key, allowed in (("op", ["max", "avg", "conv"]), ("clock", ["wall", "cpu"])):
        if fields[key] not in allowed:
            raise SpecError(f"{key!r} must be one of {allowed}; got {fields[key]!r}")
    return SimpleNamespace(**{key: tuple(value) if isinstance(value, list) else value
                              for key, value in fields.items()})


def measure(spec: SimpleNamespace, torch) -> dict:
    """Time ``spec``'s layer with the ``torch`` module given: ``forward``, ``backward`` and
    ``step`` (their sum) in milliseconds, and ``version``; a SpecError if PyTorch has no such
    layer (its ``avg_pool2d`` takes no dilation)."""
    # measure.py by its path: this Python may not be able to import the package.
    measure_py = runpy.run_path(str(Path(__file__).resolve().parents[1] / "measure.py"))
    median_seconds, clock = measure_py["median_seconds"], measure_py["CLOCKS"][spec.clock]
    dtype = getattr(torch, spec.dtype)
    # The same x as bench's NumPy run (seed 0), laid out channels-last in memory like our
    # (N, H, W, C) arrays; PyTorch's index order is (N, C, H, W).
    x_nhwc = np.random.default_rng(0).standard_normal(spec.shape).astype(spec.dtype)
    x = torch.from_numpy(x_nhwc).permute(0, 3, 1, 2).contiguous(
        memory_format=torch.channels_last)               # (N, H, W, C) -> (N, C, H, W)
    functional = torch.nn.functional
    options = {"stride": spec.stride, "padding": spec.padding, "dilation": spec.dilation}
    params = []                                         # conv's weight and bias
    if spec.op == "conv":
        kh, kw, channels = *spec.kernel, spec.shape[3]
        weight = torch.randn(spec.out_channels, channels, kh, kw, dtype=dtype)
        params = [weight / (kh * kw * channels) ** 0.5,      # keeps the outputs near unit size
                  torch.randn(spec.out_channels, dtype=dtype)]
        layer = partial(functional.conv2d, weight=params[0], bias=params[1], **options)
    elif spec.op == "max":
        layer = partial(functional.max_pool2d, kernel_size=spec.kernel, **options)
    elif spec.dilation != (1, 1):
        raise SpecError(f"PyTorch's avg_pool2d takes no dilation; got {list(spec.dilation)}")
    else:
        del options["dilation"]                         # avg_pool2d has no such argument
        layer = partial(functional.avg_pool2d, kernel_size=spec.kernel, count_include_pad=True,
                        **options)
    with torch.no_grad():
        forward_ms = 1e3 * median_seconds(lambda: layer(x), spec.repeats, clock)
    inputs = [x.requires_grad_(), *(param.requires_grad_() for param in params)]
    out = layer(x)
    dout = torch.randn(out.shape, dtype=dtype).contiguous(memory_format=torch.channels_last)
    backward_ms = 1e3 * median_seconds(     # the graph is kept for every run; no .grad is summed
        lambda: torch.autograd.grad(out, inputs, dout, retain_graph=True), spec.repeats, clock)
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
