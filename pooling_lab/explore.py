"""Explorers for class: move a control, watch pooling and convolution change.

Three explorers, each a row of controls (ipywidgets 8) above one picture:

* :func:`windows` - op, size, stride, padding, dilation and ``count_include_pad`` of a pooling
  layer on a photo: the windows drawn on the photo, the output, how many windows read each
  pixel, ``dx`` for a ``dout`` of ones, and the output-size formula with the numbers filled in.
* :func:`backward` - a step-through of the backward pass on a small grid, window by window:
  ``dout`` going to the winner (max) or spread over the window (avg), overlapping windows
  adding up, ties outlined.
* :func:`filters` - a classic filter or a kernel typed in: the convolution's output, and
  ``dx`` and ``dw`` for a chosen ``dout``.

Every number drawn comes from the package itself: the style's own functions, found with
:func:`pooling_lab.op_functions`, and the window positions from :class:`common.Geometry`.

Each explorer is two layers, so that it can be tested without a browser:

* an **update function** (:func:`windows_panel`, :func:`backward_panel`,
  :func:`filters_panel`) takes the data and a plain dict of control values and returns a
  :class:`Panel`: a figure, or a message for anything it cannot draw (the package's own
  message when it refuses a setting, a kernel that is not numbers, a value too large to
  draw, an image of 5 channels...). An update function never raises for a setting.
* a thin **widget layer** (:func:`windows`, :func:`backward`, :func:`filters`) that calls it
  whenever a control moves and shows the figure as a PNG as wide as the cell.

Readable from the back row: every text is :data:`FONT_PT` points and the figure is
:data:`FIGURE_INCHES` wide at :data:`DPI`, so at JupyterLab's 100% zoom, in a cell of about
1050 pixels, a label shows at 12 pt (a label of P points at D dpi shows as P * D / 96 pt at
native size). The output of an explorer cell holds the live widget and a PNG of the default
setting in one bundle: GitHub, nbval and a kernel without ipywidgets show the picture.
"""

from __future__ import annotations

import base64
import functools
import html
import io
import os
from dataclasses import dataclass
from fractions import Fraction

import matplotlib
import numpy as np
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from . import STYLES, common, images, op_functions, viz

#: Text size of every label (points) and the figure's width (inches) and resolution.
FONT_PT, FIGURE_INCHES, DPI = 12, 10.9, 96
_READABLE = {key: FONT_PT for key in ("font.size", "axes.titlesize", "axes.labelsize",
                                      "figure.titlesize", "xtick.labelsize", "ytick.labelsize",
                                      "legend.fontsize")}

#: The largest size of a number the explorers draw: colour scales of larger ones overflow.
LARGEST_DRAWN = 1e300

#: The choices of the padding control: the two names, then a number of pixels on every side.
PADDING_CHOICES = ("valid", "same", 0, 1, 2, 3, 4)

#: The line printed when ipywidgets cannot be imported.
INSTALL_HINT = ('The explorer needs ipywidgets: pip install ipywidgets (or pip install -e ".[course]"'
                ' in the course folder), then restart the kernel. Below: its default setting.')

#: Classic 3x3 kernels for :func:`filters`, written as the numbers a student would type.
FILTERS = {
    "sobel x": "-1 0 1\n-2 0 2\n-1 0 1",
    "sobel y": "-1 -2 -1\n0 0 0\n1 2 1",
    "box blur": "1/9 1/9 1/9\n1/9 1/9 1/9\n1/9 1/9 1/9",
    "gaussian blur": "1/16 2/16 1/16\n2/16 4/16 2/16\n1/16 2/16 1/16",
    "sharpen": "0 -1 0\n-1 5 -1\n0 -1 0",
    "laplacian": "0 1 0\n1 -4 1\n0 1 0",
    "identity": "0 0 0\n0 1 0\n0 0 0",
}

#: The ``dout`` choices of :func:`filters`, and the loss each one is the gradient of.
DOUT_CHOICES = {
    "ones": "L = sum(out)",
    "out": "L = sum(out²) / 2",
    "random": "L = sum(out · r), r normal, seed 0",
}

#: The default controls of each explorer: the widgets start here, and so does the picture
#: shown without ipywidgets. ``step`` 2 of :func:`backward` shows both a tie and an overlap.
WINDOWS_DEFAULTS = {"op": "max", "size": 3, "stride": 2, "padding": "valid", "dilation": 1,
                    "count_include_pad": True, "style": "fast"}
BACKWARD_DEFAULTS = {"op": "max", "size": 3, "stride": 2, "padding": "valid", "style": "fast",
                     "step": 2}
FILTERS_DEFAULTS = {"kernel": FILTERS["sobel x"], "stride": 1, "padding": "same", "dilation": 1,
                    "dout": "out", "style": "fast"}

#: The outputs whose windows are drawn on the photo: the top-left corner, where padding shows.
DRAWN_WINDOWS = ((0, 0), (0, 1), (1, 0), (1, 1))

#: The ops :func:`windows` and :func:`backward` show: they draw pooling windows.
POOL_OPS = ("max", "avg")

#: Weights of R, G and B in a gray level (ITU-R 601, as Pillow's "L" and images.load).
GRAY_WEIGHTS = np.array([0.299, 0.587, 0.114])


@dataclass
class Panel:
    """What an update function returns.

    Attributes
    ----------
    figure : matplotlib Figure or None
        None when the setting or the data cannot be drawn.
    message : str or None
        Why not (the package's own message when it refused), None otherwise.
    """

    figure: Figure | None
    message: str | None = None

    def png(self) -> bytes | None:
        """The figure as PNG bytes (None for a message)."""
        if self.figure is None:
            return None
        buffer = io.BytesIO()
        self.figure.savefig(buffer, format="png", dpi=DPI)
        return buffer.getvalue()


# --------------------------------------------------------------------------------------------
# Small helpers shared by the three update functions
# --------------------------------------------------------------------------------------------

def _readable(update):
    """Draw every text of ``update``'s figure at :data:`FONT_PT`, whatever the notebook set."""
    @functools.wraps(update)
    def drawn_readable(*args, **kwargs):
        with matplotlib.rc_context(_READABLE):
            return update(*args, **kwargs)
    return drawn_readable


def _new_figure(height: float, ratios):
    """A figure not managed by pyplot (nothing shows by itself, nothing to close), one row of
    axes as wide as ``ratios`` say."""
    figure = Figure(figsize=(FIGURE_INCHES, height), dpi=DPI, layout="constrained")
    return figure, list(figure.subplots(1, len(ratios), gridspec_kw={"width_ratios": ratios}))


def _name(ax, label: str):
    """Label an axes, so that a test can find a panel by name: ``{ax.get_label(): ax}``."""
    ax.set_label(label)
    return ax


def _undrawable(**arrays) -> str | None:
    """The message for the first array holding NaN, inf or a number larger than
    :data:`LARGEST_DRAWN` in size (its colour scale would overflow), None if all can be drawn."""
    for name, values in arrays.items():
        finite = np.isfinite(values).all()
        bad = ~(np.abs(values) <= LARGEST_DRAWN) if finite else ~np.isfinite(values)
        if bad.any():
            index = tuple(int(n) for n in np.argwhere(bad)[0])
            rule = (f"numbers up to {LARGEST_DRAWN:g} in size to be drawn" if finite
                    else "finite numbers")
            return (f"{name} must hold {rule}; got {values[index]:g} at {name}["
                    f"{', '.join(map(str, index))}] ({int(bad.sum())} of {values.size} cells)")
    return None


def _picture(image, grayscale: bool):
    """``image`` (1, H, W, C) as the explorer draws it, and None; or None and why not.

    An alpha channel (C = 2 gray and alpha, C = 4 RGBA) is composited onto white, as
    :func:`images.load` does; with ``grayscale`` RGB becomes gray by :data:`GRAY_WEIGHTS`.
    """
    channels = image.shape[3]
    if channels in (2, 4):
        alpha = image[..., -1:]
        image = image[..., :-1] * alpha + (1 - alpha)                 # -> (1, H, W, C - 1)
    if grayscale and image.shape[3] == 3:
        image = image @ GRAY_WEIGHTS[:, None]                          # -> (1, H, W, 1)
    if image.shape[3] not in (1, 3):
        return None, (f"image must have 1 (gray), 2 (gray, alpha), 3 (RGB) or 4 (RGBA) "
                      f"channels to be drawn; got {channels}")
    return image, _undrawable(image=image[0].sum(axis=2))


def _grid_format(values, decimals: int = 2):
    """How to print ``values`` on a grid, and the title's note: whole numbers when they are
    (below 10 000) or when the largest has 3 or 4 digits, else ``decimals`` decimals of one
    power of ten shared by all (``× 1e-3``)."""
    largest = float(np.abs(values).max()) if np.size(values) else 0.0
    exponent = int(np.floor(np.log10(largest))) if largest else 0
    whole = exponent < 4 and (exponent >= 2 or np.array_equal(values, np.round(values)))
    exponent, decimals = (0, 0) if whole else (exponent, decimals)

    def number(value):
        text = f"{value / 10.0 ** exponent:.{decimals}f}"
        return text.lstrip("-") if float(text) == 0 else text         # no "-0.00"
    return number, f" · × 1e{exponent}" if exponent else ""


def _outline(ax, top: float, left: float, height: float, width: float, color: str,
             linestyle="-", linewidth=3.0):
    """A rectangle around cells ``top..top+height-1``, ``left..left+width-1`` of an imshow,
    drawn above the cell separators."""
    ax.add_patch(Rectangle((left - 0.5, top - 0.5), width, height, fill=False, edgecolor=color,
                           linestyle=linestyle, linewidth=linewidth, clip_on=False,
                           zorder=viz.OUTLINE_ZORDER))


def _padding_text(padding) -> str:
    return padding if isinstance(padding, str) else f"{padding}"


def _op_message(op) -> str:
    return f"op must be 'max' or 'avg' (a pooling op); got {op!r}"


# --------------------------------------------------------------------------------------------
# windows: a pooling layer on a photo
# --------------------------------------------------------------------------------------------

def _formula(geometry: common.Geometry) -> str:
    """The output-size formula for rows and columns with the numbers filled in (three lines)."""
    lines = [f"{out} = ({length} + pad + pad - span) // stride + 1 = "
             f"({geometry.x_shape[1 + axis]} + {geometry.padding[axis][0]} + "
             f"{geometry.padding[axis][1]} - {geometry.span[axis]}) // {geometry.stride[axis]}"
             f" + 1 = {geometry.out_hw[axis]}" for axis, length in enumerate("HW")
             for out in [f"O{length}"]]
    return "\n".join([*lines, f"span = dilation·(size-1) + 1 = {geometry.dilation[0]}·"
                               f"({geometry.kernel[0]}-1) + 1 = {geometry.span[0]}"])


@_readable
def windows_panel(image, controls: dict) -> Panel:
    """The picture of :func:`windows` for one setting of its controls.

    Parameters
    ----------
    image : (1, H, W, C) array, values in [0, 1]; C is 1, 2 (gray, alpha), 3 or 4 (RGBA)
    controls : dict
        ``op`` ("max" or "avg"), ``size``, ``stride``, ``padding`` ("valid", "same" or a
        number), ``dilation``, ``count_include_pad`` (average pool only) and ``style`` (a name
        in :data:`pooling_lab.STYLES`).

    Returns
    -------
    Panel
        Four panels in a row, each named (``ax.get_label()``): ``"photo"`` with the windows of
        :data:`DRAWN_WINDOWS` and their taps, ``"output"`` the pooled photo, ``"coverage"``
        the window taps reading each pixel (``Geometry.coverage_counts``), ``"dx"`` the
        backward pass of a ``dout`` of ones summed over channels; the formula is the
        figure's title. Or a message: the package's when it refuses the setting, or why the
        image or ``op`` cannot be drawn.
    """
    op, style = controls["op"], controls["style"]
    if op not in POOL_OPS:
        return Panel(None, _op_message(op))
    image, message = _picture(image, grayscale=False)
    if message:
        return Panel(None, message)
    forward, backward_pass = op_functions(style, op)
    options = dict(size=controls["size"], stride=controls["stride"],
                   padding=controls["padding"], dilation=controls["dilation"])
    if op == "avg":
        options["count_include_pad"] = controls["count_include_pad"]
    try:
        out, cache = forward(image, **options)                       # (1, OH, OW, C)
        dx = backward_pass(np.ones_like(out), cache)                 # (1, H, W, C)
    except (TypeError, ValueError) as error:
        return Panel(None, str(error))

    geometry = cache.geometry
    figure, (photo, output, coverage, gradient) = _new_figure(4.3, [1.1, 1, 1.25, 1.25])
    viz.show_image(image, ax=_name(photo, "photo"), title="top-left corner\n4 windows · "
                   "taps as dots" + ("\npadding hatched" if geometry.is_padded else ""))
    _draw_windows(photo, geometry)
    setting = (f"{op} · size {controls['size']} · stride {controls['stride']}\npadding "
               f"{_padding_text(controls['padding'])} · dilation {controls['dilation']}")
    if op == "avg":
        setting += f"\ninclude pad {controls['count_include_pad']}"
    viz.show_image(out, ax=_name(output, "output"),
                   title=f"{setting}\nout {geometry.out_hw[0]}x{geometry.out_hw[1]}")
    viz.show_coverage(geometry.coverage_counts(), ax=_name(coverage, "coverage"),
                      title="taps reading\neach pixel")
    over_channels = " · sum over C" if image.shape[3] > 1 else ""
    viz.show_gradient(dx[0].sum(axis=2), ax=_name(gradient, "dx"),    # (H, W, C) -> (H, W)
                      title=f"dx · dout of ones\n{style}{over_channels}")
    figure.suptitle(_formula(geometry), fontfamily="monospace")
    return Panel(figure)


def _draw_windows(ax, geometry: common.Geometry) -> None:
    """Outline the span of the windows of :data:`DRAWN_WINDOWS` over the photo in ``ax``, mark
    each of their taps with a dot (dilation leaves gaps between taps), and zoom onto the
    top-left corner they cover, padding hatched when there is padding."""
    height, width = geometry.x_shape[1:3]
    rows, cols = [0], [0]
    for number, (i, j) in enumerate(DRAWN_WINDOWS):
        if i >= geometry.out_hw[0] or j >= geometry.out_hw[1]:
            continue
        color = viz.WINDOW_COLORS[number % len(viz.WINDOW_COLORS)]
        top, left = geometry.window_origin(i, j)
        _outline(ax, top, left, *geometry.span, color=color, linewidth=2.5)
        taps = geometry.tap_positions(i, j).reshape(-1, 2)          # (KH, KW, 2) -> (KH*KW, 2)
        ax.plot(taps[:, 1], taps[:, 0], "o", color=color, markersize=5, linestyle="none")
        rows += [top, top + geometry.span[0] - 1]
        cols += [left, left + geometry.span[1] - 1]
    viz.draw_padding(ax, (height, width), geometry.padding)
    # A square view at least 12 pixels wide, two pixels beyond the farthest window; image
    # axes run top to bottom, so the y limits are (bottom, top).
    side = max(12, max(rows) - min(rows) + 3, max(cols) - min(cols) + 3)
    ax.set_xlim(min(cols) - 1.5, min(cols) - 1.5 + side)
    ax.set_ylim(min(rows) - 1.5 + side, min(rows) - 1.5)


# --------------------------------------------------------------------------------------------
# backward: a step-through on a small grid
# --------------------------------------------------------------------------------------------

#: The default grid of :func:`backward`: 7x7 levels with ties (two 9s share a window, and so
#: do two 8s), so that size 3 and stride 2 give overlapping windows and visible ties.
BACKWARD_GRID = np.array([[1, 3, 2, 0, 4, 1, 2],
                          [5, 0, 9, 9, 3, 0, 1],
                          [2, 4, 1, 1, 0, 2, 3],
                          [0, 1, 3, 6, 2, 8, 8],
                          [3, 7, 2, 0, 1, 5, 0],
                          [1, 0, 4, 2, 6, 1, 2],
                          [2, 5, 1, 3, 0, 4, 1]], dtype=float)


def backward_steps(grid, controls: dict) -> int:
    """How many steps the step-through has: one per output cell, ``OH * OW`` (0 if refused)."""
    try:
        geometry = common.pool_geometry((1, *np.shape(grid), 1), controls["size"],
                                        controls["stride"], controls["padding"], 1)
    except (TypeError, ValueError):
        return 0
    return geometry.out_hw[0] * geometry.out_hw[1]


def default_dout(out_hw) -> np.ndarray:
    """``dout`` for the step-through: 1, 2, 3, ... in row-major order, (OH, OW), so that every
    window's share can be told apart in ``dx``."""
    return np.arange(1.0, out_hw[0] * out_hw[1] + 1).reshape(out_hw)


def _grid(grid):
    """``grid`` as a float (H, W) array and None, or None and why it cannot be drawn."""
    try:
        grid = common.as_real_array(grid, "grid")
    except TypeError as error:
        return None, str(error)
    if grid.ndim != 2:
        return None, f"grid must be a 2-D (H, W) array; got shape {grid.shape}"
    return grid, _undrawable(grid=grid)


@_readable
def backward_panel(grid, controls: dict, dout=None) -> Panel:
    """The picture of :func:`backward` after ``controls["step"]`` windows.

    Parameters
    ----------
    grid : (H, W) array, a small grid (up to about 10x10, so the numbers stay readable)
    controls : dict
        ``op``, ``size``, ``stride``, ``padding``, ``style`` as for :func:`windows_panel`, and
        ``step``: how many windows have sent their gradient back, 0 to ``OH * OW``.
    dout : (OH, OW) array of finite numbers, optional
        The upstream gradient; :func:`default_dout` by default.

    Returns
    -------
    Panel
        Four named panels: ``"x"`` (the current window outlined, its winner in red and its
        ties dashed in :data:`viz.TIE_COLOR` for max pool), ``"dout"`` (the current cell
        outlined), ``"window adds"`` (what this window sends back: ``backward`` of ``dout``
        kept at this cell only) and ``"dx so far"`` (``backward`` of ``dout`` kept at the
        first ``step`` cells; since backward is linear, the sum of the windows' shares). The
        title says in words what this step does. Or a message when the package refuses the
        setting, ``op`` is not a pooling op, or ``grid`` or ``dout`` cannot be drawn.
    """
    op, style, step = controls["op"], controls["style"], controls["step"]
    if op not in POOL_OPS:
        return Panel(None, _op_message(op))
    grid, message = _grid(grid)
    if message:
        return Panel(None, message)
    forward, backward_pass = op_functions(style, op)
    try:
        out, cache = forward(grid[None, :, :, None], controls["size"], controls["stride"],
                             controls["padding"])                     # (H, W) -> (1, H, W, 1)
        if dout is None:
            dout = default_dout(cache.geometry.out_hw)
        dout = common.check_dout(np.asarray(dout, dtype=float)[None, :, :, None],
                                 cache.geometry, 1)                   # (OH, OW) -> (1, OH, OW, 1)
        message = _undrawable(dout=dout[0, :, :, 0])
        if message:
            return Panel(None, message)
        dx_total = backward_pass(dout, cache)[0, :, :, 0]             # (H, W)
    except (TypeError, ValueError) as error:
        return Panel(None, str(error))
    geometry = cache.geometry
    n_windows = geometry.out_hw[0] * geometry.out_hw[1]
    if isinstance(step, bool) or not isinstance(step, (int, np.integer)):
        raise TypeError(f"step must be an int from 0 to OH * OW = {n_windows}; got {step!r}")
    if not 0 <= step <= n_windows:
        raise ValueError(f"step must be from 0 to OH * OW = {n_windows}; got {step}")

    # Backward is linear in dout, so dout kept at the first `step` cells gives dx so far, and
    # dout kept at one cell gives that window's share.
    done = (np.arange(n_windows) < step).reshape(geometry.out_hw)[None, :, :, None]
    dx_so_far = backward_pass(np.where(done, dout, 0.0), cache)[0, :, :, 0]
    cmap, limits = viz.gradient_colors(dx_total, diverging=bool(dx_total.min() < 0))
    number, exponent = _grid_format(dx_total, decimals=1)
    padded_width = geometry.padded_shape[2]
    figure, (x_ax, dout_ax, share_ax, dx_ax) = _new_figure(
        4.6, [padded_width, dout.shape[2], padded_width, padded_width])
    pad_value = -np.inf if op == "max" else 0.0
    viz.show_numbers(grid, ax=_name(x_ax, "x"), title="x", fontsize=FONT_PT,
                     padding=geometry.padding, pad_value=pad_value)
    dout_number, dout_exponent = _grid_format(dout, decimals=1)
    viz.show_numbers(dout[0, :, :, 0], ax=_name(dout_ax, "dout"), title="dout" + dout_exponent,
                     fmt=dout_number, fontsize=FONT_PT, cmap=cmap, limits=limits)
    share, changed = np.zeros_like(dx_so_far), []
    story = "step 0: no window has sent its gradient back yet; dx is all zeros"
    if step:
        i, j = divmod(step - 1, geometry.out_hw[1])
        one_cell = np.zeros_like(dout)
        one_cell[0, i, j, 0] = 1.0
        unit_share = backward_pass(one_cell, cache)[0, :, :, 0]     # this window, dout = 1
        share = unit_share * dout[0, i, j, 0]
        changed = [tuple(cell) for cell in np.argwhere(unit_share != 0)]
        story = _story(op, geometry, grid, out[0, i, j, 0], dout[0, i, j, 0], (i, j), share,
                       dx_so_far, x_ax)
        _outline(dout_ax, i, j, 1, 1, viz.WINDOW_COLORS[0])
    for ax, values, name, title in (
            (share_ax, share, "window adds", "this window adds"),
            (dx_ax, dx_so_far, "dx so far", f"dx so far · {step} of {n_windows}")):
        viz.show_numbers(values, ax=_name(ax, name), fmt=lambda value: number(value) if value
                         else "", title=title + exponent,
                         highlight=changed, cmap=cmap, limits=limits, fontsize=FONT_PT,
                         padding=geometry.padding, pad_value=None)
    if step:
        for ax in (x_ax, share_ax, dx_ax):
            _outline(ax, *geometry.window_origin(i, j), *geometry.span, viz.WINDOW_COLORS[0])
    figure.suptitle(f"{op} · size {controls['size']} · stride {controls['stride']} · padding "
                    f"{_padding_text(controls['padding'])} · {style}\n{story}")
    return Panel(figure)


def _story(op, geometry, grid, window_max, window_dout, output, share, dx_so_far, x_ax):
    """What window ``output`` sends back and where it adds up, in words; outlines the winner
    and the ties of a max window in ``x_ax``.

    Parameters
    ----------
    share : (H, W) what this window sends back; dx_so_far : (H, W) including it
    """
    i, j = output
    changed = [tuple(int(n) for n in cell) for cell in np.argwhere(share != 0)]
    if not changed:                                 # a dout of 0 sends nothing back
        return f"window ({i}, {j}) · dout 0: nothing to send back"
    if op == "avg":
        row, col = changed[0]
        story = (f"window ({i}, {j}) · dout {window_dout:g} spread over {len(changed)} cells: "
                 f"each += {window_dout:g} / {window_dout / share[row, col]:.3g} = "
                 f"{share[row, col]:.3g}")
    else:
        (row, col), = changed
        _outline(x_ax, row, col, 1, 1, viz.WINNER_COLOR)
        taps = geometry.tap_positions(i, j).reshape(-1, 2)          # (KH, KW, 2) -> (KH*KW, 2)
        height, width = grid.shape
        ties = [(int(r), int(c)) for r, c in taps
                if 0 <= r < height and 0 <= c < width and (r, c) != (row, col)
                and grid[r, c] == window_max]
        for r, c in ties:
            _outline(x_ax, r, c, 1, 1, viz.TIE_COLOR, linestyle="--")
        story = (f"window ({i}, {j}) · dout {window_dout:g} goes to its winner x[{row}, {col}]"
                 f" = {window_max:g}")
        if ties:
            story += (f" · tie with {', '.join(f'x[{r}, {c}]' for r, c in ties)}: "
                      f"the first maximum (row-major) wins")
    # A cell whose dx so far differs from this window's share got gradient from earlier windows.
    added = [cell for cell in changed if dx_so_far[cell] != share[cell]]
    if added:
        row, col = added[0]
        return story + (f"\noverlap: dx[{row}, {col}] = {dx_so_far[row, col] - share[row, col]:.3g}"
                        f" from earlier windows + {share[row, col]:.3g} = "
                        f"{dx_so_far[row, col]:.3g}")
    return story + "\nno overlap with earlier windows: dx takes this window's share as it is"


# --------------------------------------------------------------------------------------------
# filters: a convolution kernel on a photo
# --------------------------------------------------------------------------------------------

def parse_kernel(text: str) -> np.ndarray:
    """Read a kernel typed as rows of numbers: one row per line, numbers separated by spaces or
    commas; each number as :class:`fractions.Fraction` reads it (``2``, ``-1.5``, ``1e-3``,
    ``1/9``).

    Returns
    -------
    kernel : (KH, KW) float array

    Raises
    ------
    TypeError
        ``text`` is not a string.
    ValueError
        A word that is not a number, a division by zero, a number beyond float64, rows of
        different lengths, or no number at all; the message names the row.
    """
    if not isinstance(text, str):
        raise TypeError(f"kernel must be a string of numbers, one row per line; got {text!r}")
    rows = []
    for number, line in enumerate(text.strip().splitlines(), start=1):
        row = []
        for word in line.replace(",", " ").split():
            try:
                row.append(float(Fraction(word)))
            except ValueError:
                raise ValueError(f"kernel row {number}: {word!r} is not a number "
                                 f"(allowed: 2, -1.5, 1e-3 or a fraction such as 1/9)") from None
            except ZeroDivisionError:
                raise ValueError(f"kernel row {number}: {word!r} divides by zero") from None
            except OverflowError:
                raise ValueError(f"kernel row {number}: {word!r} is beyond the largest "
                                 f"float64 number") from None
        if row:
            rows.append(row)
    if not rows:
        raise ValueError("kernel must hold at least one number; got an empty text")
    for number, row in enumerate(rows, start=1):
        if len(row) != len(rows[0]):
            raise ValueError(f"kernel rows must have the same length: row 1 has {len(rows[0])} "
                             f"numbers, row {number} has {len(row)}")
    return np.array(rows)


def filter_dout(choice: str, out: np.ndarray) -> np.ndarray:
    """The upstream gradient chosen in :func:`filters` (see :data:`DOUT_CHOICES`).

    Parameters
    ----------
    choice : "ones", "out" or "random"
    out : (N, OH, OW, C_out) the forward output

    Returns
    -------
    dout : (N, OH, OW, C_out)
    """
    if choice == "ones":
        return np.ones_like(out)
    if choice == "out":
        return out.copy()
    if choice == "random":
        return np.random.default_rng(0).normal(size=out.shape)
    raise ValueError(f"dout must be one of {list(DOUT_CHOICES)}; got {choice!r}")


#: Kernels larger than this (on either side) are drawn without their numbers.
LARGEST_NUMBERED_KERNEL = 5


def _show_kernel(values, ax, title):
    """A kernel's numbers (up to 5x5) on a diverging map, or only its colours beyond."""
    if max(values.shape) > LARGEST_NUMBERED_KERNEL:
        return viz.show_gradient(values, ax=ax, title=title, colorbar=False, diverging=True)
    number, exponent = _grid_format(values, decimals=2 if values.shape[1] <= 3 else 1)
    return viz.show_numbers(values, ax=ax, fmt=number, cmap="RdBu_r", fontsize=FONT_PT,
                            title=title + exponent)


@_readable
def filters_panel(image, controls: dict) -> Panel:
    """The picture of :func:`filters` for one setting of its controls.

    Parameters
    ----------
    image : (1, H, W, C) array, a photo; drawn in gray (C 1 or 2, or RGB(A) made gray)
    controls : dict
        ``kernel`` (text, see :func:`parse_kernel`), ``stride``, ``padding``, ``dilation``,
        ``dout`` (a key of :data:`DOUT_CHOICES`) and ``style``.

    Returns
    -------
    Panel
        Five named panels: ``"photo"``, ``"kernel"`` (its numbers up to 5x5), ``"output"``
        (a picture when the weights sum to 1, a signed map otherwise), ``"dx"`` and ``"dw"``
        from ``conv_backward``. Or the message of a bad kernel text, the package's message
        when it refuses the setting, or why a result cannot be drawn.
    """
    style = controls["style"]
    forward, backward_pass = op_functions(style, "conv")
    image, message = _picture(image, grayscale=True)
    try:
        if message:
            raise ValueError(message)
        kernel = parse_kernel(controls["kernel"])                    # (KH, KW)
        with np.errstate(all="ignore"):                              # checked below
            out, cache = forward(image, kernel[:, :, None, None], stride=controls["stride"],
                                 padding=controls["padding"],
                                 dilation=controls["dilation"])      # (1, OH, OW, 1)
            dout = filter_dout(controls["dout"], out)
            dx, dw, _ = backward_pass(dout, cache)                   # (1, H, W, 1), w's shape
    except (TypeError, ValueError) as error:
        return Panel(None, str(error))
    message = _undrawable(kernel=kernel, out=out[0, :, :, 0], dx=dx[0, :, :, 0],
                          dw=dw[:, :, 0, 0])
    if message:
        return Panel(None, message)

    geometry = cache.geometry
    kernel_h, kernel_w = kernel.shape
    figure, (photo, kernel_ax, output, gradient, dw_ax) = _new_figure(
        4.2, [0.9, 1, 1.15, 1.15, 1])
    viz.show_image(image, ax=_name(photo, "photo"),
                   title=f"photo\n{image.shape[1]}x{image.shape[2]}")
    _show_kernel(kernel, _name(kernel_ax, "kernel"), f"kernel {kernel_h}x{kernel_w}")
    setting = (f"out {geometry.out_hw[0]}x{geometry.out_hw[1]}\nstride {controls['stride']} · "
               f"pad {_padding_text(controls['padding'])}\ndilation {controls['dilation']}")
    if np.isclose(kernel.sum(), 1.0):
        viz.show_image(out, ax=_name(output, "output"), title=f"weights sum to 1\n{setting}")
    else:
        # a few strong edges would wash out the rest: full colour from the 99th percentile on
        viz.show_gradient(out, ax=_name(output, "output"), title=f"signed output\n{setting}",
                          limit=viz.symmetric_limit(out, percentile=99))
    viz.show_gradient(dx, ax=_name(gradient, "dx"),
                      title=f"dx · {style}\ndout = {controls['dout']}",
                      limit=viz.symmetric_limit(dx, percentile=99))
    _show_kernel(dw[:, :, 0, 0], _name(dw_ax, "dw"), "dw")
    return Panel(figure)


# --------------------------------------------------------------------------------------------
# The widget layer
# --------------------------------------------------------------------------------------------

def _widgets():
    """ipywidgets, or None when it is not installed (the explorers then show a picture)."""
    try:
        import ipywidgets
    except ImportError:
        return None
    return ipywidgets


class Explorer:
    """Controls above a picture, redrawn by an update function whenever a control moves.

    Attributes
    ----------
    controls : dict of ipywidgets controls, keyed as the update function's ``controls``
    picture : ipywidgets.Image, the current figure as a PNG, as wide as the cell
    message : ipywidgets.HTML, why the current setting cannot be drawn
    view : ipywidgets.VBox, what the notebook shows
    """

    def __init__(self, widgets, controls: dict, update, rows):
        self.controls = controls
        self._update = update
        self.picture = widgets.Image(format="png", layout=widgets.Layout(width="100%"))
        self.message = widgets.HTML()
        self.view = widgets.VBox([*[widgets.HBox(row) for row in rows], self.message,
                                  self.picture])
        for control in controls.values():
            control.observe(self.redraw, names="value")
        self.redraw()

    def values(self) -> dict:
        """The controls' current values: the update function's ``controls`` dict."""
        return {name: control.value for name, control in self.controls.items()}

    def redraw(self, change=None) -> Panel:
        """Call the update function with the current values and show what it returns."""
        panel = self._update(self.values())
        if panel.figure is None:
            # Keep the last picture, dimmed, under the message: the setting it shows is gone.
            self.message.value = ('<p style="color: #b00; font-family: monospace; font-size: '
                                  f'16px; white-space: pre-wrap">{html.escape(panel.message)}'
                                  '</p>')
            self.picture.layout.opacity = "0.3"
        else:
            self.message.value = ""
            self.picture.layout.opacity = "1"
            self.picture.value = panel.png()
        return panel

    def _repr_mimebundle_(self, **kwargs):
        # One output holding the live widget and a PNG of the setting it starts with: a front
        # end that renders widgets shows the widget, any other the picture.
        bundle = self.view._repr_mimebundle_(**kwargs)
        bundle["image/png"] = base64.b64encode(self.picture.value).decode("ascii")
        return bundle


def _show(make_explorer, panel_of_defaults) -> None:
    """Display an explorer, or without ipywidgets the install hint and its default picture
    (``panel_of_defaults()``; a message instead when even that cannot be drawn)."""
    from IPython.display import Image, display
    if _widgets() is not None:
        display(make_explorer())
        return
    print(INSTALL_HINT)
    panel = panel_of_defaults()
    display(Image(data=panel.png()) if panel.figure else panel.message)


def _controls(widgets, defaults: dict, **ranges) -> dict:
    """A control per default value: a slider for each name in ``ranges`` (``(min, max)``),
    then the padding, style, op and ``count_include_pad`` controls the defaults hold."""
    style = defaults["style"]
    if style not in STYLES:
        raise ValueError(f"style must be one of {list(STYLES)}; got {style!r}")
    wide, narrow = widgets.Layout(width="220px"), widgets.Layout(width="170px")
    controls = {name: widgets.IntSlider(value=defaults[name], min=low, max=high,
                                        description=name, continuous_update=False, layout=wide)
                for name, (low, high) in ranges.items()}
    controls["padding"] = widgets.Dropdown(options=[(str(p), p) for p in PADDING_CHOICES],
                                           value=defaults["padding"], description="padding",
                                           layout=narrow)
    controls["style"] = widgets.Dropdown(options=list(STYLES), value=style,
                                         description="style", layout=narrow)
    if "op" in defaults:
        controls["op"] = widgets.ToggleButtons(options=list(POOL_OPS), value=defaults["op"],
                                               description="op", style={"button_width": "50px"})
    if "count_include_pad" in defaults:
        controls["count_include_pad"] = widgets.Checkbox(value=defaults["count_include_pad"],
                                                         description="count_include_pad (avg)")
    return controls


def _photo(image, name: str, grayscale: bool, size: int):
    """``image`` as a single ``(1, H, W, C)`` image: the bundled photo ``name`` when None, a
    file loaded as :func:`images.load_file` loads it when a path, else the array checked."""
    if image is None:
        return images.load(name, grayscale=grayscale, size=size)
    if isinstance(image, (str, os.PathLike)):
        return images.load_file(image, grayscale=grayscale, size=size)
    image = common.as_float_array(image, "image", "N, H, W, C")
    if image.shape[0] != 1:
        raise ValueError(f"image must be one image, shape (1, H, W, C); got {image.shape}")
    return image


def windows_explorer(image=None, style: str = "fast"):
    """The :func:`windows` explorer as an :class:`Explorer` (needs ipywidgets)."""
    widgets = _widgets()
    image = _photo(image, "chelsea", grayscale=False, size=64)
    controls = _controls(widgets, {**WINDOWS_DEFAULTS, "style": style}, size=(1, 8),
                         stride=(1, 6), dilation=(1, 4))
    rows = [[controls["op"], controls["size"], controls["stride"], controls["dilation"]],
            [controls["padding"], controls["count_include_pad"], controls["style"]]]
    return Explorer(widgets, controls, lambda values: windows_panel(image, values), rows)


def windows(image=None, style: str = "fast") -> None:
    """A pooling layer on a photo, with controls for op, size, stride, padding, dilation and
    ``count_include_pad``; see :func:`windows_panel` for what is drawn.

    Parameters
    ----------
    image : (1, H, W, C) array with values in [0, 1], or an image file's path, optional
        By default the cat, 43x64 pixels, so that single windows can be seen.
    style : a name in :data:`pooling_lab.STYLES`, the style the explorer starts with
    """
    _show(lambda: windows_explorer(image, style),
          lambda: windows_panel(_photo(image, "chelsea", False, 64),
                                {**WINDOWS_DEFAULTS, "style": style}))


def backward_explorer(grid=None, dout=None, style: str = "fast", op: str = "max"):
    """The :func:`backward` explorer as an :class:`Explorer` (needs ipywidgets)."""
    widgets = _widgets()
    grid = BACKWARD_GRID if grid is None else grid
    defaults = {**BACKWARD_DEFAULTS, "style": style, "op": op}
    controls = _controls(widgets, defaults, size=(1, 5), stride=(1, 6))
    steps = max(backward_steps(grid, defaults), 1)
    controls["step"] = widgets.IntSlider(value=min(defaults["step"], steps), min=0, max=steps,
                                         description="window",
                                         layout=widgets.Layout(width="300px"))
    play = widgets.Play(value=controls["step"].value, min=0, max=steps, interval=1200,
                        description="play")
    widgets.jslink((play, "value"), (controls["step"], "value"))
    buttons = [widgets.Button(description=text, layout=widgets.Layout(width="80px"))
               for text in ("◀ step", "step ▶")]
    for button, by in zip(buttons, (-1, 1)):
        button.on_click(lambda _, by=by: setattr(controls["step"], "value", min(max(
            controls["step"].value + by, 0), controls["step"].max)))

    def update(values):
        # Size, stride and padding change the number of windows: the step control follows.
        steps = backward_steps(grid, values)
        if controls["step"].max != max(steps, 1):
            controls["step"].max = play.max = max(steps, 1)
        values["step"] = min(values["step"], steps)
        return backward_panel(grid, values, dout)

    rows = [[controls["op"], controls["size"], controls["stride"], controls["padding"],
             controls["style"]],
            [play, *buttons, controls["step"]]]
    return Explorer(widgets, controls, update, rows)


def backward(grid=None, dout=None, style: str = "fast", op: str = "max") -> None:
    """A step-through of the pooling backward pass on a small grid, window by window, with
    Play and step buttons; see :func:`backward_panel` for what is drawn.

    Parameters
    ----------
    grid : (H, W) array, optional
        By default :data:`BACKWARD_GRID` (7x7, with ties).
    dout : (OH, OW) array, optional
        By default 1, 2, 3, ... (:func:`default_dout`); a fixed ``dout`` only fits the
        settings whose output has its shape (the others show the package's message).
    style : a name in :data:`pooling_lab.STYLES`
    op : "max" or "avg", the op the explorer starts with
    """
    grid = BACKWARD_GRID if grid is None else grid
    _show(lambda: backward_explorer(grid, dout, style, op),
          lambda: backward_panel(grid, {**BACKWARD_DEFAULTS, "style": style, "op": op}, dout))


def filters_explorer(image=None, style: str = "fast"):
    """The :func:`filters` explorer as an :class:`Explorer` (needs ipywidgets)."""
    widgets = _widgets()
    image = _photo(image, "grace_hopper", grayscale=True, size=128)
    controls = _controls(widgets, {**FILTERS_DEFAULTS, "style": style}, stride=(1, 6),
                         dilation=(1, 4))
    controls["kernel"] = widgets.Textarea(value=FILTERS_DEFAULTS["kernel"],
                                          description="kernel", continuous_update=False,
                                          layout=widgets.Layout(width="260px", height="110px"))
    controls["dout"] = widgets.Dropdown(options=[(f"{name}: {loss}", name)
                                                 for name, loss in DOUT_CHOICES.items()],
                                        value=FILTERS_DEFAULTS["dout"], description="dout",
                                        layout=widgets.Layout(width="300px"))
    # Picking a filter writes its numbers into the kernel box; the box is what is drawn, and
    # typing into it turns the choice to "custom".
    names = {text: name for name, text in FILTERS.items()}
    choice = widgets.Dropdown(options=[*FILTERS, "custom"],
                              value=names.get(FILTERS_DEFAULTS["kernel"], "custom"),
                              description="filter", layout=widgets.Layout(width="220px"))
    choice.observe(lambda change: change["new"] == "custom" or setattr(
        controls["kernel"], "value", FILTERS[change["new"]]), names="value")
    controls["kernel"].observe(lambda change: setattr(
        choice, "value", names.get(change["new"], "custom")), names="value")
    rows = [[widgets.VBox([choice, controls["dout"], controls["style"]]), controls["kernel"],
             widgets.VBox([controls["stride"], controls["dilation"], controls["padding"]])]]
    return Explorer(widgets, controls, lambda values: filters_panel(image, values), rows)


def filters(image=None, style: str = "fast") -> None:
    """A convolution with a classic filter or a kernel typed in, on a photo drawn in gray; see
    :func:`filters_panel` for what is drawn.

    Parameters
    ----------
    image : (1, H, W, C) array, or an image file's path, optional
        By default Grace Hopper's portrait in grayscale, 128 pixels high.
    style : a name in :data:`pooling_lab.STYLES`
    """
    _show(lambda: filters_explorer(image, style),
          lambda: filters_panel(_photo(image, "grace_hopper", True, 128),
                                {**FILTERS_DEFAULTS, "style": style}))
