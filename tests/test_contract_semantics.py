"""Ties, NaN, padding, dtypes, empty batches, and the promise never to touch an input."""

import dataclasses
import re

import numpy as np
import pytest

import pooling_lab
from pooling_lab import stacked
from pooling_lab.contract import owned
from pooling_lab.measure import peak_bytes
from configs import float16_conv_case, random_configs, run, ulps_from

STYLES = list(pooling_lab.STYLES.items())
nan = np.nan


def row(values):
    """A (1, 1, W, 1) image from one row of numbers."""
    return np.array(values, dtype=np.float64).reshape(1, 1, -1, 1)


# --------------------------------------------------------------------------------------------
# Ties and NaN in max pool
# --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("name,style", STYLES)
def test_all_equal_windows_send_the_gradient_to_their_first_element(name, style):
    x = np.full((2, 4, 6, 3), 7.0)
    out, cache = style.max_pool_forward(x, 2)
    dout = np.random.default_rng(0).standard_normal(out.shape)
    dx = style.max_pool_backward(dout, cache)
    expected = np.zeros_like(x)
    expected[:, ::2, ::2, :] = dout          # the top-left element of every 2x2 window
    np.testing.assert_array_equal(dx, expected)
    assert dx.sum() == pytest.approx(dout.sum())


@pytest.mark.parametrize("name,style", STYLES)
def test_ties_in_overlapping_windows_keep_gradient_mass(name, style):
    # Quantised values make many ties; the first maximum of each window takes it all.
    x = np.random.default_rng(1).integers(0, 3, size=(3, 9, 8, 2)).astype(float)
    out, cache = style.max_pool_forward(x, 3, stride=1)
    dout = np.random.default_rng(2).standard_normal(out.shape)
    dx = style.max_pool_backward(dout, cache)
    assert dx.sum() == pytest.approx(dout.sum(), rel=1e-12)
    # The mask rule (window == max) would hand out more than dout: show that ties exist here.
    windows = np.lib.stride_tricks.sliding_window_view(x, (3, 3), axis=(1, 2))
    ties_per_window = (windows == out[..., None, None]).sum(axis=(-2, -1))
    assert ties_per_window.max() > 1


@pytest.mark.parametrize("name,style", STYLES)
def test_first_maximum_in_row_major_order(name, style):
    # Two maxima: (0, 1) comes before (1, 0) in row-major order, so it takes the gradient.
    x = np.array([[0.0, 5.0], [5.0, 1.0]]).reshape(1, 2, 2, 1)
    out, cache = style.max_pool_forward(x, 2)
    dx = style.max_pool_backward(np.array([[[[3.0]]]]), cache)
    np.testing.assert_array_equal(dx[0, :, :, 0], [[0, 3], [0, 0]])


@pytest.mark.parametrize("name,style", STYLES)
def test_gradients_reach_rows_past_255(name, style):
    # Winners are stored as uint8 tap numbers; pixel coordinates computed from them must not
    # wrap around at 256 (a bug found on a 512x512 photo).
    x = np.zeros((1, 259, 4, 1))
    x[0, 257, 1, 0] = 1.0                      # in the window of output row 128 (rows 256-258)
    out, cache = style.max_pool_forward(x, 3, stride=2)           # (1, 129, 1, 1)
    dx = style.max_pool_backward(np.full(out.shape, 2.0), cache)
    expected = np.zeros_like(x)
    expected[0, 0:256:2, 0, 0] = 2.0           # all-zero windows: their first pixel wins
    expected[0, 257, 1, 0] = 2.0               # the one window with a 1 in it
    np.testing.assert_array_equal(dx, expected)


@pytest.mark.parametrize("name,style", STYLES)
def test_nan_propagates_and_the_last_nan_takes_the_gradient(name, style):
    # PyTorch's CPU rule: a NaN tap always replaces the running maximum, so the last NaN of a
    # window in row-major order wins. Window 0 holds NaN at taps 1 and 2 (tap 2 wins, not 9 or
    # the first NaN); window 1 at taps 2 and 3 (tap 3 wins).
    x = np.array([[1.0, np.nan, 2.0, 3.0],
                  [np.nan, 9.0, np.nan, np.nan]]).reshape(1, 2, 4, 1)
    x = np.concatenate([x, -x], axis=3)      # the same NaN positions in a second channel
    out, cache = style.max_pool_forward(x, 2)
    assert np.isnan(out[0, 0, :, :]).all() and out.shape == (1, 1, 2, 2)
    np.testing.assert_array_equal(cache.winner[0, 0, :, 0], [2, 3])
    dx = style.max_pool_backward(np.ones(out.shape), cache)
    expected = np.zeros((2, 4))
    expected[1, 0] = expected[1, 3] = 1
    np.testing.assert_array_equal(dx[0, :, :, 0], expected)
    np.testing.assert_array_equal(dx[0, :, :, 1], expected)


@pytest.mark.parametrize("name,style", STYLES)
def test_overlapping_windows_can_share_their_last_nan(name, style):
    # Size 2, stride 1: window (0, 0) reads taps [nan, 1, 2, nan], window (0, 1) reads
    # [1, nan, nan, 3]. Both last NaNs are x[1, 1], which collects both gradients; the first
    # NaN rule would have sent them to x[0, 0] and x[0, 2].
    x = np.array([[np.nan, 1.0, np.nan],
                  [2.0, np.nan, 3.0]]).reshape(1, 2, 3, 1)
    out, cache = style.max_pool_forward(x, 2, stride=1)
    assert np.isnan(out).all()
    dx = style.max_pool_backward(np.array([2.0, 5.0]).reshape(1, 1, 2, 1), cache)
    np.testing.assert_array_equal(dx[0, :, :, 0], [[0, 0, 0], [0, 7, 0]])


# --------------------------------------------------------------------------------------------
# 1. NaN: the last NaN of a window takes the gradient (PyTorch 2.13, CPU)
# --------------------------------------------------------------------------------------------
# PyTorch replaces a window's running maximum where a tap is larger or NaN, so the *last* NaN
# in row-major window order wins; without NaN, the first maximum. The expected numbers below
# were worked out by hand and agree with torch.nn.functional.max_pool2d(return_indices=True).

@pytest.mark.parametrize("name,style", STYLES)
@pytest.mark.parametrize("values,winner", [([1, nan, 2, nan], 3), ([nan, 9, 2], 0)],
                         ids=["1-nan-2-nan", "one-nan"])
def test_one_window_sends_its_gradient_to_the_last_nan(name, style, values, winner):
    x = row(values)
    out, cache = style.max_pool_forward(x, (1, len(values)))
    assert np.isnan(out).all() == any(np.isnan(values))
    dx = style.max_pool_backward(np.full(out.shape, 5.0), cache)
    expected = np.zeros(len(values))
    expected[winner] = 5.0
    np.testing.assert_array_equal(dx.ravel(), expected)


@pytest.mark.parametrize("name,style", STYLES)
def test_overlapping_2d_windows_pick_the_last_nan_in_row_major_order(name, style):
    # NaNs at (0, 1), (1, 0), (1, 2), (2, 1); 2x2 windows at stride 1. Window (0, 0) holds the
    # NaNs (0, 1) and (1, 0): (1, 0) is later in row-major order. Likewise (0, 1) -> (1, 2),
    # (1, 0) -> (2, 1) and (1, 1) -> (2, 1), which therefore gets two gradients.
    x = np.array([[1, nan, 0], [nan, 5, nan], [0, nan, 0]]).reshape(1, 3, 3, 1)
    x = np.concatenate([x, -x], axis=3)               # the same NaNs in a second channel
    out, cache = style.max_pool_forward(x, 2, stride=1)
    assert np.isnan(out).all()
    dout = np.array([[1.0, 2.0], [4.0, 8.0]])[None, :, :, None].repeat(2, axis=3)
    dx = style.max_pool_backward(dout, cache)
    expected = np.zeros((3, 3))
    expected[1, 0], expected[1, 2], expected[2, 1] = 1, 2, 4 + 8
    for channel in range(2):
        np.testing.assert_array_equal(dx[0, :, :, channel], expected)


@pytest.mark.parametrize("name,style", STYLES)
def test_the_last_nan_wins_beside_padding(name, style):
    # Padding one cell left and right: [pad nan 2] [nan 2 nan] [2 nan pad]
    x = row([nan, 2, nan])
    out, cache = style.max_pool_forward(x, (1, 3), stride=1, padding=((0, 0), (1, 1)))
    assert np.isnan(out).all()
    dx = style.max_pool_backward(row([1, 2, 4]), cache)
    np.testing.assert_array_equal(dx.ravel(), [1, 0, 6])


# --------------------------------------------------------------------------------------------
# 11. Signed zeros agree bit for bit
# --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("name,style", STYLES)
@pytest.mark.parametrize("values,negative", [([0.0, 0.0, 0.0, -0.0], False),
                                             ([-0.0, 0.0, 0.0, 0.0], True),
                                             ([-0.0, -0.0, 0.0, -0.0], True),
                                             ([-1.0, -0.0, 0.0, -2.0], True)], ids=str)
def test_max_pool_returns_the_first_maximum_s_own_zero(name, style, values, negative):
    x = np.array(values).reshape(1, 2, 2, 1)
    x = np.tile(x, (1, 3, 2, 3))                   # the same window six times, three channels
    out, cache = style.max_pool_forward(x, 2)
    assert (out == 0).all() and (np.signbit(out) == negative).all()
    first_maximum = np.zeros(4)
    first_maximum[values.index(0.0)] = 1                      # -0.0 == 0.0: the first zero
    dx = style.max_pool_backward(np.ones(out.shape), cache)
    np.testing.assert_array_equal(dx[0, :2, :2, 0].ravel(), first_maximum)


@pytest.mark.parametrize("name,style", STYLES)
def test_padding_never_wins_even_against_minus_infinity(name, style):
    # A window whose real values are all -inf ties with its -inf padding: the real cell wins.
    x = np.full((1, 3, 3, 1), -np.inf)
    out, cache = style.max_pool_forward(x, 2, padding=1)
    assert np.isneginf(out).all()
    dx = style.max_pool_backward(np.ones(out.shape), cache)
    # Windows cover rows (and columns) {-1, 0} and {1, 2}: the first real taps are 0 and 1.
    expected = np.zeros((3, 3))
    expected[:2, :2] = 1
    np.testing.assert_array_equal(dx[0, :, :, 0], expected)


@pytest.mark.parametrize("name,style", STYLES)
def test_nan_in_avg_pool_and_conv_propagates(name, style):
    x = np.zeros((1, 4, 4, 1))
    x[0, 0, 0, 0] = np.nan
    out, _ = style.avg_pool_forward(x, 2)
    assert np.isnan(out[0, 0, 0, 0]) and not np.isnan(out[0, 1:, 1:]).any()
    out, _ = style.conv_forward(x, np.ones((2, 2, 1, 1)), stride=2)
    assert np.isnan(out[0, 0, 0, 0]) and not np.isnan(out[0, 1:, 1:]).any()


# --------------------------------------------------------------------------------------------
# Shapes and padding rules
# --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("name,style", STYLES)
def test_output_shapes_follow_the_formulas(name, style):
    x = np.zeros((2, 11, 8, 3))
    # valid: OH = floor((H - span) / S) + 1
    assert style.max_pool_forward(x, 3, stride=2)[0].shape == (2, 5, 3, 3)
    # same: OH = ceil(H / S), whatever the kernel and dilation
    assert style.avg_pool_forward(x, 3, stride=2, padding="same")[0].shape == (2, 6, 4, 3)
    assert style.max_pool_forward(x, 2, stride=3, padding="same", dilation=2)[0].shape == (2, 4, 3, 3)
    # explicit: OH = floor((H + top + bottom - span) / S) + 1
    out = style.conv_forward(x, np.zeros((3, 2, 3, 5)), stride=(2, 3), padding=((1, 2), (0, 1)),
                             dilation=(2, 1))[0]
    assert out.shape == (2, (11 + 3 - 5) // 2 + 1, (8 + 1 - 2) // 3 + 1, 5)


@pytest.mark.parametrize("name,style", STYLES)
def test_stride_none_means_stride_equals_size(name, style):
    x = np.random.default_rng(3).standard_normal((1, 9, 8, 2))
    np.testing.assert_array_equal(style.max_pool_forward(x, (3, 2))[0],
                                  style.max_pool_forward(x, (3, 2), stride=(3, 2))[0])


@pytest.mark.parametrize("name,style", STYLES)
def test_rows_no_window_reaches_get_zero_gradient(name, style):
    x = np.random.default_rng(4).standard_normal((1, 7, 7, 1))
    out, cache = style.avg_pool_forward(x, 2, stride=3)       # windows cover rows 0-1 and 3-4
    dx = style.avg_pool_backward(np.ones(out.shape), cache)
    assert (dx[0, [2, 5, 6], :, 0] == 0).all() and (dx[0, :, [2, 5, 6], 0] == 0).all()
    assert (dx[0, :2, :2, 0] == 0.25).all()


@pytest.mark.parametrize("name,style", STYLES)
def test_size_stride_dilation_and_padding_accept_the_same_array_likes(name, style):
    x = np.random.default_rng(5).standard_normal((1, 7, 8, 2))
    w = np.random.default_rng(6).standard_normal((2, 3, 2, 1))
    plain = dict(size=(2, 3), stride=(1, 2), padding=(1, 1), dilation=1)
    array_likes = [dict(size=np.array([2, 3]), stride=[1, 2], padding=np.array([1, 1]),
                        dilation=np.array(1)),
                   dict(size=(np.int64(2), 3.0), stride=np.array([1, 2]), padding=np.array(1),
                        dilation=(1, 1)),
                   dict(size=[2, 3], stride=(np.array(1), 2), padding=np.array([[1, 1], [1, 1]]),
                        dilation=[np.int32(1), 1])]
    for op in ("max", "avg"):
        forward, _ = pooling_lab.op_functions(style, op)
        want = forward(x, **plain)[0]
        for kwargs in array_likes:
            np.testing.assert_array_equal(forward(x, **kwargs)[0], want)
    assert style.max_pool_forward(x, np.array(2))[0].shape == (1, 3, 4, 2)
    want = style.conv_forward(x, w, stride=(1, 2), padding=(1, 1))[0]
    for kwargs in array_likes:
        kwargs = {key: value for key, value in kwargs.items() if key != "size"}
        np.testing.assert_array_equal(style.conv_forward(x, w, **kwargs)[0], want)


# --------------------------------------------------------------------------------------------
# Dtypes
# --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("name,style", STYLES)
def test_float32_stays_float32(name, style):
    rng = np.random.default_rng(6)
    x = rng.standard_normal((2, 6, 6, 2)).astype(np.float32)
    w = rng.standard_normal((3, 3, 2, 4)).astype(np.float32)
    for forward, backward in [(style.max_pool_forward, style.max_pool_backward),
                              (style.avg_pool_forward, style.avg_pool_backward)]:
        out, cache = forward(x, 2)
        assert out.dtype == np.float32
        assert backward(out, cache).dtype == np.float32
    out, cache = style.conv_forward(x, w, np.zeros(4, np.float32))
    assert out.dtype == np.float32
    assert all(grad.dtype == np.float32 for grad in style.conv_backward(out, cache))


@pytest.mark.parametrize("name,style", STYLES)
def test_integers_and_bools_are_promoted_to_float64(name, style):
    x = np.arange(36).reshape(1, 6, 6, 1)
    out, cache = style.max_pool_forward(x, 2)
    assert out.dtype == np.float64 and out[0, 0, 0, 0] == 7
    assert style.max_pool_backward(np.ones(out.shape, dtype=int), cache).dtype == np.float64
    out, _ = style.avg_pool_forward(x > 17, 3)
    assert out.dtype == np.float64
    out, _ = style.conv_forward(x.astype(np.int32), np.ones((2, 2, 1, 1), dtype=bool))
    assert out.dtype == np.float64 and out[0, 0, 0, 0] == 0 + 1 + 6 + 7


@pytest.mark.parametrize("name,style", STYLES)
def test_mixed_precision_follows_result_type(name, style):
    x = np.ones((1, 4, 4, 2), dtype=np.float32)
    out, cache = style.conv_forward(x, np.ones((2, 2, 2, 3), dtype=np.float64))
    assert out.dtype == np.float64
    assert all(grad.dtype == np.float64 for grad in style.conv_backward(out, cache))
    out, cache = style.avg_pool_forward(x, 2)
    assert style.avg_pool_backward(out.astype(np.float64), cache).dtype == np.float64


@pytest.mark.parametrize("name,style", STYLES)
def test_float16_average_of_large_values_does_not_overflow(name, style):
    x = np.full((1, 2, 2, 1), 40000, np.float16)       # their float16 sum, 160000, is inf
    out, cache = style.avg_pool_forward(x, 2)
    assert out.dtype == np.float16 and out.item() == 40000
    dx = style.avg_pool_backward(out, cache)
    assert dx.dtype == np.float16 and (dx == 10000).all()


@pytest.mark.parametrize("name,style", STYLES)
def test_float16_average_of_256_values_is_rounded_once(name, style):
    x = np.random.default_rng(0).random((2, 16, 16, 3)).astype(np.float16)
    out, _ = style.avg_pool_forward(x, 16)
    truth = x.astype(np.float64).mean(axis=(1, 2))[:, None, None, :]
    assert out.dtype == np.float16
    assert ulps_from(out, truth).max() <= 0.5 + 1e-3    # was up to 6 ulps


@pytest.mark.parametrize("name,style", STYLES)
def test_float16_average_gradients_are_summed_in_float32(name, style):
    x = np.zeros((1, 5, 5, 1), np.float16)
    out, cache = style.avg_pool_forward(x, 3, stride=1)
    dx = style.avg_pool_backward(np.ones(out.shape, np.float16), cache)
    # each pixel gets (windows covering it) / 9: the centre 9/9 = 1 exactly
    expected = (np.outer([1, 2, 3, 2, 1], [1, 2, 3, 2, 1]) / 9).astype(np.float16)
    assert dx.dtype == np.float16
    np.testing.assert_array_equal(dx[0, :, :, 0], expected)


@pytest.mark.parametrize("name,style", STYLES)
def test_float16_max_pool_gradients_are_summed_in_float32(name, style):
    # The centre wins all four windows: 2048 + 2048 + 1 + 1.5 = 4098.5, which float16 rounds
    # to 4100 (its spacing there is 4). Summed in float16, in either order, it gives 4096.
    x = np.zeros((1, 3, 3, 1), np.float16)
    x[0, 1, 1, 0] = 1
    out, cache = style.max_pool_forward(x, 2, stride=1)
    dout = np.array([[2048, 2048], [1, 1.5]], np.float16).reshape(1, 2, 2, 1)
    dx = style.max_pool_backward(dout, cache)
    assert dx.dtype == np.float16 and dx[0, 1, 1, 0] == 4100 and dx.sum() == 4100


@pytest.mark.parametrize("name,style", STYLES)
def test_float16_convolution_gradients_are_summed_in_float32(name, style):
    x, w, b = float16_conv_case(2, dyadic=False)
    out, cache = style.conv_forward(x, w, b, stride=2, padding=1)
    dout = np.random.default_rng(3).uniform(-2, 2, out.shape).astype(np.float16)
    grads = style.conv_backward(dout, cache)
    _, cache64 = pooling_lab.naive.conv_forward(x.astype(np.float64), w.astype(np.float64),
                                                stride=2, padding=1)
    truths = pooling_lab.naive.conv_backward(dout.astype(np.float64), cache64)
    for label, grad, truth in zip(["dx", "dw", "db"], grads, truths):
        assert grad.dtype == np.float16, label
        assert ulps_from(grad, truth).max() <= 0.6, label


# --------------------------------------------------------------------------------------------
# Empty batches, caches, inputs untouched, outputs not sharing memory
# --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("name,style", STYLES)
def test_empty_batch_gives_empty_results_of_the_right_shapes(name, style):
    x = np.zeros((0, 6, 5, 2))
    out, cache = style.max_pool_forward(x, 2)
    assert out.shape == (0, 3, 2, 2) and style.max_pool_backward(out, cache).shape == x.shape
    out, cache = style.avg_pool_forward(x, 3, stride=1, padding="same")
    assert out.shape == (0, 6, 5, 2) and style.avg_pool_backward(out, cache).shape == x.shape
    out, cache = style.conv_forward(x, np.zeros((3, 3, 2, 4)), padding=1)
    assert out.shape == (0, 6, 5, 4)
    dx, dw, db = style.conv_backward(out, cache)
    assert dx.shape == x.shape and dw.shape == (3, 3, 2, 4) and db.shape == (4,)
    assert not dw.any() and not db.any()


# --------------------------------------------------------------------------------------------
# 3. Zero channels
# --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("name,style", STYLES)
def test_pooling_with_zero_channels(name, style):
    x = np.zeros((2, 5, 5, 0))
    for forward, backward in (pooling_lab.op_functions(style, "max"),
                              pooling_lab.op_functions(style, "avg")):
        out, cache = forward(x, 2, stride=1, padding=1)
        assert out.shape == (2, 6, 6, 0)
        assert backward(out, cache).shape == x.shape


@pytest.mark.parametrize("name,style", STYLES)
def test_convolution_with_zero_input_channels(name, style):
    x, w, b = np.zeros((1, 5, 5, 0)), np.zeros((3, 3, 0, 2)), np.array([1.5, -2.0])
    out, cache = style.conv_forward(x, w, b)
    np.testing.assert_array_equal(out, np.broadcast_to(b, (1, 3, 3, 2)))   # only the bias
    dout = np.arange(18.0).reshape(1, 3, 3, 2)
    dx, dw, db = style.conv_backward(dout, cache)
    assert dx.shape == (1, 5, 5, 0) and dw.shape == (3, 3, 0, 2)
    np.testing.assert_array_equal(db, dout.sum(axis=(0, 1, 2)))


@pytest.mark.parametrize("name,style", STYLES)
def test_convolution_with_zero_output_channels(name, style):
    x, w = np.ones((1, 5, 5, 2)), np.zeros((3, 3, 2, 0))
    out, cache = style.conv_forward(x, w, np.zeros(0), padding="same")
    assert out.shape == (1, 5, 5, 0)
    dx, dw, db = style.conv_backward(out, cache)
    assert dw.shape == (3, 3, 2, 0) and db.shape == (0,)
    np.testing.assert_array_equal(dx, np.zeros(x.shape))


# --------------------------------------------------------------------------------------------
# 4. Caches cannot go stale
# --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("name,style", STYLES)
@pytest.mark.parametrize("x_dtype,w_dtype", [(np.float64, np.float64), (np.float32, np.float64),
                                             (np.float32, np.float32)], ids=str)
def test_changing_x_and_w_in_place_after_forward_leaves_the_gradients_exact(
        name, style, x_dtype, w_dtype):
    rng = np.random.default_rng(4)
    x, w = rng.standard_normal((2, 6, 7, 3)).astype(x_dtype), rng.standard_normal((3, 3, 3, 4))
    w = w.astype(w_dtype)
    expected_out, fresh_cache = style.conv_forward(x.copy(), w.copy(), stride=2, padding=1)
    dout = rng.standard_normal(expected_out.shape)
    expected = style.conv_backward(dout, fresh_cache)
    out, cache = style.conv_forward(x, w, stride=2, padding=1)
    x[...] = 7.0                                       # the caller reuses its arrays,
    w *= -3.0                                          # as an optimiser step does
    for grad, want in zip(style.conv_backward(dout, cache), expected):
        np.testing.assert_array_equal(grad, want)
    assert not np.shares_memory(cache.x, x) and not np.shares_memory(cache.w, w)


def test_the_convolution_copies_only_arrays_shared_with_the_caller():
    x, w = np.ones((1, 4, 4, 2)), np.ones((2, 2, 2, 1), np.float32)
    promoted_w = w.astype(np.float64)                  # a new array: nothing to copy
    assert owned(promoted_w, w) is promoted_w
    assert not np.shares_memory(owned(x, x), x)
    _, cache = pooling_lab.strided.conv_forward(x, w)
    assert not np.shares_memory(cache.x, x) and not np.shares_memory(cache.w, w)


@pytest.mark.parametrize("name,style", STYLES)
def test_caches_are_documented_dataclasses(name, style):
    x = np.zeros((1, 4, 4, 1))
    for cache in (style.max_pool_forward(x, 2)[1], style.avg_pool_forward(x, 2)[1],
                  style.conv_forward(x, np.zeros((2, 2, 1, 1)))[1]):
        assert dataclasses.is_dataclass(cache) and type(cache).__doc__
        assert cache.geometry.x_shape == (1, 4, 4, 1)


CONFIGS = random_configs(count_per_op=8, seed=7)


@pytest.mark.parametrize("name,style", STYLES)
def test_inputs_are_unchanged_and_outputs_are_new_arrays(name, style):
    for config in CONFIGS:
        inputs = [config[key] for key in ("x", "w", "b", "dout") if config.get(key) is not None]
        before = [array.copy() for array in inputs]
        for array in inputs:
            array.flags.writeable = False    # any write into an input raises here
        try:
            results = run(style, config)
        finally:
            for array in inputs:
                array.flags.writeable = True
        for array, kept in zip(inputs, before):
            np.testing.assert_array_equal(array, kept)
        for result in results:
            assert result.flags.writeable
            assert not any(np.shares_memory(result, array) for array in inputs)


@pytest.mark.parametrize("name,style", STYLES)
def test_outputs_do_not_share_memory_with_inputs_in_trivial_cases(name, style):
    # size 1, stride 1, valid: an implementation could be tempted to return x itself.
    x = np.random.default_rng(8).standard_normal((2, 3, 3, 2))
    for forward in (style.max_pool_forward, style.avg_pool_forward):
        out, cache = forward(x, 1, stride=1)
        np.testing.assert_array_equal(out, x)
        assert not np.shares_memory(out, x)
    dout = x.copy()
    out, cache = style.max_pool_forward(x, 1, stride=1)
    assert not np.shares_memory(style.max_pool_backward(dout, cache), dout)


@pytest.mark.parametrize("channels", [3, 16], ids=["few channels", "many channels"])
@pytest.mark.parametrize("name,style", STYLES)
def test_max_pool_results_are_c_contiguous(name, style, channels):
    # fast takes its stride-phase path for few channels and a column stride above 1; it works
    # channels-first there, and must still hand back ordinary channels-last arrays
    x = np.random.default_rng(9).standard_normal((2, 9, 11, channels))
    out, cache = style.max_pool_forward(x, 3, stride=2)
    assert out.flags.c_contiguous and cache.winner.flags.c_contiguous
    assert style.max_pool_backward(out, cache).flags.c_contiguous


def test_the_strided_convolution_holds_no_window_array():
    # one kernel offset at a time: a 7x7 kernel must not cost 49 copies of the input (was 52x)
    x = np.random.default_rng(0).standard_normal((1, 128, 128, 16)).astype(np.float32)
    w = np.random.default_rng(1).standard_normal((7, 7, 16, 16)).astype(np.float32)

    def forward_and_backward():
        out, cache = pooling_lab.strided.conv_forward(x, w, padding="same")
        return pooling_lab.strided.conv_backward(out, cache)
    assert peak_bytes(forward_and_backward) <= 8 * x.nbytes


def test_the_stacked_style_refuses_a_window_array_over_budget(monkeypatch):
    x = np.zeros((2, 10, 10, 3))                      # 2*8*8*3*3*3 float64 windows = 27,648 bytes
    monkeypatch.setattr(pooling_lab.stacked, "WINDOW_BUDGET_BYTES", 27_647)
    with pytest.raises(MemoryError, match=r"27,648.*WINDOW_BUDGET_BYTES = 27,647.*strided"):
        pooling_lab.stacked.max_pool_forward(x, 3, stride=1)
    with pytest.raises(MemoryError, match="27,648"):
        pooling_lab.stacked.conv_forward(x, np.zeros((3, 3, 3, 1)))
    # the budget bounds the whole peak: the windows and the arrays around them
    monkeypatch.setattr(pooling_lab.stacked, "WINDOW_BUDGET_BYTES", 2**22)
    assert pooling_lab.stacked.max_pool_forward(x, 3, stride=1)[0].shape == (2, 8, 8, 3)


def test_the_default_budget_is_one_gibibyte():
    assert pooling_lab.stacked.WINDOW_BUDGET_BYTES == 2**30
    x = np.lib.stride_tricks.as_strided(np.zeros(1), (64, 256, 256, 16), (0, 0, 0, 0))
    with pytest.raises(MemoryError, match="bytes"):               # 64*254*254*9*16*8 > 1 GiB
        pooling_lab.stacked.avg_pool_forward(x, 3, stride=1)


BUDGET = 2**20           # 1 MiB: small enough to sweep, large against NumPy's 8192-item buffers


def _nan_image(height, dtype):
    x = np.random.default_rng(height).standard_normal((2, height, height + 3, 3))
    x[:, ::4, ::5, 1] = np.nan                          # NaN windows take the slower path
    return x.astype(dtype)


def _backward(op, forward_kwargs, x_dtype, dout_dtype):
    """A function of the image height: forward (default budget), then the backward to measure."""
    def prepare(height):
        forward, backward = pooling_lab.op_functions(stacked, op)
        args = (np.ones((3, 3, 3, 4), x_dtype),) if op == "conv" else ()
        out, cache = forward(_nan_image(height, x_dtype), *args, **forward_kwargs)
        dout = np.ones(out.shape, dout_dtype)
        return lambda: backward(dout, cache)
    return prepare


# Each entry maps an image height to the call to measure; a default argument builds the input
# when the entry is prepared, so that only the call itself is measured.
CALLS = {
    "max forward, padded, float64": lambda h: (
        lambda x=_nan_image(h, np.float64): stacked.max_pool_forward(x, 3, 1, padding=1)),
    "max forward, float16": lambda h: (
        lambda x=_nan_image(h, np.float16): stacked.max_pool_forward(x, 2, 1)),
    "avg forward, int input": lambda h: (
        lambda x=(_nan_image(h, np.float64) > 0).astype(np.int32): stacked.avg_pool_forward(
            x, 3, 1, padding=1)),
    "conv forward, float16": lambda h: (
        lambda x=_nan_image(h, np.float16): stacked.conv_forward(
            x, np.ones((3, 3, 3, 4), np.float16), padding=1)),
    "max backward, float32 forward, float64 dout": _backward("max", dict(size=3, stride=1),
                                                            np.float32, np.float64),
    "avg backward, float16 forward and dout": _backward("avg", dict(size=3, stride=1,
                                                                    padding=1),
                                                        np.float16, np.float16),
    "conv backward, float32 forward, float64 dout": _backward("conv", dict(padding=1),
                                                             np.float32, np.float64),
    "conv backward, float64 forward, int dout": _backward("conv", dict(stride=1),
                                                         np.float64, np.int64),
}


@pytest.mark.parametrize("prepare", CALLS.values(), ids=CALLS.keys())
def test_stacked_calls_under_the_budget_stay_under_it_and_larger_ones_are_refused(
        monkeypatch, prepare):
    accepted, refused = [], []
    for height in range(6, 200, 4):
        call = prepare(height)                    # inputs (and any forward) before the budget
        with monkeypatch.context() as patch:
            patch.setattr(stacked, "WINDOW_BUDGET_BYTES", BUDGET)
            try:
                peak = peak_bytes(call)
            except MemoryError as error:
                assert re.search(r"would hold [\d,]+ bytes at once in \w+ \(.+\), more than "
                                 r"WINDOW_BUDGET_BYTES = 1,048,576; use the strided style",
                                 str(error)), str(error)
                refused.append(height)
                continue
        assert peak <= BUDGET, f"height {height}: peak {peak:,} bytes over the budget"
        accepted.append((height, peak))
    assert accepted and refused and max(h for h, _ in accepted) < min(refused)
    # and the guard is not far too cautious: the largest call it accepts uses a good part
    assert max(peak for _, peak in accepted) > BUDGET / 3


def test_styles_are_listed_in_teaching_order():
    assert list(pooling_lab.STYLES) == ["naive", "stacked", "strided", "fast"]
    for style in pooling_lab.STYLES.values():
        assert all(callable(getattr(style, name)) for name in pooling_lab.FUNCTIONS)
