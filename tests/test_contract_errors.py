"""Bad input fails loudly, with a message naming the argument, the value and what is allowed."""

import tracemalloc

import numpy as np
import pytest

import pooling_lab
from pooling_lab import rules
from pooling_lab.geometry import conv_geometry, pool_geometry

STYLES = list(pooling_lab.STYLES.items())
X = np.zeros((2, 6, 6, 3))
W = np.zeros((3, 3, 3, 4))


def pools(style):
    return [style.max_pool_forward, style.avg_pool_forward]


# --------------------------------------------------------------------------------------------
# Arrays
# --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("name,style", STYLES)
@pytest.mark.parametrize("bad", [np.zeros((6, 6, 3)), np.zeros((1, 2, 6, 6, 3))], ids=["3d", "5d"])
def test_x_with_the_wrong_number_of_axes(name, style, bad):
    for forward in pools(style):
        with pytest.raises(ValueError, match=r"x must have 4 axes \(N, H, W, C\); got shape"):
            forward(bad, 2)
    with pytest.raises(ValueError, match="x must have 4 axes"):
        style.conv_forward(bad, W)


@pytest.mark.parametrize("name,style", STYLES)
@pytest.mark.parametrize("bad", [np.full((1, 4, 4, 1), "a"), np.zeros((1, 4, 4, 1), complex),
                                 np.zeros((1, 4, 4, 1), object)], ids=["str", "complex", "object"])
def test_non_numeric_dtypes_raise_type_error(name, style, bad):
    for forward in pools(style):
        with pytest.raises(TypeError, match=r"x must hold real numbers.*got dtype"):
            forward(bad, 2)
    with pytest.raises(TypeError, match="x must hold real numbers"):
        style.conv_forward(bad, np.zeros((2, 2, 1, 1)))
    with pytest.raises(TypeError, match="w must hold real numbers"):
        style.conv_forward(np.zeros((1, 4, 4, 1)), bad)


@pytest.mark.parametrize("name,style", STYLES)
def test_masked_arrays_are_refused_naming_the_argument(name, style):
    # the mask was dropped silently: max pool returned the masked values
    masked = np.ma.masked_greater(np.arange(16.0).reshape(1, 4, 4, 1), 10)
    for forward in pools(style):
        with pytest.raises(TypeError, match=r"x must be a plain array; got a numpy masked array"):
            forward(masked, 2)
    with pytest.raises(TypeError, match=r"w must be a plain array; got a numpy masked array"):
        style.conv_forward(np.zeros((1, 4, 4, 1)), np.ma.masked_equal(np.zeros((2, 2, 1, 1)), 0))
    out, cache = style.max_pool_forward(np.zeros((1, 4, 4, 1)), 2)
    with pytest.raises(TypeError, match=r"dout must be a plain array; got a numpy masked array"):
        style.max_pool_backward(np.ma.masked_equal(np.zeros(out.shape), 0), cache)


@pytest.mark.parametrize("name,style", STYLES)
def test_ragged_nested_lists_are_a_type_error_naming_the_argument(name, style):
    # was NumPy's "inhomogeneous shape" ValueError, naming no argument
    ragged = [[[[1.0], [2.0]], [[3.0]]]]
    with pytest.raises(TypeError, match=r"x must be an array of real numbers; got a ragged"):
        style.max_pool_forward(ragged, 1)
    with pytest.raises(TypeError, match=r"w must be an array of real numbers; got a ragged"):
        style.conv_forward(np.zeros((1, 2, 2, 1)), ragged)


@pytest.mark.parametrize("name,style", STYLES)
def test_w_with_the_wrong_number_of_axes_or_channels(name, style):
    with pytest.raises(ValueError, match=r"w must have 4 axes \(KH, KW, C_in, C_out\)"):
        style.conv_forward(X, np.zeros((3, 3, 3)))
    with pytest.raises(ValueError, match=r"w's C_in.*C = 3.*got C_in = 2"):
        style.conv_forward(X, np.zeros((3, 3, 2, 4)))


@pytest.mark.parametrize("name,style", STYLES)
@pytest.mark.parametrize("bad_b", [np.zeros(3), np.zeros((4, 1)), np.zeros(())], ids=str)
def test_b_of_the_wrong_shape(name, style, bad_b):
    with pytest.raises(ValueError, match=r"b must have shape \(C_out,\) = \(4,\).*got"):
        style.conv_forward(X, W, bad_b)


@pytest.mark.parametrize("name,style", STYLES)
def test_b_of_a_non_numeric_dtype(name, style):
    with pytest.raises(TypeError, match="b must hold real numbers"):
        style.conv_forward(X, W, np.array(["a"] * 4))


# --------------------------------------------------------------------------------------------
# size, stride, dilation
# --------------------------------------------------------------------------------------------

# ValueError for a bad value, TypeError for a bad type: never both.
BAD_NUMBER_VALUES = [0, -1, (2,), (2, 2, 2), (2, 0), np.array([2, 2, 2]), 2**31, 2**62, 2**64,
                     np.int64(2**62)]
BAD_NUMBER_TYPES = [2.5, True, "2", (1.5, 2), [2, False], np.array(2.5), {2: 2}]   # None: below


def _kinds_of(error_info):
    return {kind.__name__ for kind in (TypeError, ValueError)
            if isinstance(error_info.value, kind)}


#: Every bad number with the error it must raise.
BAD_NUMBERS = ([(bad, ValueError) for bad in BAD_NUMBER_VALUES]
               + [(bad, TypeError) for bad in BAD_NUMBER_TYPES])


@pytest.mark.parametrize("name,style", STYLES)
@pytest.mark.parametrize("bad,kind", BAD_NUMBERS,
                         ids=[f"{kind.__name__}-{bad!r}" for bad, kind in BAD_NUMBERS])
@pytest.mark.parametrize("argument", ["size", "stride", "dilation"])
def test_size_stride_dilation_bad_values_and_types(name, style, argument, bad, kind):
    kwargs = {"size": 2, argument: bad}
    for forward in pools(style):
        with pytest.raises(kind, match=rf"{argument} must be a positive integer") as error:
            forward(X, **kwargs)
        assert _kinds_of(error) == {kind.__name__}
    if argument != "size":
        with pytest.raises(kind, match=rf"{argument} must be a positive integer.*got"):
            style.conv_forward(X, W, **{argument: bad})


@pytest.mark.parametrize("name,style", STYLES)
def test_none_is_only_a_stride_for_pooling(name, style):
    with pytest.raises(TypeError, match="size must be a positive integer.*got None"):
        style.max_pool_forward(X, None)
    with pytest.raises(TypeError, match="dilation must be a positive integer.*got None"):
        style.avg_pool_forward(X, 2, dilation=None)
    with pytest.raises(TypeError, match="stride must be a positive integer.*got None"):
        style.conv_forward(X, W, stride=None)


def test_the_message_shows_the_value_received():
    with pytest.raises(ValueError, match=r"stride must be .*; got -3"):
        pooling_lab.naive.max_pool_forward(X, 2, stride=-3)
    with pytest.raises(TypeError, match=r"size must be .*; got True \(True is of type bool\)"):
        pooling_lab.naive.max_pool_forward(X, True)
    with pytest.raises(ValueError, match=r"stride must be .*\(1 to 2,147,483,647\); got \(2, 0\)"):
        pooling_lab.naive.max_pool_forward(X, 2, stride=(2, 0))
    with pytest.raises(TypeError, match=r"dilation must be .*; got \(1.5, 2\) \(1.5 is of type"):
        pooling_lab.naive.max_pool_forward(X, 2, dilation=(1.5, 2))


@pytest.mark.parametrize("name,style", STYLES)
def test_count_include_pad_must_be_a_bool(name, style):
    with pytest.raises(TypeError, match="count_include_pad must be True or False; got 'no'"):
        style.avg_pool_forward(X, 2, count_include_pad="no")


# --------------------------------------------------------------------------------------------
# padding
# --------------------------------------------------------------------------------------------

BAD_PADDING_VALUES = ["full", "SAME", -1, (1,), (1, 2, 3), (1, -1), ((1, 1), (1,)),
                      ((1, 1), (1, -2)), ((1, 1), 1), np.array([1, 1, 1]), 2**62]
BAD_PADDING_TYPES = [1.5, True, None, (1, "1"), ((1, 1), (1, 0.5)), np.array(1.5)]


@pytest.mark.parametrize("name,style", STYLES)
@pytest.mark.parametrize("bad", BAD_PADDING_VALUES, ids=repr)
def test_padding_bad_values_are_value_errors(name, style, bad):
    for forward in pools(style):
        with pytest.raises(ValueError, match="padding") as error:
            forward(X, 3, padding=bad)
        assert _kinds_of(error) == {"ValueError"}
    with pytest.raises(ValueError, match=r"padding .*got"):
        style.conv_forward(X, W, padding=bad)


@pytest.mark.parametrize("name,style", STYLES)
@pytest.mark.parametrize("bad", BAD_PADDING_TYPES, ids=repr)
def test_padding_bad_types_are_type_errors(name, style, bad):
    for forward in pools(style):
        with pytest.raises(TypeError, match=r"padding must be .*got") as error:
            forward(X, 3, padding=bad)
        assert _kinds_of(error) == {"TypeError"}
    with pytest.raises(TypeError, match=r"padding must be .*got"):
        style.conv_forward(X, W, padding=bad)


def test_padding_messages_name_what_is_allowed():
    with pytest.raises(ValueError, match=r"unknown string 'full'"):
        pooling_lab.naive.conv_forward(X, W, padding="full")
    with pytest.raises(ValueError, match=r"\(0 to 2,147,483,647\); got -1"):
        pooling_lab.naive.conv_forward(X, W, padding=-1)


@pytest.mark.parametrize("name,style", STYLES)
def test_pooling_padding_larger_than_half_the_window(name, style):
    for forward in pools(style):
        with pytest.raises(ValueError, match=r"padding .* too large for pooling.*at most \(1, 1\)"):
            forward(X, 3, padding=2)
        with pytest.raises(ValueError, match="too large for pooling"):
            forward(X, 2, padding=((0, 0), (0, 2)))
        forward(X, 3, padding=1)                                 # exactly half is fine
    style.conv_forward(X, W, padding=2)                           # conv has no such rule


@pytest.mark.parametrize("name,style", STYLES)
def test_pooling_windows_of_padding_only(name, style):
    # H = 1, size 2, dilation 3: span 4, padding 2 -> taps at rows -2 and +1, both padding.
    x = np.zeros((1, 1, 5, 1))
    with pytest.raises(ValueError, match="padding only"):
        style.max_pool_forward(x, 2, stride=1, padding=((2, 1), (0, 0)), dilation=3)


@pytest.mark.parametrize("name,style", STYLES)
def test_same_padding_made_too_large_by_dilation_says_so(name, style):
    # was "padding ((4, 4), (4, 4)) with dilation (8, 8) ...": numbers the user never typed
    with pytest.raises(ValueError, match=r'padding "same" \(here \(\(4, 4\), \(4, 4\)\)\) with '
                                         r"dilation \(8, 8\) .*holds? padding only"):
        style.max_pool_forward(np.zeros((1, 4, 4, 1)), 2, stride=1, padding="same", dilation=8)


@pytest.mark.parametrize("name,style", STYLES)
def test_window_larger_than_the_padded_input(name, style):
    for forward in pools(style):
        with pytest.raises(ValueError, match=r"size \(7, 7\).*spans \(7, 7\).*padded input \(6, 6\)"):
            forward(X, 7)
        with pytest.raises(ValueError, match=r"spans \(5, 5\)"):
            forward(np.zeros((1, 4, 4, 1)), 3, dilation=2)
    with pytest.raises(ValueError, match=r"w's kernel \(3, 3\).*larger than the padded input"):
        style.conv_forward(np.zeros((1, 2, 2, 3)), W)


# --------------------------------------------------------------------------------------------
# dout
# --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("name,style", STYLES)
def test_dout_must_match_the_forward_output(name, style):
    out, cache = style.max_pool_forward(X, 2)
    with pytest.raises(ValueError, match=r"dout must have the forward output's shape \(2, 3, 3, 3\); got \(2, 3, 3, 2\)"):
        style.max_pool_backward(np.zeros((2, 3, 3, 2)), cache)
    out, cache = style.avg_pool_forward(X, 2)
    with pytest.raises(ValueError, match="dout must have 4 axes"):
        style.avg_pool_backward(np.zeros((3, 3, 3)), cache)
    with pytest.raises(TypeError, match="dout must hold real numbers"):
        style.avg_pool_backward(np.full(out.shape, "a"), cache)
    out, cache = style.conv_forward(X, W)
    with pytest.raises(ValueError, match=r"dout must have the forward output's shape \(2, 4, 4, 4\)"):
        style.conv_backward(np.zeros((2, 4, 4, 3)), cache)


# --------------------------------------------------------------------------------------------
# Sizes: one bound, rules.LARGEST_ARRAY, checked before anything is allocated
# --------------------------------------------------------------------------------------------
# Each case made NumPy raise "array is too big" or a MemoryError ("Unable to allocate 53.7
# GiB"), or tried a 48 GiB allocation inside the geometry, before the bound existed.

def _peak_bytes(call):
    """Run ``call``, which must raise ValueError; return (its message, the peak of memory)."""
    tracemalloc.start()
    try:
        with pytest.raises(ValueError) as error:
            call()
        return str(error.value), tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


HUGE_CASES = {
    "conv-padding-2**31-1": (lambda style: style.conv_forward(
        np.random.rand(1, 5, 5, 2), np.random.rand(2, 2, 2, 3), None, 1, 2**31 - 1),
        "padding ((2147483647, 2147483647), (2147483647, 2147483647))",
        "(1, 4294967299, 4294967299, 2)"),
    "conv-padding-30000": (lambda style: style.conv_forward(
        np.random.rand(1, 5, 5, 2), np.random.rand(2, 2, 2, 3), None, 1, 30000),
        "padding ((30000, 30000), (30000, 30000))", "(1, 60005, 60005, 2)"),
    "max-pool-size-2**31-1": (lambda style: style.max_pool_forward(
        np.random.rand(1, 3, 3, 1), (2**31 - 1, 1), 1, ((2**30 - 1,) * 2, (0, 0))),
        "padding ((1073741823, 1073741823), (0, 0))", "(1, 2147483649, 3, 1)"),
}


@pytest.mark.parametrize("name,style", STYLES)
@pytest.mark.parametrize("case", list(HUGE_CASES))
def test_a_huge_padded_input_is_refused_before_any_allocation(name, style, case):
    call, arguments, shape = HUGE_CASES[case]
    message, peak = _peak_bytes(lambda: call(style))
    assert arguments in message and shape in message and "padded input" in message
    assert f"LARGEST_ARRAY = {rules.LARGEST_ARRAY:,}" in message
    assert peak < 10 * 2**20                   # nothing near the array's size was allocated


@pytest.mark.parametrize("name,style", STYLES)
def test_a_huge_output_is_refused_naming_the_arguments(name, style):
    # a 1x1 kernel with 2**11 output channels on a 2**10 x 2**10 image: 2**31 output numbers,
    # while x and w are small
    x, w = np.zeros((1, 2**10, 2**10, 1), np.float32), np.zeros((1, 1, 1, 2**11), np.float32)
    message, peak = _peak_bytes(lambda: style.conv_forward(x, w, None, 1, 0, 1))
    assert "output (N, OH, OW, C_out) of shape (1, 1024, 1024, 2048)" in message
    assert "w's kernel (1, 1), stride (1, 1), padding ((0, 0), (0, 0)) and dilation (1, 1)" \
        in message
    assert peak < 10 * 2**20


def test_the_bound_itself_is_allowed():
    # exactly LARGEST_ARRAY numbers in the padded input passes; one row more does not
    rows = rules.LARGEST_ARRAY // 2**15
    assert conv_geometry((1, rows - 2, 2**15, 1), (1, 1, 1, 1), 1, ((1, 1), (0, 0)),
                         1).padded_shape == (1, rows, 2**15, 1)
    with pytest.raises(ValueError, match="padded input"):
        conv_geometry((1, rows - 2, 2**15, 1), (1, 1, 1, 1), 1, ((1, 2), (0, 0)), 1)


def test_pool_geometry_makes_no_windows_by_taps_array():
    # 2**19 + 1 windows of 2**19 taps on one axis: a (OH, KH) array would be 2**38 booleans;
    # the counts of inside taps and the first inside tap come from each window's start
    geometry, peak = None, 0
    tracemalloc.start()
    try:
        geometry = pool_geometry((1, 2**20, 1, 1), (2**19, 1), 1, 0, 1)
        counts, first = geometry.inside_counts(), geometry.first_inside_tap()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 64 * 2**20
    assert counts.shape == first.shape == (2**19 + 1, 1)
    assert (counts == 2**19).all() and (first == 0).all()


@pytest.mark.parametrize("padding,dilation,counts,first", [
    # H = 3, kernel 3, stride 1: window starts -1, 0, 1 with padding 1
    (1, 1, [2, 3, 2], [1, 0, 0]),
    # dilation 2, padding 2 (H = 3): starts -2, -1, 0, taps at start + 0, 2, 4:
    # (-2, 0, 2), (-1, 1, 3), (0, 2, 4), of which rows 0..2 are inside
    (2, 2, [2, 1, 2], [1, 1, 0]),
])
def test_inside_counts_and_first_inside_tap_by_hand(padding, dilation, counts, first):
    geometry = conv_geometry((1, 3, 1, 1), (3, 1, 1, 1), 1, ((padding,) * 2, (0, 0)),
                             (dilation, 1))
    assert geometry.inside_counts()[:, 0].tolist() == counts
    assert geometry.first_inside_tap()[:, 0].tolist() == first


# --------------------------------------------------------------------------------------------
# Caches
# --------------------------------------------------------------------------------------------

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
