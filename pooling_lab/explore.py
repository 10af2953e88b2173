"""Explorers for class: move a control, watch pooling and convolution change: :func:`windows`
(a pooling layer on a photo), :func:`backward` (the backward pass on a small grid, window by
window) and :func:`filters` (a classic or typed convolution kernel); their panels show what.

Every number drawn comes from the package (:func:`pooling_lab.op_functions`,
:class:`geometry.Geometry`). Each explorer is an **update function** (``*_panel``: data and a
dict of control values in, a :class:`Panel` out, a figure or a message for anything it cannot
draw, never an exception for a setting) under a thin **widget layer** (ipywidgets) that shows
the figure as a PNG as wide as the cell, in one output with a static picture for GitHub/nbval.
Readable from the back row: each update function draws under ``viz.base.READABLE`` (every text
:data:`FONT_PT` points, whatever the notebook set), the figure :data:`FIGURE_INCHES` wide at
:data:`DPI` (P points at D dpi show as P * D / 96 pt at native size, so 16 px at JupyterLab's
100% zoom in a cell of 980 pixels or more; in a narrower cell the picture shrinks, and at 150%
zoom on a 1280 px screen its labels still cover 16 px).
"""

import base64
import html
import importlib.util
import io
import os
from dataclasses import dataclass
from fractions import Fraction

import matplotlib
import numpy as np
from matplotlib.figure import Figure

from . import STYLES, check_style, contract, images, op_functions, rules, viz
from .geometry import Geometry, pool_geometry
from .viz import geometry as viz_geometry
from .viz.base import GRAY_WEIGHTS

#: Text size of every label (points, the course's rule in ``viz.base``) and the figure's width
#: (inches) and resolution.
FONT_PT, FIGURE_INCHES, DPI = viz.base.FONT_PT, 10.2, 96

#: The CSS classes of an explorer and of a picture whose setting was refused (dimmed), and the
#: controls' text size for a hall: 16 px labels, read-outs and menus.
EXPLORER, REFUSED = "pooling-lab-explorer", "pooling-lab-refused"
CONTROLS_CSS = ", ".join(f".{EXPLORER} {part}" for part in (
    ".widget-label", ".widget-readout", "select", "button", "input", "textarea")) + (
    " { font-size: 16px; }")

#: The largest size of a number the explorers draw: colour scales of larger ones overflow.
LARGEST_DRAWN = 1e300

#: The line printed when ipywidgets cannot be imported.
INSTALL_HINT = ('The explorer needs ipywidgets: pip install ipywidgets (or pip install -e '
                '".[course]" in the course folder), then restart the kernel. Below: its default '
                'setting.')

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

#: The default controls of each explorer, for the widgets and the picture without them.
#: ``step`` 2 of :func:`backward` shows both a tie and an overlap.
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


@dataclass
class Panel:
    """What an update function returns: a figure, or None and the message saying why not."""

    figure: Figure | None
    message: str | None = None

    def png(self) -> bytes | None:
        """The figure as PNG bytes (None for a message)."""
        if self.figure is None:
            return None
        buffer = io.BytesIO()
        self.figure.savefig(buffer, format="png", dpi=DPI)
        return buffer.getvalue()


def _new_figure(height: float, ratios: dict):
    """A figure outside pyplot (nothing to show or close): a row of axes as wide as ``ratios``
    says, ``{label: relative width}``, each labelled so that a test finds it by name."""
    figure = Figure(figsize=(FIGURE_INCHES, height), dpi=DPI, layout="constrained")
    axes = figure.subplots(1, len(ratios), gridspec_kw={"width_ratios": list(ratios.values())})
    for ax, label in zip(axes, ratios):
        ax.set_label(label)
    return figure, list(axes)


def _check_drawable(**arrays) -> None:
    """A ValueError naming the first array holding NaN, inf or a number beyond
    :data:`LARGEST_DRAWN` in size (its colour scale would overflow)."""
    for name, values in arrays.items():
        finite = np.isfinite(values).all()
        bad = ~(np.abs(values) <= LARGEST_DRAWN) if finite else ~np.isfinite(values)
        if bad.any():
            index = tuple(int(n) for n in np.argwhere(bad)[0])
            rule = (f"numbers up to {LARGEST_DRAWN:g} in size to be drawn" if finite
                    else "finite numbers")
            raise ValueError(f"{name} must hold {rule}; got {values[index]:g} at {name}["
                             f"{', '.join(map(str, index))}] ({int(bad.sum())} of "
                             f"{values.size} cells)")


def _picture(image, grayscale: bool):
    """``image`` (1, H, W, C) as drawn, or a ValueError saying why it cannot be. Alpha (C 2 or
    4) is composited onto white as :func:`images.load` does; ``grayscale`` makes RGB gray."""
    channels = image.shape[3]
    if channels in (2, 4):
        alpha = image[..., -1:]
        image = image[..., :-1] * alpha + (1 - alpha)                 # -> (1, H, W, C - 1)
    if grayscale and image.shape[3] == 3:
        image = image @ GRAY_WEIGHTS[:, None]                          # -> (1, H, W, 1)
    if image.shape[3] not in (1, 3):
        raise ValueError(f"image must have 1 (gray), 2 (gray, alpha), 3 (RGB) or 4 (RGBA) "
                         f"channels to be drawn; got {channels}")
    _check_drawable(image=np.abs(image[0]).max(axis=2))
    return image


def _grid_format(values, decimals: int = 2):
    """How to print ``values`` on a grid, and the title's note: whole numbers when they are (up to
    9999) or when the largest has 3-4 digits, else ``decimals`` decimals of one shared ``× 1e{e}``.
    """
    largest = float(np.abs(values).max()) if np.size(values) else 0.0
    exponent = int(np.floor(np.log10(largest))) if largest else 0
    whole = exponent < 4 and (exponent >= 2 or np.array_equal(values, np.round(values)))
    exponent, decimals = (0, 0) if whole else (exponent, decimals)

    def number(value):
        text = f"{value / 10.0 ** exponent:.{decimals}f}"
        return text.lstrip("-") if float(text) == 0 else text         # no "-0.00"
    return number, f" · × 1e{exponent}" if exponent else ""


#: The most tick labels a colourbar of an explorer shows: more would stack on one another.
MOST_COLORBAR_TICKS = 8


def _thin_ticks(bar) -> None:
    """Keep every k-th tick of colourbar ``bar`` (the first and the last among them), so that
    at most :data:`MOST_COLORBAR_TICKS` labels show."""
    ticks = list(bar.get_ticks())
    labels = [label.get_text() for label in bar.ax.get_yticklabels()]
    step = -(-len(ticks) // MOST_COLORBAR_TICKS)                     # ceiling division
    if step > 1:
        kept = sorted({*range(0, len(ticks) - 1, step), len(ticks) - 1})[-MOST_COLORBAR_TICKS:]
        bar.set_ticks([ticks[k] for k in kept], labels=[labels[k] for k in kept])


def _check_pool_op(op) -> None:
    """A ValueError when ``op`` is not a pooling op (the windows and backward explorers)."""
    if op not in POOL_OPS:
        raise ValueError(f"op must be 'max' or 'avg' (a pooling op); got {op!r}")


def _formula(geometry: Geometry) -> str:
    """The output-size formula for rows and columns with the numbers filled in (three lines)."""
    lines = [f"{out} = ({length} + pad + pad - span) // stride + 1 = "
             f"({geometry.x_shape[1 + axis]} + {geometry.padding[axis][0]} + "
             f"{geometry.padding[axis][1]} - {geometry.span[axis]}) // {geometry.stride[axis]}"
             f" + 1 = {geometry.out_hw[axis]}" for axis, length in enumerate("HW")
             for out in [f"O{length}"]]
    return "\n".join([*lines, f"span = dilation·(size-1) + 1 = {geometry.dilation[0]}·"
                              f"({geometry.kernel[0]}-1) + 1 = {geometry.span[0]}"])


@matplotlib.rc_context(viz.base.READABLE)
def windows_panel(image, controls: dict) -> Panel:
    """The picture of :func:`windows` for ``image`` (1, H, W, C), values in [0, 1], C 1, 2 (gray,
    alpha), 3 or 4 (RGBA), and ``controls`` keyed as :data:`WINDOWS_DEFAULTS`
    (``count_include_pad`` for avg only): axes named ``"photo"`` (the windows of
    :data:`DRAWN_WINDOWS`, taps as dots), ``"output"``, ``"coverage"`` (``viz.coverage_counts``)
    and ``"dx"`` (for a ``dout`` of ones, summed over channels), the formula as title; or the
    message of a refusal."""
    op, style = controls["op"], check_style(controls["style"])
    options = {name: controls[name] for name in ("size", "stride", "padding", "dilation")}
    setting = (f"{op} · size {controls['size']} · stride {controls['stride']}\npadding "
               f"{controls['padding']} · dilation {controls['dilation']}")
    if op == "avg":
        options["count_include_pad"] = controls["count_include_pad"]
        setting += f"\ninclude pad {controls['count_include_pad']}"
    try:
        _check_pool_op(op)
        image = _picture(image, grayscale=False)
        forward, backward_pass = op_functions(style, op)
        out, cache = forward(image, **options)                       # (1, OH, OW, C)
        dx = backward_pass(np.ones_like(out), cache)                 # (1, H, W, C)
    except (TypeError, ValueError) as error:
        return Panel(None, str(error))

    geometry = cache.geometry
    figure, (photo, output, coverage, gradient) = _new_figure(
        4.3, {"photo": 1.1, "output": 1, "coverage": 1.25, "dx": 1.25})
    viz.show_image(image, ax=photo, title="top-left corner\n4 windows · taps as dots"
                   + ("\npadding hatched" if geometry.is_padded else ""))
    _draw_windows(photo, geometry)
    viz.show_image(out, ax=output, title=f"{setting}\nout {out.shape[1]}x{out.shape[2]}")
    counts = viz.coverage_counts(geometry.x_shape[1:3], geometry.kernel, geometry.stride,
                                 geometry.padding, geometry.dilation)               # (H, W)
    viz.show_coverage(counts, ax=coverage, title="taps reading\neach pixel")
    _thin_ticks(coverage.images[0].colorbar)
    over_channels = " · sum over C" if image.shape[3] > 1 else ""
    viz.show_gradient(dx[0].sum(axis=2), ax=gradient,                  # (H, W, C) -> (H, W)
                      title=f"dx · dout of ones\n{style}{over_channels}")
    figure.suptitle(_formula(geometry), fontfamily="monospace")
    return Panel(figure)


def _draw_windows(ax, geometry: Geometry) -> None:
    """Outline the windows of :data:`DRAWN_WINDOWS` in ``ax``, a dot per tap, padding hatched,
    and zoom onto the top-left corner they cover.
    """
    rows, cols = [0], [0]
    for number, (i, j) in enumerate(DRAWN_WINDOWS):
        if i >= geometry.out_hw[0] or j >= geometry.out_hw[1]:
            continue
        color = viz.WINDOW_COLORS[number % len(viz.WINDOW_COLORS)]
        top, left = viz_geometry.window_origin(geometry, i, j)
        viz.base.outline(ax, top, left, *geometry.span, color, linewidth=2.5)
        taps = viz_geometry.tap_positions(geometry, i, j).reshape(-1, 2)   # -> (KH*KW, 2)
        ax.plot(taps[:, 1], taps[:, 0], "o", color=color, markersize=5, linestyle="none")
        rows += [top, top + geometry.span[0] - 1]
        cols += [left, left + geometry.span[1] - 1]
    viz.draw_padding(ax, geometry.x_shape[1:3], geometry.padding)
    # A square view at least 12 pixels wide, two pixels beyond the farthest window; image
    # axes run top to bottom, so the y limits are (bottom, top).
    side = max(12, max(rows) - min(rows) + 3, max(cols) - min(cols) + 3)
    ax.set_xlim(min(cols) - 1.5, min(cols) - 1.5 + side)
    ax.set_ylim(min(rows) - 1.5 + side, min(rows) - 1.5)


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
        geometry = pool_geometry((1, *np.shape(grid), 1), controls["size"],
                                 controls["stride"], controls["padding"], 1)
    except (TypeError, ValueError):
        return 0
    return geometry.out_hw[0] * geometry.out_hw[1]


def default_dout(out_hw) -> np.ndarray:
    """``dout`` for the step-through: 1, 2, 3, ... in row-major order, (OH, OW), so that every
    window's share can be told apart in ``dx``."""
    return np.arange(1.0, out_hw[0] * out_hw[1] + 1).reshape(out_hw)


@matplotlib.rc_context(viz.base.READABLE)
def backward_panel(grid, controls: dict, dout=None) -> Panel:
    """The picture of :func:`backward` for ``grid`` (H, W), small (up to about 10x10, so the
    numbers stay readable), ``controls`` keyed as :data:`BACKWARD_DEFAULTS` and ``dout`` (OH, OW),
    by default :func:`default_dout`, after ``controls["step"]`` windows (0 to ``OH * OW``) have
    sent their gradient back: axes named ``"x"`` (the window, its winner and its dashed ties),
    ``"dout"``, ``"window adds"`` (backward of ``dout`` kept at this cell) and ``"dx so far"``
    (kept at the first ``step`` cells: backward is linear); the title says what this step does.
    Or a message."""
    op, style, step = controls["op"], check_style(controls["style"]), controls["step"]
    try:
        _check_pool_op(op)
        grid = rules.as_real_array(grid, "grid")
        if grid.ndim != 2:
            raise ValueError(f"grid must be a 2-D (H, W) array; got shape {grid.shape}")
        _check_drawable(grid=grid)
        forward, backward_pass = op_functions(style, op)
        out, cache = forward(grid[None, :, :, None], controls["size"], controls["stride"],
                             controls["padding"])                     # (H, W) -> (1, H, W, 1)
        if dout is None:
            dout = default_dout(cache.geometry.out_hw)
        dout = contract.check_dout(np.asarray(dout, dtype=float)[None, :, :, None],
                                   cache.geometry, 1)                 # (OH, OW) -> (1, OH, OW, 1)
        _check_drawable(dout=dout[0, :, :, 0])
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
    figure, (x_ax, dout_ax, share_ax, dx_ax) = _new_figure(4.6, {
        "x": padded_width, "dout": dout.shape[2], "window adds": padded_width,
        "dx so far": padded_width})
    viz.show_numbers(grid, ax=x_ax, title="x", fontsize=FONT_PT, padding=geometry.padding,
                     pad_value=-np.inf if op == "max" else 0.0)
    dout_number, dout_exponent = _grid_format(dout, decimals=1)
    viz.show_numbers(dout[0, :, :, 0], ax=dout_ax, title="dout" + dout_exponent,
                     fmt=dout_number, fontsize=FONT_PT, cmap=cmap, limits=limits)
    share, changed = np.zeros_like(dx_so_far), []
    story = "step 0: no window has sent its gradient back yet; dx is all zeros"
    if step:
        i, j = divmod(step - 1, geometry.out_hw[1])
        this_window = (np.arange(n_windows) == step - 1).reshape(dout.shape)   # (1, OH, OW, 1)
        unit_share = backward_pass(np.where(this_window, 1.0, 0.0), cache)[0, :, :, 0]  # (H, W)
        share = unit_share * dout[0, i, j, 0]
        changed = [tuple(cell) for cell in np.argwhere(unit_share != 0)]
        story = _story(op, geometry, grid, out[0, i, j, 0], dout[0, i, j, 0], (i, j), share,
                       dx_so_far, x_ax)
        viz.base.outline(dout_ax, i, j, 1, 1, viz.WINDOW_COLORS[0])
    for ax, values, title in ((share_ax, share, "this window adds"),
                              (dx_ax, dx_so_far, f"dx so far · {step} of {n_windows}")):
        viz.show_numbers(values, ax=ax, fmt=lambda value: number(value) if value else "",
                         title=title + exponent, highlight=changed, cmap=cmap, limits=limits,
                         fontsize=FONT_PT, padding=geometry.padding, pad_value=None)
    if step:
        for ax in (x_ax, share_ax, dx_ax):
            viz.base.outline(ax, *viz_geometry.window_origin(geometry, i, j), *geometry.span,
                             viz.WINDOW_COLORS[0])
    figure.suptitle(f"{op} · size {controls['size']} · stride {controls['stride']} · padding "
                    f"{controls['padding']} · {style}\n{story}")
    return Panel(figure)


def _story(op, geometry, grid, window_max, window_dout, output, share, dx_so_far, x_ax):
    """What window ``output`` sends back and where it adds up, in words; outlines the winner and
    the ties of a max window in ``x_ax``. ``share``, ``dx_so_far`` : (H, W).
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
        viz.base.outline(x_ax, row, col, 1, 1, viz.WINNER_COLOR)
        taps = viz_geometry.tap_positions(geometry, i, j).reshape(-1, 2)   # -> (KH*KW, 2)
        height, width = grid.shape
        ties = [(int(r), int(c)) for r, c in taps
                if 0 <= r < height and 0 <= c < width and (r, c) != (row, col)
                and grid[r, c] == window_max]
        for r, c in ties:
            viz.base.outline(x_ax, r, c, 1, 1, viz.TIE_COLOR, linestyle="--")
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


def parse_kernel(text: str) -> np.ndarray:
    """The (KH, KW) float kernel typed in ``text``: rows of numbers, one row per line, separated
    by spaces or commas, each as :class:`fractions.Fraction` reads it (``2``, ``-1.5``, ``1e-3``,
    ``1/9``). TypeError for a ``text`` not a string; ValueError, naming the row, for a word not a
    number, a division by zero, a number beyond float64, uneven rows or no number at all.
    """
    if not isinstance(text, str):
        raise TypeError(f"kernel must be a string of numbers, one row per line; got {text!r}")
    # What each error of float(Fraction(word)) means for the student who typed the word.
    problems = {ValueError: "is not a number (allowed: 2, -1.5, 1e-3 or a fraction such as 1/9)",
                ZeroDivisionError: "divides by zero",
                OverflowError: "is beyond the largest float64 number"}
    rows = []
    for number, line in enumerate(text.strip().splitlines(), start=1):
        row = []
        for word in line.replace(",", " ").split():
            try:
                row.append(float(Fraction(word)))
            except tuple(problems) as error:
                raise ValueError(f"kernel row {number}: {word!r} {problems[type(error)]}") from None
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
    """The upstream gradient chosen in :func:`filters` (:data:`DOUT_CHOICES`) for ``out``
    (N, OH, OW, C_out), of its shape.
    """
    if choice == "ones":
        return np.ones_like(out)
    if choice == "out":
        return out.copy()
    if choice == "random":
        return np.random.default_rng(0).normal(size=out.shape)
    raise ValueError(f"dout must be one of {list(DOUT_CHOICES)}; got {choice!r}")


def _show_kernel(values, ax, title):
    """A kernel's numbers (up to 5x5) on a diverging map, or only its colours beyond."""
    if max(values.shape) > 5:
        return viz.show_gradient(values, ax=ax, title=title, colorbar=False, diverging=True)
    number, exponent = _grid_format(values, decimals=2 if values.shape[1] <= 3 else 1)
    return viz.show_numbers(values, ax=ax, fmt=number, cmap="RdBu_r", fontsize=FONT_PT,
                            title=title + exponent)


@matplotlib.rc_context(viz.base.READABLE)
def filters_panel(image, controls: dict) -> Panel:
    """The picture of :func:`filters` for ``image`` (1, H, W, C), drawn in gray (C 1 or 2, or
    RGB(A) made gray), and ``controls`` keyed as :data:`FILTERS_DEFAULTS` (``kernel`` a text,
    :func:`parse_kernel`; ``dout`` a key of :data:`DOUT_CHOICES`): axes named ``"photo"``,
    ``"kernel"``, ``"output"`` (a picture when the weights sum to 1, else a signed map), ``"dx"``
    and ``"dw"``; or a message."""
    style = controls["style"]
    forward, backward_pass = op_functions(style, "conv")
    try:
        image = _picture(image, grayscale=True)
        kernel = parse_kernel(controls["kernel"])                    # (KH, KW)
        with np.errstate(all="ignore"):                              # checked below
            out, cache = forward(image, kernel[:, :, None, None], stride=controls["stride"],
                                 padding=controls["padding"],
                                 dilation=controls["dilation"])      # (1, OH, OW, 1)
            dout = filter_dout(controls["dout"], out)
            dx, dw, _ = backward_pass(dout, cache)                   # (1, H, W, 1), w's shape
        _check_drawable(kernel=kernel, out=out[0, :, :, 0], dx=dx[0, :, :, 0],
                        dw=dw[:, :, 0, 0])
    except (TypeError, ValueError) as error:
        return Panel(None, str(error))

    figure, (photo, kernel_ax, output, gradient, dw_ax) = _new_figure(
        4.2, {"photo": 0.9, "kernel": 1, "output": 1.15, "dx": 1.15, "dw": 1})
    viz.show_image(image, ax=photo, title=f"photo\n{image.shape[1]}x{image.shape[2]}")
    _show_kernel(kernel, kernel_ax, f"kernel {kernel.shape[0]}x{kernel.shape[1]}")
    setting = (f"out {out.shape[1]}x{out.shape[2]}\nstride {controls['stride']} · "
               f"pad {controls['padding']}\ndilation {controls['dilation']}")
    if np.isclose(kernel.sum(), 1.0):
        viz.show_image(out, ax=output, title=f"weights sum to 1\n{setting}")
    else:
        # a few strong edges would wash out the rest: full colour from the 99th percentile on
        viz.show_gradient(out, ax=output, title=f"signed output\n{setting}",
                          limit=viz.symmetric_limit(out, percentile=99))
    viz.show_gradient(dx, ax=gradient, title=f"dx · {style}\ndout = {controls['dout']}",
                      limit=viz.symmetric_limit(dx, percentile=99))
    _show_kernel(dw[:, :, 0, 0], dw_ax, "dw")
    return Panel(figure)


class Explorer:
    """Controls (``controls``, keyed as the update function's dict) above ``picture`` (a PNG as
    wide as the cell) and ``message``; ``view`` is what the notebook shows.
    """

    def __init__(self, widgets, controls: dict, update, rows):
        self.controls = controls
        self._update = update
        # As wide as the cell, never wider than drawn (why: the module's docstring).
        self.picture = widgets.Image(format="png", layout=widgets.Layout(
            width="100%", max_width=f"{round(FIGURE_INCHES * DPI)}px", height="auto",
            margin="2px 0"))                   # no side margins: 100% wide fits the cell
        self.message = widgets.HTML()
        # CSS (Layout has no font size or opacity): controls readable from the back row, and a
        # refused setting's picture dimmed by a class.
        rules = widgets.HTML(f"<style>{CONTROLS_CSS} .{REFUSED} {{ opacity: 0.3; }}</style>")
        wrap = widgets.Layout(flex_flow="row wrap")
        self.view = widgets.VBox([*[widgets.HBox(row, layout=wrap) for row in rows], self.message,
                                  self.picture, rules], layout=widgets.Layout(overflow="auto"))
        self.view.add_class(EXPLORER)
        for control in controls.values():
            control.observe(self.redraw, names="value")
        self.redraw()

    def redraw(self, change=None) -> None:
        """Call the update function with the controls' values and show what it returns."""
        panel = self._update({name: control.value for name, control in self.controls.items()})
        if panel.figure is None:
            # Keep the last picture, dimmed, under the message: the setting it shows is gone.
            self.message.value = ('<p style="color: #b00; font-family: monospace; font-size: '
                                  f'16px; white-space: pre-wrap">{html.escape(panel.message)}'
                                  '</p>')
            self.picture.add_class(REFUSED)
        else:
            self.message.value = ""
            self.picture.remove_class(REFUSED)
            self.picture.value = panel.png()

    def _repr_mimebundle_(self, **kwargs):
        # One output holding the live widget and a PNG of the setting it starts with: a front
        # end that renders widgets shows the widget, any other the picture.
        bundle = self.view._repr_mimebundle_(**kwargs)
        bundle["image/png"] = base64.b64encode(self.picture.value).decode("ascii")
        return bundle


def _show(make_explorer, panel_of_defaults) -> None:
    """Display ``make_explorer()``, or without ipywidgets the install hint and default picture."""
    from IPython.display import Image, display
    if importlib.util.find_spec("ipywidgets"):
        display(make_explorer())
        return
    print(INSTALL_HINT)
    panel = panel_of_defaults()
    display(Image(data=panel.png()) if panel.figure else panel.message)


def _controls(widgets, defaults: dict, **ranges) -> dict:
    """The controls of ``defaults``: a slider per name in ``ranges`` (``(min, max)``), padding,
    style, and op and ``count_include_pad`` when the defaults hold them.
    """
    wide, narrow = widgets.Layout(width="330px"), widgets.Layout(width="230px")  # tracks 150+ px
    controls = {name: widgets.IntSlider(value=defaults[name], min=low, max=high,
                                        description=name, continuous_update=False, layout=wide)
                for name, (low, high) in ranges.items()}
    controls["padding"] = widgets.Dropdown(    # the two names, then pixels on every side
        options=[(str(p), p) for p in ("valid", "same", 0, 1, 2, 3, 4)],
        value=defaults["padding"], description="padding", layout=narrow)
    controls["style"] = widgets.Dropdown(options=list(STYLES), value=check_style(defaults["style"]),
                                         description="style", layout=narrow)
    if "op" in defaults:
        controls["op"] = widgets.ToggleButtons(options=list(POOL_OPS), value=defaults["op"],
                                               description="op", style={"button_width": "50px"})
    if "count_include_pad" in defaults:
        controls["count_include_pad"] = widgets.Checkbox(value=defaults["count_include_pad"],
                                                         description="count_include_pad (avg)")
    return controls


def _photo(image, name: str, grayscale: bool, size: int):
    """``image`` as one ``(1, H, W, C)`` image: the bundled photo ``name`` when None, a file
    loaded by :func:`images.load_file` when a path, else the array checked.
    """
    if image is None:
        return images.load(name, grayscale=grayscale, size=size)
    if isinstance(image, (str, os.PathLike)):
        return images.load_file(image, grayscale=grayscale, size=size)
    image = rules.as_float_array(image, "image", "N, H, W, C")
    if image.shape[0] != 1:
        raise ValueError(f"image must be one image, shape (1, H, W, C); got {image.shape}")
    return image


def windows_explorer(image=None, style: str = "fast"):
    """The :func:`windows` explorer as an :class:`Explorer` (needs ipywidgets)."""
    import ipywidgets as widgets
    image = _photo(image, "chelsea", grayscale=False, size=64)
    controls = _controls(widgets, {**WINDOWS_DEFAULTS, "style": style}, size=(1, 8),
                         stride=(1, 6), dilation=(1, 4))
    rows = [[controls["op"], controls["size"], controls["stride"], controls["dilation"]],
            [controls["padding"], controls["count_include_pad"], controls["style"]]]
    return Explorer(widgets, controls, lambda values: windows_panel(image, values), rows)


def windows(image=None, style: str = "fast") -> None:
    """A pooling layer on a photo with its controls (:func:`windows_panel`). ``image``: (1, H, W, C)
    values in [0, 1] or a file's path, by default the cat at 43x64; ``style`` the one to start with.
    """
    _show(lambda: windows_explorer(image, style),
          lambda: windows_panel(_photo(image, "chelsea", False, 64),
                                {**WINDOWS_DEFAULTS, "style": style}))


def backward_explorer(grid=None, dout=None, style: str = "fast", op: str = "max"):
    """The :func:`backward` explorer as an :class:`Explorer` (needs ipywidgets)."""
    import ipywidgets as widgets
    grid = BACKWARD_GRID if grid is None else grid
    defaults = {**BACKWARD_DEFAULTS, "style": style, "op": op}
    controls = _controls(widgets, defaults, size=(1, 5), stride=(1, 6))
    # The slider keeps its value within 0..max itself (on the buttons' clicks too).
    steps = max(backward_steps(grid, defaults), 1)
    step = controls["step"] = widgets.IntSlider(value=defaults["step"], min=0, max=steps,
                                                description="window",
                                                layout=widgets.Layout(width="360px"))
    play = widgets.Play(value=step.value, min=0, max=steps, interval=1200, description="play")
    widgets.jslink((play, "value"), (step, "value"))
    buttons = [widgets.Button(description=text, layout=widgets.Layout(width="80px"))
               for text in ("◀ step", "step ▶")]
    for button, by in zip(buttons, (-1, 1)):
        button.on_click(lambda _, by=by: setattr(step, "value", step.value + by))

    def update(values):
        # Size, stride and padding change the number of windows: the step control follows.
        steps = backward_steps(grid, values)
        step.max = play.max = max(steps, 1)             # an unchanged max fires no event
        values["step"] = min(values["step"], steps)
        return backward_panel(grid, values, dout)

    rows = [[controls["op"], controls["size"], controls["stride"], controls["padding"],
             controls["style"]], [play, *buttons, step]]
    return Explorer(widgets, controls, update, rows)


def backward(grid=None, dout=None, style: str = "fast", op: str = "max") -> None:
    """The backward pass step by step, with Play and step buttons (:func:`backward_panel`).
    ``grid`` (H, W), by default :data:`BACKWARD_GRID`; ``dout`` (OH, OW), by default 1, 2, 3...
    (fits only settings with its shape); ``style`` and ``op`` the ones to start with.
    """
    grid = BACKWARD_GRID if grid is None else grid
    _show(lambda: backward_explorer(grid, dout, style, op),
          lambda: backward_panel(grid, {**BACKWARD_DEFAULTS, "style": style, "op": op}, dout))


def filters_explorer(image=None, style: str = "fast"):
    """The :func:`filters` explorer as an :class:`Explorer` (needs ipywidgets)."""
    import ipywidgets as widgets
    image = _photo(image, "grace_hopper", grayscale=True, size=128)
    controls = _controls(widgets, {**FILTERS_DEFAULTS, "style": style}, stride=(1, 6),
                         dilation=(1, 4))
    controls["kernel"] = widgets.Textarea(value=FILTERS_DEFAULTS["kernel"],
                                          description="kernel", continuous_update=False,
                                          layout=widgets.Layout(width="260px", height="110px"))
    controls["dout"] = widgets.Dropdown(options=[(f"{name}: {loss}", name)
                                                 for name, loss in DOUT_CHOICES.items()],
                                        value=FILTERS_DEFAULTS["dout"], description="dout",
                                        layout=widgets.Layout(width="420px"))
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
    # Columns keep their width (flex 0 0 auto) and wrap in a narrow cell, never squeezed.
    column = widgets.Layout(flex="0 0 auto")
    rows = [[widgets.VBox([choice, controls["dout"], controls["style"]], layout=column),
             controls["kernel"], widgets.VBox([controls["stride"], controls["dilation"],
                                               controls["padding"]], layout=column)]]
    return Explorer(widgets, controls, lambda values: filters_panel(image, values), rows)


def filters(image=None, style: str = "fast") -> None:
    """A convolution with a classic or typed kernel on a photo in gray (:func:`filters_panel`).
    ``image``: (1, H, W, C) or a file's path, by default Grace Hopper 128 pixels high.
    """
    _show(lambda: filters_explorer(image, style),
          lambda: filters_panel(_photo(image, "grace_hopper", True, 128),
                                {**FILTERS_DEFAULTS, "style": style}))
