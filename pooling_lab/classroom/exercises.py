"""The table of checks and exercises: what each checker runs, on which cases, by which rules.

The cases come simplest first, each named for what it tests. The references are the naive
style's functions (and the layers' loss): the lesson's plainest code.
"""

import collections
import functools
from typing import Callable, NamedTuple

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from .. import layers, naive
from ..geometry import conv_geometry, pool_geometry
from . import challenges
from .challenges import SEED, Case

MEMORY_FACTOR = 10                    # no window array: peak bytes over the input's, at most

#: What grade runs before a student's own cells: the only names an answer gets besides its own
#: cells (and a ``check`` that does nothing). Every notebook's set-up cell imports them too.
ANSWER_PREAMBLE = ("import math\nimport numpy as np\n"
                   "from numpy.lib.stride_tricks import as_strided, sliding_window_view\n")

#: A method rule: its part's ``name`` (in the verdict's parts and the points) and its ``text``.
Rule = collections.namedtuple("Rule", "name text")
NO_PIXEL_LOOP = Rule("no_pixel_loop", "no Python loop over pixels: the same work of your own code "
                     "(lines run, Python calls made) on a larger image of the same N and C")
NO_SCATTER = Rule("no_scatter", "no scatter (np.add.at, any ufunc's .at, np.bincount): one += "
                  "per kernel offset")
NO_WINDOW_ARRAY = Rule("no_window_array", f"no window array (peak memory at most "
                       f"{MEMORY_FACTOR}x the input); that the sums are separable is not checked")
CALLS_CONV = Rule("calls_my_conv_forward", "it calls your my_conv_forward")
NO_WINDOW_GROWTH = Rule("no_window_growth", "a cost that does not grow with the window (the same "
                        "work of your own code at window sizes 3 and 9, and an 80x80 window "
                        "within the time limit); that one reduction over a view of a row of taps "
                        "grows is not checked")


class Check(NamedTuple):
    """What a checker runs: the student's function against ``reference`` on every case."""
    signature: tuple                      # the student's arguments, in order
    reference: Callable                   # reference(**inputs) -> the expected result
    cases: Callable                       # cases() -> list of Case
    random_case: Callable | None = None   # random_case(rng) -> inputs
    shrink: Callable | None = None        # shrink(inputs) yields smaller inputs
    outputs: tuple | None = None          # names of a tuple result, e.g. ("dx", "dw", "db")
    forward: bool = False                 # (out, cache) is accepted for out
    rules: tuple = ()                     # Rules: NO_PIXEL_LOOP, NO_SCATTER, ...
    copied: bool = True                   # a result sharing an argument's memory fails


def _pool_case(rng, shape, size, stride, ties=False, dout=False) -> dict:
    """``x, size, stride`` (``dout`` first for a backward pass); ties: small integers in x."""
    x = challenges.image(rng, shape, ties)
    oh, ow = pool_geometry(shape, size, stride, 0, 1).out_hw
    gradient = {"dout": rng.integers(1, 10, size=(shape[0], oh, ow, shape[3])).astype(float)}
    return {**(gradient if dout else {}), "x": x, "size": size, "stride": stride}


#: (x shape, size, stride, ties, what the case tests): simplest first, so a failure is small.
POOL_CASES = (((1, 4, 4, 1), 2, 2, False, "windows that tile the image"),
              ((1, 5, 5, 1), 3, 1, False, "overlapping windows, stride 1"),
              ((1, 5, 8, 1), 2, 2, False, "a wide image (H != W)"),
              ((2, 7, 7, 2), 3, 2, False, "overlapping windows, a batch and channels"),
              ((1, 9, 6, 1), 2, 3, False, "a stride larger than the window"),
              ((2, 6, 6, 1), 3, 2, True, "ties: a few values repeated in every window"),
              ((1, 4, 4, 1), 2, 2, False, "case 1's shape again, other values (no cache)"),
              ((1, 3, 4, 2), 1, 1, False, "1 x 1 windows: the image itself, as a new array"))
#: The method rules' cases: (x shape, size, stride, role, the rule it is for, what it is); the
#: loop check's two differ only in H and W, so a branch on N or C is no loop.
POOL_RULE_CASES = (((2, 6, 7, 3), 3, 2, "small", NO_PIXEL_LOOP, "the loop check's small case"),
                   ((2, 20, 23, 3), 3, 2, "large", NO_PIXEL_LOOP,
                    "its larger case (H and W grow)"),
                   ((2, 32, 32, 3), 6, 1, "memory", NO_WINDOW_ARRAY, "the memory check's case"))


def _random_pool_case(rng, dout: bool) -> dict:
    size, stride, n, channels = (int(k) for k in rng.integers(1, [5, 5, 4, 4]))
    height, width = (size + int(k) for k in rng.integers(0, 7, size=2))
    return _pool_case(rng, (n, height, width, channels), size, stride, rng.random() < 0.3, dout)


#: (x shape, w shape, stride, what the case tests)
CONV_CASES = (((1, 4, 4, 1), (2, 2, 1, 1), 1, "one channel in and out"),
              ((1, 5, 6, 2), (3, 3, 2, 1), 1, "two input channels, a wide image"),
              ((2, 6, 6, 2), (3, 3, 2, 3), 2, "a batch, three filters, stride 2"),
              ((1, 7, 5, 3), (2, 3, 3, 2), 1, "a rectangular kernel"),
              ((2, 8, 8, 1), (2, 2, 1, 2), 3, "a stride larger than the kernel"),
              ((1, 4, 4, 1), (2, 2, 1, 1), 1, "case 1's shapes again, other values (no cache)"))
#: The pool's rule cases, each window a (3, 3, 3, 2) kernel (the conv checks ask only the loop's).
CONV_RULE_CASES = tuple((shape, (3, 3, 3, 2), *rest) for shape, _, *rest in POOL_RULE_CASES)


def _conv_case(rng, x_shape, w_shape, stride, dout=False) -> dict:
    """``x, w, b, stride``, or ``dout, x, w, stride`` for the backward pass."""
    x, w = rng.normal(size=x_shape).round(2), rng.normal(size=w_shape).round(2)
    if not dout:
        return {"x": x, "w": w, "b": rng.normal(size=w_shape[3]).round(2), "stride": stride}
    oh, ow = conv_geometry(x_shape, w_shape, stride, 0, 1).out_hw
    return {"dout": rng.normal(size=(x_shape[0], oh, ow, w_shape[3])).round(2), "x": x, "w": w,
            "stride": stride}


def _grid_cases(make, table, rule_table, dout: bool, rules) -> list:
    """The ``table``'s cases, then those of ``rule_table`` for ``rules``, from one seeded rng."""
    rng = np.random.default_rng(SEED)
    return [Case(name, make(rng, *spec, dout=dout)) for *spec, name in table] + [
        Case(name, make(rng, *spec, dout=dout), role)
        for *spec, role, rule, name in rule_table if rule in rules]


def _random_conv_case(rng, dout: bool) -> dict:
    kh, kw, stride, n, channels, filters = (int(k) for k in rng.integers(1, 4, size=6))
    x_shape = (n, kh + int(rng.integers(0, 6)), kw + int(rng.integers(0, 6)), channels)
    return _conv_case(rng, x_shape, (kh, kw, channels, filters), stride, dout)


def _shrink_grid(inputs: dict):
    """One image, row, column, channel, kernel row, column, filter or stride fewer; dout cropped."""
    x, stride, w = inputs["x"], inputs["stride"], inputs.get("w")
    kernel = (w.shape[0], w.shape[1], w.shape[3]) if w is not None else (inputs["size"],)
    dims = (x.shape[0], x.shape[3], x.shape[1], x.shape[2], *kernel, stride)
    for axis in range(len(dims)):
        n, c, height, width, *kernel, step = (d - (k == axis) for k, d in enumerate(dims))
        kh, kw, filters = kernel if w is not None else (kernel[0], kernel[0], c)
        if min(n, c, kh, kw, filters, step) < 1 or height < kh or width < kw:
            continue
        smaller = dict(inputs, x=x[:n, :height, :width, :c].copy(), stride=step)
        smaller.update({"w": w[:kh, :kw, :c, :filters].copy()} if w is not None else {"size": kh})
        smaller.update({"b": inputs["b"][:filters].copy()} if "b" in inputs else {})
        if "dout" in inputs:                       # cropped, repeated along an axis that grew
            shape = (n, *conv_geometry((n, height, width, c), (kh, kw, c, filters), step, 0,
                                       1).out_hw, filters)
            cropped = inputs["dout"][tuple(slice(0, length) for length in shape)]
            smaller["dout"] = np.resize(cropped, shape)
        yield smaller


def _channels_cases() -> list:
    rng = np.random.default_rng(SEED)
    shapes = ((1, 2, 3, 4), (2, 3, 3, 1), (3, 4, 2, 3), (1, 5, 5, 3), (2, 1, 4, 2))
    return [Case(f"a batch {shape}", {"x": rng.normal(size=shape).round(2)}) for shape in shapes
            ] + [Case("case 1's shape again, other values (no cache)",
                      {"x": rng.normal(size=shapes[0]).round(2)}),
                 Case("8-bit pixels", {"x": rng.integers(0, 256, (2, 3, 4, 3), np.uint8)})]


def _shrink_axes(inputs: dict):
    """One entry fewer along each axis in turn."""
    for axis, length in enumerate(inputs["x"].shape):
        if length > 1:
            yield dict(inputs, x=np.delete(inputs["x"], -1, axis=axis))


def _logits_case(rng, scale) -> dict:
    n, k = int(rng.integers(1, 6)), int(rng.integers(2, 11))
    return {"logits": scale * rng.standard_normal((n, k)), "labels": rng.integers(0, k, size=n)}


def _softmax_cases() -> list:
    rng = np.random.default_rng(SEED)
    cases = [Case(f"logits about {scale}" if scale < 1000 else "logits in the thousands",
                  _logits_case(rng, scale)) for scale in (1, 1, 10, 10, 1000, 1000)]
    (n, k), again = cases[0].inputs["logits"].shape, "case 1's shapes again, other values"
    return cases + [Case(again, {"logits": rng.standard_normal((n, k)),
                                 "labels": rng.integers(0, k, size=n)})]


def _shrink_logits(inputs: dict):
    """Fewer samples, or fewer classes when no label needs the last one."""
    logits, labels = inputs["logits"], inputs["labels"]
    if len(labels) > 1:
        yield dict(inputs, logits=logits[:-1].copy(), labels=labels[:-1].copy())
    if logits.shape[1] > 2 and labels.max() < logits.shape[1] - 1:
        yield dict(inputs, logits=logits[:, :-1].copy())


def _grid_check(op: str, backward=False, rules=(), reference=None) -> Check:
    """The check of naive's ``op`` ("max_pool", "avg_pool" or "conv"), forward or backward."""
    forward, back = getattr(naive, f"{op}_forward"), getattr(naive, f"{op}_backward")
    conv = op == "conv"
    arguments = ("x", "w", "b") if conv else ("x", "size")      # then stride
    make, random_case, tables = ((_conv_case, _random_conv_case, (CONV_CASES, CONV_RULE_CASES))
                                 if conv else (_pool_case, _random_pool_case,
                                               (POOL_CASES, POOL_RULE_CASES)))
    return Check(("dout", *arguments[:2], "stride") if backward else (*arguments, "stride"),
                 reference or ((lambda dout, **case: back(dout, forward(**case)[1])) if backward
                               else lambda **case: forward(**case)[0]),
                 functools.partial(_grid_cases, make, *tables, backward, rules),
                 functools.partial(random_case, dout=backward), _shrink_grid,
                 outputs=("dx", "dw", "db") if conv and backward else None,
                 forward=not backward, rules=rules)


#: Checker name -> what it runs.
CHECKS = {
    "channels_first": Check(("x",), lambda x: np.moveaxis(x, 3, 1), _channels_cases, lambda rng: {
        "x": rng.normal(size=tuple(rng.integers(1, 5, 4)))}, _shrink_axes, copied=False),
    "max_pool_forward": _grid_check("max_pool"),
    "avg_pool_forward": _grid_check("avg_pool"),
    "pool_windows": _grid_check("max_pool", False, (NO_PIXEL_LOOP,), lambda x, size, stride: (
        np.moveaxis(sliding_window_view(x, (size, size), axis=(1, 2)), 3, 5)[:, ::stride, ::stride]
        .copy())),
    "max_pool_vectorised": _grid_check("max_pool", False, (NO_PIXEL_LOOP,)),
    "avg_pool_separable": _grid_check("avg_pool", False, (NO_PIXEL_LOOP, NO_WINDOW_ARRAY)),
    "max_pool_backward": _grid_check("max_pool", True),
    "avg_pool_backward": _grid_check("avg_pool", True),
    "max_pool_backward_vectorised": _grid_check("max_pool", True, (NO_PIXEL_LOOP,)),
    "avg_pool_backward_by_offsets": _grid_check("avg_pool", True, (NO_PIXEL_LOOP, NO_SCATTER)),
    "avg_pool_as_conv": _grid_check("avg_pool", False, (CALLS_CONV,)),
    "conv_forward": _grid_check("conv", False, (NO_PIXEL_LOOP,)),
    "conv_backward": _grid_check("conv", True, (NO_PIXEL_LOOP,)),
    "softmax_cross_entropy": Check(("logits", "labels"), layers.softmax_cross_entropy,
                                   _softmax_cases, lambda rng: _logits_case(
                                       rng, rng.choice([1, 10, 1000])), _shrink_logits,
                                   outputs=("loss", "dlogits")),
    # The challenges (pooling_lab.classroom.challenges): one per notebook 01-07
    "avg_pool_padded": Check(**challenges.AVG_PADDED),
    "fold_windows": Check(**challenges.FOLD, rules=(NO_PIXEL_LOOP, NO_SCATTER)),
    "max_pool_winners": Check(**challenges.MAX_WINNERS, rules=(NO_PIXEL_LOOP,)),
    "max_pool_backward_padded": Check(**challenges.MAX_BACKWARD, rules=(NO_PIXEL_LOOP,)),
    "conv_dx": Check(**challenges.CONV_DX, rules=(NO_PIXEL_LOOP,)),
    "max_pool_any_window": Check(**challenges.ANY_WINDOW, rules=(
        NO_PIXEL_LOOP, NO_WINDOW_GROWTH)),
    "cnn_gradients": Check(**challenges.CNN, rules=(NO_PIXEL_LOOP,)),
}


#: One notebook exercise: the student's function, its notebook, its checker, and its points by
#: part of the verdict ("cases": the table's, "hidden": grade's random ones, then one per method
#: rule of the checker, in its order); the total is their sum. Each exercise's text says the split.
Exercise = collections.namedtuple("Exercise", "function notebook checker points")
#: The course's exercises in course order, by the student's function name.
EXERCISES = {name: Exercise(name, notebook, checker, dict(zip(
    ("cases", "hidden", *(rule.name for rule in CHECKS[checker].rules)), points)))
    for name, notebook, checker, points in (
        ("to_channels_first", "00_welcome", "channels_first", (1, 0)),
        ("my_avg_pool", "01_pooling_loops", "avg_pool_forward", (1, 1)),
        ("my_windows", "02_slice_stacking", "pool_windows", (1, 0, 1)),
        ("my_max_pool_forward", "03_strided_views", "max_pool_vectorised", (1, 0, 1)),
        ("my_avg_pool_backward", "04_backward_pooling", "avg_pool_backward_by_offsets",
         (1, 0, 1, 1)),
        ("my_max_pool_backward", "04_backward_pooling", "max_pool_backward_vectorised", (1, 1, 1)),
        ("my_conv_forward", "05_convolution", "conv_forward", (1, 1, 1)),
        ("my_conv_backward", "05_convolution", "conv_backward", (2, 1, 1)),
        ("my_avg_pool_as_conv", "05_convolution", "avg_pool_as_conv", (1, 0, 1)),
        ("my_avg_pool_separable", "06_speed_and_memory", "avg_pool_separable", (1, 0, 1, 1)),
        ("my_softmax_cross_entropy", "07_capstone_cnn", "softmax_cross_entropy", (2, 1)),
        # The challenges: the challenge tier, after each notebook's Try it
        ("my_avg_pool_padded", "01_pooling_loops", "avg_pool_padded", (3, 1)),
        ("my_fold_windows", "02_slice_stacking", "fold_windows", (2, 1, 1, 1)),
        ("my_max_pool_winners", "03_strided_views", "max_pool_winners", (3, 1, 1)),
        ("my_max_pool_backward_padded", "04_backward_pooling", "max_pool_backward_padded",
         (3, 1, 1)),
        ("my_conv_dx", "05_convolution", "conv_dx", (3, 1, 1)),
        ("my_max_pool_any_window", "06_speed_and_memory", "max_pool_any_window", (2, 1, 1, 1)),
        ("my_cnn_gradients", "07_capstone_cnn", "cnn_gradients", (4, 1, 1)))}


def notebooks_asked(numbers) -> list:
    """The names of the notebooks with exercises that ``--notebook NN`` (given again for more)
    asks for, in course order: all of them when ``numbers`` is None or empty."""
    stems = sorted({exercise.notebook for exercise in EXERCISES.values()})
    known = [stem[:2] for stem in stems]
    asked = [f"{int(number):02d}" if number.isdigit() else number for number in numbers or ()]
    if unknown := [number for number in asked if number not in known]:
        raise ValueError(f"--notebook must be one of {', '.join(known)} (the notebooks with "
                         f"exercises); got {' '.join(unknown)}")
    return [stem for stem in stems if not asked or stem[:2] in asked]
