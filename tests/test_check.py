"""The exercise checkers pass right answers and explain wrong ones."""

import numpy as np
import pytest

import pooling_lab
from pooling_lab import check

STYLE_NAMES = list(pooling_lab.STYLES)


# --------------------------------------------------------------------------------------------
# The package's own functions, in every style, adapted to the exercise signatures
# --------------------------------------------------------------------------------------------

def pool_backward(style, kind):
    forward = getattr(style, f"{kind}_pool_forward")
    backward = getattr(style, f"{kind}_pool_backward")
    return lambda dout, x, size, stride: backward(dout, forward(x, size, stride)[1])


def conv_backward(style):
    def backward(dout, x, w, stride):
        return style.conv_backward(dout, style.conv_forward(x, w, stride=stride)[1])
    return backward


@pytest.mark.parametrize("style_name", STYLE_NAMES)
def test_every_style_passes_every_checker(style_name, capsys):
    style = pooling_lab.STYLES[style_name]
    assert check.max_pool_forward(style.max_pool_forward)
    assert check.avg_pool_forward(style.avg_pool_forward)
    assert check.max_pool_backward(pool_backward(style, "max"))
    assert check.avg_pool_backward(pool_backward(style, "avg"))
    assert check.conv_forward(style.conv_forward)
    assert check.conv_backward(conv_backward(style))
    printed = capsys.readouterr().out
    assert printed.count("PASSED") == 6 and "FAILED" not in printed
    assert "6 of 6 cases match" in printed and "5 of 5 cases match" in printed


def test_a_forward_may_return_out_alone(capsys):
    def max_pool(x, size, stride):
        return pooling_lab.naive.max_pool_forward(x, size, stride)[0]
    assert check.max_pool_forward(max_pool)
    assert "PASSED max_pool: 6 of 6" in capsys.readouterr().out


# --------------------------------------------------------------------------------------------
# Deliberately wrong solutions
# --------------------------------------------------------------------------------------------

def windows_of(x, size, stride):
    """Yield (i, j, rows, cols) of every "valid" window."""
    _, height, width, _ = x.shape
    for i in range((height - size) // stride + 1):
        for j in range((width - size) // stride + 1):
            yield i, j, slice(i * stride, i * stride + size), slice(j * stride, j * stride + size)


def max_pool_missing_last_window(x, size, stride):
    # Off by one: (H - size) // stride windows instead of ... + 1.
    n, height, width, channels = x.shape
    oh, ow = (height - size) // stride, (width - size) // stride
    out = np.zeros((n, oh, ow, channels))
    for i, j, rows, cols in windows_of(x, size, stride):
        if i < oh and j < ow:
            out[:, i, j, :] = x[:, rows, cols, :].max(axis=(1, 2))
    return out


def max_pool_stride_one_too_small(x, size, stride):
    return pooling_lab.naive.max_pool_forward(x, size, max(stride - 1, 1))[0]


def avg_pool_divided_by_size(x, size, stride):
    # Wrong divisor: size instead of size * size.
    return pooling_lab.naive.avg_pool_forward(x, size, stride)[0] * size


def max_pool_backward_mask(dout, x, size, stride):
    # The `window == max` mask: every tied maximum gets the full gradient.
    dx = np.zeros_like(x)
    for i, j, rows, cols in windows_of(x, size, stride):
        window = x[:, rows, cols, :]
        is_max = window == window.max(axis=(1, 2), keepdims=True)
        dx[:, rows, cols, :] += is_max * dout[:, i:i + 1, j:j + 1, :]
    return dx


def max_pool_backward_last_max(dout, x, size, stride):
    # Ties broken the other way: the last maximum in row-major order wins.
    dx = np.zeros_like(x)
    for i, j, rows, cols in windows_of(x, size, stride):
        window = x[:, rows, cols, :]
        n, _, _, channels = window.shape
        flat = window.reshape(n, size * size, channels)[:, ::-1, :]
        last = size * size - 1 - flat.argmax(axis=1)                  # (N, C)
        a, b = np.divmod(last, size)
        for image in range(n):
            for channel in range(channels):
                dx[image, rows.start + a[image, channel], cols.start + b[image, channel],
                   channel] += dout[image, i, j, channel]
    return dx


def avg_pool_backward_dropped_overlap(dout, x, size, stride):
    # `=` instead of `+=`: a pixel shared by two windows keeps only the last one's share.
    dx = np.zeros_like(x)
    for i, j, rows, cols in windows_of(x, size, stride):
        dx[:, rows, cols, :] = dout[:, i:i + 1, j:j + 1, :] / (size * size)
    return dx


def max_pool_backward_dropped_overlap(dout, x, size, stride):
    dx = np.zeros_like(x)
    _, cache = pooling_lab.naive.max_pool_forward(x, size, stride)
    for i, j, rows, cols in windows_of(x, size, stride):
        one_window = np.zeros_like(dout)
        one_window[:, i, j, :] = dout[:, i, j, :]
        window_grad = pooling_lab.naive.max_pool_backward(one_window, cache)
        dx = np.where(window_grad != 0, window_grad, dx)
    return dx


def conv_forward_flipped_kernel(x, w, b, stride):
    # True convolution instead of the cross-correlation every framework computes.
    return pooling_lab.naive.conv_forward(x, w[::-1, ::-1], b, stride)[0]


def conv_backward_without_db(dout, x, w, stride):
    _, cache = pooling_lab.naive.conv_forward(x, w, stride=stride)
    dx, dw, _ = pooling_lab.naive.conv_backward(dout, cache)
    return dx, dw


def conv_backward_dw_not_summed_over_batch(dout, x, w, stride):
    _, cache = pooling_lab.naive.conv_forward(x[:1], w, stride=stride)
    _, dw_first, _ = pooling_lab.naive.conv_backward(dout[:1], cache)
    _, cache = pooling_lab.naive.conv_forward(x, w, stride=stride)
    dx, _, db = pooling_lab.naive.conv_backward(dout, cache)
    return dx, dw_first, db


def test_off_by_one_window_count_is_a_shape_error(capsys):
    assert check.max_pool_forward(max_pool_missing_last_window) is False
    printed = capsys.readouterr().out
    assert ("FAILED max_pool_missing_last_window: case 1 of 6 (windows that tile the image)"
            in printed)
    assert "expected shape (1, 2, 2, 1), received shape (1, 1, 1, 1)" in printed
    assert "x = array of shape (1, 4, 4, 1), size = 2, stride = 2" in printed


def test_a_wrong_stride_is_caught_where_stride_matters(capsys):
    assert check.max_pool_forward(max_pool_stride_one_too_small) is False
    printed = capsys.readouterr().out
    assert "case 1 of 6" in printed
    assert "expected shape (1, 2, 2, 1), received shape (1, 3, 3, 1)" in printed


def test_a_wrong_divisor_prints_both_arrays(capsys):
    assert check.avg_pool_forward(avg_pool_divided_by_size) is False
    printed = capsys.readouterr().out
    assert "4 of 4 values differ" in printed
    assert "the first at index (0, 0, 0, 0): expected -0.045, received -0.09" in printed
    assert "expected" in printed and "received" in printed and "[[-0.09" in printed


def test_the_mask_rule_fails_on_the_tie_case(capsys):
    assert check.max_pool_backward(max_pool_backward_mask) is False
    printed = capsys.readouterr().out
    assert "case 6 of 6 (ties: a few values repeated in every window) differs" in printed
    assert "the [0, :, :, 0] slice" in printed


def test_the_last_maximum_rule_fails_on_the_tie_case(capsys):
    assert check.max_pool_backward(max_pool_backward_last_max) is False
    assert "case 6 of 6 (ties" in capsys.readouterr().out


def test_a_dropped_overlap_fails_on_the_first_overlapping_case(capsys):
    assert check.avg_pool_backward(avg_pool_backward_dropped_overlap) is False
    assert "case 2 of 6 (overlapping windows, stride 1) differs" in capsys.readouterr().out


def test_a_dropped_overlap_in_max_pool_backward_fails(capsys):
    assert check.max_pool_backward(max_pool_backward_dropped_overlap) is False
    assert "(overlapping windows" in capsys.readouterr().out


def test_a_flipped_kernel_fails_conv_forward(capsys):
    assert check.conv_forward(conv_forward_flipped_kernel) is False
    assert "FAILED conv_forward_flipped_kernel: case 1 of 5" in capsys.readouterr().out


def test_a_missing_output_is_named(capsys):
    assert check.conv_backward(conv_backward_without_db) is False
    assert "expected a tuple of 3 (dx, dw, db); received a tuple of 2" in capsys.readouterr().out


def test_the_wrong_output_is_named(capsys):
    assert check.conv_backward(conv_backward_dw_not_summed_over_batch) is False
    printed = capsys.readouterr().out
    assert "case 3 of 5" in printed and "dw:" in printed


# --------------------------------------------------------------------------------------------
# Unsolved exercises and crashes never raise
# --------------------------------------------------------------------------------------------

def unsolved(*args):
    raise NotImplementedError("write this")


def forgot_return(*args):
    pass


@pytest.mark.parametrize("checker", [check.max_pool_forward, check.avg_pool_forward,
                                     check.max_pool_backward, check.avg_pool_backward,
                                     check.conv_forward, check.conv_backward])
def test_an_unsolved_exercise_says_so(checker, capsys):
    assert checker(unsolved) is False
    assert checker(forgot_return) is False
    printed = capsys.readouterr().out
    assert "NOT SOLVED YET unsolved: it raises NotImplementedError" in printed
    assert "NOT SOLVED YET forgot_return: it returns None" in printed


def test_an_exception_is_reported_with_its_message(capsys):
    def crashes(x, size, stride):
        raise KeyError("oops")
    assert check.max_pool_forward(crashes) is False
    printed = capsys.readouterr().out
    assert "case 1 of 6 (windows that tile the image) raised KeyError: 'oops'" in printed


def test_a_wrong_signature_is_reported(capsys):
    assert check.max_pool_forward(lambda x, size: x) is False
    assert "raised TypeError" in capsys.readouterr().out


def test_modifying_the_input_fails(capsys):
    def pools_in_place(x, size, stride):
        out = pooling_lab.naive.max_pool_forward(x, size, stride)[0]
        x[...] = 0
        return out
    assert check.max_pool_forward(pools_in_place) is False
    assert "case 1 of 6 (windows that tile the image) modified its argument x in place" in (
        capsys.readouterr().out)


def test_a_non_array_result_is_named(capsys):
    assert check.avg_pool_forward(lambda x, size, stride: "out") is False
    assert "expected an array, received str 'out'" in capsys.readouterr().out


# --------------------------------------------------------------------------------------------
# The generic checker
# --------------------------------------------------------------------------------------------

def make_inputs(rng):
    return {"x": rng.normal(size=(2, 3))}


def test_against_passes_equal_functions(capsys):
    assert check.against(lambda x: 2 * x, lambda x: x + x, make_inputs, cases=4, name="double")
    assert capsys.readouterr().out == "PASSED double: 4 of 4 cases match the reference.\n"


def test_against_reports_the_first_failing_case(capsys):
    cases = [{"x": np.array([1.0, 2.0])}, {"x": np.array([-1.0, 3.0])}]
    assert check.against(lambda x: np.abs(x), lambda x: x, cases, name="identity",
                         case_names=["positive", "a negative"]) is False
    printed = capsys.readouterr().out
    assert "FAILED identity: case 2 of 2 (a negative) differs." in printed
    assert ("1 of 2 values differ (largest difference 2); the first at index (0,): "
            "expected -1, received 1") in printed


def test_against_compares_tuples_by_name(capsys):
    cases = [{"x": np.ones(3)}]
    assert check.against(lambda x: (x, x), lambda x: (x, 2 * x), cases,
                         output_names=("a", "b")) is False
    assert "  b: 3 of 3 values differ" in capsys.readouterr().out


def test_against_is_seeded():
    drawn = []

    def record(x):
        drawn.append(x.copy())
        return x
    check.against(record, lambda x: x, make_inputs, cases=2)
    check.against(record, lambda x: x, make_inputs, cases=2)
    np.testing.assert_array_equal(drawn[0], drawn[2])
    assert not np.array_equal(drawn[0], drawn[1])



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


def test_numerical_gradient_refuses_an_array_it_cannot_nudge():
    x = np.zeros((3, 4)).T                 # no flat view of a transpose: reshape would copy
    with pytest.raises(ValueError, match="array must be contiguous"):
        check.numerical_gradient(lambda: 0.0, x)


def test_relative_error():
    assert check.relative_error([1.0, 2.0], [1.0, 2.0]) == 0.0
    assert check.relative_error([1.0, 2.0], [1.0, 2.2]) == pytest.approx(0.2 / 2.2)
    assert check.relative_error(np.zeros(3), np.zeros(3)) == 0.0
