"""The figures draw what they say: rectangles, colour limits, numbers, counts."""

import re

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.patches import Rectangle

import pooling_lab
from pooling_lab import viz
from pooling_lab.viz import geometry as viz_geometry

pytestmark = pytest.mark.usefixtures("close_figures")         # tests/conftest.py


def rectangles(ax):
    return [patch for patch in ax.patches if isinstance(patch, Rectangle)]


def test_show_image_draws_gray_for_one_channel_and_hides_ticks():
    image = np.linspace(0, 1, 12).reshape(1, 3, 4, 1)
    ax = viz.show_image(image, title="ramp")
    shown = ax.get_images()[0]
    assert shown.get_array().shape == (3, 4)
    assert shown.get_cmap().name == "gray" and shown.get_clim() == (0, 1)
    assert ax.get_title() == "ramp" and list(ax.get_xticks()) == [] and list(ax.get_yticks()) == []


def test_show_image_refuses_a_batch_of_two():
    with pytest.raises(ValueError, match="single image"):
        viz.show_image(np.zeros((2, 4, 4, 3)))


def test_image_grid_titles_every_panel_and_hides_spare_ones():
    pictures = [np.zeros((4, 4, 3)), np.ones((2, 2, 1)), np.zeros((5, 3))]
    fig, axes = viz.image_grid(pictures, titles=["a", "b", "c"], ncols=2)
    assert len(axes) == 4
    assert [ax.get_title() for ax in axes[:3]] == ["a", "b", "c"]
    assert [ax.get_visible() for ax in axes] == [True, True, True, False]
    with pytest.raises(ValueError, match="one entry per image"):
        viz.image_grid(pictures, titles=["a"])


def test_window_boxes_follow_size_stride_and_padding():
    boxes = viz.window_boxes((10, 10), 3, 2, windows=((0, 0), (0, 1), (1, 0), (9, 9)))
    assert boxes == [(0, 0, 0, 0, 3, 3), (0, 1, 0, 2, 3, 3), (1, 0, 2, 0, 3, 3)]
    # "same" with size 3 stride 1 pads one pixel on each side: the first window starts at -1.
    assert viz.window_boxes((10, 10), 3, 1, "same", windows=((0, 0),)) == [(0, 0, -1, -1, 3, 3)]
    every = viz.window_boxes((10, 10), 3, 2, windows="all")
    assert len(every) == 4 * 4


def test_draw_windows_adds_one_rectangle_per_window_at_pixel_edges():
    fig, ax = plt.subplots()
    ax.imshow(np.zeros((8, 8)))
    viz.draw_windows(ax, (8, 8), 3, 2, windows=((0, 0), (0, 1), (1, 1)))
    drawn = rectangles(ax)
    assert len(drawn) == 3
    assert [(r.get_x(), r.get_y(), r.get_width(), r.get_height()) for r in drawn] == [
        (-0.5, -0.5, 3, 3), (1.5, -0.5, 3, 3), (1.5, 1.5, 3, 3)]
    assert len({r.get_edgecolor() for r in drawn}) == 3          # one colour per window
    viz.draw_windows(ax, (8, 8), 2, 2, windows="all")
    assert len(rectangles(ax)) == 3 + 16


def test_draw_windows_widens_the_axes_for_padding():
    fig, ax = plt.subplots()
    ax.imshow(np.zeros((5, 5)))
    viz.draw_windows(ax, (5, 5), 3, 2, padding="same", windows=((0, 0), (2, 2)))
    # "same" on 5 pixels with size 3 stride 2: one pixel of padding on each side.
    assert ax.get_xlim() == (-1.5, 5.5) and ax.get_ylim() == (5.5, -1.5)


def test_gradient_limits_are_symmetric_and_the_map_diverges():
    gradient = np.array([[0.0, 2.0], [-0.5, 1.0]])
    ax = viz.show_gradient(gradient, title="dx")
    shown = ax.get_images()[0]
    assert shown.get_clim() == (-2.0, 2.0)
    assert shown.get_cmap().name == "RdBu_r"
    assert len(ax.figure.axes) == 2                                 # the image and its colourbar


def test_gradient_sums_channels_and_picks_a_sequential_map_for_one_sign():
    gradient = np.zeros((1, 3, 3, 3))
    gradient[0, 1, 1] = [1.0, -3.0, 0.5]                            # sums to -1.5: never positive
    ax = viz.show_gradient(gradient, colorbar=False)
    shown = ax.get_images()[0]
    assert shown.get_array()[1, 1] == pytest.approx(-1.5)
    assert shown.get_cmap().name == "Blues_r" and shown.get_clim() == (-1.5, 0.0)
    # Never negative (a max pool's dx for dout of ones): Reds from 0 (white) to the largest.
    counts = np.array([[0.0, 1.0], [4.0, 2.0]])
    shown = viz.show_gradient(counts).get_images()[0]
    assert shown.get_cmap().name == "Reds" and shown.get_clim() == (0.0, 4.0)
    np.testing.assert_array_equal(shown.get_array(), counts)
    assert viz.show_gradient(np.zeros((2, 2))).get_images()[0].get_clim() == (0.0, 1.0)


def test_gradient_colors_follow_the_signs_or_the_explicit_choice():
    assert viz.gradient_colors([[-1.0, 3.0]]) == ("RdBu_r", (-3.0, 3.0))
    assert viz.gradient_colors([[0.0, 3.0]]) == ("Reds", (0.0, 3.0))
    assert viz.gradient_colors([[0.0, -2.0]]) == ("Blues_r", (-2.0, 0.0))
    assert viz.gradient_colors([[0.0, 3.0]], diverging=True) == ("RdBu_r", (-3.0, 3.0))
    assert viz.gradient_colors([[0.0, 3.0]], limit=6.0) == ("Reds", (0.0, 6.0))
    with pytest.raises(ValueError, match="diverging=False needs values of one sign"):
        viz.gradient_colors([[-1.0, 3.0]], diverging=False)
    with pytest.raises(ValueError, match="diverging must be None, True or False; got 'yes'"):
        viz.gradient_colors([[1.0]], diverging="yes")


def test_a_percentile_limit_marks_the_clipped_values_on_the_colourbar():
    values = np.concatenate([np.linspace(-0.5, 1, 99), [50.0]]).reshape(10, 10)
    limit = viz.symmetric_limit(values, percentile=90)
    assert limit == pytest.approx(np.percentile(np.abs(values), 90))
    ax = viz.show_gradient(values, limit=limit)
    assert ax.get_images()[0].colorbar.extend == "max"              # 50 is beyond +limit only
    assert viz.show_gradient(values).get_images()[0].colorbar.extend == "neither"
    with pytest.raises(ValueError, match=r"percentile must be a number in \(0, 100\]; got 0"):
        viz.symmetric_limit(values, percentile=0)


def test_show_difference_crops_to_the_common_part_and_draws_after_minus_before():
    before = np.zeros((1, 3, 4, 3))
    after = np.ones((1, 2, 5, 3))
    shown = viz.show_difference(after, before).get_images()[0]
    np.testing.assert_array_equal(shown.get_array(), np.full((2, 4), 3.0))   # RGB summed
    assert shown.get_cmap().name == "Reds"                          # only grows: sequential


def test_coverage_counts_overlaps_gaps_and_padding():
    np.testing.assert_array_equal(viz.coverage_counts((4, 4), 2, 2), np.ones((4, 4)))
    one_axis = viz.coverage_counts((1, 7), (1, 3), (1, 2))[0]
    np.testing.assert_array_equal(one_axis, [1, 1, 2, 1, 2, 1, 1])
    np.testing.assert_array_equal(viz.coverage_counts((1, 5), (1, 2), (1, 3))[0], [1, 1, 0, 1, 1])
    counts = viz.coverage_counts((9, 9), 3, 2)
    assert counts.max() == 4 and counts[2, 2] == 4 and counts[0, 0] == 1
    # "same" padding, size 3 stride 1: the corner pixel is in 4 windows, the centre in 9.
    same = viz.coverage_counts((6, 6), 3, 1, "same")
    assert same.shape == (6, 6) and same[0, 0] == 4 and same[3, 3] == 9


def test_coverage_counts_agree_with_an_avg_pool_backward():
    # Backward of a mean spreads dout / 9 on each tap: with dout = 9 each pixel gets its count.
    x = np.zeros((1, 11, 9, 1))
    out, cache = pooling_lab.naive.avg_pool_forward(x, 3, 2)
    dx = pooling_lab.naive.avg_pool_backward(np.full(out.shape, 9.0), cache)
    np.testing.assert_allclose(viz.coverage_counts((11, 9), 3, 2), dx[0, :, :, 0])


def test_coverage_counts_count_every_tap_even_with_padding_and_dilation():
    geometry = pooling_lab.geometry.pool_geometry((1, 9, 8, 1), 3, 2, 1, 2)
    expected = np.zeros((9, 8), dtype=int)              # counted tap by tap, window by window
    for i in range(geometry.out_hw[0]):
        for j in range(geometry.out_hw[1]):
            for row, col in viz_geometry.tap_positions(geometry, i, j).reshape(-1, 2):
                if 0 <= row < 9 and 0 <= col < 8:
                    expected[row, col] += 1
    np.testing.assert_array_equal(viz.coverage_counts((9, 8), 3, 2, 1, 2), expected)
    # Dilation 2: a 2x2 kernel, stride 4, reads every other pixel: counts 1 and 0 alternate.
    np.testing.assert_array_equal(viz.coverage_counts((1, 8), (1, 2), (1, 4), dilation=2)[0],
                                  [1, 0, 1, 0, 1, 0, 1, 0])


def test_show_coverage_gives_each_count_present_its_own_colour_and_tick():
    counts = viz.coverage_counts((9, 10), 3, 2)                     # {0, 1, 2, 4}: column 9 unread
    assert set(np.unique(counts)) == {0, 1, 2, 4}
    ax = viz.show_coverage(counts, title="coverage")
    shown = ax.get_images()[0]
    np.testing.assert_array_equal(shown.get_array(), counts)        # the counts themselves
    assert shown.get_cmap().N == 4                                  # four colours, not a ramp
    viridis = matplotlib.colormaps["viridis"]
    np.testing.assert_allclose(shown.to_rgba(np.array([0]))[0], (1, 1, 1, 1))   # no window
    for count in (1, 2, 4):                                 # viridis at log(count) / log(16)
        np.testing.assert_allclose(shown.to_rgba(np.array([count]))[0],
                                   viridis(np.log(count) / np.log(16)))
    bar = shown.colorbar
    assert [label.get_text() for label in bar.ax.get_yticklabels()] == ["0", "1", "2", "4"]
    assert bar.spacing == "uniform" and len(ax.figure.axes) == 2
    with pytest.raises(ValueError, match="non-negative integers"):
        viz.show_coverage(np.array([[0.5, 1.0]]))


def test_a_count_has_one_colour_in_every_figure():
    # 4 windows was light green, teal or yellow depending on the largest count beside it.
    colours = []
    for counts in (np.array([[0, 1], [2, 4]]), np.array([[1, 4], [9, 4]])):
        for ax in (viz.show_coverage(counts), viz.show_numbers(counts, cmap="counts")):
            shown = ax.get_images()[0]
            colours.append(shown.cmap(shown.norm(4)))
    np.testing.assert_allclose(colours, [colours[0]] * 4)
    ax = viz.show_numbers(np.array([[0, 1]]), cmap="counts")
    zero, one = (ax.get_images()[0].cmap(ax.get_images()[0].norm(n)) for n in (0, 1))
    assert zero == (1.0, 1.0, 1.0, 1.0) and one != zero                 # 0 white, apart from 1


def test_outlines_are_drawn_above_the_cell_separators():
    ax = viz.show_numbers(np.arange(9.0).reshape(3, 3), highlight=[(0, 0)])
    viz.draw_windows(ax, (3, 3), 2, 1, windows=((0, 0),))
    viz.outline_cells(ax, [(1, 1)])
    separators = max(line.get_zorder() for line in ax.collections)
    assert [patch.get_zorder() > separators for patch in rectangles(ax)] == [True] * 3
    tie = np.array(matplotlib.colors.to_rgb(viz.TIE_COLOR))
    for other in (viz.WINDOW_COLORS[0], viz.WINNER_COLOR):          # far apart in RGB
        assert np.linalg.norm(tie - matplotlib.colors.to_rgb(other)) > 0.8


def test_show_numbers_prints_every_value_and_outlines_highlights():
    values = np.arange(16).reshape(4, 4) / 2
    ax = viz.show_numbers(values, fmt="{:.1f}", highlight=[(1, 2)])
    texts = [text.get_text() for text in ax.texts]
    assert len(texts) == 16 and texts[0] == "0.0" and texts[-1] == "7.5"
    assert len(rectangles(ax)) == 1 and rectangles(ax)[0].get_xy() == (1.5, 0.5)


def test_show_numbers_centres_a_gradient_and_skips_nan():
    values = np.array([[1.0, np.nan], [-4.0, 2.0]])
    ax = viz.show_numbers(values, cmap="RdBu_r")
    assert [text.get_text() for text in ax.texts] == ["1", "-4", "2"]
    low, high = ax.get_images()[0].get_clim()
    assert low == pytest.approx(-high)


def test_sliding_window_frames_add_up_to_the_backward_pass():
    grid = np.arange(49.0).reshape(7, 7) % 5
    out, dout, steps = viz.sliding_window_frames(grid, 3, 2, kind="max")
    assert out.shape == (3, 3) and len(steps) == 9
    assert [step[:2] for step in steps[:3]] == [(0, 0), (0, 1), (0, 2)]
    _, cache = pooling_lab.naive.max_pool_forward(grid[None, :, :, None], 3, 2)
    full = pooling_lab.naive.max_pool_backward(dout[None, :, :, None], cache)[0, :, :, 0]
    np.testing.assert_allclose(steps[-1][2], full)
    assert steps[-1][2].sum() == pytest.approx(dout.sum())          # max pool keeps the mass


def test_sliding_window_frames_refuse_an_unknown_kind():
    with pytest.raises(ValueError, match='kind must be "max" or "avg"'):
        viz.sliding_window_frames(np.zeros((4, 4)), 2, 2, kind="min")


def test_the_animation_is_a_small_gif_that_pauses_on_its_last_frame(tmp_path):
    from PIL import Image

    grid = np.arange(12.0).reshape(3, 4)                            # two windows, overlapping
    path = viz.animate_sliding_window(grid, 3, 1, tmp_path / "slide.gif", dpi=40, fps=2,
                                      pause=2.5)
    with Image.open(path) as gif:
        assert gif.format == "GIF" and gif.n_frames == 2 * 2
        durations = []
        for frame in range(gif.n_frames):
            gif.seek(frame)
            durations.append(gif.info["duration"])
    # 500 ms per step; the complete output (frame 2) and the complete gradient (last) held.
    assert durations == [500, 2500, 500, 2500]
    assert viz.frame_durations(3, fps=1.5, pause=3) == [667, 667, 3000, 667, 667, 3000]
    assert path.stat().st_size < 1_000_000
    again = viz.animate_sliding_window(grid, 3, 1, tmp_path / "again.gif", dpi=40, fps=2,
                                       pause=2.5)
    assert again.read_bytes() == path.read_bytes()                  # deterministic
    assert plt.get_fignums() == []                                  # its figure is closed


def test_gradient_panels_can_share_one_limit():
    ax = viz.show_gradient(np.full((2, 2), 0.25), colorbar=False, limit=1.0)
    assert ax.get_images()[0].get_clim() == (0.0, 1.0)              # not its own 0.25
    ax = viz.show_gradient(np.array([[0.25, -0.5]]), colorbar=False, limit=1.0)
    assert ax.get_images()[0].get_clim() == (-1.0, 1.0)
    for bad in (0, -1.0, float("nan"), float("inf"), True, "1"):
        message = rf"limit must be a positive finite number; got {re.escape(repr(bad))}$"
        with pytest.raises(ValueError, match=message):
            viz.show_gradient(np.ones((2, 2)), limit=bad)


# --------------------------------------------------------------------------------------------
# Course conventions: shades, style colours, padding drawn as what it holds
# --------------------------------------------------------------------------------------------

def cell_colour(ax, value):
    """The colour the first image of ``ax`` gives ``value``."""
    return ax.get_images()[0].to_rgba(np.array([value]))[0]


def luminance(rgba):
    return 0.299 * rgba[0] + 0.587 * rgba[1] + 0.114 * rgba[2]


def test_numbers_on_grids_are_darker_when_larger():
    ax = viz.show_numbers(np.array([[0.0, 5.0], [9.0, 2.0]]))
    shades = [luminance(cell_colour(ax, value)) for value in (0, 2, 5, 9)]
    assert shades == sorted(shades, reverse=True) and shades[0] > 0.95      # 0 white
    texts = {text.get_text(): text.get_color() for text in ax.texts}
    assert texts["0"] == "black" and texts["9"] == "white"                  # readable on dark


def test_uint8_levels_are_drawn_on_their_true_scale():
    levels = np.array([[252, 255], [254, 253]], dtype=np.uint8)
    ax = viz.show_numbers(levels)
    low, high = ax.get_images()[0].get_clim()
    assert low == 0 and high >= 255                                 # 0..255, not 252..255
    # 252 and 255 differ by at most a few per cent of a shade, as on the photo.
    assert abs(luminance(cell_colour(ax, 252)) - luminance(cell_colour(ax, 255))) < 0.03
    stretched = viz.show_numbers(levels.astype(float))              # floats: the values' range
    assert stretched.get_images()[0].get_clim()[0] == 252          # stretched: 252 is white


def test_show_numbers_gradient_picks_the_map_by_sign():
    ax = viz.show_numbers(np.array([[0.0, 1.0], [4.0, 2.0]]), cmap="gradient", limits=(-4, 4))
    shown = ax.get_images()[0]
    assert shown.get_cmap().name == "Reds" and shown.get_clim()[0] == 0.0
    np.testing.assert_allclose(cell_colour(ax, 0.0), matplotlib.colormaps["Reds"](0.0))
    signed = viz.show_numbers(np.array([[-1.0, 3.0]]), cmap="gradient")
    assert signed.get_images()[0].get_cmap().name == "RdBu_r"
    low, high = signed.get_images()[0].get_clim()
    assert low == pytest.approx(-high)


def test_padded_cells_are_hatched_and_show_the_value_they_hold():
    grid = np.arange(9.0).reshape(3, 3)
    ax = viz.show_numbers(grid, padding=1, pad_value=-np.inf)
    padded = [patch for patch in rectangles(ax) if patch.get_hatch()]
    assert len(padded) == 5 * 5 - 9
    assert {(patch.get_x() + 0.5, patch.get_y() + 0.5) for patch in padded} == {
        (col, row) for row in range(-1, 4) for col in range(-1, 4)
        if not (0 <= row < 3 and 0 <= col < 3)}
    texts = [text.get_text() for text in ax.texts]
    assert texts.count("-inf") == 16 and texts[:9] == [f"{v:g}" for v in range(9)]
    # Image cells keep their coordinates: the image spans -0.5..2.5, the padding one more.
    assert ax.get_images()[0].get_extent() == [-1.5, 3.5, 3.5, -1.5]
    # Windows drawn over it keep the padded grid in view (and reach into the padding).
    viz.draw_windows(ax, (3, 3), 3, 1, padding=1, windows=((0, 0),))
    assert ax.get_xlim() == (-1.5, 3.5) and ax.get_ylim() == (3.5, -1.5)
    zeros = viz.show_numbers(grid, padding=((0, 1), (2, 0)))
    assert [text.get_text() for text in zeros.texts].count("0") == 1 + 1 * 5 + 2 * 3
    with pytest.raises(ValueError, match='padding must be an int.*got \'same\''):
        viz.show_numbers(grid, padding="same")


def test_style_colours_are_defined_once_for_every_style():
    assert list(viz.STYLE_COLORS) == list(pooling_lab.STYLES) == list(viz.STYLE_MARKERS)
    colours = [matplotlib.colors.to_hex(colour) for colour in viz.STYLE_COLORS.values()]
    assert len(set(colours)) == 4
    # Okabe-Ito colours: told apart with the common kinds of colour blindness.
    assert set(colours) <= {"#e69f00", "#56b4e9", "#009e73", "#f0e442", "#0072b2", "#d55e00",
                            "#cc79a7", "#000000"}


# --------------------------------------------------------------------------------------------
# Windows, outlines and insets
# --------------------------------------------------------------------------------------------

def test_window_boxes_are_the_geometry_s_origins_and_spans():
    geometry = pooling_lab.geometry.pool_geometry((1, 9, 9, 1), 3, 2, 1, 2)
    boxes = viz.window_boxes((9, 9), 3, 2, padding=1, dilation=2, windows="all")
    assert len(boxes) == geometry.out_hw[0] * geometry.out_hw[1]
    for i, j, top, left, height, width in boxes:
        assert (top, left) == viz_geometry.window_origin(geometry, i, j)
        assert (height, width) == (5, 5)
    assert boxes[0][2:4] == (-1, -1)


def test_outlines_link_each_output_cell_to_its_window_by_colour():
    fig, (grid_ax, out_ax) = plt.subplots(1, 2)
    viz.show_numbers(np.arange(16.0).reshape(4, 4), ax=grid_ax)
    four = ((0, 0), (0, 1), (1, 0), (1, 1))
    viz.draw_windows(grid_ax, (4, 4), 2, 2, windows=four, fill_alpha=0, inset=0.1)
    viz.show_numbers(np.arange(4.0).reshape(2, 2), ax=out_ax)
    viz.outline_cells(out_ax, four)
    windows, cells = rectangles(grid_ax), rectangles(out_ax)
    assert [w.get_edgecolor() for w in windows] == [c.get_edgecolor() for c in cells]
    assert len({w.get_edgecolor() for w in windows}) == 4
    assert (windows[1].get_x(), windows[1].get_width()) == pytest.approx((1.6, 1.8))   # inset
    assert (cells[3].get_x(), cells[3].get_y()) == pytest.approx((0.58, 0.58))
    assert all(w.get_facecolor()[3] == 0 for w in windows)           # outlines only


def test_a_zoom_inset_shows_the_chosen_part_with_the_same_colours():
    image = np.random.default_rng(3).random((20, 30))
    ax = viz.show_gradient(image - 0.5)
    inset = viz.add_zoom_inset(ax, (2, 8), (10, 20))
    shown, source = inset.get_images()[0], ax.get_images()[0]
    np.testing.assert_array_equal(shown.get_array(), (image - 0.5)[2:8, 10:20])
    assert shown.get_clim() == source.get_clim() and shown.get_cmap() is source.get_cmap()
    assert shown.get_extent() == [9.5, 19.5, 7.5, 1.5]              # image coordinates
    with pytest.raises(ValueError, match=r"rows \(2, 40\) and cols \(0, 5\) must be"):
        viz.add_zoom_inset(ax, (2, 40), (0, 5))


# --------------------------------------------------------------------------------------------
# Training figures
# --------------------------------------------------------------------------------------------

def test_feature_maps_are_tiled_in_blocks_of_rows_with_white_gaps():
    rng = np.random.default_rng(5)
    conv = np.maximum(rng.standard_normal((1, 8, 8, 16)), 0)
    pooled, _ = pooling_lab.strided.max_pool_forward(conv, 2)
    wide = np.maximum(rng.standard_normal((4, 4, 32)), 0)
    fig, axes = viz.show_feature_maps(np.zeros((8, 8)), [("conv", conv), ("pool", pooled),
                                                         ("wide", wide)], rows=4)
    conv_image, pool_image, wide_image = (ax.get_images()[0] for ax in axes[1:])
    # 16 channels: 4 rows of 4 tiles of 8x8 with 1-pixel gaps; 32 channels: 4 rows of 8.
    assert conv_image.get_array().shape == (4 * 9 - 1, 4 * 9 - 1)
    assert wide_image.get_array().shape == (4 * 9 - 1, 8 * 9 - 1)
    tiles = conv_image.get_array()
    np.testing.assert_array_equal(tiles[9:17, 0:8], conv[0, :, :, 4])      # channel 4: row 1
    # The pooled map, blown up: each pooled pixel a 2x2 block.
    np.testing.assert_array_equal(pool_image.get_array()[0:8, 9:17],
                                  pooled[0, :, :, 1].repeat(2, 0).repeat(2, 1))
    assert matplotlib.colors.to_hex(conv_image.get_cmap().get_bad()) == "#ffffff"
    assert axes[3].get_title() == "wide\n4x4 · 32 channels"


def test_window_boxes_names_a_bad_windows_string():
    with pytest.raises(ValueError, match=r'windows must be "all" or a sequence .*got \'ab\''):
        viz.window_boxes((6, 6), 2, windows="ab")
