"""Regression tests for issue 10 ("hardening"), in every style of ``pooling_lab.STYLES``.

Each test failed on the code before the fix: NaN gradients routed as PyTorch routes them,
float16 summed in float32, zero channels, caches that cannot go stale, clear errors for a wrong
cache or a huge stride, one rule for array-like arguments, a stacked budget that bounds the
real peak of memory, and signed zeros that agree bit for bit.
"""

import re

import numpy as np
import pytest

import pooling_lab
from pooling_lab import bench, common, stacked

STYLES = list(pooling_lab.STYLES.items())
nan = np.nan


def row(values):
    """A (1, 1, W, 1) image from one row of numbers."""
    return np.array(values, dtype=np.float64).reshape(1, 1, -1, 1)


# --------------------------------------------------------------------------------------------
# 1. NaN: the last NaN of a window takes the gradient (PyTorch 2.13, CPU)
# --------------------------------------------------------------------------------------------
# PyTorch replaces a window's running maximum where a tap is larger or NaN, so the *last* NaN
# in row-major window order wins; without NaN, the first maximum. The expected numbers below
# were worked out by hand and agree with torch.nn.functional.max_pool2d(return_indices=True).

@pytest.mark.parametrize("name,style", STYLES)
@pytest.mark.parametrize("values,winner", [([1, nan, 2, nan], 3), ([nan, nan], 1),
                                           ([nan, 9, 2], 0), ([3, 9, 9, 1], 1)],
                         ids=["1-nan-2-nan", "nan-nan", "one-nan", "tie-no-nan"])
def test_one_window_sends_its_gradient_to_the_last_nan(name, style, values, winner):
    x = row(values)
    out, cache = style.max_pool_forward(x, (1, len(values)))
    assert np.isnan(out).all() == any(np.isnan(values))
    dx = style.max_pool_backward(np.full(out.shape, 5.0), cache)
    expected = np.zeros(len(values))
    expected[winner] = 5.0
    np.testing.assert_array_equal(dx.ravel(), expected)


@pytest.mark.parametrize("name,style", STYLES)
def test_overlapping_windows_with_several_nans_along_a_row(name, style):
    # Windows of 3, stride 1: [nan 1 nan] [1 nan 5] [nan 5 nan] [5 nan 2]: last NaNs at 2, 2, 4, 4
    x = row([nan, 1, nan, 5, nan, 2])
    out, cache = style.max_pool_forward(x, (1, 3), stride=1)
    assert np.isnan(out).all()
    dx = style.max_pool_backward(row([1, 10, 100, 1000]), cache)
    np.testing.assert_array_equal(dx.ravel(), [0, 0, 11, 0, 1100, 0])


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
# 2. float16: summed in float32, rounded once, and the styles agree
# --------------------------------------------------------------------------------------------

def ulps_from(result16, truth):
    """|result - truth| in units of float16 spacing at the truth (at least 2**-6, so that
    results near zero are not measured against subnormal spacings)."""
    scale = np.maximum(np.abs(truth), 2.0**-6).astype(np.float16)
    return np.abs(result16.astype(np.float64) - truth) / np.spacing(scale).astype(np.float64)


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
    expected = (cache.geometry.coverage_counts() / 9).astype(np.float16)
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


def float16_conv_case(seed, dyadic):
    """x, w, b in float16 in [-4, 4]; ``dyadic`` keeps them multiples of 1/16, so that every
    product and every sum is exact in float32 (any summing order gives the same float32),
    though not in float16."""
    rng = np.random.default_rng(seed)
    arrays = [rng.uniform(-4, 4, shape) for shape in [(2, 9, 10, 8), (3, 3, 8, 5), (5,)]]
    if dyadic:
        arrays = [np.round(array * 16) / 16 for array in arrays]
    return [array.astype(np.float16) for array in arrays]


@pytest.mark.parametrize("dyadic", [True, False], ids=["exact-in-float32", "random"])
def test_float16_convolution_agrees_across_styles_and_with_float32_rounded_once(dyadic):
    x, w, b = float16_conv_case(1, dyadic)
    truth = pooling_lab.naive.conv_forward(*(a.astype(np.float64) for a in (x, w, b)),
                                           padding=1)[0]
    results = {}
    for name, style in STYLES:
        out, _ = style.conv_forward(x, w, b, padding=1)
        in_float32, _ = style.conv_forward(*(a.astype(np.float32) for a in (x, w, b)),
                                           padding=1)
        assert out.dtype == np.float16, name
        np.testing.assert_array_equal(out, in_float32.astype(np.float16), err_msg=name)
        assert ulps_from(out, truth).max() <= 0.6, name      # was about 30 ulps
        results[name] = out
    for name, out in results.items():
        if dyadic:          # exact sums: every style must give the very same float16
            np.testing.assert_array_equal(out, truth.astype(np.float16), err_msg=name)
        else:
            assert ulps_from(out, results["naive"].astype(np.float64)).max() <= 1, name


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


def test_conv_cache_copies_only_arrays_shared_with_the_caller():
    x, w = np.ones((1, 4, 4, 2)), np.ones((2, 2, 2, 1), np.float32)
    promoted_w = w.astype(np.float64)                  # a new array: nothing to copy
    cache = common.conv_cache(common.conv_geometry(x.shape, w.shape, 1, 0, 1),
                              x, promoted_w, x, w)
    assert cache.w is promoted_w and cache.x is not x and not np.shares_memory(cache.x, x)


# --------------------------------------------------------------------------------------------
# 8. Clear errors: a wrong cache, a huge stride; one rule for array-likes
# --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("name,style", STYLES)
def test_backward_given_the_wrong_cache_raises_a_type_error_naming_cache(name, style):
    x = np.zeros((1, 4, 4, 1))
    max_out, max_cache = style.max_pool_forward(x, 2)
    with pytest.raises(TypeError, match=r"cache must be the AvgPoolCache that avg_pool_forward "
                                        r"returns; got a MaxPoolCache, which max_pool_forward"):
        style.avg_pool_backward(max_out, max_cache)
    with pytest.raises(TypeError, match=r"cache must be the MaxPoolCache .*got a tuple of 2 "
                                        r"items: pass the cache alone"):
        style.max_pool_backward(max_out, (max_out, max_cache))
    with pytest.raises(TypeError, match=r"cache must be the ConvCache that conv_forward "
                                        r"returns; got a value of type NoneType"):
        style.conv_backward(np.zeros((1, 3, 3, 1)), None)
    with pytest.raises(TypeError, match=r"cache must be the MaxPoolCache .*ConvCache"):
        style.max_pool_backward(max_out, style.conv_forward(x, np.zeros((2, 2, 1, 1)))[1])


@pytest.mark.parametrize("name,style", STYLES)
@pytest.mark.parametrize("stride", [2**31, 2**62, 2**64, np.int64(2**62)], ids=repr)
def test_a_huge_stride_is_a_value_error_not_an_overflow(name, style, stride):
    x = np.zeros((1, 4, 4, 1))
    for forward in (style.max_pool_forward, style.avg_pool_forward):
        with pytest.raises(ValueError, match=r"stride must be .*2,147,483,647.*got"):
            forward(x, 2, stride=stride)
    with pytest.raises(ValueError, match=r"stride must be .*2,147,483,647.*got"):
        style.conv_forward(x, np.zeros((2, 2, 1, 1)), stride=(1, stride))


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


def test_errors_are_value_errors_or_type_errors_never_both():
    assert not hasattr(common, "ArgumentError")
    for bad, kind in [(0, ValueError), ((2, 2, 2), ValueError), (2.5, TypeError),
                      ("2", TypeError)]:
        with pytest.raises(kind) as error:
            common.as_pair(bad, "stride")
        other = TypeError if kind is ValueError else ValueError
        assert not isinstance(error.value, other)


# --------------------------------------------------------------------------------------------
# 9. The stacked style's budget bounds the real peak of every call
# --------------------------------------------------------------------------------------------

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
                peak = bench.peak_bytes(call)
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
