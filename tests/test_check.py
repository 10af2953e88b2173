"""The exercise checkers pass right answers, explain wrong ones and cannot be fooled."""

import importlib.util
import math
import sys

import matplotlib
import numpy as np
import pytest
from numpy.lib.stride_tricks import sliding_window_view

import pooling_lab
from pooling_lab import check, layers
from pooling_lab.classroom import verdicts

matplotlib.use("Agg")

STYLE_NAMES = list(pooling_lab.STYLES)

#: Every checker a notebook calls, with the signature of the function it checks.
POOL_FORWARD_CHECKERS = [check.max_pool_forward, check.avg_pool_forward, check.max_pool_vectorised,
                         check.avg_pool_separable]
POOL_BACKWARD_CHECKERS = [check.max_pool_backward, check.avg_pool_backward,
                          check.max_pool_backward_vectorised, check.avg_pool_backward_by_offsets]
ALL_CHECKERS = [*POOL_FORWARD_CHECKERS, *POOL_BACKWARD_CHECKERS, check.pool_windows,
                check.conv_forward, check.conv_backward, check.channels_first,
                check.softmax_cross_entropy, check.avg_pool_as_conv]


def windows_of(x, size, stride):
    """Yield (i, j, rows, cols) of every "valid" window: the per-pixel loop of notebook 01."""
    _, height, width, _ = x.shape
    for i in range((height - size) // stride + 1):
        for j in range((width - size) // stride + 1):
            yield i, j, slice(i * stride, i * stride + size), slice(j * stride, j * stride + size)


def view_of(x, size, stride, writeable=False):
    """(N, H, W, C) -> (N, OH, OW, C, size, size), a view of the "valid" windows."""
    every_start = sliding_window_view(x, (size, size), axis=(1, 2), writeable=writeable)
    return every_start[:, ::stride, ::stride]


def against(student_fn, reference, cases, name=None, output_names=None, case_names=None,
            show=False):
    """Compare ``student_fn(**case)`` with ``reference(**case)`` on each case, as a checker does."""
    names = case_names or [f"case {k}" for k in range(1, len(cases) + 1)]
    spec = check.Check(tuple(cases[0]), reference,
                       lambda: [check.Case(*named) for named in zip(names, cases)],
                       outputs=output_names, copied=False)
    name = name or getattr(student_fn, "__name__", "your function")
    verdict = check.run(spec, check.calling(student_fn), name, show=show)
    print(verdict.message)
    if show and verdict.drawing:
        check.draw_difference(*verdict.drawing)
    return verdict.passed


def printed_failure(checker, function, capsys) -> str:
    """Run ``checker(function)``, assert that it fails, and return what it printed."""
    assert checker(function) is False
    return capsys.readouterr().out


# --------------------------------------------------------------------------------------------
# A wrapper around the package fails every checker with the "your own code" message
# --------------------------------------------------------------------------------------------

def package_wrapper(checker, style):
    """A function with ``checker``'s signature whose work is done by the package."""
    def pool(kind, x, size, stride):
        return pooling_lab.op_functions(style, kind)[0](x, size, stride)

    def backward(kind):
        def call(dout, x, size, stride):
            forward, back = pooling_lab.op_functions(style, kind)
            return back(dout, forward(x, size, stride)[1])
        return call

    def conv_backward(dout, x, w, stride):
        return style.conv_backward(dout, style.conv_forward(x, w, stride=stride)[1])

    wrappers = {
        check.max_pool_forward: lambda x, size, stride: pool("max", x, size, stride)[0],
        check.max_pool_vectorised: lambda x, size, stride: pool("max", x, size, stride)[0],
        check.avg_pool_forward: lambda x, size, stride: pool("avg", x, size, stride)[0],
        check.avg_pool_as_conv: lambda x, size, stride: pool("avg", x, size, stride)[0],
        check.avg_pool_separable: lambda x, size, stride: pool("avg", x, size, stride)[0],
        check.max_pool_backward: backward("max"),
        check.max_pool_backward_vectorised: backward("max"),
        check.avg_pool_backward: backward("avg"),
        check.avg_pool_backward_by_offsets: backward("avg"),
        # A 1x1 max pool is the identity: the windows are then cut from the package's output.
        check.pool_windows: lambda x, size, stride: np.moveaxis(
            view_of(pool("max", x, 1, 1)[0], size, stride), 3, 5),
        check.conv_forward: lambda x, w, b, stride: style.conv_forward(x, w, b, stride)[0],
        check.conv_backward: conv_backward,
        check.channels_first: lambda x: np.moveaxis(pool("max", x, 1, 1)[0], 3, 1),
        check.softmax_cross_entropy: layers.softmax_cross_entropy,
    }
    return wrappers[checker]


@pytest.mark.parametrize("style_name", STYLE_NAMES)
@pytest.mark.parametrize("checker", ALL_CHECKERS, ids=lambda checker: checker.__name__)
def test_a_wrapper_around_the_package_fails_every_checker(checker, style_name, capsys):
    wrapper = package_wrapper(checker, pooling_lab.STYLES[style_name])
    printed = printed_failure(checker, wrapper, capsys)
    assert printed.startswith("FAILED ") and printed.count("\n") == 1
    assert "The exercise asks for your own code" in printed
    module = "layers" if checker is check.softmax_cross_entropy else style_name
    assert f"it calls pooling_lab.{module}." in printed


def test_every_public_checker_is_tested():
    public = {name for name, value in vars(check).items()
              if callable(value) and not name.startswith("_") and getattr(
                  value, "__module__", "") == "pooling_lab.classroom.check"
              and name not in {"run", "judge", "calling", "numerical_gradient", "relative_error",
                               "Check", "kernel_verdict", "part_names",
                               "Case", "Verdict", "Exercise"}}
    from test_challenges import CHALLENGES          # the challenges' checkers are tested there
    assert public == {checker.__name__ for checker in ALL_CHECKERS} | {
        checker for _, _, checker in CHALLENGES}


def test_each_public_checker_is_its_own_row_of_the_table():
    """check.py unpacks the checkers in the table's order: a name bound to another row fails."""
    for name, row in check.CHECKS.items():
        assert getattr(check, name).__name__ == name
        assert getattr(check, name).__doc__.startswith(
            f"Check ``student_fn({', '.join(row.signature)})``")


def test_the_wrapper_message_names_the_function_called(capsys):
    def my_avg_pool(x, size, stride):
        return pooling_lab.naive.avg_pool_forward(x, size, stride)[0]
    assert check.avg_pool_forward(my_avg_pool) is False
    assert capsys.readouterr().out == (
        "FAILED my_avg_pool: it calls pooling_lab.naive.avg_pool_forward. The exercise asks for "
        "your own code: write it with NumPy, without the package's styles or layers "
        "(pooling_lab.naive, stacked, strided, fast, layers), the reference solutions "
        "(notebooks/solutions) or PyTorch.\n")


def test_a_package_building_block_counts_as_the_package(capsys):
    def my_max_pool_forward(x, size, stride):
        geometry = pooling_lab.geometry.pool_geometry(x.shape, size, stride, "valid", 1)
        return pooling_lab.strided.window_view(x, geometry).max(axis=(3, 4))
    assert check.max_pool_vectorised(my_max_pool_forward) is False
    assert "it calls pooling_lab.strided.window_view" in capsys.readouterr().out


def test_a_call_into_pytorch_fails(tmp_path, monkeypatch, capsys):
    # A stand-in for PyTorch (the real one is no dependency): any code of the torch package.
    (tmp_path / "torch").mkdir()
    (tmp_path / "torch" / "__init__.py").write_text(
        "import numpy as np\n\n\n"
        "def max_pool2d(x, size, stride):\n"
        "    windows = np.lib.stride_tricks.sliding_window_view(x, (size, size), axis=(1, 2))\n"
        "    return windows[:, ::stride, ::stride].max(axis=(4, 5))\n")
    spec = importlib.util.spec_from_file_location("torch", tmp_path / "torch" / "__init__.py")
    torch = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, "torch", torch)
    spec.loader.exec_module(torch)
    assert check.max_pool_forward(lambda x, size, stride: torch.max_pool2d(x, size, stride)) \
        is False
    printed = capsys.readouterr().out
    assert "it calls torch.max_pool2d" in printed and "your own code" in printed


def test_the_checkers_leave_no_profiler_or_tracer_behind():
    before = sys.getprofile(), sys.gettrace()
    check.max_pool_vectorised(lambda x, size, stride: view_of(x, size, stride).max(axis=(4, 5)))
    check.avg_pool_forward(lambda x, size, stride: pooling_lab.naive.avg_pool_forward(
        x, size, stride)[0])
    assert (sys.getprofile(), sys.gettrace()) == before


# --------------------------------------------------------------------------------------------
# The method an exercise asks for
# --------------------------------------------------------------------------------------------

def avg_backward_add_at(dout, x, size, stride):
    dx = np.zeros(x.shape)
    view = view_of(dx, size, stride, writeable=True)           # (N, OH, OW, C, KH, KW)
    share = np.broadcast_to((dout / size**2)[..., None, None], view.shape)
    np.add.at(view, (slice(None),), share)
    return dx


def test_np_add_at_fails_the_offset_loop_checker_only(capsys):
    assert check.avg_pool_backward(avg_backward_add_at) is True    # the values are right
    capsys.readouterr()
    printed = printed_failure(check.avg_pool_backward_by_offsets, avg_backward_add_at, capsys)
    assert printed == ("FAILED avg_backward_add_at: the values are right (10 of 10 cases match "
                       "the reference), but it calls np.add.at. This exercise asks for "
                       "the offset loop of notebook 04, section 4: one += per kernel offset "
                       "(a, b) into a window view of a zero dx, not a scatter.\n")


def max_pool_loops(x, size, stride):
    n, height, width, channels = x.shape
    out = np.empty((n, (height - size) // stride + 1, (width - size) // stride + 1, channels))
    for i, j, rows, cols in windows_of(x, size, stride):
        out[:, i, j, :] = x[:, rows, cols, :].max(axis=(1, 2))
    return out


def avg_pool_comprehension(x, size, stride):
    # A loop over pixels hidden in a comprehension over the output rows.
    rows = [view_of(x, size, stride)[:, i].mean(axis=(3, 4))
            for i in range((x.shape[1] - size) // stride + 1)]
    return np.stack(rows, axis=1)


def windows_per_position(x, size, stride):
    # EpyNN's way: one slice per output position.
    n, height, width, channels = x.shape
    oh, ow = (height - size) // stride + 1, (width - size) // stride + 1
    windows = np.empty((n, oh, ow, size, size, channels))
    for i, j, rows, cols in windows_of(x, size, stride):
        windows[:, i, j] = x[:, rows, cols, :]
    return windows


def avg_backward_loops(dout, x, size, stride):
    dx = np.zeros(x.shape)
    for i, j, rows, cols in windows_of(x, size, stride):
        dx[:, rows, cols, :] += dout[:, i:i + 1, j:j + 1, :] / size**2
    return dx


def max_backward_per_image(dout, x, size, stride):
    # Vectorised over the windows, but a loop over the images of the batch.
    dx = np.zeros(x.shape)
    for n in range(x.shape[0]):
        windows = view_of(x[n:n + 1], size, stride)
        taps = windows.reshape(*windows.shape[:4], size * size)
        winner = taps.argmax(axis=-1)
        grads = view_of(dx[n:n + 1], size, stride, writeable=True)
        for a in range(size):
            for b in range(size):
                grads[..., a, b] += np.where(winner == a * size + b, dout[n:n + 1], 0)
    return dx


def max_pool_per_channel(x, size, stride):
    # Vectorised over the windows, but a loop over the channels.
    maps = [view_of(x[..., c:c + 1], size, stride).max(axis=(4, 5)) for c in range(x.shape[3])]
    return np.concatenate(maps, axis=3)


@pytest.mark.parametrize("checker, function", [
    (check.max_pool_vectorised, max_pool_loops),
    (check.avg_pool_separable, avg_pool_comprehension),
    (check.pool_windows, windows_per_position),
    (check.avg_pool_backward_by_offsets, avg_backward_loops),
], ids=lambda value: getattr(value, "__name__", ""))
def test_a_loop_over_pixels_fails_the_no_loop_checkers(checker, function, capsys):
    printed = printed_failure(checker, function, capsys)
    assert printed.startswith(f"FAILED {function.__name__}: the values are right (")
    assert "it runs a Python loop over pixels" in printed
    assert printed.count("\n") == 1


def test_loops_are_fine_where_the_exercise_asks_for_them(capsys):
    assert check.max_pool_forward(max_pool_loops) is True
    assert check.avg_pool_backward(avg_backward_loops) is True
    # The loop rule compares cases of the same N and C: a loop over them is no loop over pixels.
    assert check.max_pool_vectorised(max_pool_per_channel) is True
    assert check.max_pool_backward_vectorised(max_backward_per_image) is True
    printed = capsys.readouterr().out
    assert printed.count("PASSED") == 4 and "FAILED" not in printed


def avg_pool_from_window_array(x, size, stride):
    # No pixel loop, but the (N, OH, OW, KH, KW, C) window array is built.
    oh, ow = (x.shape[1] - size) // stride + 1, (x.shape[2] - size) // stride + 1
    taps = [x[:, a:a + (oh - 1) * stride + 1:stride, b:b + (ow - 1) * stride + 1:stride]
            for a in range(size) for b in range(size)]
    return np.stack(taps, axis=3).mean(axis=3)


def test_the_window_array_fails_the_separable_checker(capsys):
    assert check.avg_pool_forward(avg_pool_from_window_array) is True
    capsys.readouterr()
    printed = printed_failure(check.avg_pool_separable, avg_pool_from_window_array, capsys)
    assert "it builds something as big as the window array" in printed
    assert "on x (2, 32, 32, 3) (49,152 bytes), size 6, stride 1" in printed
    assert "the window array would be 1,259,712 bytes" in printed        # 25.6x the input


def test_a_passing_verdict_says_what_was_enforced(capsys):
    def separable(x, size, stride):
        oh, ow = (x.shape[1] - size) // stride + 1, (x.shape[2] - size) // stride + 1
        rows = sum(x[:, a:a + (oh - 1) * stride + 1:stride] for a in range(size))
        return sum(rows[:, :, b:b + (ow - 1) * stride + 1:stride] for b in range(size)) / size**2
    assert check.avg_pool_separable(separable) is True
    printed = capsys.readouterr().out
    assert printed.startswith("PASSED separable: 11 of 11 cases match the reference.\n")
    assert "no Python loop over pixels" in printed and "no window array" in printed
    assert "that the sums are separable is not checked" in printed


# --------------------------------------------------------------------------------------------
# Wrong answers: the smallest failing case, explained
# --------------------------------------------------------------------------------------------

def avg_pool_divided_by_size(x, size, stride):
    # Wrong divisor: size instead of size * size.
    return view_of(x, size, stride).sum(axis=(4, 5)) / size


def test_a_wrong_function_prints_a_shrunk_case(capsys):
    printed = printed_failure(check.avg_pool_forward, avg_pool_divided_by_size, capsys)
    assert printed.startswith("FAILED avg_pool_divided_by_size: case 1 of 8 (windows that tile "
                              "the image) differs.\n")
    assert "The smallest failing case found (shrunk from x (1, 4, 4, 1), size 2, stride 2):" \
        in printed
    assert "arguments: x = array of shape (1, 2, 2, 1), size = 2, stride = 1" in printed
    assert "1 of 1 values differ" in printed
    assert "the first at index (0, 0, 0, 0): expected -0.045, received -0.09" in printed


def max_pool_wrong_in_second_channel(x, size, stride):
    out = view_of(x, size, stride).max(axis=(4, 5))
    out[..., 1:] = 0                                        # forgets every channel but the first
    return out


def test_the_shrinker_keeps_what_the_failure_needs(capsys):
    printed = printed_failure(check.max_pool_vectorised, max_pool_wrong_in_second_channel, capsys)
    assert "case 4 of 10 (overlapping windows, a batch and channels) differs" in printed
    assert "(shrunk from x (2, 7, 7, 2), size 3, stride 2)" in printed
    # One image and one window are enough, but the second channel must stay.
    assert "x = array of shape (1, 1, 1, 2), size = 1, stride = 1" in printed


def conv_forward_flipped_kernel(x, w, b, stride):
    # True convolution instead of the cross-correlation every framework computes.
    windows = view_of_kernel(x, w.shape[:2], stride)
    return np.einsum("nijcab,abco->nijo", windows, w[::-1, ::-1]) + b


def view_of_kernel(x, kernel_hw, stride):
    return sliding_window_view(x, kernel_hw, axis=(1, 2))[:, ::stride, ::stride]


def test_a_flipped_kernel_shrinks_to_a_two_tap_kernel(capsys):
    printed = printed_failure(check.conv_forward, conv_forward_flipped_kernel, capsys)
    assert "FAILED conv_forward_flipped_kernel: case 1 of 8 (one channel in and out)" in printed
    assert "shrunk from x (1, 4, 4, 1), w (2, 2, 1, 1), b (1,), stride 1" in printed
    # A flip shows with two taps in one direction and one output value.
    assert ("x = array of shape (1, 1, 2, 1), w = array of shape (1, 2, 1, 1), "
            "b = array of shape (1,), stride = 1") in printed


def max_pool_backward_mask(dout, x, size, stride):
    # The `window == max` mask: every tied maximum gets the full gradient.
    windows = view_of(x, size, stride)
    is_max = windows == windows.max(axis=(4, 5), keepdims=True)
    dx = np.zeros(x.shape)
    grads = view_of(dx, size, stride, writeable=True)
    for a in range(size):
        for b in range(size):
            grads[..., a, b] += is_max[..., a, b] * dout
    return dx


def test_the_mask_rule_fails_on_the_tie_case(capsys):
    printed = printed_failure(check.max_pool_backward, max_pool_backward_mask, capsys)
    assert "case 6 of 8 (ties: a few values repeated in every window) differs" in printed
    assert "The smallest failing case found" in printed


def avg_pool_backward_dropped_overlap(dout, x, size, stride):
    # `=` instead of `+=`: a pixel shared by two windows keeps only the last one's share.
    dx = np.zeros(x.shape)
    for i, j, rows, cols in windows_of(x, size, stride):
        dx[:, rows, cols, :] = dout[:, i:i + 1, j:j + 1, :] / (size * size)
    return dx


def test_a_dropped_overlap_fails_on_the_first_overlapping_case(capsys):
    printed = printed_failure(check.avg_pool_backward, avg_pool_backward_dropped_overlap, capsys)
    assert "case 2 of 8 (overlapping windows, stride 1) differs" in printed
    # The smallest overlap: two windows of 2 on a row of 3 pixels.
    assert "dout = array of shape (1, 1, 2, 1), x = array of shape (1, 2, 3, 1), size = 2" \
        in printed


def conv_backward_without_db(dout, x, w, stride):
    return np.zeros(x.shape), np.zeros(w.shape)


def test_a_missing_output_is_named(capsys):
    assert check.conv_backward(conv_backward_without_db) is False
    assert "expected a tuple of 3 (dx, dw, db); received a tuple of 2" in capsys.readouterr().out


def softmax_without_the_shift(logits, labels):
    probs = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    samples = np.arange(len(labels))
    dlogits = probs.copy()
    dlogits[samples, labels] -= 1
    with np.errstate(all="ignore"):
        return -np.log(probs[samples, labels]).mean(), dlogits / len(labels)


def test_an_overflowing_softmax_fails_on_huge_logits(capsys):
    with np.errstate(all="ignore"):
        assert check.softmax_cross_entropy(softmax_without_the_shift) is False
    printed = capsys.readouterr().out
    assert "case 5 of 7 (logits in the thousands) differs" in printed
    assert "labels = array of shape (1,)" in printed


def avg_pool_wrong_on_tall_images(x, size, stride):
    out = view_of(x, size, stride).mean(axis=(4, 5))
    return 2 * out if x.shape[1] >= 6 else out


def test_show_draws_the_shrunk_case_the_text_describes(monkeypatch, capsys):
    import matplotlib.pyplot as plt
    drawn = []
    monkeypatch.setattr(plt, "show", lambda: drawn.append(plt.gcf()))
    assert check.avg_pool_forward(avg_pool_wrong_on_tall_images, show=True) is False
    printed = capsys.readouterr().out
    assert "arguments: x = array of shape (1, 6, 1, 1), size = 1, stride = 1" in printed
    assert len(drawn) == 1
    titles = [ax.get_title() for ax in drawn[0].axes if ax.get_title()]
    assert titles == ["the result · expected", "the result · received",
                      "the result · received − expected"]
    # Today's main drew case 5 as it was before shrinking: x (1, 9, 6, 1), size 2, stride 3.
    assert drawn[0].get_suptitle() == ("avg_pool_wrong_on_tall_images · x (1, 6, 1, 1), size 1, "
                                       "stride 1 · image 0 · channel 0")
    plt.close("all")


@pytest.mark.parametrize("function, why", [
    (max_pool_wrong_in_second_channel, "all its values are printed above"),
    (lambda x, size, stride: x.copy(), "the result has the wrong shape, so there is no "
                                       "difference map"),
    (lambda x, size, stride: 1 / 0, "the failure is not a difference of values")])
def test_show_says_in_one_line_why_nothing_is_drawn(function, why, monkeypatch, capsys):
    import matplotlib.pyplot as plt
    monkeypatch.setattr(plt, "show", lambda: pytest.fail("nothing should be drawn"))
    assert check.max_pool_vectorised(function, show=True) is False
    assert f"  (show=True: nothing to draw: {why}" in capsys.readouterr().out


def test_show_draws_the_slice_the_tolerances_found_wrong(monkeypatch, capsys):
    # Image 1, channel 2 is off by 1e-6: wrong in float64's tolerances, yet within
    # numpy.isclose's defaults, so the drawing must use the checker's own first error.
    import matplotlib.pyplot as plt
    drawn = []
    monkeypatch.setattr(plt, "show", lambda: drawn.append(plt.gcf()))
    x = np.arange(2 * 3 * 3 * 3, dtype=float).reshape(2, 3, 3, 3)
    nudged = x.copy()
    nudged[1, 2, 0, 2] += 1e-6
    assert against(lambda x: nudged, lambda x: x, [{"x": x}], show=True) is False
    assert "image 1 · channel 2" in drawn[0].get_suptitle()
    difference = drawn[0].axes[2].get_images()[0].get_array()
    assert difference.shape == (3, 3) and difference[2, 0] == pytest.approx(1e-6, rel=0.1)
    plt.close("all")


def test_show_does_not_draw_a_few_numbers(monkeypatch, capsys):
    import matplotlib.pyplot as plt
    monkeypatch.setattr(plt, "show", lambda: pytest.fail("nothing should be drawn"))
    cases = [{"x": np.array([1.0, 2.0])}]
    assert against(lambda x: -x, lambda x: x, cases, show=True) is False
    assert "nothing to draw" in capsys.readouterr().out


# --------------------------------------------------------------------------------------------
# Numbers: dtypes, tolerances, digits
# --------------------------------------------------------------------------------------------

def test_complex_results_are_refused(capsys):
    assert against(lambda x: x + 1j, lambda x: x, [{"x": np.ones(2)}]) is False
    assert "returned complex128; this exercise returns float64 (complex numbers: did an FFT or a " \
        "square root" in capsys.readouterr().out


@pytest.mark.parametrize("dtype", [np.float16, np.float32])
def test_a_result_of_another_dtype_fails_whatever_its_values(dtype, capsys):
    # Before: float16 and float32 results widened the tolerance to their own (issue 25).
    def in_low_precision(x, size, stride):
        return view_of(x.astype(dtype), size, stride).max(axis=(4, 5))
    assert check.max_pool_forward(in_low_precision) is False
    assert f"  the result: returned {np.dtype(dtype)}; this exercise returns float64" in (
        capsys.readouterr().out)


def test_float32_work_cast_back_fails_on_its_digits(capsys):
    def float32_then_cast(x, size, stride):
        return view_of(x.astype(np.float32), size, stride).mean(axis=(4, 5)).astype(np.float64)
    assert check.avg_pool_forward(float32_then_cast) is False
    first = capsys.readouterr().out.split("the first at index ")[1].split("\n")[0]
    expected, received = first.split(": expected ")[1].split(", received ")
    assert expected != received


@pytest.mark.parametrize("checker, function, message", [
    (check.max_pool_forward, lambda x, size, stride: view_of(x, size, stride).max(
        axis=(4, 5)).tolist(), "returned a list; this exercise returns a NumPy array of float64"),
    (check.pool_windows, lambda x, size, stride: np.moveaxis(view_of(x, size, stride), 3, 5),
     "the result shares memory with the argument x"),
    (check.avg_pool_separable, lambda x, size, stride: x if size == stride == 1 else
     view_of(x, size, stride).mean(axis=(4, 5)), "case 8 of 11 (1 x 1 windows: the image "
                                                 "itself, as a new array) returned a view"),
], ids=["tolist", "read-only view", "the input itself"])
def test_lists_and_views_fail_where_the_exercise_returns_a_new_array(checker, function, message,
                                                                       capsys):
    assert checker(function) is False
    assert message in capsys.readouterr().out


def test_printed_numbers_have_the_digits_to_differ(capsys):
    cases = [{"x": np.array([1.0, 2.0])}]
    assert against(lambda x: x * (1 + 3e-8), lambda x: x, cases) is False
    printed = capsys.readouterr().out
    assert "expected 1, received 1.00000003" in printed
    assert "[1.00000003 2.00000006]" in printed


def test_integer_results_are_compared_exactly(capsys):
    cases = [{"x": np.array([10**17, 3])}]
    assert against(lambda x: x + 1, lambda x: x, cases) is False
    assert "compared exactly); the first at index (0,): expected 100000000000000000, " \
        "received 100000000000000001" in capsys.readouterr().out
    assert against(lambda x: x.copy(), lambda x: x, cases) is True


# --------------------------------------------------------------------------------------------
# Unsolved exercises and crashes never raise
# --------------------------------------------------------------------------------------------

def unsolved(*args):
    raise NotImplementedError("write this")


def forgot_return(*args):
    pass


@pytest.mark.parametrize("checker", ALL_CHECKERS, ids=lambda checker: checker.__name__)
def test_an_unsolved_exercise_prints_one_line(checker, capsys):
    assert checker(unsolved) is False
    assert capsys.readouterr().out == ("NOT SOLVED YET unsolved: it raises NotImplementedError. "
                                       "Write its body, then run this cell again.\n")
    assert checker(forgot_return) is False
    assert capsys.readouterr().out == ("NOT SOLVED YET forgot_return: it returns None. "
                                       "Did you forget the return statement?\n")


def test_an_exception_is_reported_with_its_message(capsys):
    def crashes(x, size, stride):
        raise KeyError("oops")
    printed = printed_failure(check.max_pool_forward, crashes, capsys)
    assert "FAILED crashes: case 1 of 8 (windows that tile the image) raised an error." in printed
    assert "raised KeyError: 'oops'" in printed


def test_a_wrong_signature_is_reported(capsys):
    assert check.max_pool_forward(lambda x, size: x) is False
    assert "raised TypeError" in capsys.readouterr().out


def test_modifying_the_input_fails(capsys):
    def pools_in_place(x, size, stride):
        out = view_of(x, size, stride).max(axis=(4, 5))
        x[...] = 0
        return out
    printed = printed_failure(check.max_pool_forward, pools_in_place, capsys)
    assert "case 1 of 8 (windows that tile the image) modified an argument" in printed
    assert "it modified its argument x in place" in printed


def test_a_non_array_result_is_named(capsys):
    assert check.avg_pool_forward(lambda x, size, stride: "out") is False
    assert "returned a str; this exercise returns a NumPy array of float64" in (
        capsys.readouterr().out)


# --------------------------------------------------------------------------------------------
# The generic checker
# --------------------------------------------------------------------------------------------

def test_against_passes_equal_functions(capsys):
    cases = [{"x": np.arange(3.0) + k} for k in range(4)]
    assert against(lambda x: 2 * x, lambda x: x + x, cases, name="double")
    assert capsys.readouterr().out == ("PASSED double: 4 of 4 cases match the reference.\n"
                                       "  covered: case 1; case 2; case 3; case 4.\n")


def test_against_reports_the_first_failing_case(capsys):
    cases = [{"x": np.array([1.0, 2.0])}, {"x": np.array([-1.0, 3.0])}]
    assert against(lambda x: np.abs(x), lambda x: x, cases, name="identity",
                         case_names=["positive", "a negative"]) is False
    printed = capsys.readouterr().out
    assert "FAILED identity: case 2 of 2 (a negative) differs." in printed
    assert "1 of 2 values differ (largest difference 2;" in printed
    assert "the first at index (0,): expected -1, received 1" in printed


def test_against_compares_tuples_by_name(capsys):
    cases = [{"x": np.ones(3)}]
    assert against(lambda x: (x, x), lambda x: (x, 2 * x), cases,
                         output_names=("a", "b")) is False
    assert "  b: 3 of 3 values differ" in capsys.readouterr().out


# --------------------------------------------------------------------------------------------
# The gradient-check helpers
# --------------------------------------------------------------------------------------------

def test_numerical_gradient_of_a_known_function_and_array_restored():
    x = np.array([[1.0, -2.0, 0.5], [3.0, 0.0, -1.5]])
    kept = x.copy()
    weights = np.arange(6.0).reshape(2, 3)
    grad = check.numerical_gradient(lambda: float(np.sum(weights * x ** 3)), x)
    np.testing.assert_allclose(grad, 3 * weights * kept ** 2, rtol=1e-6, atol=1e-8)
    np.testing.assert_array_equal(x, kept)                      # every nudge put back
    sample = check.numerical_gradient(lambda: float(np.sum(weights * x ** 3)), x, indices=[4, 1])
    np.testing.assert_allclose(sample, [3 * 4 * 0.0, 3 * 1 * 4.0], atol=1e-6)


@pytest.mark.parametrize("dtype", [np.int64, np.float16, np.float32])
def test_numerical_gradient_refuses_what_it_cannot_nudge(dtype):
    x = np.array([1, 2], dtype=dtype)
    # Today's result on an integer array would be [500000, 1500000] for the true [2, 4].
    with pytest.raises(TypeError, match=f"array must be float64 .*; got {np.dtype(dtype)}"):
        check.numerical_gradient(lambda: float(np.sum(x.astype(float) ** 2)), x)


def test_numerical_gradient_refuses_bad_arguments():
    with pytest.raises(ValueError, match=r"array must be writeable and contiguous .*got strides"):
        check.numerical_gradient(lambda: 0.0, np.zeros((3, 4)).T)
    read_only = np.zeros(3)
    read_only.flags.writeable = False
    with pytest.raises(ValueError, match="array must be writeable .*got read-only"):
        check.numerical_gradient(lambda: 0.0, read_only)
    with pytest.raises(ValueError, match="h must be a positive number; got 0"):
        check.numerical_gradient(lambda: 0.0, np.zeros(3), h=0)
    with pytest.raises(TypeError, match="loss must be a function"):
        check.numerical_gradient(0.0, np.zeros(3))
    with pytest.raises(TypeError, match="array must be a NumPy array of float64"):
        check.numerical_gradient(lambda: 0.0, [1.0, 2.0])


@pytest.mark.parametrize("fails_on", ["plus", "minus"])
def test_numerical_gradient_restores_the_entry_when_loss_raises(fails_on):
    x = np.zeros(3)
    calls = []

    def loss():
        calls.append(x[0])
        if fails_on == "plus" or len(calls) == 2:           # the + h call, or the - h call
            raise ZeroDivisionError("loss failed")
        return 0.0
    with pytest.raises(ZeroDivisionError, match="loss failed"):
        check.numerical_gradient(loss, x)
    assert calls[-1] == (1e-6 if fails_on == "plus" else -1e-6)   # it did fail mid-nudge
    np.testing.assert_array_equal(x, np.zeros(3))


@pytest.mark.parametrize("indices, error, message", [
    ([100], ValueError, r"indices must be None or a sequence .* of ints in range\(6\).*"
                        r"got \[100\], whose entry 100 is out of range"),
    ([-1], ValueError, r"got \[-1\], whose entry -1 is out of range"),
    ([1.5], TypeError, r"indices must be .*got \[1\.5\], whose entry 1\.5 is of type float"),
    ([True], TypeError, r"indices must be .*whose entry True is of type bool"),
    (np.array([0.0, 1.0]), TypeError, r"indices must be .*entry 0\.0 is of type float"),
    (3, TypeError, r"indices must be None or a sequence .*; got int 3"),
    ("01", TypeError, r"indices must be .*; got str '01'"),
    ([[1, 2]], TypeError,
     r"indices must be .*got \[\[1, 2\]\], whose entry \[1, 2\] is of type list"),
    (np.array([[1, 2]]), ValueError, r"indices must be .*; got an array of shape \(1, 2\)"),
])
def test_numerical_gradient_refuses_bad_indices(indices, error, message):
    x = np.zeros((2, 3))
    with pytest.raises(error, match=message):
        check.numerical_gradient(lambda: float(np.sum(x)), x, indices=indices)
    np.testing.assert_array_equal(x, np.zeros((2, 3)))


def test_numerical_gradient_accepts_indices_of_every_documented_kind():
    x = np.arange(6.0).reshape(2, 3)

    def loss():
        return float(np.sum(x ** 2))                        # gradient 2x
    for indices in ([5, 0, 5], (5, 0, 5), np.array([5, 0, 5]), np.array([5, 0, 5], np.uint8)):
        np.testing.assert_allclose(check.numerical_gradient(loss, x, indices=indices),
                                   [10.0, 0.0, 10.0], atol=1e-6)
    np.testing.assert_allclose(check.numerical_gradient(loss, x, indices=range(1, 3)),
                               [2.0, 4.0], atol=1e-6)
    assert check.numerical_gradient(loss, x, indices=[]).shape == (0,)


@pytest.mark.parametrize("returned, message", [
    (np.array([1.0, 2.0]), r"loss must return one real number .*; it returned an array of "
                           r"shape \(2,\) and dtype float64"),
    (None, r"loss must return one real number .*; it returned NoneType None"),
    ("1.0", r"loss must return one real number .*; it returned str '1.0'"),
    (1 + 2j, r"loss must return one real number .*; it returned complex \(1\+2j\)"),
    (True, r"loss must return one real number .*; it returned bool True"),
])
def test_numerical_gradient_refuses_a_loss_that_is_not_one_number(returned, message):
    x = np.ones(2)
    with pytest.raises(TypeError, match=message):
        check.numerical_gradient(lambda: returned, x)
    np.testing.assert_array_equal(x, np.ones(2))


def test_numerical_gradient_accepts_every_kind_of_real_scalar_loss():
    x = np.array([1.0, -2.0])
    # A Python float, a NumPy float, a 0-d array, an entry of a 1-d array.
    for as_scalar in (float, np.float64, np.array, lambda value: np.array([value])[0]):
        grad = check.numerical_gradient(lambda: as_scalar(np.sum(x ** 2)), x)
        np.testing.assert_allclose(grad, [2.0, -4.0], rtol=1e-6)
    # An integer loss is a real number too: the nudge is lost, the gradient is 0, not an error.
    np.testing.assert_array_equal(check.numerical_gradient(lambda: 7, x), [0.0, 0.0])


def test_numerical_gradient_of_an_empty_array_is_empty():
    grad = check.numerical_gradient(lambda: 0.0, np.zeros((0, 3)))
    assert grad.shape == (0, 3) and grad.dtype == np.float64


@pytest.mark.parametrize("h, error, message", [
    ("a", TypeError, "h must be a positive number .int or float.; got str 'a'"),
    (None, TypeError, "h must be a positive number .int or float.; got NoneType None"),
    (True, TypeError, "h must be a positive number .int or float.; got bool True"),
    (-1e-6, ValueError, "h must be a positive number; got -1e-06"),
    (math.inf, ValueError, "h must be a positive number; got inf"),
    (math.nan, ValueError, "h must be a positive number; got nan"),
])
def test_numerical_gradient_refuses_a_bad_h(h, error, message):
    with pytest.raises(error, match=message):
        check.numerical_gradient(lambda: 0.0, np.zeros(3), h=h)


def test_relative_error():
    assert check.relative_error([1.0, 2.0], [1.0, 2.0]) == 0.0
    assert check.relative_error([1.0, 2.0], [1.0, 2.2]) == pytest.approx(0.2 / 2.2)
    assert check.relative_error(np.zeros(3), np.zeros(3)) == 0.0
    # float32 inputs are compared in float64: the difference is not rounded away.
    assert check.relative_error(np.float32([1.0]), np.float32([1.0 + 2**-20])) > 0


@pytest.mark.parametrize("a, b, error, message", [
    (np.zeros(3), np.zeros(2), ValueError,
     r"a and b must have the same shape; got a of shape \(3,\) and b of shape \(2,\)"),
    # Broadcasting would compare every entry of b with every entry of a.
    (np.zeros((3, 1)), np.zeros(3), ValueError, r"got a of shape \(3, 1\) and b of shape \(3,\)"),
    (["x", "y"], [1.0, 2.0], TypeError, r"a must hold real numbers; got dtype <U1"),
    ([1.0, 2.0], [1j, 2.0], TypeError, r"b must hold real numbers; got dtype complex128"),
    ([1.0], None, TypeError, r"b must hold real numbers; got dtype object"),
    ([[1.0], [1.0, 2.0]], [1.0], TypeError, r"a must be an array of real numbers; got a ragged "
                                            r"nested sequence"),
])
def test_relative_error_refuses_bad_arguments(a, b, error, message):
    with pytest.raises(error, match=message):
        check.relative_error(a, b)


# --------------------------------------------------------------------------------------------
# Issue 17: no false rejection, no crash, the student's line, a time limit, honest reports,
# a watch that holds, one table (each test fails on the checkers before the issue)
# --------------------------------------------------------------------------------------------

def max_pool_printing(x, size, stride):
    out = view_of(x, size, stride).max(axis=(4, 5))
    print("out =", out)                                    # NumPy's printing is not my work
    return out


def test_debug_prints_are_not_a_pixel_loop_and_are_shown_once_after_the_verdict(capsys):
    # Before: "its Python work ... grows from 233 ... to 15030": a false loop verdict.
    assert check.max_pool_vectorised(max_pool_printing) is True
    printed = capsys.readouterr().out
    assert printed.startswith("PASSED max_pool_printing: 10 of 10 cases match the reference.\n")
    assert printed.count("out =") == 1
    assert printed.index("your function printed (on case 1):") > printed.index("checked too")


def separable_out_of_place(x, size, stride):
    x = x.copy()                                           # a defensive copy
    oh, ow = (x.shape[1] - size) // stride + 1, (x.shape[2] - size) // stride + 1
    rows = x[:, 0:(oh - 1) * stride + 1:stride]
    for a in range(1, size):
        rows = rows + x[:, a:a + (oh - 1) * stride + 1:stride]          # out of place
    sums = rows[:, :, 0:(ow - 1) * stride + 1:stride]
    for b in range(1, size):
        sums = sums + rows[:, :, b:b + (ow - 1) * stride + 1:stride]
    return sums / size**2


def separable_prefix_sums(x, size, stride):
    rows = np.cumsum(np.pad(x, ((0, 0), (1, 0), (0, 0), (0, 0))), axis=1)
    rows = (rows[:, size:] - rows[:, :-size])[:, ::stride]
    sums = np.cumsum(np.pad(rows, ((0, 0), (0, 0), (1, 0), (0, 0))), axis=2)
    return (sums[:, :, size:] - sums[:, :, :-size])[:, :, ::stride] / size**2


@pytest.mark.parametrize("function", [separable_out_of_place, separable_prefix_sums])
def test_correct_separable_code_passes_the_memory_rule(function, capsys):
    # Before: "it uses too much memory for a separable sum" (peaks 4.4x the input).
    assert check.avg_pool_separable(function) is True, capsys.readouterr().out


def raises_on_a_tall_image(x, size, stride):
    if x.shape[1] == 20:
        raise IndexError("a tall image")
    return view_of(x, size, stride).max(axis=(4, 5))


def wrong_on_a_tall_image(x, size, stride):
    out = view_of(x, size, stride).max(axis=(4, 5))
    return out + (x.shape[1] == 20)


def test_the_loop_cases_are_guarded_and_compared(capsys):
    # Before: the first ended the cell with an IndexError from check.py, the second passed.
    assert check.max_pool_vectorised(raises_on_a_tall_image) is False
    printed = capsys.readouterr().out
    assert printed.startswith("FAILED raises_on_a_tall_image: case 10 of 10 (its larger case")
    assert "it raised IndexError: a tall image" in printed
    assert check.max_pool_vectorised(wrong_on_a_tall_image) is False
    assert "case 10 of 10 (its larger case (H and W grow)) differs" in (
        capsys.readouterr().out)


def test_keyboard_interrupt_still_stops_the_cell():
    def interrupted(x, size, stride):
        raise KeyboardInterrupt
    with pytest.raises(KeyboardInterrupt):
        check.max_pool_forward(interrupted)
    assert (sys.getprofile(), sys.gettrace()) == (None, None)          # the watch is put away


def reshapes_wrongly(x, size, stride):
    out = view_of(x, size, stride).max(axis=(4, 5))
    return out.reshape(out.shape[0], -1, 3)                # the line that raises


def test_an_error_shows_the_line_that_raised(capsys):
    assert check.max_pool_forward(reshapes_wrongly) is False
    line = reshapes_wrongly.__code__.co_firstlineno + 2
    assert (f"  at line {line} of test_check.py, in reshapes_wrongly: "
            f"return out.reshape(out.shape[0], -1, 3)") in capsys.readouterr().out


def test_the_students_inner_function_that_raises_is_named(capsys):
    namespace = {"np": np}
    exec(compile("def my_conv_forward(x, w, b, stride):\n"
         "    raise NotImplementedError\n\n"
         "def my_avg_pool_as_conv(x, size, stride):\n"
         "    w = np.ones((size, size, x.shape[3], x.shape[3]))\n"
         "    return my_conv_forward(x, w, np.zeros(x.shape[3]), stride)\n", "<cell 1>", "exec"),
         namespace)
    assert check.avg_pool_forward(namespace["my_avg_pool_as_conv"]) is False
    assert capsys.readouterr().out == (
        "NOT SOLVED YET my_avg_pool_as_conv: `my_conv_forward`, which `my_avg_pool_as_conv` "
        "calls, raises NotImplementedError. Solve `my_conv_forward` first, then run this cell "
        "again.\n")

    def helper(x):
        raise ValueError("no")

    def outer(x, size, stride):
        return helper(x)
    assert check.max_pool_forward(outer) is False
    assert "  `helper`, which `outer` calls, raised ValueError: no" in capsys.readouterr().out


def endless(x, size, stride):
    while True:
        pass


def endless_in_a_thread(x, size, stride):
    import threading
    worker = threading.Thread(target=endless, args=(x, size, stride))
    worker.start()
    worker.join()
    return x


@pytest.mark.parametrize("function", [endless, endless_in_a_thread])
def test_an_endless_loop_ends_in_a_verdict(function, capsys):
    # Before: the cell hung (no timeout= either).
    assert check.max_pool_forward(function, timeout=0.3) is False
    printed = capsys.readouterr().out
    assert printed.startswith(f"FAILED {function.__name__}: it took longer than 0.3 s on case 1 "
                              f"of 8 (windows that tile the image).\n  arguments: x = array")
    assert (sys.getprofile(), sys.gettrace()) == (None, None)


def test_shrinking_a_slow_wrong_function_stops_within_its_budget(monkeypatch, capsys):
    import time
    monkeypatch.setattr(check, "SHRINK_SECONDS", 1.0)

    def slow_and_wrong(x, size, stride):
        time.sleep(0.1)
        return 2 * view_of(x, size, stride).mean(axis=(4, 5))
    start = time.perf_counter()
    assert check.avg_pool_forward(slow_and_wrong) is False
    # every case runs (each part is judged: 0.8 s), then the shrinking (before: 2 s per call)
    assert time.perf_counter() - start < 2.4
    assert "differs" in capsys.readouterr().out


def divides_dout_in_place(dout, x, size, stride):
    dout /= size * size
    dx = np.zeros(x.shape)
    grads = view_of(dx, size, stride, writeable=True)
    for a in range(size):
        for b in range(size):
            grads[..., a, b] += dout
    return dx


def test_inputs_are_shown_as_they_were_passed(capsys):
    # Before: "dout = 0.0002", the original 1 divided by 4 at each of six calls.
    assert check.avg_pool_backward(divides_dout_in_place) is False
    printed = capsys.readouterr().out
    assert "it modified its argument dout in place" in printed
    assert "  dout (axes of length 1 dropped):\n    1.\n" in printed


def test_the_mutation_check_is_bitwise(capsys):
    def flips_a_zero(x, size, stride):
        x[x == 0] = -0.0                                      # equal to 0.0, not the same bits
        return view_of(x, size, stride).max(axis=(4, 5))
    assert check.max_pool_forward(flips_a_zero) is False
    assert "it modified its argument x in place" in capsys.readouterr().out


def test_nan_in_a_result_is_a_named_difference(capsys):
    def one_nan(x, size, stride):
        out = view_of(x, size, stride).mean(axis=(4, 5))
        out[0, 0, 0, 0] = np.nan
        return out
    assert check.avg_pool_forward(one_nan) is False
    # Before: "largest difference nan" and a RuntimeWarning.
    assert "1 of 1 values differ (1 NaN received; largest finite difference 0;" in (
        capsys.readouterr().out)


def conv_backward_swapped(dout, x, w, stride):
    windows = view_of_kernel(x, w.shape[:2], stride)           # (N, OH, OW, C, KH, KW)
    dx = np.zeros(x.shape)
    dx_windows = sliding_window_view(dx, w.shape[:2], axis=(1, 2), writeable=True)[
        :, ::stride, ::stride]
    for a in range(w.shape[0]):
        for b in range(w.shape[1]):
            dx_windows[..., a, b] += dout @ w[a, b].T
    return np.einsum("nijcab,nijo->abco", windows, dout), dx, dout.sum(axis=(0, 1, 2))


def test_shrinking_keeps_the_failures_kind(capsys):
    # Before: shrunk to x (1, 1, 1, 1), where dx and dw have one shape: "1 of 1 values differ".
    assert check.conv_backward(conv_backward_swapped) is False
    printed = capsys.readouterr().out
    assert "  dx: expected shape (1, 1, 2, 1), received (1, 1, 1, 1)" in printed
    assert "values differ" not in printed


def test_none_on_one_branch_gets_its_case(capsys):
    def forgets_a_branch(x, size, stride):
        if x.shape[1] == 9:
            return None
        return view_of(x, size, stride).mean(axis=(4, 5))
    # Before: "NOT SOLVED YET forgets_a_branch: it returns None."
    assert check.avg_pool_forward(forgets_a_branch) is False
    assert capsys.readouterr().out.startswith(
        "FAILED forgets_a_branch: case 5 of 8 (a stride larger than the window) returned None")


def test_prints_of_a_failing_function_come_once_after_the_verdict_trimmed(capsys):
    def chatty(x, size, stride):
        for row in range(40):
            print("row", row)
        return -view_of(x, size, stride).max(axis=(4, 5))
    assert check.max_pool_forward(chatty) is False
    printed = capsys.readouterr().out
    assert printed.startswith("FAILED chatty: case 1 of 8")
    assert printed.count("your function printed") == 1 and printed.count("row 0\n") == 1
    assert printed.endswith(f"    row {verdicts.PRINTED_LINES - 1}\n    ... "
                            f"({40 - verdicts.PRINTED_LINES} more lines)\n")


def calls_fast_in_a_thread(x, size, stride):
    import threading
    results = []
    worker = threading.Thread(target=lambda: results.append(
        pooling_lab.fast.max_pool_forward(x, size, stride)[0]))
    worker.start()
    worker.join()
    return results[0]


def profile_off_then_fast(x, size, stride):
    sys.setprofile(None)
    return pooling_lab.fast.max_pool_forward(x, size, stride)[0]


def trace_off_then_loop(x, size, stride):
    sys.settrace(None)
    return max_pool_loops(x, size, stride)


def tracemalloc_off_then_windows(x, size, stride):
    import tracemalloc
    tracemalloc.stop()
    return np.ascontiguousarray(view_of(x, size, stride)).mean(axis=(4, 5))


def reference_solution(x, size, stride):
    spec = importlib.util.spec_from_file_location(
        "solutions_nb03", pooling_lab.classroom.watch.SOLUTIONS + "nb03.py")
    solutions = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(solutions)
    return solutions.my_max_pool_forward(x, size, stride)


@pytest.mark.parametrize("checker, function, message", [
    (check.max_pool_forward, calls_fast_in_a_thread, "it calls pooling_lab.fast.max_pool_forward"),
    (check.max_pool_forward, profile_off_then_fast,
     "it turned off the checker's watch (it calls sys.setprofile)"),
    (check.max_pool_vectorised, trace_off_then_loop,
     "it turned off the checker's watch (it calls sys.settrace)"),
    (check.avg_pool_separable, tracemalloc_off_then_windows,
     "it turned off the checker's watch (it calls tracemalloc.stop)"),
    (check.max_pool_vectorised, reference_solution, "solutions_nb03.my_max_pool_forward"),
], ids=lambda value: getattr(value, "__name__", None))
def test_the_watch_holds(checker, function, message, capsys):
    # Before: each of these passed.
    assert checker(function) is False
    printed = capsys.readouterr().out
    assert printed.startswith(f"FAILED {function.__name__}: ") and message in printed
    assert (sys.getprofile(), sys.gettrace()) == (None, None)


def test_one_table_of_exercises_for_grading(capsys):
    assert list(check.EXERCISES) == [
        "to_channels_first", "my_avg_pool", "my_windows", "my_max_pool_forward",
        "my_avg_pool_backward", "my_max_pool_backward", "my_conv_forward", "my_conv_backward",
        "my_avg_pool_as_conv", "my_avg_pool_separable", "my_softmax_cross_entropy",
        # the challenges, one per notebook 01-07 (tests/test_challenges.py)
        "my_avg_pool_padded", "my_fold_windows", "my_max_pool_winners",
        "my_max_pool_backward_padded", "my_conv_dx", "my_max_pool_any_window", "my_cnn_gradients"]
    for name, exercise in check.EXERCISES.items():
        assert exercise.function == name and sum(exercise.points.values()) > 0
        assert set(exercise.points) == set(check.part_names(check.CHECKS[exercise.checker], 1))
        assert callable(getattr(check, exercise.checker)) and exercise.notebook[:2].isdigit()
    tie_cases = [case.name for case in check.CHECKS["max_pool_backward"].cases()
                 if case.name.startswith("ties")]
    assert tie_cases == ["ties: a few values repeated in every window"]


def test_judge_prints_nothing_and_draws_hidden_cases_from_the_seed(capsys):
    namespace = {"my_windows": lambda x, size, stride: np.moveaxis(
        view_of(x, size, stride), 3, 5) + (x.shape[0] == 3)}    # wrong on batches of 3 only
    table = check.judge("my_windows", namespace)
    assert table.passed is True and table.message.startswith("PASSED my_windows: 10 of 10 cases")
    assert table.parts == {"cases": True, "no_pixel_loop": True}
    hidden = check.judge("my_windows", namespace, seed=5, hidden=20)
    assert hidden.passed is False and "hidden case" in hidden.message.split("\n")[0]
    assert hidden.parts == {"cases": True, "hidden": False, "no_pixel_loop": True}
    assert hidden.message == check.judge("my_windows", namespace, seed=5, hidden=20).message
    assert capsys.readouterr().out == ""
    assert check.judge("my_windows", {}).message == "NOT SOLVED YET my_windows: no function " \
                                                    "my_windows."
    with pytest.raises(ValueError, match="function_name must be one of to_channels_first, "):
        check.judge("my_window", namespace)


def test_grades_seed_orders_the_table_so_a_cache_of_answers_by_call_fails():
    answers = []                           # the first results, replayed from the third call on

    def replays(x, size, stride):
        answers.append(view_of(x, size, stride).max(axis=(4, 5)))
        return answers[len(answers) - 1 if len(answers) < 3 else len(answers) % 2]
    table = check.judge("my_max_pool_forward", {"my_max_pool_forward": replays})
    assert table.passed is False and table.parts == {"cases": False, "no_pixel_loop": False}
    orders = {check.judge("my_max_pool_forward", {"my_max_pool_forward": replays},
                          seed=seed).message.split(" differs")[0] for seed in (1, 2, 3)}
    assert len(orders) > 1                 # each seed puts another case first to fail


SWALLOWS_EVERY_STOP = '''
import time
from pooling_lab import check

def swallows(x, size, stride):
    while True:
        try:
            while True:
                pass
        except:
            pass

start = time.perf_counter()
check.max_pool_forward(swallows, timeout=0.5)
print(f"seconds {time.perf_counter() - start:.1f}")
'''


def test_a_loop_that_swallows_every_stop_still_ends_in_a_verdict():
    # Before: the cell hung (the bare except: caught the stop and Python dropped the watch).
    # In its own process: the loop spins on until the process ends, as in a kernel.
    import subprocess
    done = subprocess.run([sys.executable, "-c", SWALLOWS_EVERY_STOP], capture_output=True,
                          text=True, timeout=60)
    verdict, seconds = done.stdout.rsplit("seconds ", 1)
    assert verdict.startswith("FAILED swallows: it took longer than 0.5 s on case 1 of 8")
    assert "restart the kernel" in verdict and float(seconds) < 0.5 + 1.5


def test_the_stop_button_still_stops_a_checker_waiting_for_a_long_call():
    import signal
    import subprocess
    import time
    script = ("from pooling_lab import check\n"
              "def endless(x, size, stride):\n    while True:\n        pass\n"
              "try:\n    check.max_pool_forward(endless, timeout=60)\n"
              "except KeyboardInterrupt:\n    print('interrupted')\n")
    child = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True,
                             preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    time.sleep(3)                          # the checker is now waiting for the endless call
    child.send_signal(signal.SIGINT)
    assert child.communicate(timeout=20)[0] == "interrupted\n"
