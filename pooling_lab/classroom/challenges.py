"""The challenges' checks: one per notebook 01-07, each asking for what its notebook has not shown.

Cases are *specs*, small ints (``n, h, w, c, size, stride, ...``) and flags (``ties``, ``nans``,
``negative``): ``build(rng, **spec)`` makes a case's arguments (``ValueError`` for a geometry that
does not exist) and ``spec_of(inputs)`` reads the spec back, so that one shrinker and one random
case generator (a table case's ints nudged) serve all seven. The references are the naive style's
functions and run in the grader. Each challenge is a dict of :class:`~.exercises.Check`'s fields
but its ``rules``, which the table states.
"""

import collections
import functools

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from .. import layers, naive
from ..geometry import conv_geometry, pool_geometry

MINIMUM = {"padding": 0}              # the smallest value of a spec's int; 1 for the others
SEED = 0                              # of every table case: a failure is the same on every run

#: A case: what it tests, its arguments by name, its role: "small", "large", "memory", "hidden".
Case = collections.namedtuple("Case", "name inputs role", defaults=("",))


def _cases(build, table) -> list:
    rng = np.random.default_rng(SEED)
    return [Case(name, build(rng, **spec), role) for name, spec, role in table]


def _random_case(build, table, rng) -> dict:
    """A table case with each int moved by -1 to +2 and each flag flipped one time in three."""
    while True:                                       # draw again until the geometry exists
        _, spec, _ = table[rng.integers(len(table))]
        spec = {key: value ^ (rng.random() < 0.3) if isinstance(value, bool) else max(
            MINIMUM.get(key, 1), value + int(rng.integers(-1, 3))) for key, value in spec.items()}
        try:
            return build(rng, **spec)
        except ValueError:
            continue


def _shrink(build, spec_of, inputs: dict):
    """Cases with one int of the spec one or two smaller (flags kept), rebuilt."""
    spec = spec_of(inputs)
    for key, value in spec.items():
        for smaller in (value - 1, value - 2) if not isinstance(value, bool) else ():
            if smaller < MINIMUM.get(key, 1):
                break
            try:
                yield build(np.random.default_rng(SEED), **dict(spec, **{key: smaller}))
                break
            except ValueError:                        # e.g. an odd size for the CNN: try -2
                continue


def _challenge(signature, build, spec_of, reference, keys, cases, outputs=None):
    """The fields of a :class:`~.exercises.Check`: ``cases`` are rows ``(what it tests, role,
    *the values of keys)``, simplest first; the random cases nudge those of role "" or "small"."""
    table = [(what, dict(zip(keys.split(), values)), role) for what, role, *values in cases]
    return dict(signature=signature, reference=reference, outputs=outputs,
                cases=functools.partial(_cases, build, table),
                random_case=functools.partial(_random_case, build, [
                    case for case in table if case[2] in ("", "small")]),
                shrink=functools.partial(_shrink, build, spec_of))


def image(rng, shape, ties=False, nans=False, negative=False) -> np.ndarray:
    """Values with two decimals; ``ties``: small integers; ``nans``: about one in five NaN;
    ``negative``: all below 0, so that zeros in the padding would win."""
    x = rng.integers(0, 3, size=shape).astype(float) if ties else rng.normal(size=shape).round(2)
    x = -np.abs(x) - 0.01 if negative else x
    if nans:
        x[rng.random(shape) < 0.2] = np.nan
    return x


def _build_pool(rng, n, h, w, c, ties=False, nans=False, negative=False, dout=False, **ints):
    """``x`` and the ints (``size, stride``, perhaps ``padding, dilation``), ``dout`` first."""
    geometry = pool_geometry((n, h, w, c), ints["size"], ints["stride"], ints.get("padding", 0),
                             ints.get("dilation", 1))           # ValueError if impossible
    gradient = {"dout": rng.integers(1, 10, size=(n, *geometry.out_hw, c)).astype(float)}
    return {**(gradient if dout else {}), "x": image(rng, (n, h, w, c), ties, nans, negative),
            **ints}


def _pool_spec(inputs) -> dict:
    """``n, h, w, c`` of x, its int arguments, and the flags x shows (ties cannot be seen)."""
    x, ints = inputs["x"], {key: value for key, value in inputs.items() if np.ndim(value) == 0}
    return dict(zip("nhwc", x.shape), nans=bool(np.isnan(x).any()), negative=bool(np.all(x < 0)),
                **ints)


#: The loop check's two cases (the same N and C, a larger H and W), before a row's other keys.
LOOP_CASES = (("the loop check's small case", "small", 2, 6, 7, 2),
              ("its larger case", "large", 2, 14, 15, 2))

AVG_PADDED = _challenge(
    ("x", "size", "stride", "padding", "dilation", "count_include_pad"), _build_pool, _pool_spec,
    lambda **case: naive.avg_pool_forward(**case)[0],
    "n h w c size stride padding dilation count_include_pad", (
        ("no padding, no dilation", "", 1, 4, 4, 1, 2, 2, 0, 1, True),
        ("padding 1, count_include_pad=True: divide by size * size", "",
         1, 5, 5, 1, 3, 2, 1, 1, True),
        ("padding 1, count_include_pad=False: divide by the pixels inside", "",
         1, 5, 5, 1, 3, 2, 1, 1, False),
        ("dilation 2: taps two pixels apart", "", 1, 7, 7, 1, 3, 1, 0, 2, True),
        ("padding 2 and dilation 2, a batch and channels", "", 2, 7, 8, 2, 3, 2, 2, 2, False),
        ("a stride larger than the window, padding 1", "", 1, 8, 9, 1, 2, 3, 1, 1, True)))


def _build_fold(rng, n, h, w, c, size, stride, padding) -> dict:
    oh, ow = pool_geometry((n, h, w, c), size, stride, padding, 1).out_hw
    return dict(windows=rng.normal(size=(n, oh, ow, size, size, c)).round(2),
                x_shape=(n, h, w, c), stride=stride, padding=padding)


def _fold_reference(windows, x_shape, stride, padding) -> np.ndarray:
    """col2im: each window ``(N, size, size, C)`` added into a zero padded x, one at a time."""
    n, h, w, c = x_shape
    size = windows.shape[3]
    padded = np.zeros((n, h + 2 * padding, w + 2 * padding, c))
    for i in range(windows.shape[1]):
        for j in range(windows.shape[2]):
            top, left = i * stride, j * stride
            padded[:, top:top + size, left:left + size] += windows[:, i, j]
    return padded[:, padding:padding + h, padding:padding + w]      # the padding dropped


FOLD = _challenge(
    ("windows", "x_shape", "stride", "padding"), _build_fold,
    lambda inputs: dict(zip("nhwc", inputs["x_shape"]), size=inputs["windows"].shape[3],
                        stride=inputs["stride"], padding=inputs["padding"]), _fold_reference,
    "n h w c size stride padding", (
        ("windows that tile the image", "", 1, 4, 4, 1, 2, 2, 0),
        ("overlapping windows: a pixel in several windows adds them up", "", 1, 5, 5, 1, 3, 1, 0),
        ("rows and columns no window reaches stay 0", "", 1, 6, 7, 1, 2, 3, 0),
        ("padding 1: the padded taps are dropped", "", 1, 5, 5, 1, 3, 2, 1),
        ("padding 1, overlap, a batch and channels", "", 2, 6, 7, 3, 3, 2, 1),
        *((*case, 3, 2, 1) for case in LOOP_CASES)))


def _max_reference(x, size, stride, padding, dilation) -> tuple:
    out, cache = naive.max_pool_forward(x, size, stride, padding, dilation)
    return out, cache.winner.astype(np.intp)     # winner: k = a * size + b, as argmax gives it


MAX_WINNERS = _challenge(
    ("x", "size", "stride", "padding", "dilation"), _build_pool, _pool_spec, _max_reference,
    "n h w c size stride padding dilation ties negative", (
        ("windows that tile the image", "", 1, 4, 4, 1, 2, 2, 0, 1, False, False),
        ("overlapping windows, stride 1", "", 1, 5, 5, 1, 3, 1, 0, 1, False, False),
        ("padding 1: padded cells (-inf) never win, not even over negative values", "",
         1, 5, 5, 1, 3, 2, 1, 1, False, True),
        ("dilation 2: taps two pixels apart", "", 1, 7, 7, 1, 3, 1, 0, 2, False, False),
        ("ties: the first maximum (row-major) wins", "", 2, 6, 6, 1, 3, 2, 0, 1, True, False),
        ("padding 2 and dilation 2, a batch and channels", "",
         2, 8, 7, 2, 3, 2, 2, 2, False, False),
        *((*case, 3, 2, 1, 2, False, False) for case in LOOP_CASES)), outputs=("out", "winner"))

MAX_BACKWARD = _challenge(
    ("dout", "x", "size", "stride", "padding"), functools.partial(_build_pool, dout=True),
    _pool_spec, lambda dout, **case: naive.max_pool_backward(dout, naive.max_pool_forward(
        **case)[1]), "n h w c size stride padding ties nans negative", (
        ("windows that tile the image", "", 1, 4, 4, 1, 2, 2, 0, False, False, False),
        ("overlap: a pixel that wins two windows gets both", "",
         1, 5, 5, 1, 3, 1, 0, False, False, False),
        ("padding 1: padded cells never win, not even over negative values", "",
         1, 5, 5, 1, 3, 2, 1, False, False, True),
        ("ties: the first maximum gets it", "", 2, 6, 6, 1, 3, 2, 0, True, False, False),
        ("NaNs: a window's last NaN gets it", "", 1, 5, 5, 1, 3, 2, 0, False, True, False),
        ("NaNs, padding 1, a batch and channels", "", 2, 6, 7, 2, 3, 2, 1, False, True, False),
        *((*case, 3, 2, 1, False, False, False) for case in LOOP_CASES)))


def _build_conv_dx(rng, n, h, w, c, kh, kw, f, stride, padding) -> dict:
    oh, ow = conv_geometry((n, h, w, c), (kh, kw, c, f), stride, padding, 1).out_hw
    return dict(dout=rng.normal(size=(n, oh, ow, f)).round(2),
                w=rng.normal(size=(kh, kw, c, f)).round(2), x_shape=(n, h, w, c), stride=stride,
                padding=padding)


def _conv_dx_reference(dout, w, x_shape, stride, padding) -> np.ndarray:
    _, cache = naive.conv_forward(np.zeros(x_shape), w, None, stride, padding)
    return naive.conv_backward(dout, cache)[0]


CONV_DX = _challenge(
    ("dout", "w", "x_shape", "stride", "padding"), _build_conv_dx,
    lambda inputs: dict(zip("nhwc", inputs["x_shape"]), **dict(zip(
        ("kh", "kw", "c", "f"), inputs["w"].shape)), stride=inputs["stride"],
        padding=inputs["padding"]), _conv_dx_reference, "n h w c kh kw f stride padding", (
        ("stride 1, no padding: a full convolution", "", 1, 4, 4, 1, 2, 2, 1, 1, 0),
        ("stride 2: zeros between dout's entries", "", 1, 5, 5, 1, 3, 3, 1, 2, 0),
        ("rows and columns no window reaches get 0", "", 1, 6, 6, 1, 3, 3, 1, 2, 0),
        ("padding 1: the padded rows' gradient is dropped", "", 1, 5, 6, 2, 3, 3, 1, 2, 1),
        ("channels in and out, a rectangular kernel", "", 2, 7, 6, 3, 2, 3, 2, 1, 1),
        ("a stride larger than the kernel", "", 2, 8, 8, 1, 2, 2, 2, 3, 0),
        *((*case, 3, 2, 2, 2, 1) for case in LOOP_CASES)))


def _separable_max(x, size, stride) -> np.ndarray:
    """The window maximum as the maximum over rows of the maximum over columns (exact)."""
    columns = sliding_window_view(x, size, axis=2).max(axis=-1)[:, :, ::stride]   # (N, H, OW, C)
    return sliding_window_view(columns, size, axis=1).max(axis=-1)[:, ::stride]


ANY_WINDOW = _challenge(
    ("x", "size", "stride"), _build_pool, _pool_spec, _separable_max, "n h w c size stride", (
        ("windows that tile the image", "", 1, 4, 4, 1, 2, 2),
        ("overlapping windows, stride 1", "", 1, 5, 5, 1, 3, 1),
        ("a window that does not divide the image", "", 1, 9, 8, 1, 4, 1),
        ("a large window, a batch and channels", "", 2, 13, 11, 2, 7, 2),
        ("a stride larger than the window", "", 1, 9, 10, 1, 2, 3),
        ("an 80x80 window: a reduction over every tap takes seconds", "timed", 1, 240, 240, 4, 80,
         1),
        *((*case, 3, 1) for case in LOOP_CASES),
        ("the window check's size 3", "window 3", 2, 24, 24, 2, 3, 1),
        ("its size 9", "window 9", 2, 24, 24, 2, 9, 1)))


def _build_cnn(rng, n, h, w, c, f, k) -> dict:
    if h < 4 or w < 4 or h % 2 or w % 2:
        raise ValueError("the 3x3 convolution's output must have an even size, 2 or more")
    features = (h - 2) // 2 * ((w - 2) // 2) * f
    return dict(x=rng.normal(size=(n, h, w, c)), labels=rng.integers(0, k, size=n),
                w1=0.5 * rng.normal(size=(3, 3, c, f)), b1=0.1 * rng.normal(size=f),
                w2=0.5 * rng.normal(size=(features, k)), b2=0.1 * rng.normal(size=k))


def _cnn_reference(x, labels, w1, b1, w2, b2) -> tuple:
    """conv 3x3 -> ReLU -> max pool 2 -> flatten -> dense -> mean softmax cross-entropy."""
    hidden, conv_cache = naive.conv_forward(x, w1, b1)                # (N, H-2, W-2, F)
    pooled, pool_cache = naive.max_pool_forward(np.maximum(hidden, 0), 2, 2)
    features = pooled.reshape(len(x), -1)                             # (N, PH*PW*F)
    loss, dlogits = layers.softmax_cross_entropy(features @ w2 + b2, labels)
    dpooled = (dlogits @ w2.T).reshape(pooled.shape)
    dhidden = naive.max_pool_backward(dpooled, pool_cache) * (hidden > 0)
    _, dw1, db1 = naive.conv_backward(dhidden, conv_cache)
    return loss, dw1, db1, features.T @ dlogits, dlogits.sum(axis=0)


CNN = _challenge(
    ("x", "labels", "w1", "b1", "w2", "b2"), _build_cnn,
    lambda inputs: dict(zip("nhwc", inputs["x"].shape), f=inputs["w1"].shape[3],
                        k=inputs["w2"].shape[1]), _cnn_reference, "n h w c f k", (
        ("one image, one channel, one filter, two classes", "", 1, 4, 4, 1, 1, 2),
        ("two filters, three classes", "", 2, 6, 6, 1, 2, 3),
        ("three input channels, a wide image", "", 2, 6, 8, 3, 2, 4),
        ("a batch of five, ten classes", "", 5, 8, 8, 1, 4, 10),
        ("the loop check's small case", "small", 2, 6, 6, 2, 2, 3),
        ("its larger case", "large", 2, 14, 16, 2, 2, 3)),
    outputs=("loss", "dw1", "db1", "dw2", "db2"))
