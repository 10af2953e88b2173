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
:func:`pooling_lab.op_functions`, and the window positions from :class:`geometry.Geometry`. The
explorers draw; they never pool or convolve by themselves.

Each explorer is two layers, so that it can be tested without a browser:

* an **update function** (:func:`windows_panel`, :func:`backward_panel`,
  :func:`filters_panel`) takes the data and a plain dict of control values and returns a
  :class:`Panel`: a matplotlib figure, or the contract's message when the package refuses the
  combination (padding more than half a window, a window larger than the photo...);
* a thin **widget layer** (:func:`windows`, :func:`backward`, :func:`filters`) that calls it
  whenever a control moves and shows the figure as a PNG (what matplotlib's inline backend
  shows; the interactive ipympl backend is not used, as it breaks in some front ends).

The output of an explorer cell holds the live widget and a PNG of the default setting in one
bundle: JupyterLab shows the widget, GitHub, nbval and a kernel without ipywidgets show the
picture. Without ipywidgets the explorer prints how to install it and shows the picture.
"""

from __future__ import annotations

import base64
import io
import re
from dataclasses import dataclass

import numpy as np
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from . import STYLES, check_style, contract, images, op_functions, rules, viz
from .geometry import Geometry, pool_geometry
from .viz import geometry as viz_geometry

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

_DPI = 80                    # modest pictures: the PNG of a default setting stays near 100 kB
_TIE_COLOR = "#ff8800"       # ties outlined in orange, the winner in red (as viz.show_numbers)


@dataclass
class Panel:
    """What an update function returns.

    Attributes
    ----------
    figure : matplotlib Figure or None
        None when the package refused the combination of controls.
    message : str or None
        The package's own error message when it refused, None otherwise.
    """

    figure: Figure | None
    message: str | None = None

    def png(self) -> bytes | None:
        """The figure as PNG bytes (None for a refused combination)."""
        if self.figure is None:
            return None
        buffer = io.BytesIO()
        self.figure.savefig(buffer, format="png", dpi=_DPI)
        return buffer.getvalue()


# --------------------------------------------------------------------------------------------
# Small helpers shared by the three update functions
# --------------------------------------------------------------------------------------------

def _new_figure(width: float, height: float, panels: int, ratios=None):
    """A figure not managed by pyplot (nothing shows by itself, nothing to close), one row of
    ``panels`` axes."""
    figure = Figure(figsize=(width, height), dpi=_DPI, layout="constrained")
    axes = figure.subplots(1, panels, gridspec_kw={"width_ratios": ratios} if ratios else None)
    return figure, list(axes)


def _name(ax, label: str):
    """Label an axes, so that a test can find a panel by name: ``{ax.get_label(): ax}``."""
    ax.set_label(label)
    return ax


def _padding_text(padding) -> str:
    return padding if isinstance(padding, str) else f"{padding}"


def _show_positive(values, ax, title, colorbar_label):
    """A map that is never negative: a sequential colour map from 0 (white) up (dark)."""
    shown = ax.imshow(values, cmap="Reds", vmin=0, vmax=viz.symmetric_limit(values),
                      interpolation="nearest")
    bar = ax.figure.colorbar(shown, ax=ax, shrink=0.8)
    bar.set_label(colorbar_label)
    ax.set_title(title)
    ax.set_xticks([])
    ax.set_yticks([])
    return ax


def _formula(geometry: Geometry) -> str:
    """The output-size formula for rows and columns with the numbers filled in (two lines)."""
    lines = []
    for axis, (length, out) in enumerate((("H", "OH"), ("W", "OW"))):
        (before, after), span = geometry.padding[axis], geometry.span[axis]
        lines.append(
            f"{out} = ({length} + pad + pad - span) // stride + 1 = "
            f"({geometry.x_shape[1 + axis]} + {before} + {after} - {span}) // "
            f"{geometry.stride[axis]} + 1 = {geometry.out_hw[axis]}   with span = "
            f"dilation·(size-1)+1 = {geometry.dilation[axis]}·({geometry.kernel[axis]}-1)+1")
    return "\n".join(lines)


def _outline(ax, top: float, left: float, height: float, width: float, color: str,
             linestyle="-", linewidth=2.0):
    """A rectangle around cells ``top..top+height-1``, ``left..left+width-1`` of an imshow."""
    ax.add_patch(Rectangle((left - 0.5, top - 0.5), width, height, fill=False, edgecolor=color,
                           linestyle=linestyle, linewidth=linewidth, clip_on=False))


# --------------------------------------------------------------------------------------------
# windows: a pooling layer on a photo
# --------------------------------------------------------------------------------------------

#: The default controls of :func:`windows`.
WINDOWS_DEFAULTS = {"op": "max", "size": 3, "stride": 2, "padding": "valid", "dilation": 1,
                    "count_include_pad": True, "style": "fast"}

#: The outputs whose windows are drawn on the photo: the top-left corner, where padding shows.
DRAWN_WINDOWS = ((0, 0), (0, 1), (1, 0), (1, 1))


#: The ops :func:`windows` and :func:`backward` show: they draw pooling windows.
POOL_OPS = ("max", "avg")


def _op_message(op) -> str:
    return f"op must be 'max' or 'avg' (a pooling op); got {op!r}"


def windows_panel(image, controls: dict) -> Panel:
    """The picture of :func:`windows` for one setting of its controls.

    Parameters
    ----------
    image : (1, H, W, C) array, values in [0, 1]
    controls : dict
        ``op`` ("max" or "avg"), ``size``, ``stride``, ``padding`` ("valid", "same" or a
        number), ``dilation``, ``count_include_pad`` (average pool only) and ``style`` (a name
        in :data:`pooling_lab.STYLES`).

    Returns
    -------
    Panel
        Four panels in a row, each named (``ax.get_label()``): ``"photo"`` with the windows of
        :data:`DRAWN_WINDOWS` and their taps, ``"output"`` the pooled photo, ``"coverage"``
        the window taps reading each pixel (``viz.geometry.coverage_counts``), ``"dx"`` the
        backward pass of a ``dout`` of ones summed over channels; the formula is the
        figure's title. Or the package's message when it refuses the setting, or a message
        when ``op`` is not a pooling op.
    """
    op, style = controls["op"], controls["style"]
    if op not in POOL_OPS:
        return Panel(None, _op_message(op))
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
    figure, (photo, output, coverage, gradient) = _new_figure(13, 3.9, 4, [1.1, 1, 1.2, 1.2])
    height, width = image.shape[1:3]
    viz.show_image(image, ax=_name(photo, "photo"),
                   title=f"top-left of the {height}x{width} photo\nwindows (0, 0) (0, 1) (1, 0) "
                         f"(1, 1)\ntaps as dots · padding gray")
    _draw_windows(photo, geometry)
    setting = (f"{op} · size {controls['size']} · stride {controls['stride']}\npadding "
               f"{_padding_text(controls['padding'])} · dilation {controls['dilation']}")
    if op == "avg":
        setting += f"\ncount_include_pad {controls['count_include_pad']}"
    viz.show_image(out, ax=_name(output, "output"),
                   title=f"{setting}\nout {geometry.out_hw[0]}x{geometry.out_hw[1]}")
    viz.show_coverage(viz_geometry.coverage_counts(geometry), ax=_name(coverage, "coverage"),
                      title="taps reading each pixel")
    summed = dx[0].sum(axis=2)                                       # (H, W, C) -> (H, W)
    over_channels = "\nsummed over C" if image.shape[3] > 1 else ""
    _show_positive(summed, _name(gradient, "dx"),
                   f"dx · dout of ones · {style}{over_channels}", "dx")
    figure.suptitle(_formula(geometry), fontfamily="monospace", fontsize=9)
    return Panel(figure)


def _draw_windows(ax, geometry: Geometry) -> None:
    """Outline the span of the windows of :data:`DRAWN_WINDOWS` over the photo in ``ax``, mark
    each of their taps with a dot (dilation leaves gaps between taps), and zoom onto the
    top-left corner they cover, padding included (gray)."""
    height, width = geometry.x_shape[1:3]
    rows, cols = [0], [0]
    for number, (i, j) in enumerate(DRAWN_WINDOWS):
        if i >= geometry.out_hw[0] or j >= geometry.out_hw[1]:
            continue
        color = viz.WINDOW_COLORS[number % len(viz.WINDOW_COLORS)]
        top, left = viz_geometry.window_origin(geometry, i, j)
        _outline(ax, top, left, *geometry.span, color=color, linewidth=2)
        taps = viz_geometry.tap_positions(geometry, i, j).reshape(-1, 2)  # -> (KH*KW, 2)
        ax.plot(taps[:, 1], taps[:, 0], "o", color=color, markersize=4, linestyle="none")
        rows += [top, top + geometry.span[0] - 1]
        cols += [left, left + geometry.span[1] - 1]
    # A square view at least 12 pixels wide, two pixels beyond the farthest window; image
    # axes run top to bottom, so the y limits are (bottom, top).
    side = max(12, max(rows) - min(rows) + 3, max(cols) - min(cols) + 3)
    ax.set_facecolor("#bbbbbb")
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

#: The default controls of :func:`backward`; ``step`` 0 is before the first window.
BACKWARD_DEFAULTS = {"op": "max", "size": 3, "stride": 2, "padding": "valid", "style": "fast",
                     "step": 1}


def backward_steps(grid, controls: dict) -> int:
    """How many steps the step-through has: one per output cell, ``OH * OW`` (0 if refused)."""
    try:
        geometry = pool_geometry((1, *np.shape(grid), 1), controls["size"],
                                 controls["stride"], controls["padding"], 1)
    except (TypeError, ValueError):
        return 0
    return geometry.out_hw[0] * geometry.out_hw[1]


def default_dout(out_hw) -> np.ndarray:
    """``dout`` for the step-through: 1, 2, 3, ... in row-major order, (OH, OW), so that every
    window's share can be told apart in ``dx``."""
    return np.arange(1.0, out_hw[0] * out_hw[1] + 1).reshape(out_hw)


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
        ties in dashed orange for max pool), ``"dout"`` (the current cell outlined),
        ``"window adds"`` (what this window sends back: ``backward`` of ``dout`` kept at this
        cell only) and ``"dx so far"`` (``backward`` of ``dout`` kept at the first ``step``
        cells; since backward is linear, this is the sum of the windows' shares). The title
        says in words what this step does. Or a message when the package refuses the setting,
        ``op`` is not a pooling op, or ``dout`` holds NaN or inf.
    """
    op, style, step = controls["op"], controls["style"], controls["step"]
    if op not in POOL_OPS:
        return Panel(None, _op_message(op))
    forward, backward_pass = op_functions(style, op)
    x = rules.as_real_array(grid, "grid")[None, :, :, None]         # (H, W) -> (1, H, W, 1)
    try:
        out, cache = forward(x, controls["size"], controls["stride"], controls["padding"])
        if dout is None:
            dout = default_dout(cache.geometry.out_hw)
        dout = contract.check_dout(np.asarray(dout, dtype=float)[None, :, :, None],
                                   cache.geometry, 1)                   # (OH, OW) -> (1, OH, OW, 1)
        _check_finite_dout(dout[0, :, :, 0])
        dx_total = backward_pass(dout, cache)                         # (1, H, W, 1)
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
    limits = _gradient_limits(dx_total)
    figure, (x_ax, dout_ax, share_ax, dx_ax) = _new_figure(
        13, 4.2, 4, [geometry.padded_shape[2], dout.shape[2], geometry.padded_shape[2],
                     geometry.padded_shape[2]])
    viz.show_numbers(grid, ax=_name(x_ax, "x"), title="x")
    viz.show_numbers(dout[0, :, :, 0], ax=_name(dout_ax, "dout"), title="dout", **limits)
    if step == 0:
        share = np.zeros_like(dx_so_far)
        story = "step 0: no window has sent its gradient back yet; dx is all zeros"
        changed = []
    else:
        i, j = divmod(step - 1, geometry.out_hw[1])
        one_cell = np.zeros_like(dout)
        one_cell[0, i, j, 0] = 1.0
        unit_share = backward_pass(one_cell, cache)[0, :, :, 0]     # this window, dout = 1
        share = unit_share * dout[0, i, j, 0]
        changed = [tuple(cell) for cell in np.argwhere(unit_share != 0)]
        story = _story(op, geometry, np.asarray(grid, dtype=float), out[0, i, j, 0],
                       dout[0, i, j, 0], (i, j), share, dx_so_far, x_ax)
        _outline(dout_ax, i, j, 1, 1, viz.WINDOW_COLORS[0], linewidth=3)
        top, left = viz_geometry.window_origin(geometry, i, j)
        _outline(x_ax, top, left, *geometry.span, color=viz.WINDOW_COLORS[0], linewidth=3)
        _outline(share_ax, top, left, *geometry.span, color=viz.WINDOW_COLORS[0], linewidth=3)
    viz.show_numbers(share, ax=_name(share_ax, "window adds"), fmt="{:.3g}",
                     title="this window adds", highlight=changed, **limits)
    viz.show_numbers(dx_so_far, ax=_name(dx_ax, "dx so far"), fmt="{:.3g}",
                     title=f"dx so far · {step} of {n_windows} windows", highlight=changed,
                     **limits)
    for ax in (x_ax, share_ax, dx_ax):
        _show_padding(ax, geometry)
    figure.suptitle(f"{op} · size {controls['size']} · stride {controls['stride']} · padding "
                    f"{_padding_text(controls['padding'])} · {style}\n{story}", fontsize=10)
    return Panel(figure)


def _check_finite_dout(dout) -> None:
    """Raise ValueError if ``dout`` (OH, OW) holds NaN or inf: such a number has no colour and
    no place on the gradient scale, and the step-through could not say where it went."""
    not_finite = np.argwhere(~np.isfinite(dout))                     # (count, 2)
    if len(not_finite):
        row, col = (int(n) for n in not_finite[0])
        raise ValueError(f"dout must hold finite numbers; got {dout[row, col]} at "
                         f"dout[{row}, {col}] ({len(not_finite)} of {dout.size} cells)")


def _gradient_limits(dx_total) -> dict:
    """One colour scale for every gradient panel, set by the final ``dx`` so that colours do
    not jump while stepping: the course's :func:`viz.gradient_colors`, sequential when nothing
    is negative, diverging as soon as one value is negative."""
    cmap, limits = viz.gradient_colors(dx_total, diverging=bool(dx_total.min() < 0))
    return dict(cmap=cmap, limits=limits)


def _show_padding(ax, geometry: Geometry) -> None:
    """Widen a grid's axes to the padded input, so windows reaching into padding show."""
    (top, bottom), (left, right) = geometry.padding
    height, width = geometry.x_shape[1:3]
    ax.set_xlim(-left - 0.5, width + right - 0.5)
    ax.set_ylim(height + bottom - 0.5, -top - 0.5)


def _story(op, geometry, grid, window_max, window_dout, output, share, dx_so_far, x_ax):
    """Two lines saying what window ``output`` sends back and where it adds up; outlines the
    winner and the ties of a max window in ``x_ax``.

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
        _outline(x_ax, row, col, 1, 1, "red", linewidth=3)
        taps = viz_geometry.tap_positions(geometry, i, j).reshape(-1, 2)  # -> (KH*KW, 2)
        height, width = grid.shape
        ties = [(int(r), int(c)) for r, c in taps
                if 0 <= r < height and 0 <= c < width and (r, c) != (row, col)
                and grid[r, c] == window_max]
        for r, c in ties:
            _outline(x_ax, r, c, 1, 1, _TIE_COLOR, linestyle="--", linewidth=2.5)
        story = f"window ({i}, {j}) · dout {window_dout:g} goes to its winner x[{row}, {col}] = {window_max:g}"
        if ties:
            story += (f" · tie with {', '.join(f'x[{r}, {c}]' for r, c in ties)}: "
                      f"the first maximum (row-major) wins")
    # A cell whose dx so far differs from this window's share got gradient from earlier windows.
    added = [cell for cell in changed if dx_so_far[cell] != share[cell]]
    if added:
        row, col = added[0]
        story += (f"\noverlap: dx[{row}, {col}] = {dx_so_far[row, col] - share[row, col]:.3g} "
                  f"from earlier windows + {share[row, col]:.3g} = {dx_so_far[row, col]:.3g}")
    else:
        story += "\nno overlap with earlier windows: dx takes this window's share as it is"
    return story


# --------------------------------------------------------------------------------------------
# filters: a convolution kernel on a photo
# --------------------------------------------------------------------------------------------

#: The default controls of :func:`filters`.
FILTERS_DEFAULTS = {"kernel": FILTERS["sobel x"], "stride": 1, "padding": "same", "dilation": 1,
                    "dout": "out", "style": "fast"}

_NUMBER = re.compile(r"^[-+]?(\d+\.?\d*|\.\d+)(e[-+]?\d+)?(/[-+]?(\d+\.?\d*|\.\d+))?$", re.I)


def parse_kernel(text: str) -> np.ndarray:
    """Read a kernel typed as rows of numbers: one row per line, numbers separated by spaces or
    commas; a fraction such as ``1/9`` is allowed.

    Returns
    -------
    kernel : (KH, KW) float array

    Raises
    ------
    TypeError
        ``text`` is not a string.
    ValueError
        A word that is not a number, rows of different lengths, or no number at all; the
        message names the row.
    """
    if not isinstance(text, str):
        raise TypeError(f"kernel must be a string of numbers, one row per line; got {text!r}")
    rows = []
    for number, line in enumerate(text.strip().splitlines(), start=1):
        words = line.replace(",", " ").split()
        for word in words:
            if not _NUMBER.match(word):
                raise ValueError(f"kernel row {number}: {word!r} is not a number "
                                 f"(allowed: 2, -1.5, 1e-3 or a fraction such as 1/9)")
        row = []
        for word in words:
            numerator, _, denominator = word.partition("/")
            if denominator and float(denominator) == 0:
                raise ValueError(f"kernel row {number}: {word!r} divides by zero")
            value = float(numerator) / float(denominator) if denominator else float(numerator)
            if not np.isfinite(value):
                raise ValueError(f"kernel row {number}: {word!r} is not a finite number")
            row.append(value)
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


def filters_panel(image, controls: dict) -> Panel:
    """The picture of :func:`filters` for one setting of its controls.

    Parameters
    ----------
    image : (1, H, W, 1) array, a grayscale photo
    controls : dict
        ``kernel`` (text, see :func:`parse_kernel`), ``stride``, ``padding``, ``dilation``,
        ``dout`` (a key of :data:`DOUT_CHOICES`) and ``style``.

    Returns
    -------
    Panel
        Five named panels: ``"photo"``, ``"kernel"`` (its numbers), ``"output"`` (a picture
        when the weights sum to 1, a signed map otherwise), ``"dx"`` and ``"dw"`` (its
        numbers) from ``conv_backward``. Or the message of a bad kernel text, or the
        package's message when it refuses the setting.
    """
    style = controls["style"]
    forward, backward_pass = op_functions(style, "conv")
    try:
        kernel = parse_kernel(controls["kernel"])                    # (KH, KW)
        w = kernel[:, :, None, None]                                 # -> (KH, KW, 1, 1)
        out, cache = forward(image, w, stride=controls["stride"], padding=controls["padding"],
                             dilation=controls["dilation"])          # (1, OH, OW, 1)
        dout = filter_dout(controls["dout"], out)
        dx, dw, _ = backward_pass(dout, cache)                       # (1, H, W, 1), w's shape
    except (TypeError, ValueError) as error:
        return Panel(None, str(error))

    geometry = cache.geometry
    kernel_h, kernel_w = kernel.shape
    figure, (photo, kernel_ax, output, gradient, dw_ax) = _new_figure(
        14, 3.7, 5, [1, 0.8, 1.15, 1.15, 0.8])
    viz.show_image(image, ax=_name(photo, "photo"),
                   title=f"photo · {image.shape[1]}x{image.shape[2]}")
    viz.show_numbers(kernel, ax=_name(kernel_ax, "kernel"), fmt="{:.3g}", cmap="RdBu_r",
                     fontsize=max(5, 11 - kernel_w), title=f"kernel {kernel_h}x{kernel_w}")
    setting = (f"stride {controls['stride']} · padding {_padding_text(controls['padding'])}"
               f" · dilation {controls['dilation']}\nout {geometry.out_hw[0]}x"
               f"{geometry.out_hw[1]} · {style}")
    if np.isclose(kernel.sum(), 1.0):
        viz.show_image(out, ax=_name(output, "output"), title=f"weights sum to 1 · {setting}")
    else:
        # a few strong edges would wash out the rest: full colour from the 99th percentile on
        viz.show_gradient(out, ax=_name(output, "output"), title=f"signed output · {setting}",
                          limit=viz.symmetric_limit(out, percentile=99))
    viz.show_gradient(dx, ax=_name(gradient, "dx"),
                      title=f"dx for dout = {controls['dout']}\n{DOUT_CHOICES[controls['dout']]}",
                      limit=viz.symmetric_limit(dx, percentile=99))
    viz.show_numbers(dw[:, :, 0, 0], ax=_name(dw_ax, "dw"), fmt="{:.3g}", cmap="RdBu_r",
                     fontsize=max(5, 11 - kernel_w), title="dw")
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
    picture : ipywidgets.Image, the current figure as a PNG
    message : ipywidgets.HTML, the package's message when it refuses a setting
    view : ipywidgets.VBox, what the notebook shows
    """

    def __init__(self, widgets, controls: dict, update, rows, extra=()):
        self.controls = controls
        self._update = update
        self.picture = widgets.Image(format="png")
        self.message = widgets.HTML()
        self.view = widgets.VBox([*[widgets.HBox(row) for row in rows], *extra, self.message,
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
            self.message.value = ('<p style="color: #b00; font-family: monospace; '
                                  f'white-space: pre-wrap">{_escape(panel.message)}</p>')
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


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _display(bundle_source, fallback: Panel) -> None:
    """Display an explorer (or, without ipywidgets, the install hint and the picture)."""
    from IPython.display import Image, display
    if bundle_source is None:
        print(INSTALL_HINT)
        display(Image(data=fallback.png()))
    else:
        display(bundle_source)


def _common_controls(widgets, style: str, padding="valid") -> dict:
    """The controls that every explorer has: size and stride sliders, padding and style."""
    check_style(style)
    slider = dict(continuous_update=False, layout=widgets.Layout(width="220px"))
    return {
        "stride": widgets.IntSlider(value=2, min=1, max=6, description="stride", **slider),
        "padding": widgets.Dropdown(options=[(str(p), p) for p in PADDING_CHOICES],
                                    value=padding, description="padding",
                                    layout=widgets.Layout(width="170px")),
        "style": widgets.Dropdown(options=list(STYLES), value=style, description="style",
                                  layout=widgets.Layout(width="170px")),
    }


def _photo(image, name: str, grayscale: bool, size: int):
    """``image`` checked as a single ``(1, H, W, C)`` image, or the bundled photo ``name``."""
    if image is None:
        return images.load(name, grayscale=grayscale, size=size)
    image = rules.as_float_array(image, "image", "N, H, W, C")
    if image.shape[0] != 1:
        raise ValueError(f"image must be one image, shape (1, H, W, C); got {image.shape}")
    return image


def windows_explorer(image=None, style: str = "fast"):
    """The :func:`windows` explorer as an :class:`Explorer` (needs ipywidgets)."""
    widgets = _widgets()
    image = _photo(image, "chelsea", grayscale=False, size=64)
    controls = _common_controls(widgets, style)
    slider = dict(continuous_update=False, layout=widgets.Layout(width="220px"))
    controls.update(
        op=widgets.ToggleButtons(options=["max", "avg"], value="max", description="op",
                                 style={"button_width": "50px"}),
        size=widgets.IntSlider(value=3, min=1, max=8, description="size", **slider),
        dilation=widgets.IntSlider(value=1, min=1, max=4, description="dilation", **slider),
        count_include_pad=widgets.Checkbox(value=True, description="count_include_pad (avg)"),
    )
    rows = [[controls["op"], controls["size"], controls["stride"], controls["dilation"]],
            [controls["padding"], controls["count_include_pad"], controls["style"]]]
    return Explorer(widgets, controls, lambda values: windows_panel(image, values), rows)


def windows(image=None, style: str = "fast") -> None:
    """A pooling layer on a photo, with controls for op, size, stride, padding, dilation and
    ``count_include_pad``; see :func:`windows_panel` for what is drawn.

    Parameters
    ----------
    image : (1, H, W, C) array, values in [0, 1], optional
        By default the cat, 43x64 pixels, so that single windows can be seen.
    style : a name in :data:`pooling_lab.STYLES`, the style the explorer starts with
    """
    if _widgets() is None:
        _display(None, windows_panel(_photo(image, "chelsea", False, 64),
                                     {**WINDOWS_DEFAULTS, "style": style}))
    else:
        _display(windows_explorer(image, style), None)


def backward_explorer(grid=None, dout=None, style: str = "fast", op: str = "max"):
    """The :func:`backward` explorer as an :class:`Explorer` (needs ipywidgets)."""
    widgets = _widgets()
    grid = BACKWARD_GRID if grid is None else rules.as_real_array(grid, "grid")
    if grid.ndim != 2:
        raise ValueError(f"grid must be a 2-D (H, W) array; got shape {grid.shape}")
    controls = _common_controls(widgets, style)
    controls.update(
        op=widgets.ToggleButtons(options=["max", "avg"], value=op, description="op",
                                 style={"button_width": "50px"}),
        size=widgets.IntSlider(value=3, min=1, max=5, description="size",
                               continuous_update=False, layout=widgets.Layout(width="220px")),
        step=widgets.IntSlider(value=1, min=0, max=backward_steps(grid, BACKWARD_DEFAULTS),
                               description="window", layout=widgets.Layout(width="300px")),
    )
    play = widgets.Play(value=1, min=0, max=controls["step"].max, interval=1200,
                        description="play")
    widgets.jslink((play, "value"), (controls["step"], "value"))
    back = widgets.Button(description="◀ step", layout=widgets.Layout(width="80px"))
    forward = widgets.Button(description="step ▶", layout=widgets.Layout(width="80px"))

    def move(by):
        step = controls["step"]
        step.value = min(max(step.value + by, step.min), step.max)

    back.on_click(lambda _: move(-1))
    forward.on_click(lambda _: move(+1))

    def update(values):
        # Size, stride and padding change the number of windows: the step control follows.
        steps = backward_steps(grid, values)
        if controls["step"].max != steps:
            controls["step"].max = play.max = max(steps, 1)
        values["step"] = min(values["step"], steps)
        return backward_panel(grid, values, dout)

    rows = [[controls["op"], controls["size"], controls["stride"], controls["padding"],
             controls["style"]],
            [play, back, forward, controls["step"]]]
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
    if _widgets() is None:
        grid = BACKWARD_GRID if grid is None else grid
        _display(None, backward_panel(grid, {**BACKWARD_DEFAULTS, "style": style, "op": op},
                                      dout))
    else:
        _display(backward_explorer(grid, dout, style, op), None)


def filters_explorer(image=None, style: str = "fast"):
    """The :func:`filters` explorer as an :class:`Explorer` (needs ipywidgets)."""
    widgets = _widgets()
    image = _photo(image, "grace_hopper", grayscale=True, size=128)
    if image.shape[3] != 1:
        raise ValueError(f"image must be grayscale, shape (1, H, W, 1); got {image.shape}")
    controls = _common_controls(widgets, style, padding="same")
    controls["stride"].value = 1
    controls.update(
        kernel=widgets.Textarea(value=FILTERS_DEFAULTS["kernel"], description="kernel",
                                continuous_update=False,
                                layout=widgets.Layout(width="260px", height="110px")),
        dilation=widgets.IntSlider(value=1, min=1, max=4, description="dilation",
                                   continuous_update=False, layout=widgets.Layout(width="220px")),
        dout=widgets.Dropdown(options=[(f"{name}: {loss}", name)
                                       for name, loss in DOUT_CHOICES.items()],
                              value=FILTERS_DEFAULTS["dout"], description="dout",
                              layout=widgets.Layout(width="300px")),
    )
    # Picking a filter writes its numbers into the kernel box; the box is what is drawn, and
    # typing into it turns the choice to "custom".
    choice = widgets.Dropdown(options=[*FILTERS, "custom"], value="sobel x",
                              description="filter", layout=widgets.Layout(width="220px"))

    def pick(change):
        if change["new"] != "custom":
            controls["kernel"].value = FILTERS[change["new"]]

    def typed(change):
        names = [name for name, text in FILTERS.items() if text == change["new"]]
        choice.value = names[0] if names else "custom"

    choice.observe(pick, names="value")
    controls["kernel"].observe(typed, names="value")
    rows = [[widgets.VBox([choice, controls["dout"], controls["style"]]), controls["kernel"],
             widgets.VBox([controls["stride"], controls["dilation"], controls["padding"]])]]
    return Explorer(widgets, controls, lambda values: filters_panel(image, values), rows)


def filters(image=None, style: str = "fast") -> None:
    """A convolution with a classic filter or a kernel typed in, on a grayscale photo; see
    :func:`filters_panel` for what is drawn.

    Parameters
    ----------
    image : (1, H, W, 1) array, optional
        By default Grace Hopper's portrait in grayscale, 128 pixels high.
    style : a name in :data:`pooling_lab.STYLES`
    """
    if _widgets() is None:
        _display(None, filters_panel(_photo(image, "grace_hopper", True, 128),
                                     {**FILTERS_DEFAULTS, "style": style}))
    else:
        _display(filters_explorer(image, style), None)
