"""Memory, strides and speed in ``pooling_lab.viz``: bytes, taps and timings per style."""

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.patches import Rectangle

import pooling_lab
from pooling_lab import viz
from pooling_lab.viz import geometry as viz_geometry

pytestmark = pytest.mark.usefixtures("close_figures")         # tests/conftest.py


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


def tap_cells(ax, color):
    """(row, col) of the cells filled in ``color`` (at the taps' transparency)."""
    return sorted((int(patch.get_y()), int(patch.get_x())) for patch in ax.patches
                  if isinstance(patch, Rectangle) and patch.get_alpha() == 0.55
                  and matplotlib.colors.to_hex(patch.get_facecolor()) == color)


def test_show_taps_fills_the_geometry_s_tap_positions():
    geometry = pooling_lab.geometry.conv_geometry((1, 7, 7, 1), (3, 3, 1, 1), 2, 1, 2)
    ax = viz.show_taps((7, 7), 3, stride=2, padding=1, dilation=2, outputs=[(0, 0), (1, 2)])
    for number, (i, j) in enumerate([(0, 0), (1, 2)]):
        color = matplotlib.colors.to_hex(viz.WINDOW_COLORS[number])
        taps = viz_geometry.tap_positions(geometry, i, j).reshape(-1, 2)     # -> (KH*KW, 2)
        expected = sorted(map(tuple, taps.tolist()))
        assert tap_cells(ax, color) == expected
    assert tap_cells(ax, matplotlib.colors.to_hex(viz.WINDOW_COLORS[0]))[0] == (-1, -1)
    with pytest.raises(ValueError, match=r"outputs must lie inside .* \(3, 3\); got \(3, 0\)"):
        viz.show_taps((7, 7), 3, stride=2, padding=1, dilation=2, outputs=[(3, 0)])


def test_show_taps_draws_grid_taps_legend_and_title():
    ax = viz.show_taps((5, 5), 3, stride=2, padding=1, outputs=[(0, 0), (1, 1)])
    # 7x7 padded grid + 9 taps and one outline per window.
    assert len(ax.patches) == 49 + 2 * (9 + 1)
    padding_cells = [patch for patch in ax.patches if patch.get_hatch()]
    assert len(padding_cells) == 49 - 25
    assert [text.get_text() for text in ax.texts] == ["0"] * 24     # the zeros padding holds
    legend = [text.get_text() for text in ax.get_legend().get_texts()]
    assert legend == ["output (0, 0)", "output (1, 1)", "padding (0)", "window span"]
    assert ax.get_title() == "stride 2 · padding 1 · dilation 1\n3x3 kernel: 5x5 -> 3x3"
    # The legend under a panel without padding still names it, for the panels beside it
    # (05 c23 drew its only legend under the first panel, which has none).
    unpadded = viz.show_taps((5, 5), 3)
    assert [t.get_text() for t in unpadded.get_legend().get_texts()] == [
        "output (0, 0)", "output (0, 1)", "padding (0)", "window span"]
    assert min(text.get_fontsize() for text in unpadded.get_legend().get_texts()) >= 10


def test_plot_by_style_draws_each_style_in_its_colour_with_ticks_at_the_points():
    fig, ax = plt.subplots()
    pixels = np.array([256, 1024, 4096])
    times = {name: pixels * k for k, name in enumerate(pooling_lab.STYLES, start=1)}
    viz.plot_by_style(ax, pixels, times, xlabels=["16²", "32²", "64²"])
    assert [line.get_color() for line in ax.lines] == list(viz.STYLE_COLORS.values())
    assert [line.get_marker() for line in ax.lines] == list(viz.STYLE_MARKERS.values())
    np.testing.assert_array_equal(ax.lines[2].get_ydata(), pixels * 3)
    np.testing.assert_array_equal(ax.get_xticks(), pixels)
    assert [label.get_text() for label in ax.get_xticklabels()] == ["16²", "32²", "64²"]
    assert ax.get_xscale() == ax.get_yscale() == "log"
    with pytest.raises(ValueError, match=r"values\['naive'\] must have one value per point"):
        viz.plot_by_style(ax, pixels, {"naive": [1, 2]})


def test_dot_plot_draws_one_dot_per_value_with_the_value_printed():
    ax = viz.dot_plot({"loop": 30.0, "add.at": 4.0, "offsets": 0.35}, xlabel="CPU time (ms)")
    dots = [line.get_xydata().tolist() for line in ax.lines]
    assert dots == [[[30.0, 0.0]], [[4.0, 1.0]], [[0.35, 2.0]]]     # first row on top
    assert [t.get_text() for t in ax.texts] == ["30 ms", "4 ms", "0.35 ms"]
    assert ax.get_xscale() == "log" and ax.get_ylim() == (2.5, -0.5)
    assert [label.get_text() for label in ax.get_yticklabels()] == ["loop", "add.at", "offsets"]
    assert not any(isinstance(patch, Rectangle) for patch in ax.patches)     # no bars


def test_dot_plot_groups_series_per_row_in_their_colours():
    timings = {"size 2": {"naive": 149.0, "stacked": 3.9},
               "size 3": {"naive": 95.8, "stacked": 8.8}}
    ax = viz.dot_plot(timings, unit="ms")
    naive, stacked = ax.lines
    assert naive.get_color() == viz.STYLE_COLORS["naive"]
    assert stacked.get_color() == viz.STYLE_COLORS["stacked"]
    np.testing.assert_allclose(naive.get_xydata(), [[149.0, -0.3], [95.8, 0.7]])
    np.testing.assert_allclose(stacked.get_xydata(), [[3.9, 0.3], [8.8, 1.3]])
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["naive", "stacked"]
    own = viz.dot_plot(timings, colors={"naive": "#000000"})
    assert own.lines[0].get_color() == "#000000"


def test_show_memory_labels_are_black_9_to_10_pt_with_a_margin_and_off_the_arrows():
    grid = np.arange(12.0).reshape(3, 4)
    fig, (grid_ax, memory_ax) = viz.show_memory(grid, highlight=[(1, 1), (1, 2), (2, 1)])
    for ax in (grid_ax, memory_ax):
        for text in ax.texts:
            assert text.get_fontsize() >= 9 and text.get_color() == "black", text.get_text()
    assert grid_ax.get_xlim()[0] < 0 and grid_ax.get_ylim()[1] < 0   # a margin round the grid
    # The +24 B jump, from element 6 to element 9: its arc peaks 0.225 * 3 above y = 1.05.
    label, = [text for text in memory_ax.texts if text.get_text() == "+24 B"]
    assert label.get_position()[1] > 1.05 + 0.225 * 3
    assert memory_ax.get_ylim()[1] > label.get_position()[1] + 0.3     # and inside the axes


def test_dot_plot_marks_each_style_with_its_marker_and_labels_of_10_pt():
    ax = viz.dot_plot({"size 2": {"naive": 149.0, "stacked": 3.9, "fast": 1.0}})
    assert [line.get_marker() for line in ax.lines] == [viz.STYLE_MARKERS[name] for name
                                                        in ("naive", "stacked", "fast")]
    assert min(text.get_fontsize() for text in ax.texts) >= 10
    assert min(text.get_fontsize() for text in ax.get_legend().get_texts()) >= 10


def test_show_confusion_gives_the_mistakes_their_own_scale():
    counts = np.array([[50, 0, 1], [0, 47, 0], [2, 0, 44]])
    ax = viz.show_confusion(counts)
    mistakes = ax.get_images()[-1]
    assert mistakes.get_clim() == (0, 2)                # the largest mistake, not the 50
    assert np.ma.getmaskarray(mistakes.get_array()).diagonal().all()
    assert mistakes.cmap(mistakes.norm(1))[:3] != mistakes.cmap(mistakes.norm(0))[:3]


def test_draw_windows_hatches_padding_only_where_there_is_padding():
    for padding, hatched in (("same", 1), ("valid", 0)):
        ax = viz.show_image(np.ones((9, 9)))
        viz.draw_windows(ax, (9, 9), 3, 1, padding=padding, windows=((0, 0),))
        assert sum(bool(patch.get_hatch()) for patch in ax.patches) == hatched
