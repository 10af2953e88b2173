"""Memory, strides and speed: where array elements live (notebook 03), which pixels a window
reads (05), and how long each style takes (02, 06, 07), each style in :data:`STYLE_COLORS`.
"""

import itertools

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.patches import Patch, Rectangle
from matplotlib.ticker import LogLocator, NullLocator

from .. import rules
from ..geometry import conv_geometry
from . import geometry as viz_geometry
from .base import (CENTERED, PADDING_FACE, PADDING_HATCH, STYLE_COLORS, STYLE_MARKERS,
                   WINDOW_COLORS, new_axes)


def byte_offsets(array) -> np.ndarray:
    """Where each element of a 2-D array or view starts, in bytes after ``[0, 0]``:
    ``offset[i, j] = i * strides[0] + j * strides[1]``, ``(rows, cols)`` ints.
    """
    array = np.asarray(array)
    if array.ndim != 2:
        raise ValueError(f"array must be 2-D (rows, cols); got shape {array.shape}")
    rows, cols = np.indices(array.shape)
    return rows * array.strides[0] + cols * array.strides[1]


def show_memory(array, highlight=(), title=None, fmt="{:g}"):
    """Draw a small C-contiguous ``array`` (rows, cols), up to about 6x8, twice: as the grid we
    index (titled ``title``, by default its shape and strides), and as the line of bytes it
    lives in. Each grid cell shows its value (formatted by ``fmt``) and byte offset; the
    ``highlight`` cells (row, col), e.g. a window's taps in visiting order, are coloured in both,
    and arrows over the memory line show each jump in bytes between them: that is a stride.
    Returns ``fig, (grid_ax, memory_ax)``.
    """
    array = np.asarray(array)
    if array.ndim != 2 or not array.flags.c_contiguous:
        raise ValueError(f"array must be a C-contiguous 2-D array (rows, cols); got shape "
                         f"{array.shape} with C-contiguous={array.flags.c_contiguous}")
    rows, cols = array.shape
    offsets = byte_offsets(array)
    highlight = [tuple(int(v) for v in cell) for cell in highlight]
    in_memory = [row * cols + col for row, col in highlight]   # their places in the memory line
    color = WINDOW_COLORS[0]
    fig, (grid_ax, memory_ax) = plt.subplots(
        2, 1, figsize=(max(5.0, 0.62 * array.size + 0.6), 0.75 * rows + 2.6),
        gridspec_kw={"height_ratios": [rows + 0.8, 2.4]}, layout="constrained")

    itemsize = array.itemsize
    # Each element twice: at (row, col) in the grid, at its C-order index in the memory line.
    for index, ((row, col), value) in enumerate(np.ndenumerate(array)):
        face = color if (row, col) in highlight else "#eeeeee"
        grid_ax.add_patch(Rectangle((col, row), 1, 1, facecolor=face, edgecolor="gray"))
        grid_ax.text(col + 0.5, row + 0.42, fmt.format(value), fontsize=12, **CENTERED)
        grid_ax.text(col + 0.5, row + 0.8, f"byte {offsets[row, col]}", fontsize=9, **CENTERED)
        memory_ax.add_patch(Rectangle((index, 0), 1, 1, facecolor=face, edgecolor="gray"))
        memory_ax.text(index + 0.5, 0.5, fmt.format(value), fontsize=10, **CENTERED)
        memory_ax.text(index + 0.5, -0.3, f"{index * itemsize}", fontsize=9, **CENTERED)
    # A margin round the grid; row 0 on top, as in print(array).
    grid_ax.set(xlim=(-0.15, cols + 0.15), ylim=(rows + 0.15, -0.15), aspect="equal")
    grid_ax.axis("off")
    grid_ax.set_title(title or f"array · shape {array.shape} · strides {array.strides} bytes")
    jumps = list(zip(in_memory, in_memory[1:]))
    for first, second in jumps:
        memory_ax.annotate("", xy=(second + 0.5, 1.05), xytext=(first + 0.5, 1.05),
                           arrowprops={"arrowstyle": "->", "color": "black",
                                       "connectionstyle": "arc3,rad=-0.45"})
        # An arc of rad -0.45 peaks 0.225 of its length above its ends: the label sits over it.
        memory_ax.text((first + second) / 2 + 0.5, 1.2 + 0.225 * abs(second - first),
                       f"{(second - first) * itemsize:+d} B", ha="center", va="bottom",
                       fontsize=10)
    longest = max((abs(second - first) for first, second in jumps), default=0)
    memory_ax.set(xlim=(-0.2, array.size + 0.2), ylim=(-0.7, max(2.6, 1.9 + 0.225 * longest)),
                  aspect="equal")
    memory_ax.axis("off")
    memory_ax.set_title(f"memory · {array.size} elements of {itemsize} bytes, byte offset below",
                        fontsize=10)
    return fig, (grid_ax, memory_ax)


def _compact(pair):
    """``(2, 2) -> "2"``, ``((1, 1), (1, 1)) -> "1"``; anything uneven is shown in full."""
    flat = np.ravel(pair)
    return str(flat[0]) if (flat == flat[0]).all() else str(pair)


def show_taps(in_hw, kernel, stride=1, padding=0, dilation=1, outputs=((0, 0), (0, 1)),
              ax=None, title=None, legend=True):
    """Draw a small input grid ``in_hw`` (H, W), its padding (hatched, holding 0), and the taps
    the ``outputs`` (i, j), inside the (OH, OW) output, read; ``kernel``, ``stride``,
    ``padding`` and ``dilation`` as for the convolution functions.

    Each output's taps (:func:`viz.geometry.tap_positions`) are filled in its colour, half
    transparent (shared taps look mixed), its window's span dashed; the ``legend`` under the
    grid names the outputs, padding and span; the title says the parameters by default.
    """
    kernel = rules.as_pair(kernel, "kernel")
    geometry = conv_geometry((1, *in_hw, 1), (*kernel, 1, 1), stride, padding, dilation)
    for i, j in outputs:
        if not (0 <= i < geometry.out_hw[0] and 0 <= j < geometry.out_hw[1]):
            raise ValueError(f"outputs must lie inside the output grid (OH, OW) = "
                             f"{geometry.out_hw}; got {(i, j)}")
    (top, bottom), (left, right) = geometry.padding
    height, width = in_hw
    ax = new_axes(ax, figsize=(0.45 * (width + left + right) + 0.6,
                               0.45 * (height + top + bottom) + 1.2))
    for row, col in itertools.product(range(-top, height + bottom), range(-left, width + right)):
        padded = not (0 <= row < height and 0 <= col < width)
        ax.add_patch(Rectangle((col, row), 1, 1, facecolor=PADDING_FACE if padded else "white",
                               edgecolor="gray", hatch=PADDING_HATCH if padded else None,
                               linewidth=0.8))
        if padded:
            ax.text(col + 0.5, row + 0.5, "0", fontsize=7, color="#404040", **CENTERED)
    handles, tap_alpha = [], 0.55
    for number, (i, j) in enumerate(outputs):
        color = WINDOW_COLORS[number % len(WINDOW_COLORS)]
        taps = viz_geometry.tap_positions(geometry, i, j).reshape(-1, 2)   # -> (KH*KW, 2)
        for row, col in taps:
            ax.add_patch(Rectangle((col, row), 1, 1, facecolor=color, alpha=tap_alpha,
                                   edgecolor="none"))
        first_row, first_col = viz_geometry.window_origin(geometry, i, j)
        ax.add_patch(Rectangle((first_col, first_row), *geometry.span[::-1], fill=False,
                               edgecolor=color, linewidth=2.5, linestyle="--"))   # (W, H)
        handles.append(Patch(facecolor=color, alpha=tap_alpha, edgecolor=color,
                             linestyle="--", label=f"output ({i}, {j})"))
    if legend:
        # Padding in the legend even when this panel has none: panels beside it may have.
        handles.append(Patch(facecolor=PADDING_FACE, hatch=PADDING_HATCH, edgecolor="gray",
                             label="padding (0)"))
        handles.append(Patch(facecolor="none", edgecolor="black", linestyle="--",
                             label="window span"))
        ax.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, 0.0), ncol=2,
                  fontsize=10, frameon=False, handlelength=1.2, columnspacing=1.0)
    ax.set(xlim=(-left - 0.1, width + right + 0.1), ylim=(height + bottom + 0.1, -top - 0.1),
           aspect="equal")
    ax.axis("off")
    if title is None:
        title = (f"stride {_compact(geometry.stride)} · padding {_compact(geometry.padding)}"
                 f" · dilation {_compact(geometry.dilation)}\n{kernel[0]}x{kernel[1]} kernel: "
                 f"{height}x{width} -> {geometry.out_hw[0]}x{geometry.out_hw[1]}")
    ax.set_title(title, fontsize=10)
    return ax


#: Colours for timing series that are not styles (e.g. notebook 02's "slice per position").
OTHER_COLORS = ("#000000", "#E69F00", "#56B4E9", "#999999")


def _series_colors(names, colors):
    """One colour per series: ``colors[name]``, else the style's colour, else the next other."""
    colors = dict(colors or {})
    others = itertools.cycle(OTHER_COLORS)
    return {name: colors.get(name, STYLE_COLORS.get(name)) or next(others) for name in names}


def _log_ticks(axis) -> None:
    """Label a log axis at 1, 2 and 5 times each power of ten, as plain numbers."""
    axis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
    axis.set_major_formatter("{x:g}")
    axis.set_minor_locator(NullLocator())


def plot_by_style(ax, x, values, xlabels=None, log=True):
    """Draw one line per style (timings against input size), each in its style's colour.

    ``x`` (P,) holds the measured points (e.g. pixels per image), where the ticks sit, labelled
    ``xlabels`` (P str) if given; ``values`` is ``{name: (P,) values}``, styles in their colour
    and marker, others in the next of :data:`OTHER_COLORS`; ``log`` scales both axes (slope 1:
    time proportional to ``x``).
    """
    x = np.asarray(x, dtype=float)
    colors = _series_colors(list(values), None)
    for name, series in values.items():
        series = np.asarray(series, dtype=float)
        if series.shape != x.shape:
            raise ValueError(f"values[{name!r}] must have one value per point of x "
                             f"({x.size}); got shape {series.shape}")
        ax.plot(x, series, marker=STYLE_MARKERS.get(name, "o"), color=colors[name], label=name)
    if log:
        ax.set(xscale="log", yscale="log")
        _log_ticks(ax.yaxis)
    ax.xaxis.set_minor_locator(NullLocator())
    ax.set_xticks(x, xlabels if xlabels is not None else [f"{value:g}" for value in x])
    ax.grid(True, which="major", alpha=0.3)
    return ax


def dot_plot(values, ax=None, title=None, unit="ms", xlabel="time (ms)", colors=None, log=True,
             fmt="{:.3g}"):
    """Draw measurements ``values``, ``{row: value}`` or ``{row: {series: value}}`` (series share
    a row, with a legend), as dots on a (``log``) axis labelled ``xlabel``, one row per case, the
    value beside each dot, formatted by ``fmt`` and followed by ``unit`` (a bar's length on a
    log axis depends on where the axis starts; a dot does not). A series is drawn in
    ``colors[series]``, else a style's colour and marker, else the next of :data:`OTHER_COLORS`.
    """
    rows = list(values)
    nested = all(isinstance(values[row], dict) for row in rows)
    table = {row: (values[row] if nested else {row: values[row]}) for row in rows}
    series = list(dict.fromkeys(name for row in rows for name in table[row]))
    palette = _series_colors(series, colors)
    ax = new_axes(ax, figsize=(7, 0.55 * len(rows) * max(1, len(series) / 2) + 1.2))
    # Series side by side in a row: offsets of up to +-0.3 of a row around its centre; a lone
    # series (or one series per row) sits on the centre.
    offsets = (np.linspace(-0.3, 0.3, len(series)) if nested and len(series) > 1
               else np.zeros(len(series)))
    for offset, name in zip(offsets, series):
        points = [(row_number + offset, table[row][name]) for row_number, row in enumerate(rows)
                  if name in table[row]]
        y, x = (np.array(column, dtype=float) for column in zip(*points))
        ax.plot(x, y, STYLE_MARKERS.get(name, "o"), markersize=8, color=palette[name],
                linestyle="none", label=name if nested else None)
        for value, height in zip(x, y):
            ax.annotate(f"{fmt.format(value)} {unit}", (value, height),
                        xytext=(7, 0), textcoords="offset points", va="center", fontsize=10)
    ax.set_yticks(np.arange(len(rows)), rows)
    ax.set_ylim(len(rows) - 0.5, -0.5)                    # first row on top
    every_value = [value for row in rows for value in table[row].values()]
    low, high = min(every_value), max(every_value)
    if log:
        ax.set_xscale("log")
        _log_ticks(ax.xaxis)
        ax.set_xlim(low / 1.6, high * 3.5)                # room for the printed values
    else:
        ax.set_xlim(0, high * 1.3)
    ax.set_xlabel(xlabel + (" · log scale" if log else ""))
    ax.grid(True, which="major", alpha=0.3)              # a line through every row, too
    ax.set_axisbelow(True)
    if nested and len(series) > 1:
        # Outside the axes, on the right: a legend inside would hide dots or values.
        ax.legend(fontsize=10, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
    if title:
        ax.set_title(title)
    return ax
