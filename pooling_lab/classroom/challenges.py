"""The challenges' checks: one per notebook 01-07, each asking for what its notebook has not shown.

Each challenge is described by a *spec*, a dict of small ints (``n, h, w, c``, ``size``,
``stride``, ``padding``, ...): ``build(rng, **spec)`` makes a case's arguments from it (or raises
``ValueError`` for a geometry that does not exist) and ``spec_of(inputs)`` reads it back, so one
shrinker serves every challenge: one int of the spec one or two smaller, the case rebuilt. The
references are the naive style's functions (the lesson's plainest code), run by the grader.
:data:`ROWS` gives :class:`~.exercises.Check`'s fields for each challenge's checker.
"""

import functools
from typing import Callable, NamedTuple

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from .. import layers, naive
from ..geometry import conv_geometry, pool_geometry
from .verdicts import shapes

#: The method rule of notebook 06's challenge, as its verdict states it.
NO_WINDOW_GROWTH = ("a cost that does not grow with the window (the same work of your own code "
                    "at window sizes 3 and 9, and an 80x80 window within the time limit); "
                    "that one reduction over a view of a row of taps grows is not checked")
WINDOW_SLACK = 2                      # more own work the size-9 case may take than the size-3 one
MINIMUM = {"padding": 0}              # the smallest value of a spec's int; 1 for the others


class Challenge(NamedTuple):
    """A challenge's checker: its cases as specs, how they are built, and the reference."""
    signature: tuple                  # the student's arguments, in order
    build: Callable                   # build(rng, **spec) -> inputs
    spec_of: Callable                 # spec_of(inputs) -> spec
    reference: Callable               # reference(**inputs) -> the expected result
    cases: tuple                      # (what it tests, spec, role) simplest first
    random_spec: Callable             # random_spec(rng) -> spec, perhaps impossible
    outputs: tuple | None = None      # names of a tuple result


def _image(rng, shape, ties=False, nans=False, negative=False) -> np.ndarray:
    """Values with two decimals; ``ties``: small integers; ``nans``: about one in five NaN;
    ``negative``: all below 0, so that zeros in the padding would win."""
    x = rng.integers(0, 3, size=shape).astype(float) if ties else rng.normal(size=shape).round(2)
    x = -np.abs(x) - 0.01 if negative else x
    if nans:
        x[rng.random(shape) < 0.2] = np.nan
    return x


def _pool_spec(inputs, shape_key="x") -> dict:
    n, h, w, c = np.shape(inputs[shape_key]) if shape_key == "x" else inputs[shape_key]
    return dict(n=n, h=h, w=w, c=c, **{key: inputs[key] for key in (
        "size", "stride", "padding", "dilation", "count_include_pad") if key in inputs})


def _random_pool_spec(rng, padding=True, dilation=True) -> dict:
    size, stride, n, c = (int(k) for k in rng.integers(1, [5, 5, 3, 4]))
    spec = dict(n=n, h=size + int(rng.integers(0, 7)), w=size + int(rng.integers(0, 7)), c=c,
                size=size, stride=stride)
    spec.update(padding=int(rng.integers(0, 3))) if padding else None
    spec.update(dilation=int(rng.integers(1, 3))) if dilation else None
    return spec


# --- 01 · average pool with loops, padding, dilation and count_include_pad ---

def _build_avg(rng, n, h, w, c, size, stride, padding, dilation, count_include_pad) -> dict:
    pool_geometry((n, h, w, c), size, stride, padding, dilation)       # ValueError if impossible
    return dict(x=_image(rng, (n, h, w, c)), size=size, stride=stride, padding=padding,
                dilation=dilation, count_include_pad=count_include_pad)


AVG_PADDED = Challenge(
    ("x", "size", "stride", "padding", "dilation", "count_include_pad"), _build_avg, _pool_spec,
    lambda **case: naive.avg_pool_forward(**case)[0], (
        ("no padding, no dilation", dict(n=1, h=4, w=4, c=1, size=2, stride=2, padding=0,
                                         dilation=1, count_include_pad=True), ""),
        ("padding 1, count_include_pad=True: divide by size * size", dict(
            n=1, h=5, w=5, c=1, size=3, stride=2, padding=1, dilation=1, count_include_pad=True),
         ""),
        ("padding 1, count_include_pad=False: divide by the pixels inside", dict(
            n=1, h=5, w=5, c=1, size=3, stride=2, padding=1, dilation=1,
            count_include_pad=False), ""),
        ("dilation 2: taps two pixels apart", dict(n=1, h=7, w=7, c=1, size=3, stride=1,
                                                   padding=0, dilation=2,
                                                   count_include_pad=True), ""),
        ("padding 2 and dilation 2, a batch and channels", dict(
            n=2, h=7, w=8, c=2, size=3, stride=2, padding=2, dilation=2,
            count_include_pad=False), ""),
        ("a stride larger than the window, padding 1", dict(
            n=1, h=8, w=9, c=1, size=2, stride=3, padding=1, dilation=1,
            count_include_pad=True), "")),
    lambda rng: dict(_random_pool_spec(rng), count_include_pad=bool(rng.random() < 0.5)))


# --- 02 · fold windows back: the adjoint of window stacking (col2im) ---

def _build_fold(rng, n, h, w, c, size, stride, padding) -> dict:
    oh, ow = pool_geometry((n, h, w, c), size, stride, padding, 1).out_hw
    return dict(windows=rng.normal(size=(n, oh, ow, size, size, c)).round(2),
                x_shape=(n, h, w, c), stride=stride, padding=padding)


def _fold_reference(windows, x_shape, stride, padding) -> np.ndarray:
    """Each window ``(N, size, size, C)`` added into a zero padded x, one window at a time."""
    n, h, w, c = x_shape
    size = windows.shape[3]
    padded = np.zeros((n, h + 2 * padding, w + 2 * padding, c))
    for i in range(windows.shape[1]):
        for j in range(windows.shape[2]):
            padded[:, i * stride:i * stride + size, j * stride:j * stride + size] += windows[:, i, j]
    return padded[:, padding:padding + h, padding:padding + w]      # the padding dropped


FOLD = Challenge(
    ("windows", "x_shape", "stride", "padding"), _build_fold,
    lambda inputs: dict(_pool_spec(inputs, "x_shape"), size=inputs["windows"].shape[3],
                        stride=inputs["stride"], padding=inputs["padding"]), _fold_reference, (
        ("windows that tile the image", dict(n=1, h=4, w=4, c=1, size=2, stride=2, padding=0), ""),
        ("overlapping windows: a pixel in several windows adds them up",
         dict(n=1, h=5, w=5, c=1, size=3, stride=1, padding=0), ""),
        ("rows and columns no window reaches stay 0",
         dict(n=1, h=6, w=7, c=1, size=2, stride=3, padding=0), ""),
        ("padding 1: the padded taps are dropped",
         dict(n=1, h=5, w=5, c=1, size=3, stride=2, padding=1), ""),
        ("padding 1, overlap, a batch and channels",
         dict(n=2, h=6, w=7, c=3, size=3, stride=2, padding=1), ""),
        ("the loop check's small case", dict(n=2, h=6, w=7, c=2, size=3, stride=2, padding=1),
         "small"),
        ("its larger case", dict(n=2, h=14, w=15, c=2, size=3, stride=2, padding=1), "large")),
    functools.partial(_random_pool_spec, dilation=False))


# --- 03 · max pool with -inf padding and dilation, and each window's winner ---

def _build_max(rng, n, h, w, c, size, stride, padding, dilation, ties=False,
               negative=False) -> dict:
    pool_geometry((n, h, w, c), size, stride, padding, dilation)
    return dict(x=_image(rng, (n, h, w, c), ties, negative=negative), size=size, stride=stride, padding=padding,
                dilation=dilation)


def _max_reference(x, size, stride, padding, dilation) -> tuple:
    out, cache = naive.max_pool_forward(x, size, stride, padding, dilation)
    return out, cache.winner                                # winner: k = a * size + b


def _loop_cases(width=(7, 15), **spec) -> tuple:
    """The loop check's two cases: the same N and C, a larger H and W."""
    return (("the loop check's small case", dict(spec, n=2, h=6, w=width[0], c=2), "small"),
            ("its larger case", dict(spec, n=2, h=14, w=width[1], c=2), "large"))


MAX_WINNERS = Challenge(
    ("x", "size", "stride", "padding", "dilation"), _build_max, _pool_spec, _max_reference, (
        ("windows that tile the image", dict(n=1, h=4, w=4, c=1, size=2, stride=2, padding=0,
                                             dilation=1), ""),
        ("overlapping windows, stride 1", dict(n=1, h=5, w=5, c=1, size=3, stride=1, padding=0,
                                               dilation=1), ""),
        ("padding 1: padded cells (-inf) never win, not even over negative values", dict(
            n=1, h=5, w=5, c=1, size=3, stride=2, padding=1, dilation=1, negative=True), ""),
        ("dilation 2: taps two pixels apart", dict(n=1, h=7, w=7, c=1, size=3, stride=1,
                                                   padding=0, dilation=2), ""),
        ("ties: the first maximum (row-major) wins", dict(n=2, h=6, w=6, c=1, size=3, stride=2,
                                                          padding=0, dilation=1, ties=True), ""),
        ("padding 2 and dilation 2, a batch and channels", dict(
            n=2, h=8, w=7, c=2, size=3, stride=2, padding=2, dilation=2), ""),
        *_loop_cases(size=3, stride=2, padding=1, dilation=2)),
    lambda rng: dict(_random_pool_spec(rng), ties=bool(rng.random() < 0.3)),
    outputs=("out", "winner"))


# --- 04 · max pool backward with overlap, padding and the NaN rule ---

def _build_max_backward(rng, n, h, w, c, size, stride, padding, ties=False, nans=False,
                        negative=False) -> dict:
    oh, ow = pool_geometry((n, h, w, c), size, stride, padding, 1).out_hw
    return dict(dout=rng.integers(1, 10, size=(n, oh, ow, c)).astype(float),
                x=_image(rng, (n, h, w, c), ties, nans, negative), size=size, stride=stride, padding=padding)


MAX_BACKWARD = Challenge(
    ("dout", "x", "size", "stride", "padding"), _build_max_backward,
    lambda inputs: dict(_pool_spec(inputs), nans=bool(np.isnan(inputs["x"]).any()),
                        negative=bool(np.all(inputs["x"] < 0))),
    lambda dout, **case: naive.max_pool_backward(dout, naive.max_pool_forward(**case)[1]), (
        ("windows that tile the image", dict(n=1, h=4, w=4, c=1, size=2, stride=2, padding=0),
         ""),
        ("overlap: a pixel that wins two windows gets both", dict(n=1, h=5, w=5, c=1, size=3,
                                                                  stride=1, padding=0), ""),
        ("padding 1: padded cells never win, not even over negative values", dict(
            n=1, h=5, w=5, c=1, size=3, stride=2, padding=1, negative=True), ""),
        ("ties: the first maximum gets it", dict(n=2, h=6, w=6, c=1, size=3, stride=2, padding=0,
                                                 ties=True), ""),
        ("NaNs: a window's last NaN gets it", dict(n=1, h=5, w=5, c=1, size=3, stride=2,
                                                   padding=0, nans=True), ""),
        ("NaNs, padding 1, a batch and channels", dict(n=2, h=6, w=7, c=2, size=3, stride=2,
                                                       padding=1, nans=True), ""),
        *_loop_cases(size=3, stride=2, padding=1)),
    lambda rng: dict(_random_pool_spec(rng, dilation=False), ties=bool(rng.random() < 0.3),
                     nans=bool(rng.random() < 0.3)))


# --- 05 · the strided convolution's dx ---

def _build_conv_dx(rng, n, h, w, c, kh, kw, f, stride, padding) -> dict:
    oh, ow = conv_geometry((n, h, w, c), (kh, kw, c, f), stride, padding, 1).out_hw
    return dict(dout=rng.normal(size=(n, oh, ow, f)).round(2),
                w=rng.normal(size=(kh, kw, c, f)).round(2), x_shape=(n, h, w, c), stride=stride,
                padding=padding)


def _conv_dx_reference(dout, w, x_shape, stride, padding) -> np.ndarray:
    _, cache = naive.conv_forward(np.zeros(x_shape), w, None, stride, padding)
    return naive.conv_backward(dout, cache)[0]


def _conv_spec(**spec) -> dict:
    return dict(dict(n=1, c=1, f=1, padding=0), **spec)


CONV_DX = Challenge(
    ("dout", "w", "x_shape", "stride", "padding"), _build_conv_dx,
    lambda inputs: dict(_pool_spec(inputs, "x_shape"), kh=inputs["w"].shape[0],
                        kw=inputs["w"].shape[1], f=inputs["w"].shape[3], stride=inputs["stride"],
                        padding=inputs["padding"]), _conv_dx_reference, (
        ("stride 1, no padding: a full convolution", _conv_spec(h=4, w=4, kh=2, kw=2, stride=1),
         ""),
        ("stride 2: zeros between dout's entries", _conv_spec(h=5, w=5, kh=3, kw=3, stride=2), ""),
        ("rows and columns no window reaches get 0", _conv_spec(h=6, w=6, kh=3, kw=3, stride=2),
         ""),
        ("padding 1: the padded rows' gradient is dropped", _conv_spec(
            h=5, w=6, c=2, kh=3, kw=3, stride=2, padding=1), ""),
        ("channels in and out, a rectangular kernel", _conv_spec(
            n=2, h=7, w=6, c=3, kh=2, kw=3, f=2, stride=1, padding=1), ""),
        ("a stride larger than the kernel", _conv_spec(n=2, h=8, w=8, kh=2, kw=2, f=2, stride=3),
         ""),
        *_loop_cases(kh=3, kw=2, f=2, stride=2, padding=1)),
    lambda rng: dict(zip(("n", "c", "f", "kh", "kw", "stride", "padding"),
                         (int(k) for k in rng.integers([1, 1, 1, 1, 1, 1, 0], [3, 4, 4, 4, 4, 4, 3]))),
                     h=int(rng.integers(1, 9)), w=int(rng.integers(1, 9))))


# --- 06 · a max pool whose cost does not grow with the window ---

def _build_any_window(rng, n, h, w, c, size, stride) -> dict:
    pool_geometry((n, h, w, c), size, stride, 0, 1)
    return dict(x=_image(rng, (n, h, w, c)), size=size, stride=stride)


def _separable_max(x, size, stride) -> np.ndarray:
    """The window maximum as the maximum over rows of the maximum over columns (exact)."""
    columns = sliding_window_view(x, size, axis=2).max(axis=-1)[:, :, ::stride]   # (N, H, OW, C)
    return sliding_window_view(columns, size, axis=1).max(axis=-1)[:, ::stride]


ANY_WINDOW = Challenge(
    ("x", "size", "stride"), _build_any_window, _pool_spec, _separable_max, (
        ("windows that tile the image", dict(n=1, h=4, w=4, c=1, size=2, stride=2), ""),
        ("overlapping windows, stride 1", dict(n=1, h=5, w=5, c=1, size=3, stride=1), ""),
        ("a window that does not divide the image", dict(n=1, h=9, w=8, c=1, size=4, stride=1),
         ""),
        ("a large window, a batch and channels", dict(n=2, h=13, w=11, c=2, size=7, stride=2),
         ""),
        ("a stride larger than the window", dict(n=1, h=9, w=10, c=1, size=2, stride=3), ""),
        ("an 80x80 window: a reduction over every tap takes seconds",
         dict(n=1, h=240, w=240, c=4, size=80, stride=1), ""),
        *_loop_cases(size=3, stride=1),
        ("the window check's size 3", dict(n=2, h=24, w=24, c=2, size=3, stride=1), "window 3"),
        ("its size 9", dict(n=2, h=24, w=24, c=2, size=9, stride=1), "window 9")),
    lambda rng: dict(n=int(rng.integers(1, 3)), h=int(rng.integers(1, 30)),
                     w=int(rng.integers(1, 30)), c=int(rng.integers(1, 4)),
                     size=int(rng.integers(1, 12)), stride=int(rng.integers(1, 5))))


def window_growth_problem(measured: dict) -> str:
    """What :data:`NO_WINDOW_GROWTH` finds in the own work measured at window sizes 3 and 9."""
    (small, small_work), (large, large_work) = measured["window 3"], measured["window 9"]
    if large_work <= small_work + WINDOW_SLACK:
        return ""
    return (f"its cost grows with the window: the work of your own code (lines run plus calls "
            f"made) grows from {small_work} for {shapes(small)} to {large_work} for "
            f"{shapes(large)}. A loop over the window's taps or offsets is what the exercise "
            f"replaces: a running maximum over blocks of `size` (van Herk / Gil-Werman).")


# --- 07 · a small CNN's loss and every gradient, by hand ---

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


CNN = Challenge(
    ("x", "labels", "w1", "b1", "w2", "b2"), _build_cnn,
    lambda inputs: dict(zip("nhwc", inputs["x"].shape), f=inputs["w1"].shape[3],
                        k=inputs["w2"].shape[1]), _cnn_reference, (
        ("one image, one channel, one filter, two classes", dict(n=1, h=4, w=4, c=1, f=1, k=2),
         ""),
        ("two filters, three classes", dict(n=2, h=6, w=6, c=1, f=2, k=3), ""),
        ("three input channels, a wide image", dict(n=2, h=6, w=8, c=3, f=2, k=4), ""),
        ("a batch of five, ten classes", dict(n=5, h=8, w=8, c=1, f=4, k=10), ""),
        *_loop_cases((6, 16), f=2, k=3)),
    lambda rng: dict(n=int(rng.integers(1, 5)), h=2 * int(rng.integers(2, 6)),
                     w=2 * int(rng.integers(2, 6)), c=int(rng.integers(1, 4)),
                     f=int(rng.integers(1, 4)), k=int(rng.integers(2, 6))),
    outputs=("loss", "dw1", "db1", "dw2", "db2"))


# --- Cases, random cases and shrinking, for every challenge alike ---

def _cases(challenge: Challenge) -> list:
    from .exercises import SEED, Case     # here, not at the top: exercises imports this module
    rng = np.random.default_rng(SEED)
    return [Case(name, challenge.build(rng, **spec), role) for name, spec, role in challenge.cases]


def _random_case(challenge: Challenge, rng) -> dict:
    while True:                                       # draw again until the geometry exists
        try:
            return challenge.build(rng, **challenge.random_spec(rng))
        except ValueError:
            continue


def _shrink(challenge: Challenge, inputs: dict):
    """Cases one int of the spec one or two smaller (bools kept), rebuilt with fresh values."""
    from .exercises import SEED
    spec = challenge.spec_of(inputs)
    for key, value in spec.items():
        for smaller in (value - 1, value - 2) if not isinstance(value, bool) else ():
            if smaller < MINIMUM.get(key, 1):
                break
            try:
                yield challenge.build(np.random.default_rng(SEED), **dict(spec, **{key: smaller}))
                break
            except ValueError:                        # e.g. an odd size for the CNN: try -2
                continue


def row(challenge: Challenge, rules=()) -> dict:
    """The fields of :class:`~.exercises.Check` for ``challenge``'s checker."""
    return dict(signature=challenge.signature, reference=challenge.reference,
                cases=functools.partial(_cases, challenge),
                random_case=functools.partial(_random_case, challenge),
                shrink=functools.partial(_shrink, challenge), outputs=challenge.outputs,
                rules=rules)
