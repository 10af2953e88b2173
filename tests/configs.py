"""Random configurations for the contract tests: every style must agree on all of them.

A configuration is a dict with the op (``"max"``, ``"avg"`` or ``"conv"``), the arrays
(``x``, ``w``, ``b``, ``dout``) and the keyword arguments of the forward call. They are drawn
from a seeded generator, so every run checks the same cases, and drawn again until the shared
contract accepts them (a window larger than the padded input, say, is an error, not a case).
"""

from __future__ import annotations

import numpy as np

from pooling_lab.geometry import conv_geometry, pool_geometry

OPS = ("max", "avg", "conv")


def _draw_padding(rng):
    """One of every accepted padding form, asymmetric ones included."""
    form = rng.choice(["valid", "same", "int", "pair", "sides"])
    if form in ("valid", "same"):
        return str(form)
    if form == "int":
        return int(rng.integers(0, 3))
    if form == "pair":
        return (int(rng.integers(0, 3)), int(rng.integers(0, 3)))
    return tuple((int(rng.integers(0, 3)), int(rng.integers(0, 3))) for _ in range(2))


def _draw_pair(rng, low, high):
    """An int or a pair (rows, cols), square or not."""
    if rng.random() < 0.4:
        return int(rng.integers(low, high + 1))
    return (int(rng.integers(low, high + 1)), int(rng.integers(low, high + 1)))


def _draw_values(rng, shape, dtype):
    """Normal values, or small integers so that max-pool windows hold ties."""
    if rng.random() < 0.25:
        return rng.integers(-2, 3, size=shape).astype(dtype)
    return rng.standard_normal(shape).astype(dtype)


def draw_config(rng, op: str) -> dict:
    """One random configuration of ``op`` that the contract accepts."""
    while True:
        draw = rng.random()
        dtype = np.float16 if draw < 0.1 else np.float32 if draw < 0.4 else np.float64
        n = int(rng.choice([1, 1, 2, 3]))
        channels = int(rng.choice([1, 2, 3]))
        x_shape = (n, int(rng.integers(3, 13)), int(rng.integers(3, 13)), channels)
        kernel = _draw_pair(rng, 1, 4)
        kernel = kernel if isinstance(kernel, tuple) else (kernel, kernel)
        stride = _draw_pair(rng, 1, 5)
        dilation = _draw_pair(rng, 1, 3) if rng.random() < 0.5 else 1
        padding = _draw_padding(rng)
        try:
            if op == "conv":
                c_out = int(rng.integers(1, 4))
                geometry = conv_geometry(x_shape, (*kernel, channels, c_out),
                                         stride, padding, dilation)
            else:
                size = kernel if kernel[0] != kernel[1] or rng.random() < 0.5 else kernel[0]
                stride_arg = None if rng.random() < 0.15 else stride
                geometry = pool_geometry(x_shape, size, stride_arg, padding, dilation)
        except ValueError:
            continue  # e.g. a window larger than the padded input: draw again
        x = _draw_values(rng, x_shape, dtype)
        out_shape = (n, *geometry.out_hw, c_out if op == "conv" else channels)
        # Random upstream gradients, never all ones (ones hide per-image bugs).
        dout = rng.standard_normal(out_shape).astype(dtype)
        config = {"op": op, "x": x, "dout": dout, "dtype": dtype, "geometry": geometry}
        if op == "conv":
            config["w"] = rng.standard_normal((*kernel, channels, c_out)).astype(dtype)
            config["b"] = (rng.standard_normal(c_out).astype(dtype)
                           if rng.random() < 0.7 else None)
            config["kwargs"] = {"stride": stride, "padding": padding, "dilation": dilation}
        else:
            config["kwargs"] = {"size": size, "stride": stride_arg, "padding": padding,
                                "dilation": dilation}
            if op == "avg":
                config["kwargs"]["count_include_pad"] = bool(rng.random() < 0.5)
        return config


def random_configs(count_per_op: int, seed: int = 2026) -> list[dict]:
    """``count_per_op`` configurations of each op, the same ones on every run."""
    rng = np.random.default_rng(seed)
    return [draw_config(rng, op) for op in OPS for _ in range(count_per_op)]


def run(style, config: dict):
    """Forward and backward of ``config`` in ``style``: ``(out, *gradients)``."""
    op, kwargs = config["op"], config["kwargs"]
    if op == "conv":
        out, cache = style.conv_forward(config["x"], config["w"], config["b"], **kwargs)
        return (out, *style.conv_backward(config["dout"], cache))
    forward = getattr(style, f"{op}_pool_forward")
    backward = getattr(style, f"{op}_pool_backward")
    out, cache = forward(config["x"], **kwargs)
    return out, backward(config["dout"], cache)


def describe(config: dict) -> str:
    """A one-line description of a configuration, for assertion messages."""
    extra = f" w{config['w'].shape}" if config["op"] == "conv" else ""
    return (f"{config['op']} x{config['x'].shape}{extra} {np.dtype(config['dtype']).name} "
            f"{config['kwargs']}")


# --------------------------------------------------------------------------------------------
# 2. float16: summed in float32, rounded once, and the styles agree
# --------------------------------------------------------------------------------------------

def ulps_from(result16, truth):
    """|result - truth| in units of float16 spacing at the truth (at least 2**-6, so that
    results near zero are not measured against subnormal spacings)."""
    scale = np.maximum(np.abs(truth), 2.0**-6).astype(np.float16)
    return np.abs(result16.astype(np.float64) - truth) / np.spacing(scale).astype(np.float64)


def float16_conv_case(seed, dyadic):
    """x, w, b in float16 in [-4, 4]; ``dyadic`` keeps them multiples of 1/16, so that every
    product and every sum is exact in float32 (any summing order gives the same float32),
    though not in float16."""
    rng = np.random.default_rng(seed)
    arrays = [rng.uniform(-4, 4, shape) for shape in [(2, 9, 10, 8), (3, 3, 8, 5), (5,)]]
    if dyadic:
        arrays = [np.round(array * 16) / 16 for array in arrays]
    return [array.astype(np.float16) for array in arrays]
