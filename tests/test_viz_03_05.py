"""Tests for the figures of notebooks 03-05 in ``pooling_lab.viz``."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from pooling_lab import viz  # noqa: E402


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def test_byte_offsets_follow_the_strides():
    grid = np.arange(12.0).reshape(3, 4)                  # float64: strides (32, 8)
    expected = np.array([[0, 8, 16, 24], [32, 40, 48, 56], [64, 72, 80, 88]])
    np.testing.assert_array_equal(viz.byte_offsets(grid), expected)
    # A transposed view reads the same bytes with swapped strides.
    np.testing.assert_array_equal(viz.byte_offsets(grid.T), expected.T)
    # A strided slice: every second column of int16 values.
    np.testing.assert_array_equal(viz.byte_offsets(np.zeros((2, 6), np.int16)[:, ::2]),
                                  [[0, 4, 8], [12, 16, 20]])


def test_byte_offsets_refuses_other_ranks():
    with pytest.raises(ValueError, match="2-D"):
        viz.byte_offsets(np.zeros((2, 2, 2)))


def test_show_memory_labels_offsets_and_jumps():
    grid = np.arange(12.0).reshape(3, 4)
    window = [(1, 1), (1, 2), (2, 1), (2, 2)]
    fig, (grid_ax, memory_ax) = viz.show_memory(grid, highlight=window)
    grid_texts = [text.get_text() for text in grid_ax.texts]
    memory_texts = [text.get_text() for text in memory_ax.texts]
    assert "byte 88" in grid_texts and "byte 40" in grid_texts
    assert [text for text in memory_texts if text.endswith(" B")] == ["+8 B", "+24 B", "+8 B"]
    # 12 cells in each drawing, 4 of them coloured.
    assert len(grid_ax.patches) == 12 and len(memory_ax.patches) == 12
    gray = matplotlib.colors.to_rgba("#eeeeee")
    coloured = [patch for patch in memory_ax.patches if patch.get_facecolor() != gray]
    assert [int(patch.get_x()) for patch in coloured] == [5, 6, 9, 10]
    assert grid_ax.get_title() == "array · shape (3, 4) · strides (32, 8) bytes"
    assert len(fig.axes) == 2


def test_show_memory_refuses_views():
    with pytest.raises(ValueError, match="C-contiguous"):
        viz.show_memory(np.arange(12.0).reshape(3, 4).T)


def test_tap_positions():
    assert viz.tap_positions((5, 5), 2, stride=2, output=(1, 0)) == [(2, 0), (2, 1), (3, 0),
                                                                      (3, 1)]
    # Padding 1: the first window starts one pixel above and left of the image.
    assert viz.tap_positions((5, 5), 3, padding=1)[:3] == [(-1, -1), (-1, 0), (-1, 1)]
    # Dilation 2 spreads the taps of a 2x2 kernel two pixels apart.
    assert viz.tap_positions((7, 7), 2, dilation=2, output=(0, 1)) == [(0, 1), (0, 3), (2, 1),
                                                                        (2, 3)]
    with pytest.raises(ValueError, match=r"output must lie inside .* \(3, 3\)"):
        viz.tap_positions((5, 5), 3, output=(3, 0))


def test_show_taps_draws_grid_taps_and_title():
    ax = viz.show_taps((5, 5), 3, stride=2, padding=1, outputs=[(0, 0), (1, 1)])
    # 7x7 padded grid + 9 taps and one outline per window.
    assert len(ax.patches) == 49 + 2 * (9 + 1)
    padding_cells = [patch for patch in ax.patches
                     if patch.get_facecolor() == matplotlib.colors.to_rgba("#bbbbbb")]
    assert len(padding_cells) == 49 - 25
    assert ax.get_title() == "stride 2 · padding 1 · dilation 1\n3x3 kernel: 5x5 -> 3x3"
