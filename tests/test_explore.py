"""The explorers draw the package's own results, and show its message when it refuses.

The update functions (``windows_panel``, ``backward_panel``, ``filters_panel``) are called
with plain dicts of control values over a grid of every kind of setting a teacher can make;
each panel's drawn array is read back from the figure and compared with what the contract's
functions return. Styles are cycled through the grid (every style draws many settings), and
one test per explorer checks that the style control really switches the functions called.
"""

import base64
import itertools
import re
import sys

import matplotlib
import numpy as np
import pytest

import pooling_lab
from pooling_lab import explore, viz
from pooling_lab.geometry import pool_geometry
from pooling_lab.viz import geometry as viz_geometry

RNG = np.random.default_rng(7)
PHOTO = RNG.random((1, 9, 11, 3))                 # a small "photo": every setting stays cheap
GRAY = RNG.random((1, 12, 10, 1))


def panels(figure) -> dict:
    """{label: Axes} of an explorer figure (colourbars left out)."""
    return {ax.get_label(): ax for ax in figure.axes if ax.get_label() != "<colorbar>"}


def drawn(ax) -> np.ndarray:
    """The array an Axes shows with imshow, without the blank (NaN) ring of a padded grid."""
    shown = np.asarray(ax.images[0].get_array(), dtype=float)
    if shown.ndim == 3:                                           # a colour photo
        return shown
    blank = np.isnan(shown)
    return shown[~blank.all(axis=1)][:, ~blank.all(axis=0)]


def contract_error(call) -> str | None:
    """The message of the error the contract raises for this call, None if it accepts it."""
    try:
        call()
    except (TypeError, ValueError) as error:
        return str(error)
    return None


def cycled(settings):
    """Pair every setting with a style, in turn: (setting, style), ..."""
    return list(zip(settings, itertools.cycle(pooling_lab.STYLES)))


# --------------------------------------------------------------------------------------------
# windows
# --------------------------------------------------------------------------------------------

WINDOW_SETTINGS = [
    dict(op=op, size=size, stride=stride, padding=padding, dilation=dilation,
         count_include_pad=include)
    for op in ("max", "avg")
    for size, stride, padding, dilation in itertools.product(
        (1, 2, 3), (1, 2, 3), ("valid", "same", 1, 2), (1, 2))
    for include in ((True,) if op == "max" else (True, False))]


def test_a_colourbar_of_many_counts_labels_a_few_without_stacking():
    # size 8, dilation 4, padding 4, stride 1 on the 43x64 photo: 27 counts from 4 to 48
    photo = pooling_lab.images.load("chelsea", grayscale=False, size=64)
    setting = dict(explore.WINDOWS_DEFAULTS, size=8, stride=1, dilation=4, padding=4)
    coverage = panels(explore.windows_panel(photo, setting).figure)["coverage"]
    bar = coverage.images[0].colorbar
    labels = [int(label.get_text()) for label in bar.ax.get_yticklabels()]
    counts = np.unique(drawn(coverage))
    assert len(counts) > explore.MOST_COLORBAR_TICKS
    assert 2 <= len(labels) <= explore.MOST_COLORBAR_TICKS
    assert labels == sorted(labels) and set(labels) <= set(counts)
    assert labels[-1] == counts.max()                    # the largest count is always named
    # the labels stay apart: at least a text height between neighbours at FONT_PT
    bar.ax.figure.canvas.draw()
    tops = sorted(label.get_window_extent().y0 for label in bar.ax.get_yticklabels())
    assert min(np.diff(tops)) >= explore.FONT_PT * explore.DPI / 72


def test_a_colourbar_of_few_counts_labels_every_one():
    photo = pooling_lab.images.load("chelsea", grayscale=False, size=64)
    coverage = panels(explore.windows_panel(photo, explore.WINDOWS_DEFAULTS).figure)["coverage"]
    labels = [int(label.get_text())
              for label in coverage.images[0].colorbar.ax.get_yticklabels()]
    assert labels == list(np.unique(drawn(coverage)))


@pytest.mark.parametrize("setting, style", cycled(WINDOW_SETTINGS),
                         ids=lambda value: str(value) if isinstance(value, str) else None)
def test_windows_draws_the_contract_results_or_its_message(setting, style):
    controls = {**setting, "style": style}
    forward, backward = pooling_lab.op_functions(style, setting["op"])
    options = dict(size=setting["size"], stride=setting["stride"],
                   padding=setting["padding"], dilation=setting["dilation"])
    if setting["op"] == "avg":
        options["count_include_pad"] = setting["count_include_pad"]
    refused = contract_error(lambda: forward(PHOTO, **options))
    panel = explore.windows_panel(PHOTO, controls)
    if refused:
        assert panel.figure is None and panel.message == refused
        return
    assert panel.message is None
    out, cache = forward(PHOTO, **options)
    dx = backward(np.ones_like(out), cache)
    geometry = pool_geometry(PHOTO.shape, setting["size"], setting["stride"],
                                    setting["padding"], setting["dilation"])
    shown = panels(panel.figure)
    np.testing.assert_array_equal(drawn(shown["output"]), out[0])
    np.testing.assert_array_equal(drawn(shown["coverage"]), viz.coverage_counts(
        PHOTO.shape[1:3], geometry.kernel, geometry.stride, geometry.padding, geometry.dilation))
    np.testing.assert_array_equal(drawn(shown["dx"]), dx[0].sum(axis=2))
    # The formula's results are the output size.
    results = re.findall(r"// \d+ \+ 1 = (\d+)", panel.figure.get_suptitle())
    assert tuple(map(int, results)) == out.shape[1:3]
    # Every drawn window: its outline at its origin, spanning the span, and a dot per tap.
    photo = shown["photo"]
    drawn_windows = [(i, j) for i, j in explore.DRAWN_WINDOWS
                     if i < out.shape[1] and j < out.shape[2]]
    outlines = [patch for patch in photo.patches if not patch.get_hatch()]
    hatched = [patch for patch in photo.patches if patch.get_hatch()]
    assert len(hatched) == geometry.is_padded                      # padding drawn only if any
    assert len(outlines) == len(photo.lines) == len(drawn_windows)
    for (i, j), outline, dots in zip(drawn_windows, outlines, photo.lines):
        top, left = viz_geometry.window_origin(geometry, i, j)
        assert outline.get_xy() == (left - 0.5, top - 0.5)
        assert (outline.get_height(), outline.get_width()) == geometry.span
        taps = viz_geometry.tap_positions(geometry, i, j).reshape(-1, 2)
        np.testing.assert_array_equal(dots.get_xydata(), taps[:, ::-1])   # (x, y) = (col, row)


def test_windows_grid_covers_refused_and_accepted_settings():
    refused = sum(explore.windows_panel(PHOTO, {**setting, "style": "fast"}).figure is None
                  for setting in WINDOW_SETTINGS[::7])
    assert 0 < refused < len(WINDOW_SETTINGS[::7])


@pytest.mark.parametrize("style", pooling_lab.STYLES)
def test_windows_calls_the_chosen_style(style, monkeypatch):
    calls = []
    module = pooling_lab.STYLES[style]
    original = module.max_pool_forward
    monkeypatch.setattr(module, "max_pool_forward",
                        lambda *args, **kwargs: calls.append(style) or original(*args, **kwargs))
    explore.windows_panel(PHOTO, {**explore.WINDOWS_DEFAULTS, "style": style})
    assert calls == [style]


def test_windows_padding_more_than_half_the_window_shows_the_contract_message():
    panel = explore.windows_panel(PHOTO, {**explore.WINDOWS_DEFAULTS, "size": 2, "padding": 2})
    assert panel.figure is None
    assert "padding ((2, 2), (2, 2)) is too large for pooling" in panel.message
    with pytest.raises(ValueError) as error:
        pooling_lab.fast.max_pool_forward(PHOTO, 2, 2, 2)
    assert panel.message == str(error.value)


def test_windows_larger_than_the_photo_shows_the_contract_message():
    tiny = PHOTO[:, :6, :6, :]
    panel = explore.windows_panel(tiny, {**explore.WINDOWS_DEFAULTS, "size": 7})
    assert panel.figure is None
    assert "larger than the padded input" in panel.message
    assert panel.png() is None


def test_windows_formula_on_the_default_photo():
    photo = pooling_lab.images.load("chelsea", size=64)                  # (1, 43, 64, 3)
    panel = explore.windows_panel(photo, explore.WINDOWS_DEFAULTS)
    assert panel.figure.get_suptitle().splitlines() == [
        "OH = (H + pad + pad - span) // stride + 1 = (43 + 0 + 0 - 3) // 2 + 1 = 21",
        "OW = (W + pad + pad - span) // stride + 1 = (64 + 0 + 0 - 3) // 2 + 1 = 31",
        "span = dilation·(size-1) + 1 = 1·(3-1) + 1 = 3"]
    assert panel.png().startswith(b"\x89PNG")


# --------------------------------------------------------------------------------------------
# backward
# --------------------------------------------------------------------------------------------

BACKWARD_SETTINGS = [dict(op=op, size=size, stride=stride, padding=padding)
                     for op, size, stride, padding in itertools.product(
                         ("max", "avg"), (1, 2, 3, 8), (1, 2, 3), ("valid", "same", 1))]


@pytest.mark.parametrize("setting, style", cycled(BACKWARD_SETTINGS),
                         ids=lambda value: str(value) if isinstance(value, str) else None)
def test_backward_last_step_is_the_contract_dx(setting, style):
    grid = explore.BACKWARD_GRID
    forward, backward = pooling_lab.op_functions(style, setting["op"])
    x = grid[None, :, :, None]
    refused = contract_error(lambda: forward(x, setting["size"], setting["stride"],
                                             setting["padding"]))
    steps = explore.backward_steps(grid, setting)
    panel = explore.backward_panel(grid, {**setting, "style": style, "step": steps})
    if refused:
        assert panel.figure is None and panel.message == refused and steps == 0
        return
    out, cache = forward(x, setting["size"], setting["stride"], setting["padding"])
    assert steps == out.shape[1] * out.shape[2]
    dout = explore.default_dout(out.shape[1:3])
    shown = panels(panel.figure)
    np.testing.assert_array_equal(drawn(shown["x"]), grid)
    np.testing.assert_array_equal(drawn(shown["dout"]), dout)
    np.testing.assert_allclose(drawn(shown["dx so far"]),
                               backward(dout[None, :, :, None], cache)[0, :, :, 0], rtol=1e-12)


@pytest.mark.parametrize("op, style", list(zip(["max", "avg", "max", "avg"], pooling_lab.STYLES)))
def test_backward_window_shares_add_up_to_dx_step_by_step(op, style):
    grid = explore.BACKWARD_GRID
    controls = {**explore.BACKWARD_DEFAULTS, "op": op, "style": style}
    steps = explore.backward_steps(grid, controls)
    assert steps == 9                                  # 7x7, size 3, stride 2: 3x3 windows
    total = np.zeros_like(grid)
    for step in range(steps + 1):
        shown = panels(explore.backward_panel(grid, {**controls, "step": step}).figure)
        share = drawn(shown["window adds"])
        if step:
            # What one window sends back sums to its dout (first cell 1, then 2, 3, ...).
            np.testing.assert_allclose(share.sum(), step)
        else:
            assert not share.any()
        total += share
        np.testing.assert_allclose(drawn(shown["dx so far"]), total, atol=1e-12)
    forward, backward = pooling_lab.op_functions(style, op)
    _, cache = forward(grid[None, :, :, None], 3, 2)
    dout = explore.default_dout((3, 3))[None, :, :, None]
    np.testing.assert_allclose(total, backward(dout, cache)[0, :, :, 0], atol=1e-12)


def test_backward_step_two_shows_the_tie_and_the_overlap():
    # Window (0, 1) reads rows 0-2 and columns 2-4: [[2, 0, 4], [9, 9, 3], [1, 1, 0]]. The first
    # 9, x[1, 2], wins over the tie x[1, 3]; window (0, 0) already sent its dout 1 to x[1, 2].
    panel = explore.backward_panel(explore.BACKWARD_GRID, {**explore.BACKWARD_DEFAULTS,
                                                           "step": 2})
    title = panel.figure.get_suptitle()
    assert "window (0, 1) · dout 2 goes to its winner x[1, 2] = 9" in title
    assert "tie with x[1, 3]" in title
    assert "overlap: dx[1, 2] = 1 from earlier windows + 2 = 3" in title
    x_panel = panels(panel.figure)["x"]
    outlines = {(patch.get_xy(), patch.get_edgecolor()[:3], patch.get_linestyle())
                for patch in x_panel.patches}
    winner, tie = (matplotlib.colors.to_rgb(color) for color in (viz.WINNER_COLOR,
                                                                 viz.TIE_COLOR))
    assert ((2 - 0.5, 1 - 0.5), winner, "-") in outlines
    assert ((3 - 0.5, 1 - 0.5), tie, "--") in outlines
    np.testing.assert_array_equal(drawn(panels(panel.figure)["dx so far"])[1, 2], 3)


def test_backward_average_spreads_dout_over_the_window():
    panel = explore.backward_panel(explore.BACKWARD_GRID, {**explore.BACKWARD_DEFAULTS,
                                                           "op": "avg", "step": 5})
    assert "window (1, 1) · dout 5 spread over 9 cells: each += 5 / 9 = 0.556" in \
        panel.figure.get_suptitle()


def test_backward_refusals_show_the_contract_message():
    grid = explore.BACKWARD_GRID
    panel = explore.backward_panel(grid, {**explore.BACKWARD_DEFAULTS, "size": 8})
    assert "larger than the padded input" in panel.message
    wrong_dout = np.ones((2, 2))
    panel = explore.backward_panel(grid, explore.BACKWARD_DEFAULTS, dout=wrong_dout)
    assert panel.message == "dout must have the forward output's shape (1, 3, 3, 1); got (1, 2, 2, 1)"


@pytest.mark.parametrize("op", ["max", "avg"])
@pytest.mark.parametrize("where,value,message", [
    ((0, 2), np.nan, "dout must hold finite numbers; got nan at dout[0, 2] (1 of 16 cells)"),
    (slice(None), np.nan, "dout must hold finite numbers; got nan at dout[0, 0] (16 of 16 cells)"),
    ((1, 1), -np.inf, "dout must hold finite numbers; got -inf at dout[1, 1] (1 of 16 cells)"),
])
def test_backward_a_nan_or_inf_dout_shows_a_message_without_a_warning(op, where, value,
                                                                       message, recwarn):
    dout = np.ones((4, 4))
    dout[where] = value
    controls = dict(op=op, size=2, stride=1, padding="valid", style="fast", step=3)
    panel = explore.backward_panel(np.arange(25.0).reshape(5, 5), controls, dout=dout)
    assert panel.figure is None and panel.message == message
    assert np.isnan(dout).any() or np.isinf(dout).any()           # the caller's dout untouched
    assert len(recwarn) == 0, [str(w.message) for w in recwarn]


def test_the_pooling_panels_refuse_an_op_that_is_not_pooling():
    message = "op must be 'max' or 'avg' (a pooling op); got 'conv'"
    panel = explore.windows_panel(PHOTO, {**explore.WINDOWS_DEFAULTS, "op": "conv"})
    assert panel.figure is None and panel.message == message
    panel = explore.backward_panel(explore.BACKWARD_GRID, {**explore.BACKWARD_DEFAULTS,
                                                           "op": "conv"})
    assert panel.figure is None and panel.message == message


def test_backward_step_out_of_range_is_refused():
    with pytest.raises(ValueError, match="step must be from 0 to OH \\* OW = 9; got 10"):
        explore.backward_panel(explore.BACKWARD_GRID, {**explore.BACKWARD_DEFAULTS, "step": 10})
    with pytest.raises(TypeError, match="step must be an int"):
        explore.backward_panel(explore.BACKWARD_GRID, {**explore.BACKWARD_DEFAULTS, "step": 1.5})


# --------------------------------------------------------------------------------------------
# filters
# --------------------------------------------------------------------------------------------

FILTER_SETTINGS = [dict(kernel=kernel, stride=stride, padding=padding, dilation=dilation,
                        dout=dout)
                   for kernel, stride, padding, dilation, dout in itertools.product(
                       [*explore.FILTERS.values(), "1 2 3\n-4 0.5 1/4"], (1, 2, 3),
                       ("valid", "same", 2), (1, 2), explore.DOUT_CHOICES)][::3]


@pytest.mark.parametrize("setting, style", cycled(FILTER_SETTINGS),
                         ids=lambda value: str(value) if isinstance(value, str) else None)
def test_filters_draws_the_contract_results(setting, style):
    kernel = explore.parse_kernel(setting["kernel"])
    forward, backward = pooling_lab.op_functions(style, "conv")
    out, cache = forward(GRAY, kernel[:, :, None, None], stride=setting["stride"],
                         padding=setting["padding"], dilation=setting["dilation"])
    dout = explore.filter_dout(setting["dout"], out)
    dx, dw, _ = backward(dout, cache)
    panel = explore.filters_panel(GRAY, {**setting, "style": style})
    shown = panels(panel.figure)
    np.testing.assert_array_equal(drawn(shown["kernel"]), kernel)
    expected_out = np.clip(out[0, :, :, 0], 0, 1) if np.isclose(kernel.sum(), 1) else out[0, :, :, 0]
    np.testing.assert_array_equal(drawn(shown["output"]), expected_out)
    np.testing.assert_array_equal(drawn(shown["dx"]), dx[0, :, :, 0])
    np.testing.assert_array_equal(drawn(shown["dw"]), dw[:, :, 0, 0])


def test_filters_dout_choices():
    out = RNG.normal(size=(1, 4, 5, 1))
    np.testing.assert_array_equal(explore.filter_dout("ones", out), np.ones_like(out))
    assert explore.filter_dout("out", out) is not out
    np.testing.assert_array_equal(explore.filter_dout("out", out), out)
    np.testing.assert_array_equal(explore.filter_dout("random", out),
                                  np.random.default_rng(0).normal(size=out.shape))
    with pytest.raises(ValueError, match="dout must be one of"):
        explore.filter_dout("zeros", out)


def test_parse_kernel_reads_rows_and_fractions():
    np.testing.assert_array_equal(explore.parse_kernel(" 1, -2 3\n1/4 .5 1e-1 \n"),
                                  [[1, -2, 3], [0.25, 0.5, 0.1]])
    np.testing.assert_allclose(explore.parse_kernel(explore.FILTERS["box blur"]),
                               np.full((3, 3), 1 / 9))


@pytest.mark.parametrize("text, message", [
    ("1 2\n3", "kernel rows must have the same length: row 1 has 2 numbers, row 2 has 1"),
    ("1 two", "kernel row 1: 'two' is not a number"),
    ("1 1/0", "kernel row 1: '1/0' divides by zero"),
    ("  \n ", "kernel must hold at least one number"),
])
def test_a_bad_kernel_text_shows_its_message(text, message):
    panel = explore.filters_panel(GRAY, {**explore.FILTERS_DEFAULTS, "kernel": text})
    assert panel.figure is None and message in panel.message


def test_filters_kernel_larger_than_the_photo_shows_the_contract_message():
    big = "\n".join(["1 " * 11] * 13)                              # 13x11 on a 12x10 photo
    panel = explore.filters_panel(GRAY, {**explore.FILTERS_DEFAULTS, "kernel": big,
                                         "padding": "valid"})
    with pytest.raises(ValueError) as error:
        pooling_lab.fast.conv_forward(GRAY, np.ones((13, 11, 1, 1)))
    assert panel.message == str(error.value)


# --------------------------------------------------------------------------------------------
# The widget layer
# --------------------------------------------------------------------------------------------

def test_windows_explorer_redraws_when_a_control_moves():
    pytest.importorskip("ipywidgets")
    explorer = explore.windows_explorer(PHOTO)
    first = bytes(explorer.picture.value)
    assert first.startswith(b"\x89PNG")
    explorer.controls["size"].value = 2
    assert explorer.picture.value != first and explorer.message.value == ""
    explorer.controls["padding"].value = 4                          # more than half of 2
    assert "too large for pooling" in explorer.message.value
    assert explore.REFUSED in explorer.picture._dom_classes         # dimmed (tested in Chromium)
    explorer.controls["padding"].value = "same"
    assert explorer.message.value == "" and explore.REFUSED not in explorer.picture._dom_classes


def test_an_explorer_output_holds_the_widget_and_its_picture():
    pytest.importorskip("ipywidgets")
    explorer = explore.windows_explorer(PHOTO)
    bundle = explorer._repr_mimebundle_()
    assert set(bundle) == {"text/plain", "image/png",
                           "application/vnd.jupyter.widget-view+json"}
    assert bundle["application/vnd.jupyter.widget-view+json"]["model_id"] == \
        explorer.view.model_id
    assert base64.b64decode(bundle["image/png"]) == bytes(explorer.picture.value)


def test_backward_explorer_steps_and_follows_the_number_of_windows():
    pytest.importorskip("ipywidgets")
    explorer = explore.backward_explorer()
    step = explorer.controls["step"]
    assert (step.value, step.max) == (2, 9)             # opens on a tie and an overlap
    before = explorer.picture.value
    step.value = 3
    assert explorer.picture.value != before
    explorer.controls["stride"].value = 1                          # 5x5 windows
    assert step.max == 25


def test_filters_explorer_picks_a_filter_and_types_a_kernel():
    pytest.importorskip("ipywidgets")
    explorer = explore.filters_explorer(GRAY)
    kernel = explorer.controls["kernel"]
    before = explorer.picture.value
    choice = explorer.view.children[0].children[0].children[0]     # the filter dropdown
    choice.value = "laplacian"
    assert kernel.value == explore.FILTERS["laplacian"]
    assert explorer.picture.value != before
    kernel.value = "1 0\n0 -1"
    assert choice.value == "custom"


def test_without_ipywidgets_the_explorer_says_how_to_install_and_shows_a_picture(
        monkeypatch, capsys):
    shown = []
    monkeypatch.setitem(sys.modules, "ipywidgets", None)          # as if not installed
    monkeypatch.setattr("IPython.display.display", lambda item: shown.append(item))
    explore.windows(PHOTO)
    explore.backward()
    explore.filters(GRAY)
    printed = capsys.readouterr().out.splitlines()
    assert printed == [explore.INSTALL_HINT] * 3
    assert "pip install ipywidgets" in explore.INSTALL_HINT
    assert [item.data[:4] for item in shown] == [b"\x89PNG"] * 3


# --------------------------------------------------------------------------------------------
# Readable from the back row, and never a traceback
# --------------------------------------------------------------------------------------------

def smallest_text_pt(panel) -> float:
    """The smallest text of a panel as it shows at JupyterLab's 100% zoom: a PNG at most as wide
    as the cell (about 1050 CSS px) is shown at least at its native size, where P points drawn
    at D dpi show as P * D / 96 points."""
    png = panel.png()                                            # draws every text, ticks too
    assert int.from_bytes(png[16:20], "big") <= 1050             # the PNG's width in pixels
    texts = [text for text in panel.figure.findobj(matplotlib.text.Text)
             if text.get_visible() and text.get_text().strip()]
    return min(text.get_fontsize() for text in texts) * explore.DPI / 96


@pytest.mark.parametrize("draw", [
    lambda: explore.windows_panel(pooling_lab.images.load("chelsea", size=64),
                                  explore.WINDOWS_DEFAULTS),
    lambda: explore.windows_panel(PHOTO, {**explore.WINDOWS_DEFAULTS, "op": "avg",
                                          "padding": 1, "dilation": 2}),
    lambda: explore.backward_panel(explore.BACKWARD_GRID, explore.BACKWARD_DEFAULTS),
    lambda: explore.backward_panel(explore.BACKWARD_GRID, {**explore.BACKWARD_DEFAULTS,
                                                           "op": "avg", "padding": 1}),
    lambda: explore.filters_panel(pooling_lab.images.load("grace_hopper", True, 128),
                                  explore.FILTERS_DEFAULTS),
], ids=["windows", "windows avg padded", "backward", "backward avg padded", "filters"])
def test_every_label_is_at_least_12_pt_at_100_percent_zoom(draw):
    assert smallest_text_pt(draw()) >= 12


def test_the_backward_explorer_opens_on_a_tie_and_an_overlap():
    title = explore.backward_panel(explore.BACKWARD_GRID,
                                   explore.BACKWARD_DEFAULTS).figure.get_suptitle()
    assert "tie with" in title and "overlap:" in title


@pytest.mark.parametrize("kernel, dout, shown", [
    ("-1 0 1\n-2 0 2\n-1 0 1", "out", "{:.0f}"),       # hundreds: whole numbers
    ("1/9 " * 3 + "\n" + "1/9 " * 3, "random", "{:.2f}"),  # a shared power of ten
])
def test_dw_is_whole_numbers_or_shares_one_power_of_ten(kernel, dout, shown):
    photo = pooling_lab.images.load("grace_hopper", True, 64)
    panel = explore.filters_panel(photo, {**explore.FILTERS_DEFAULTS, "kernel": kernel,
                                          "dout": dout})
    dw_ax = panels(panel.figure)["dw"]
    texts = [text.get_text() for text in dw_ax.texts]
    assert not any("e" in text for text in texts), texts      # no "-2.1e+03", no "4.75e-15"
    match = re.search(r"× 1e(-?\d+)", dw_ax.get_title())
    scale = 10.0 ** int(match.group(1)) if match else 1.0
    np.testing.assert_allclose([float(text) for text in texts],
                               [float(shown.format(value / scale))
                                for value in drawn(dw_ax).ravel()], atol=1e-12)


def test_kernels_over_5x5_are_drawn_without_numbers():
    photo = pooling_lab.images.load("grace_hopper", True, 64)
    for side, numbers in ((5, 25), (6, 0)):
        kernel = "\n".join([" ".join(["1"] * side)] * side)
        shown = panels(explore.filters_panel(photo, {**explore.FILTERS_DEFAULTS,
                                                     "kernel": kernel}).figure)
        assert len(shown["kernel"].texts) == len(shown["dw"].texts) == numbers


def test_rgba_and_gray_alpha_images_are_composited_onto_white_as_images_load_does():
    alpha = RNG.random((1, 9, 11, 1))
    composited = PHOTO * alpha + (1 - alpha)
    for image, flat in ((np.concatenate([PHOTO, alpha], axis=3), composited),
                        (np.concatenate([GRAY[:, :9, :10], alpha[:, :, :10]], axis=3),
                         GRAY[:, :9, :10] * alpha[:, :, :10] + 1 - alpha[:, :, :10])):
        panel = explore.windows_panel(image, explore.WINDOWS_DEFAULTS)
        expected = explore.windows_panel(flat, explore.WINDOWS_DEFAULTS)
        np.testing.assert_allclose(drawn(panels(panel.figure)["output"]),
                                   drawn(panels(expected.figure)["output"]))
    gray = explore.filters_panel(composited, explore.FILTERS_DEFAULTS)
    np.testing.assert_allclose(drawn(panels(gray.figure)["photo"]),
                               (composited @ explore.GRAY_WEIGHTS)[0])


def test_an_image_of_five_channels_shows_a_message():
    panel = explore.windows_panel(RNG.random((1, 9, 11, 5)), explore.WINDOWS_DEFAULTS)
    assert panel.figure is None
    assert panel.message == ("image must have 1 (gray), 2 (gray, alpha), 3 (RGB) or 4 (RGBA) "
                             "channels to be drawn; got 5")


def test_an_explorer_reads_an_image_file():
    photo = explore._photo(pooling_lab.images.path("chelsea"), "unused", False, 64)
    np.testing.assert_array_equal(photo, pooling_lab.images.load("chelsea", size=64))


@pytest.mark.parametrize("kernel, dout, message", [
    ("1e200", "out", "dx must hold finite numbers; got inf at dx[0, 0]"),
    ("-1e308 1e308", "random", "kernel must hold numbers up to 1e+300 in size to be drawn"),
    ("1e400", "out", "kernel row 1: '1e400' is beyond the largest float64 number"),
    ("1e301", "ones", "kernel must hold numbers up to 1e+300 in size to be drawn; got 1e+301"),
])
def test_a_kernel_too_large_to_draw_shows_a_message(kernel, dout, message, recwarn):
    panel = explore.filters_panel(GRAY, {**explore.FILTERS_DEFAULTS, "kernel": kernel,
                                         "dout": dout})
    assert panel.figure is None and panel.message.startswith(message), panel.message
    assert len(recwarn) == 0, [str(w.message) for w in recwarn]


@pytest.mark.parametrize("grid, message", [
    (np.where(explore.BACKWARD_GRID == 3, np.inf, 1e308),            # 1e308 * 3 overflowed
     "grid must hold finite numbers; got inf at grid[0, 1]"),
    (explore.BACKWARD_GRID + 1e301, "grid must hold numbers up to 1e+300 in size to be drawn"),
    (np.ones((3, 3, 3)), "grid must be a 2-D (H, W) array; got shape (3, 3, 3)"),
    ([["a", "b"]], "grid must hold real numbers; got dtype <U1"),
])
def test_backward_panel_checks_its_grid(grid, message):
    panel = explore.backward_panel(grid, explore.BACKWARD_DEFAULTS)
    assert panel.figure is None and panel.message.startswith(message), panel.message


def test_the_explorer_message_is_escaped_html():
    pytest.importorskip("ipywidgets")
    explorer = explore.filters_explorer(GRAY)
    explorer.controls["kernel"].value = '<b>"1"</b>'
    assert "&lt;b&gt;&quot;1&quot;&lt;/b&gt;" in explorer.message.value


def test_the_picture_fills_the_cell_up_to_its_drawn_size_and_shrinks_with_a_narrow_one():
    pytest.importorskip("ipywidgets")
    explorer = explore.backward_explorer()
    png = bytes(explorer.picture.value)
    drawn_width = int.from_bytes(png[16:20], "big")                 # the PNG's width in pixels
    # 150% zoom on a 1280 px screen leaves a cell of about 670 px: drawn at most 1.5 times
    # that, the 16 px labels still cover 16 screen pixels (tests/test_browser.py measures it).
    assert drawn_width <= 1.5 * 670
    assert explorer.picture.layout.width == "100%"
    assert explorer.picture.layout.max_width == f"{drawn_width}px"
    assert explorer.picture.layout.min_width is None


def test_a_41x41_kernel_is_drawn_with_every_title_inside_the_figure():
    photo = pooling_lab.images.load("grace_hopper", grayscale=True, size=128)
    kernel = "\n".join(" ".join(["1/1681"] * 41) for _ in range(41))
    panel = explore.filters_panel(photo, dict(explore.FILTERS_DEFAULTS, kernel=kernel))
    assert panel.message is None
    figure = panel.figure
    panel.png()                                         # lays the figure out as it is shown
    shown = panels(figure)
    assert shown["kernel"].get_title() == "kernel 41x41"
    assert not shown["kernel"].texts                      # too many to number: colours only
    for ax in shown.values():
        box = ax.title.get_window_extent()
        assert 0 <= box.x0 and box.x1 <= figure.bbox.x1 and box.y1 <= figure.bbox.y1, ax.title


def test_the_filters_controls_wrap_instead_of_shrinking():
    pytest.importorskip("ipywidgets")
    row = explore.filters_explorer().view.children[0]
    columns = [child for child in row.children if child.layout.flex is not None]
    assert len(columns) == 2 and {column.layout.flex for column in columns} == {"0 0 auto"}
    assert row.layout.flex_flow == "row wrap"
