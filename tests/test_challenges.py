"""The challenges: their checkers fail typical wrong answers with the message that names the
mistake, their cases and references hold together, and their reference solutions go beyond
the code their notebooks show (token similarity at most 0.4, as copy detection measures it)."""

import importlib.util
import io
import json
import types
from pathlib import Path

import numpy as np
import pytest
from numpy.lib.stride_tricks import sliding_window_view

from pooling_lab import check, naive
from pooling_lab.classroom import challenges

ROOT = Path(__file__).resolve().parent.parent
#: The challenges by notebook: (notebook number, the student's function, its checker's name).
CHALLENGES = [("01", "my_avg_pool_padded", "avg_pool_padded"),
              ("02", "my_fold_windows", "fold_windows"),
              ("03", "my_max_pool_winners", "max_pool_winners"),
              ("04", "my_max_pool_backward_padded", "max_pool_backward_padded"),
              ("05", "my_conv_dx", "conv_dx"),
              ("06", "my_max_pool_any_window", "max_pool_any_window"),
              ("07", "my_cnn_gradients", "cnn_gradients")]
MOST_SIMILAR = 0.4          # of a solution's tokens found in one code cell shown before it


def solutions(number: str):
    path = ROOT / "notebooks" / "solutions" / f"nb{number}.py"
    spec = importlib.util.spec_from_file_location(f"challenge_solutions_{number}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def pad(x, padding, value=0.0):
    return np.pad(x, ((0, 0), (padding, padding), (padding, padding), (0, 0)),
                  constant_values=value)


# --- Two typical wrong answers per challenge ---

def avg_pool_always_size_squared(x, size, stride, padding, dilation, count_include_pad):
    """Ignores count_include_pad: always divides by size * size."""
    framed, span = pad(x, padding), dilation * (size - 1) + 1
    windows = sliding_window_view(framed, (span, span), axis=(1, 2))[:, ::stride, ::stride]
    return windows[..., ::dilation, ::dilation].mean(axis=(4, 5))


def avg_pool_without_padding(x, size, stride, padding, dilation, count_include_pad):
    """Forgets the padding."""
    span = dilation * (size - 1) + 1
    windows = sliding_window_view(x, (span, span), axis=(1, 2))[:, ::stride, ::stride]
    return windows[..., ::dilation, ::dilation].mean(axis=(4, 5))


def fold_without_cropping(windows, x_shape, stride, padding):
    """Folds right but returns the padded canvas."""
    n, h, w, c = x_shape
    size, (oh, ow) = windows.shape[3], windows.shape[1:3]
    canvas = np.zeros((n, h + 2 * padding, w + 2 * padding, c))
    for a in range(size):
        for b in range(size):
            canvas[:, a:a + stride * oh:stride, b:b + stride * ow:stride] += windows[:, :, :, a, b]
    return canvas


def fold_window_by_window(windows, x_shape, stride, padding):
    """Right values, one Python loop step per window."""
    n, h, w, c = x_shape
    size = windows.shape[3]
    canvas = np.zeros((n, h + 2 * padding, w + 2 * padding, c))
    for i in range(windows.shape[1]):
        for j in range(windows.shape[2]):
            canvas[:, i * stride:i * stride + size, j * stride:j * stride + size] += windows[:, i, j]
    return canvas[:, padding:padding + h, padding:padding + w]


def winners_padded_with_zeros(x, size, stride, padding, dilation):
    """Pads with zeros, so the padding wins windows of negative values."""
    span = dilation * (size - 1) + 1
    windows = sliding_window_view(pad(x, padding), (span, span), axis=(1, 2))[:, ::stride, ::stride]
    taps = windows[..., ::dilation, ::dilation].reshape(*windows.shape[:4], size * size)
    winner = taps.argmax(axis=-1)
    return taps.max(axis=-1), winner


def winners_last_maximum(x, size, stride, padding, dilation):
    """Gives a tie to the last maximum."""
    span = dilation * (size - 1) + 1
    windows = sliding_window_view(pad(x, padding, -np.inf), (span, span), axis=(1, 2))
    taps = windows[:, ::stride, ::stride, :, ::dilation, ::dilation]
    taps = taps.reshape(*taps.shape[:4], size * size)
    return taps.max(axis=-1), size * size - 1 - taps[..., ::-1].argmax(axis=-1)


def _max_backward(dout, x, size, stride, padding, fill, nan_rule):
    walled = pad(x, padding, fill)
    taps = sliding_window_view(walled, (size, size), axis=(1, 2))[:, ::stride, ::stride]
    taps = taps.reshape(*dout.shape, size * size)
    winner = taps.argmax(axis=-1)
    if nan_rule:
        last_nan = size * size - 1 - np.isnan(taps)[..., ::-1].argmax(axis=-1)
        winner = np.where(np.isnan(taps).any(axis=-1), last_nan, winner)
    dx = np.zeros(walled.shape)
    view = sliding_window_view(dx, (size, size), axis=(1, 2), writeable=True)[:, ::stride, ::stride]
    for k in range(size * size):
        view[..., k // size, k % size] += np.where(winner == k, dout, 0)
    return dx[:, padding:padding + x.shape[1], padding:padding + x.shape[2]]


def max_backward_first_nan(dout, x, size, stride, padding):
    """No NaN rule: argmax picks a window's first NaN."""
    return _max_backward(dout, x, size, stride, padding, -np.inf, nan_rule=False)


def max_backward_padded_with_zeros(dout, x, size, stride, padding):
    """Pads with zeros: the padding wins, and its gradient is dropped."""
    return _max_backward(dout, x, size, stride, padding, 0.0, nan_rule=True)


def _conv_dx(dout, w, x_shape, stride, padding, stuff, flip):
    n, h, wd, c = x_shape
    kh, kw = w.shape[:2]
    if stuff:
        spread = np.zeros((n, (dout.shape[1] - 1) * stride + 1, (dout.shape[2] - 1) * stride + 1,
                           dout.shape[3]))
        spread[:, ::stride, ::stride] = dout
        dout = spread
    below, right = (h + 2 * padding - dout.shape[1] - kh + 1, wd + 2 * padding - dout.shape[2] - kw + 1)
    framed = np.pad(dout, ((0, 0), (kh - 1, kh - 1 + max(below, 0)),
                           (kw - 1, kw - 1 + max(right, 0)), (0, 0)))
    kernel = w[::-1, ::-1] if flip else w
    dx = np.einsum("nyxfab,abcf->nyxc", sliding_window_view(framed, (kh, kw), axis=(1, 2)), kernel)
    return dx[:, padding:padding + h, padding:padding + wd]


def conv_dx_not_stuffed(dout, w, x_shape, stride, padding):
    """Runs the full convolution on dout as it is, as if the stride were 1."""
    return _conv_dx(dout, w, x_shape, stride, padding, stuff=False, flip=True)


def conv_dx_kernel_not_turned(dout, w, x_shape, stride, padding):
    """Forgets to turn the kernel by 180 degrees."""
    return _conv_dx(dout, w, x_shape, stride, padding, stuff=True, flip=False)


def max_any_window_tap_loop(x, size, stride):
    """Separable, but a loop over the window's taps: the cost grows with the window."""
    rows, cols = x.shape[1] - size + 1, x.shape[2] - size + 1
    across = x[:, :, :cols]
    for b in range(1, size):
        across = np.maximum(across, x[:, :, b:b + cols])
    out = across[:, :rows]
    for a in range(1, size):
        out = np.maximum(out, across[:, a:a + rows])
    return out[:, ::stride, ::stride]


def max_any_window_every_tap(x, size, stride):
    """Notebook 03's answer: one reduction over every tap of every window."""
    return sliding_window_view(x, (size, size), axis=(1, 2))[:, ::stride, ::stride].max(axis=(4, 5))


def _cnn(x, labels, w1, b1, w2, b2, relu_mask, mean):
    n = len(x)
    patches = sliding_window_view(x, (3, 3), axis=(1, 2))
    hidden = np.einsum("nijcab,abcf->nijf", patches, w1) + b1
    _, oh, ow, f = hidden.shape
    tiles = np.maximum(hidden, 0).reshape(n, oh // 2, 2, ow // 2, 2, f).transpose(
        0, 1, 3, 5, 2, 4).reshape(n, oh // 2, ow // 2, f, 4)
    winner = tiles.argmax(axis=-1)
    features = tiles.max(axis=-1).reshape(n, -1)
    logits = features @ w2 + b2
    p = np.exp(logits - logits.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    loss = -np.log(p[np.arange(n), labels]).mean()
    p[np.arange(n), labels] -= 1
    dlogits = p / n if mean else p
    dtiles = (np.arange(4) == winner[..., None]) * (dlogits @ w2.T).reshape(*winner.shape, 1)
    dhidden = dtiles.reshape(n, oh // 2, ow // 2, f, 2, 2).transpose(0, 1, 4, 2, 5, 3).reshape(
        hidden.shape) * ((hidden > 0) if relu_mask else 1)
    return (loss, np.einsum("nijcab,nijf->abcf", patches, dhidden), dhidden.sum(axis=(0, 1, 2)),
            features.T @ dlogits, dlogits.sum(axis=0))


def cnn_without_relu_gradient(x, labels, w1, b1, w2, b2):
    """Forgets that ReLU passes the gradient only where its input is positive."""
    return _cnn(x, labels, w1, b1, w2, b2, relu_mask=False, mean=True)


def cnn_gradient_not_divided_by_n(x, labels, w1, b1, w2, b2):
    """The loss is the mean, but dlogits is not divided by N."""
    return _cnn(x, labels, w1, b1, w2, b2, relu_mask=True, mean=False)


#: (checker, wrong answer, what its verdict must say)
WRONG = [
    ("avg_pool_padded", avg_pool_always_size_squared,
     "case 3 of 6 (padding 1, count_include_pad=False: divide by the pixels inside) differs"),
    ("avg_pool_padded", avg_pool_without_padding,
     "case 2 of 6 (padding 1, count_include_pad=True: divide by size * size) differs"),
    ("fold_windows", fold_without_cropping,
     "case 4 of 7 (padding 1: the padded taps are dropped) differs"),
    ("fold_windows", fold_window_by_window, "it runs a Python loop over pixels"),
    ("max_pool_winners", winners_padded_with_zeros,
     "case 3 of 8 (padding 1: padded cells (-inf) never win, not even over negative values) differs"),
    ("max_pool_winners", winners_last_maximum,
     "case 5 of 8 (ties: the first maximum (row-major) wins) differs"),
    ("max_pool_backward_padded", max_backward_first_nan,
     "case 5 of 8 (NaNs: a window's last NaN gets it) differs"),
    ("max_pool_backward_padded", max_backward_padded_with_zeros,
     "case 3 of 8 (padding 1: padded cells never win, not even over negative values) differs"),
    ("conv_dx", conv_dx_not_stuffed, "case 2 of 8 (stride 2: zeros between dout's entries) differs"),
    ("conv_dx", conv_dx_kernel_not_turned,
     "case 1 of 8 (stride 1, no padding: a full convolution) differs"),
    ("max_pool_any_window", max_any_window_tap_loop, "its cost grows with the window"),
    pytest.param("max_pool_any_window", max_any_window_every_tap,   # waits ~15 s for one call
                 "it took longer than 3 s on case 6 of 10 (an 80x80 window",
                 marks=pytest.mark.slow, id="max_any_window_every_tap"),
    ("cnn_gradients", cnn_without_relu_gradient,
     "case 2 of 6 (two filters, three classes) differs.\n  The smallest failing case found"),
    ("cnn_gradients", cnn_gradient_not_divided_by_n,
     "case 2 of 6 (two filters, three classes) differs"),
]


@pytest.mark.parametrize("checker, answer, expected", WRONG, ids=[
    getattr(row, "id", None) or row[1].__name__ for row in WRONG])
def test_each_checker_fails_a_typical_wrong_answer_saying_why(checker, answer, expected):
    verdict = check.run(check.CHECKS[checker], check.calling(answer), answer.__name__)
    assert not verdict.passed
    assert verdict.message.startswith(f"FAILED {answer.__name__}: ")
    assert expected in verdict.message, verdict.message


@pytest.mark.parametrize("number, function, checker", CHALLENGES, ids=[row[1] for row in CHALLENGES])
def test_each_reference_solution_passes_in_the_notebook_and_in_grading(number, function, checker,
                                                                        capsys):
    module = solutions(number)
    assert module.EXERCISES[function] is getattr(check, checker)
    assert getattr(check, checker)(getattr(module, function)) is True
    assert capsys.readouterr().out.startswith(f"PASSED {function}: ")
    assert check.EXERCISES[function].checker == checker
    assert check.EXERCISES[function].notebook.startswith(number)
    assert check.judge(function, vars(module), seed=3, hidden=20).passed


# --- The cases and references hold together ---

@pytest.mark.parametrize("number, function, checker", CHALLENGES, ids=[row[1] for row in CHALLENGES])
def test_cases_are_named_and_distinct_and_shrink_to_smaller_cases(number, function, checker):
    table = check.CHECKS[checker]
    cases = table.cases()
    names = [case.name for case in cases]
    assert len(set(names)) == len(names) >= 6
    assert [name for name in names if not name] == []
    first = cases[0].inputs
    smaller = list(table.shrink(cases[1].inputs))
    assert smaller and all(set(case) == set(first) for case in smaller)
    sizes = [sum(np.size(value) for value in case.values() if isinstance(value, np.ndarray))
             for case in (cases[1].inputs, *smaller)]
    assert min(sizes[1:]) < sizes[0]


def test_the_references_agree_with_the_naive_style_where_it_has_the_function():
    rng = np.random.default_rng(5)
    for _ in range(30):                 # the separable maximum is the window maximum
        inputs = check.CHECKS["max_pool_any_window"].random_case(rng)
        np.testing.assert_array_equal(challenges._separable_max(**inputs),
                                      naive.max_pool_forward(**inputs)[0])
    for _ in range(30):                 # folding is the adjoint of cutting windows out
        inputs = check.CHECKS["fold_windows"].random_case(rng)
        x = rng.normal(size=inputs["x_shape"])
        size, stride, padding = inputs["windows"].shape[3], inputs["stride"], inputs["padding"]
        cut = np.moveaxis(sliding_window_view(pad(x, padding), (size, size), axis=(1, 2)),
                          3, 5)[:, ::stride, ::stride]
        np.testing.assert_allclose(np.sum(cut * inputs["windows"]),
                                   np.sum(x * challenges._fold_reference(**inputs)))


def test_the_window_rule_reads_the_work_at_sizes_3_and_9():
    small, large = ({"x": np.zeros((2, 24, 24, 2)), "size": size} for size in (3, 9))
    work = [types.SimpleNamespace(work=count) for count in (40, 42, 90)]
    assert challenges.window_growth_problem((small, work[0]), (large, work[1])) == ""
    problem = challenges.window_growth_problem((small, work[0]), (large, work[2]))
    assert "grows from 40 for x (2, 24, 24, 2), size 3 to 90" in problem


# --- Depth: the reference solutions are not the notebooks' code ---

def code_cells_before_challenge(number: str) -> list:
    path = next((ROOT / "notebooks").glob(f"{number}_*.ipynb"))
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    end = next(k for k, cell in enumerate(cells) if cell.get("id") == "cell-challenge")
    return ["".join(cell["source"]) for cell in cells[:end] if cell["cell_type"] == "code"]


def solution_source(number: str, function: str) -> str:
    """The function's source and the helpers it calls in its module (``_running_max``)."""
    import inspect
    module = solutions(number)
    helpers = [inspect.getsource(value) for name, value in vars(module).items()
               if name.startswith("_") and inspect.isfunction(value)
               and name in inspect.getsource(getattr(module, function))]
    return "\n\n".join(helpers + [inspect.getsource(getattr(module, function))])


def similarity(solution: str, cell: str) -> float:
    """The share of the solution's tokens found in ``cell``, as issue 26's copy detection
    fingerprints code: copydetect with k-grams of 25 tokens and windows of 6."""
    from copydetect import CodeFingerprint, compare_files
    prints = [CodeFingerprint(f"{label}.py", 25, 6, fp=io.StringIO(code))
              for label, code in (("solution", solution), ("cell", cell))]
    if not prints[1].token_coverage:
        return 0.0
    return float(compare_files(*prints)[1][0])


@pytest.mark.parametrize("number, function, checker", CHALLENGES, ids=[row[1] for row in CHALLENGES])
def test_each_reference_solution_is_at_most_0_4_similar_to_any_code_cell_shown_before(
        number, function, checker):
    pytest.importorskip("copydetect")
    solution = solution_source(number, function)
    scores = [similarity(solution, cell) for cell in code_cells_before_challenge(number)]
    assert max(scores) <= MOST_SIMILAR, (number, function, max(scores))


def test_the_similarity_finds_a_solution_pasted_with_names_changed():
    pytest.importorskip("copydetect")
    solution = solution_source("06", "my_max_pool_any_window")
    pasted = "# my answer\n" + solution.replace("line", "row").replace("blocks", "count")
    assert similarity(solution, pasted) > 0.9
    assert similarity(solution, code_cells_before_challenge("06")[0]) == 0.0
