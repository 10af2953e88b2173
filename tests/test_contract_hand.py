"""Small cases worked out by hand, written out in full: every style must reproduce them."""

import doctest

import numpy as np
import pytest

import pooling_lab
from pooling_lab import contract, fast, naive, rules, stacked, strided
from pooling_lab.geometry import pool_geometry

STYLES = list(pooling_lab.STYLES.items())
ONE_TO_NINE = np.arange(1.0, 10.0).reshape(1, 3, 3, 1)
DOUT_2x2 = np.array([[1.0, 2.0], [3.0, 4.0]]).reshape(1, 2, 2, 1)


def grid(rows):
    """A (1, H, W, 1) array from a list of rows."""
    return np.array(rows, dtype=float)[None, :, :, None]


@pytest.mark.parametrize("name,style", STYLES)
def test_max_pool_2x2_stride_2(name, style):
    x = grid([[1, 3, 2, 0],
              [4, 2, 1, 5],
              [0, 1, 3, 2],
              [2, 6, 1, 1]])
    out, cache = style.max_pool_forward(x, 2)
    np.testing.assert_array_equal(out, grid([[4, 5], [6, 3]]))
    dx = style.max_pool_backward(DOUT_2x2, cache)
    np.testing.assert_array_equal(dx, grid([[0, 0, 0, 0],
                                            [1, 0, 0, 2],
                                            [0, 0, 4, 0],
                                            [0, 3, 0, 0]]))


@pytest.mark.parametrize("name,style", STYLES)
def test_max_pool_overlapping_windows_add_up(name, style):
    # The 9 in the middle wins all four overlapping 2x2 windows: it collects 1+2+3+4.
    x = grid([[1, 2, 3],
              [4, 9, 5],
              [6, 7, 8]])
    out, cache = style.max_pool_forward(x, 2, stride=1)
    np.testing.assert_array_equal(out, grid([[9, 9], [9, 9]]))
    dx = style.max_pool_backward(DOUT_2x2, cache)
    np.testing.assert_array_equal(dx, grid([[0, 0, 0], [0, 10, 0], [0, 0, 0]]))


@pytest.mark.parametrize("name,style", STYLES)
def test_avg_pool_overlapping_windows_add_up(name, style):
    out, cache = style.avg_pool_forward(ONE_TO_NINE, 2, stride=1)
    np.testing.assert_allclose(out, grid([[3, 4], [6, 7]]))
    dx = style.avg_pool_backward(DOUT_2x2, cache)
    # Each pixel: the sum of dout over the windows covering it, divided by 4.
    np.testing.assert_allclose(dx, grid([[0.25, 0.75, 0.50],
                                         [1.00, 2.50, 1.50],
                                         [0.75, 1.75, 1.00]]))


@pytest.mark.parametrize("name,style", STYLES)
def test_avg_pool_same_padding_count_include_pad_both_ways(name, style):
    # "same", size 2, stride 2 on 3x3: OH = ceil(3/2) = 2, P = 2 + 2 - 3 = 1 -> (top 0, bottom 1)
    # Window sums: [[1+2+4+5, 3+6], [7+8, 9]] = [[12, 9], [15, 9]]
    out, cache = style.avg_pool_forward(ONE_TO_NINE, 2, padding="same", count_include_pad=True)
    np.testing.assert_allclose(out, grid([[3, 2.25], [3.75, 2.25]]))           # all / 4
    np.testing.assert_allclose(style.avg_pool_backward(DOUT_2x2, cache),
                               grid([[0.25, 0.25, 0.5],
                                     [0.25, 0.25, 0.5],
                                     [0.75, 0.75, 1.0]]))
    out, cache = style.avg_pool_forward(ONE_TO_NINE, 2, padding="same", count_include_pad=False)
    np.testing.assert_allclose(out, grid([[3, 4.5], [7.5, 9]]))                # / [[4, 2], [2, 1]]
    np.testing.assert_allclose(style.avg_pool_backward(DOUT_2x2, cache),
                               grid([[0.25, 0.25, 1.0],
                                     [0.25, 0.25, 1.0],
                                     [1.50, 1.50, 4.0]]))


@pytest.mark.parametrize("name,style", STYLES)
def test_max_pool_same_padding_never_wins_over_negative_values(name, style):
    # Zero padding (the Q&A's choice) would answer 0 in three of these windows.
    out, cache = style.max_pool_forward(-ONE_TO_NINE, 2, padding="same")
    np.testing.assert_array_equal(out, grid([[-1, -3], [-7, -9]]))
    dx = style.max_pool_backward(DOUT_2x2, cache)
    np.testing.assert_array_equal(dx, grid([[1, 0, 2], [0, 0, 0], [3, 0, 4]]))


@pytest.mark.parametrize("name,style", STYLES)
def test_max_pool_dilation(name, style):
    # size 2, dilation 2: taps (0, 0), (0, 2), (2, 0), (2, 2); on 0..15 the last tap wins.
    x = np.arange(16.0).reshape(1, 4, 4, 1)
    out, cache = style.max_pool_forward(x, 2, stride=1, dilation=2)
    np.testing.assert_array_equal(out, grid([[10, 11], [14, 15]]))
    dx = style.max_pool_backward(DOUT_2x2, cache)
    expected = np.zeros((4, 4))
    expected[2:, 2:] = [[1, 2], [3, 4]]
    np.testing.assert_array_equal(dx, expected[None, :, :, None])


@pytest.mark.parametrize("name,style", STYLES)
def test_conv_2x2_forward_and_backward(name, style):
    w = np.array([[1.0, 2.0], [3.0, 4.0]]).reshape(2, 2, 1, 1)
    out, cache = style.conv_forward(ONE_TO_NINE, w, np.array([1.0]))
    # out[0, 0] = 1*1 + 2*2 + 4*3 + 5*4 + 1 = 38, and so on
    np.testing.assert_allclose(out, grid([[38, 48], [68, 78]]))
    dx, dw, db = style.conv_backward(DOUT_2x2, cache)
    # dx spreads each dout through w: dx[1, 1] = 1*4 + 2*3 + 3*2 + 4*1 = 20
    np.testing.assert_allclose(dx, grid([[1, 4, 4], [6, 20, 16], [9, 24, 16]]))
    # dw[a, b] = sum_ij dout[i, j] * x[i + a, j + b]: dw[0, 0] = 1*1 + 2*2 + 3*4 + 4*5 = 37
    np.testing.assert_allclose(dw, np.array([[37, 47], [67, 77]], float).reshape(2, 2, 1, 1))
    np.testing.assert_allclose(db, [10.0])


@pytest.mark.parametrize("name,style", STYLES)
def test_conv_same_padding_box_filter(name, style):
    # A 3x3 box of ones with "same" padding sums each pixel's zero-padded neighbourhood.
    out, cache = style.conv_forward(ONE_TO_NINE, np.ones((3, 3, 1, 1)), padding="same")
    np.testing.assert_allclose(out, grid([[12, 21, 16], [27, 45, 33], [24, 39, 28]]))
    dx, _, db = style.conv_backward(np.ones_like(out), cache)
    # Each pixel is seen by as many windows as it has neighbours (itself included).
    np.testing.assert_allclose(dx, grid([[4, 6, 4], [6, 9, 6], [4, 6, 4]]))
    np.testing.assert_allclose(db, [9.0])


@pytest.mark.parametrize("name,style", STYLES)
def test_conv_two_channels_stride_2(name, style):
    # Channel 0 is 1..9, channel 1 is 10 * (1..9); w picks channel 0 minus channel 1 / 10.
    x = np.concatenate([ONE_TO_NINE, 10 * ONE_TO_NINE], axis=3)
    w = np.zeros((1, 1, 2, 2))
    w[0, 0, :, 0] = [1.0, 0.0]        # output 0 copies channel 0
    w[0, 0, :, 1] = [1.0, -0.1]       # output 1 is 0 everywhere
    out, _ = style.conv_forward(x, w, stride=2)
    np.testing.assert_allclose(out[..., 0], [[[1, 3], [7, 9]]])
    np.testing.assert_allclose(out[..., 1], np.zeros((1, 2, 2)), atol=1e-12)


# --------------------------------------------------------------------------------------------
# The max-pool rules every style shares, tested directly (pooling_lab.contract)
# --------------------------------------------------------------------------------------------

NAN, INF = np.nan, np.inf


@pytest.mark.parametrize("taps,value,winner", [
    ([1.0, 3.0, 3.0, 2.0], 3.0, 1),            # a tie keeps the first maximum
    ([2.0, 2.0, 2.0, 2.0], 2.0, 0),            # all equal: tap 0
    ([1.0, NAN, 2.0, NAN], NAN, 3),            # NaN wins, and the last NaN
    ([NAN, 5.0, 1.0, 0.0], NAN, 0),            # a NaN is never replaced by a number
    ([-INF, -INF, -INF, -INF], -INF, 0),       # -inf ties like any other value
    ([-1.0, INF, INF, 7.0], INF, 1),
])
def test_window_max_takes_the_first_maximum_or_the_last_nan(taps, value, winner):
    # four taps of one window, each a (1,) array: taps[k] is tap k of every window
    out, won = contract.window_max([np.array([tap]) for tap in taps])
    np.testing.assert_array_equal(out, [value])
    assert won.tolist() == [winner] and won.dtype == np.uint8


def test_window_max_settles_signed_zeros_by_the_winner_s_own_value():
    # two windows side by side: [0.0, -0.0] and [-0.0, 0.0]; 0.0 > -0.0 is False, so tap 0 wins
    out, won = contract.window_max([np.array([0.0, -0.0]), np.array([-0.0, 0.0])])
    assert won.tolist() == [0, 0]
    assert np.signbit(out).tolist() == [False, True]


def test_winner_dtype_is_the_smallest_that_numbers_every_tap():
    dtype = contract.winner_dtype
    assert dtype(pool_geometry((1, 16, 16, 1), 16, 1, "valid", 1)) == np.uint8     # taps 0..255
    assert dtype(pool_geometry((1, 17, 17, 1), 17, 1, "valid", 1)) == np.uint16    # 0..288


def test_padding_never_wins_a_window_of_minus_infinity():
    # x (1, 1, 3, 1), all -inf; windows of 1x2 with one column of padding on each side:
    # [pad, x0], [x0, x1], [x1, x2], [x2, pad]. window_max gives tap 0 everywhere; the first
    # window's tap 0 is padding, so its winner becomes tap 1, its first tap inside the image.
    geometry = pool_geometry((1, 1, 3, 1), (1, 2), 1, ((0, 0), (1, 1)), 1)
    out = np.full((1, 1, 4, 1), -INF)
    winner = np.zeros((1, 1, 4, 1), dtype=np.uint8)
    contract.keep_padding_from_winning(out, winner, geometry)
    assert winner[0, 0, :, 0].tolist() == [1, 0, 0, 0]


def test_padding_rule_finds_the_first_inside_tap_in_row_major_order():
    # 2x2 windows, padding 1 on every side of a 2x2 -inf image, stride 2: four windows, each
    # with one real pixel; its tap number a*KW + b is 3, 2, 1, 0 going round the corners.
    geometry = pool_geometry((2, 2, 2, 1), 2, 2, 1, 1)
    out = np.full((2, 2, 2, 1), -INF)
    out[1, 0, 0, 0] = 5.0                       # a real maximum in image 1 is left alone
    winner = np.zeros((2, 2, 2, 1), dtype=np.uint8)
    contract.keep_padding_from_winning(out, winner, geometry)
    np.testing.assert_array_equal(winner[0, :, :, 0], [[3, 2], [1, 0]])
    np.testing.assert_array_equal(winner[1, :, :, 0], [[0, 2], [1, 0]])


def test_padding_rule_leaves_a_call_without_padding_alone():
    out = np.array([-INF, 1.0, -INF]).reshape(1, 1, 3, 1)
    winner = np.zeros((1, 1, 3, 1), dtype=np.uint8)
    unpadded = pool_geometry((1, 1, 4, 1), (1, 2), 1, "valid", 1)   # nothing to keep out
    contract.keep_padding_from_winning(out, winner, unpadded)
    assert winner.ravel().tolist() == [0, 0, 0]


@pytest.mark.parametrize("module", [naive, stacked, strided, fast, rules], ids=lambda m: m.__name__)
def test_the_examples_in_the_docstrings_run(module):
    failed, attempted = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert attempted >= 3 and failed == 0
