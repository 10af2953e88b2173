"""The figures draw what they say: rectangles, colour limits, numbers, counts."""

import re

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.patches import Rectangle  # noqa: E402

import pooling_lab  # noqa: E402
from pooling_lab import viz  # noqa: E402


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


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


def test_gradient_sums_channels_and_survives_all_zero():
    gradient = np.zeros((1, 3, 3, 3))
    gradient[0, 1, 1] = [1.0, -3.0, 0.5]
    ax = viz.show_gradient(gradient, colorbar=False)
    shown = ax.get_images()[0]
    assert shown.get_array()[1, 1] == pytest.approx(-1.5)
    assert shown.get_clim() == (-1.5, 1.5)
    assert viz.show_gradient(np.zeros((2, 2))).get_images()[0].get_clim() == (-1.0, 1.0)


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


def test_show_coverage_uses_viridis_from_zero_with_a_colourbar():
    ax = viz.show_coverage(viz.coverage_counts((9, 9), 3, 2), title="coverage")
    shown = ax.get_images()[0]
    assert shown.get_cmap().name == "viridis" and shown.get_clim() == (0, 4)
    assert len(ax.figure.axes) == 2


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


def test_the_animation_is_a_small_gif_with_two_frames_per_window(tmp_path):
    from PIL import Image

    grid = np.arange(12.0).reshape(3, 4)                            # two windows, overlapping
    path = viz.animate_sliding_window(grid, 3, 1, tmp_path / "slide.gif", dpi=40)
    with Image.open(path) as gif:
        assert gif.format == "GIF" and gif.n_frames == 2 * 2
    assert path.stat().st_size < 1_000_000
    again = viz.animate_sliding_window(grid, 3, 1, tmp_path / "again.gif", dpi=40)
    assert again.read_bytes() == path.read_bytes()                  # deterministic
    assert plt.get_fignums() == []                                  # its figure is closed


def test_gradient_panels_can_share_one_limit():
    ax = viz.show_gradient(np.full((2, 2), 0.25), colorbar=False, limit=1.0)
    assert ax.get_images()[0].get_clim() == (-1.0, 1.0)             # not its own 0.25
    for bad in (0, -1.0, float("nan"), float("inf"), True, "1"):
        message = rf"limit must be a positive finite number; got {re.escape(repr(bad))}$"
        with pytest.raises(ValueError, match=message):
            viz.show_gradient(np.ones((2, 2)), limit=bad)
