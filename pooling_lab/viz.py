"""The figures the notebooks draw again and again.

Every function draws into an ``ax`` you pass, or creates a small figure when you pass none,
and returns what it drew into (an ``Axes``, or ``(fig, axes)`` for grids). Nothing here calls
``plt.show()``: the notebook decides when a figure is shown.

The house style of the course, applied here once:

* images in gray or their own colours, ticks off;
* gradients with ``RdBu_r`` and limits symmetric around zero, with a colourbar;
* counts (how many windows cover a pixel) with ``viridis`` and a colourbar;
* small grids (4x4, 6x6) with the number printed in every cell.

Arrays follow the package's notation: an image is ``(H, W)``, ``(H, W, C)`` or a batch of one,
``(1, H, W, C)``, with ``C`` 1 or 3 and values in [0, 1].
"""

from __future__ import annotations

import math
import numbers
from pathlib import Path

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
from matplotlib import animation
from matplotlib.patches import Rectangle

from . import common, naive

#: Colours for the window outlines, one per window, chosen to stand out on photos.
WINDOW_COLORS = ("#ffcc00", "#ff3355", "#33ddff", "#66ff66", "#ff8800", "#cc66ff")


# --------------------------------------------------------------------------------------------
# Small helpers
# --------------------------------------------------------------------------------------------

def _new_axes(ax, figsize=(4, 4)):
    """Return ``ax``, or the axes of a new figure of ``figsize`` inches when ``ax`` is None."""
    if ax is None:
        _, ax = plt.subplots(figsize=figsize, layout="constrained")
    return ax


def as_picture(image) -> np.ndarray:
    """An image ready for ``imshow``: ``(1, H, W, C)``, ``(H, W, C)`` or ``(H, W)`` -> 2-D or RGB.

    Returns
    -------
    picture : (H, W) for one channel, (H, W, 3) for three
    """
    picture = np.asarray(image)
    if picture.ndim == 4:
        if picture.shape[0] != 1:
            raise ValueError(f"image must be a single image; got a batch of shape {picture.shape}")
        picture = picture[0]                              # (1, H, W, C) -> (H, W, C)
    if picture.ndim == 3 and picture.shape[2] == 1:
        picture = picture[:, :, 0]                        # (H, W, 1) -> (H, W)
    if picture.ndim not in (2, 3) or (picture.ndim == 3 and picture.shape[2] != 3):
        raise ValueError(f"image must be (H, W), (H, W, 1), (H, W, 3) or (1, H, W, C); "
                         f"got shape {np.shape(image)}")
    return picture


def _ticks_off(ax) -> None:
    ax.set_xticks([])
    ax.set_yticks([])


# --------------------------------------------------------------------------------------------
# Images
# --------------------------------------------------------------------------------------------

def show_image(image, ax=None, title=None):
    """Draw one image, gray if it has one channel, with its ticks off.

    Parameters
    ----------
    image : (H, W), (H, W, C) or (1, H, W, C), values in [0, 1]
    ax : matplotlib Axes, optional
    title : str, optional

    Returns
    -------
    ax : the Axes drawn into
    """
    ax = _new_axes(ax)
    picture = as_picture(image)
    # Clip: pooled or filtered images can leave [0, 1] by rounding, and imshow would warn.
    ax.imshow(np.clip(picture, 0, 1), cmap="gray", vmin=0, vmax=1, interpolation="nearest")
    if title:
        ax.set_title(title)
    _ticks_off(ax)
    return ax


def image_grid(images, titles=None, ncols=None, panel_size=3.0):
    """Draw several images side by side, each with its title.

    Parameters
    ----------
    images : sequence of (H, W), (H, W, C) or (1, H, W, C) arrays
        They may differ in size (a photo and its pooled versions): each panel keeps its own
        pixel scale, so a pooled image looks blockier, not smaller.
    titles : sequence of str, optional, one per image
    ncols : int, optional
        Panels per row; all in one row by default.
    panel_size : float
        Width of a panel in inches; its height follows the tallest image's aspect ratio.

    Returns
    -------
    fig, axes : the figure and a flat array of its Axes (unused panels are hidden)
    """
    images = list(images)
    if titles is not None and len(titles) != len(images):
        raise ValueError(f"titles must have one entry per image ({len(images)}); "
                         f"got {len(titles)}")
    ncols = len(images) if ncols is None else ncols
    nrows = -(-len(images) // ncols)                      # ceiling division
    tallest = max(as_picture(image).shape[0] / as_picture(image).shape[1] for image in images)
    row_height = panel_size * tallest + (0.35 if titles is not None else 0.1)
    fig, axes = plt.subplots(nrows, ncols, figsize=(panel_size * ncols, row_height * nrows),
                             layout="constrained", squeeze=False)
    axes = axes.ravel()
    for index, ax in enumerate(axes):
        if index < len(images):
            show_image(images[index], ax=ax, title=None if titles is None else titles[index])
        else:
            ax.set_visible(False)
    return fig, axes


# --------------------------------------------------------------------------------------------
# Windows drawn over an image
# --------------------------------------------------------------------------------------------

def window_boxes(image_hw, size, stride=None, padding="valid", windows=((0, 0), (0, 1), (1, 0))):
    """Where pooling windows lie, in the image's pixel coordinates.

    Parameters
    ----------
    image_hw : (H, W)
    size, stride, padding
        As for the pooling functions (``stride=None`` means ``stride = size``).
    windows : sequence of (i, j) output positions, or "all"
        Positions outside the output ``(OH, OW)`` are skipped.

    Returns
    -------
    boxes : list of (i, j, top, left, height, width)
        ``top`` and ``left`` are the window's first row and column in the image; they are
        negative for a window that starts in the padding.
    """
    geometry = common.pool_geometry((1, *image_hw, 1), size, stride, padding, 1)
    (top_pad, _), (left_pad, _) = geometry.padding
    oh, ow = geometry.out_hw
    if isinstance(windows, str) and windows == "all":
        windows = [(i, j) for i in range(oh) for j in range(ow)]
    (sh, sw), (span_h, span_w) = geometry.stride, geometry.span
    return [(i, j, i * sh - top_pad, j * sw - left_pad, span_h, span_w)
            for i, j in windows if 0 <= i < oh and 0 <= j < ow]


def draw_windows(ax, image_hw, size, stride=None, padding="valid",
                 windows=((0, 0), (0, 1), (1, 0)), linewidth=2.0, fill_alpha=0.15):
    """Outline some pooling windows over an image already drawn in ``ax``.

    One rectangle per window, in the colours of :data:`WINDOW_COLORS`, lightly filled so
    that overlaps show as mixed tints (``windows="all"`` draws every window as an outline in
    one colour). Windows that start in the padding stick out of the image; the axes are
    widened to show them.

    Parameters
    ----------
    ax : matplotlib Axes holding an image of shape (H, W) or (H, W, C)
    image_hw : (H, W)
    size, stride, padding, windows
        As for :func:`window_boxes`.
    linewidth : float
    fill_alpha : float
        Opacity of each window's fill (0 for outlines only).

    Returns
    -------
    ax
    """
    boxes = window_boxes(image_hw, size, stride, padding, windows)
    every_window = isinstance(windows, str)
    for number, (_, _, top, left, height, width) in enumerate(boxes):
        color = WINDOW_COLORS[0] if every_window else WINDOW_COLORS[number % len(WINDOW_COLORS)]
        face = "none" if every_window else matplotlib.colors.to_rgba(color, fill_alpha)
        # imshow centres pixel (r, c) on (c, r), so a pixel's edges lie half a unit away;
        # clip_on=False keeps the half of an edge line that falls outside the axes.
        ax.add_patch(Rectangle((left - 0.5, top - 0.5), width, height, facecolor=face,
                               edgecolor=color, linewidth=linewidth, clip_on=False))
    if boxes:
        height, width = image_hw
        lowest_top = min(box[2] for box in boxes)
        lowest_left = min(box[3] for box in boxes)
        highest_bottom = max(box[2] + box[4] for box in boxes)
        highest_right = max(box[3] + box[5] for box in boxes)
        # Image axes run top to bottom, so the y limits are (bottom, top).
        ax.set_xlim(min(lowest_left, 0) - 0.5, max(highest_right, width) - 0.5)
        ax.set_ylim(max(highest_bottom, height) - 0.5, min(lowest_top, 0) - 0.5)
    return ax


# --------------------------------------------------------------------------------------------
# Gradients and coverage
# --------------------------------------------------------------------------------------------

def symmetric_limit(values) -> float:
    """The largest ``|value|`` (1.0 for an all-zero array), for limits ``(-limit, +limit)``."""
    largest = float(np.nanmax(np.abs(values))) if np.size(values) else 0.0
    return largest if largest > 0 else 1.0


def show_gradient(gradient, ax=None, title=None, colorbar=True, limit=None):
    """Draw a gradient map: ``RdBu_r``, limits symmetric around zero, white means zero.

    Parameters
    ----------
    gradient : (H, W), (H, W, C) or (1, H, W, C)
        Channels are summed (the total gradient each pixel receives).
    ax : matplotlib Axes, optional
    title : str, optional
    colorbar : bool
    limit : float, optional
        Colours run from ``-limit`` to ``+limit``; default: the largest ``|value|`` shown. Give
        panels one ``limit`` to compare them (a constant map fills its own scale at full colour).

    Returns
    -------
    ax
    """
    ax = _new_axes(ax)
    values = np.asarray(gradient, dtype=float)
    if values.ndim == 4:
        values = values[0]                                # (1, H, W, C) -> (H, W, C)
    if values.ndim == 3:
        values = values.sum(axis=2)                       # (H, W, C) -> (H, W)
    if limit is None:
        limit = symmetric_limit(values)
    elif isinstance(limit, bool) or not (isinstance(limit, numbers.Real) and 0 < limit < math.inf):
        raise ValueError(f"limit must be a positive finite number; got {limit!r}")
    shown = ax.imshow(values, cmap="RdBu_r", vmin=-limit, vmax=limit, interpolation="nearest")
    if colorbar:
        ax.figure.colorbar(shown, ax=ax, shrink=0.8)
    if title:
        ax.set_title(title)
    _ticks_off(ax)
    return ax


def coverage_counts(image_hw, size, stride=None, padding="valid", dilation=1) -> np.ndarray:
    """How many pooling windows cover each pixel.

    Returns
    -------
    counts : (H, W) int array
        1 everywhere for windows that tile the image, more where windows overlap, 0 for pixels
        no window reaches (a stride larger than the window skips them).
    """
    geometry = common.pool_geometry((1, *image_hw, 1), size, stride, padding, dilation)
    counts = np.zeros(geometry.padded_shape[1:3], dtype=int)
    for i in range(geometry.out_hw[0]):
        for j in range(geometry.out_hw[1]):
            counts[geometry.window_slices(i, j)] += 1
    (top, _), (left, _) = geometry.padding
    height, width = image_hw
    return counts[top:top + height, left:left + width]   # (Hp, Wp) -> (H, W)


def show_coverage(counts, ax=None, title=None, colorbar=True):
    """Draw window counts per pixel with ``viridis`` and an integer colourbar.

    Parameters
    ----------
    counts : (H, W) int array, e.g. from :func:`coverage_counts`

    Returns
    -------
    ax
    """
    ax = _new_axes(ax)
    counts = np.asarray(counts)
    shown = ax.imshow(counts, cmap="viridis", vmin=0, vmax=max(int(counts.max()), 1),
                      interpolation="nearest")
    if colorbar:
        bar = ax.figure.colorbar(shown, ax=ax, shrink=0.8)
        bar.set_ticks(np.arange(0, max(int(counts.max()), 1) + 1))
        bar.set_label("windows covering the pixel")
    if title:
        ax.set_title(title)
    _ticks_off(ax)
    return ax


# --------------------------------------------------------------------------------------------
# Small grids with their numbers
# --------------------------------------------------------------------------------------------

def show_numbers(values, ax=None, title=None, fmt="{:g}", cmap="Greys", limits=None,
                 highlight=None, fontsize=11):
    """Draw a small 2-D array as coloured cells with each value printed in its cell.

    Parameters
    ----------
    values : (rows, cols) array, e.g. a 4x4 or 6x6 example (NaN cells are left blank)
    ax : matplotlib Axes, optional
    title : str, optional
    fmt : str
        Format of each number, e.g. ``"{:.2f}"``.
    cmap : str
        ``"Greys"`` for inputs; ``"RdBu_r"`` for gradients (limits are then symmetric).
    limits : (low, high), optional
        Colour limits; by default the values' range (symmetric for ``RdBu_r``).
    highlight : sequence of (row, col), optional
        Cells to outline in red, e.g. the winners of a max pool.

    Returns
    -------
    ax
    """
    values = np.asarray(values, dtype=float)
    if values.ndim != 2:
        raise ValueError(f"values must be a 2-D (rows, cols) array; got shape {values.shape}")
    ax = _new_axes(ax, figsize=(0.5 * values.shape[1] + 0.6, 0.5 * values.shape[0] + 0.6))
    if limits is None:
        if cmap == "RdBu_r":
            limit = symmetric_limit(values)
            limits = (-limit, limit)
        else:
            finite = values[np.isfinite(values)]
            limits = (finite.min(), finite.max()) if finite.size else (0.0, 1.0)
            if limits[0] == limits[1]:
                limits = (limits[0] - 1, limits[1] + 1)
    low, high = limits
    colormap = matplotlib.colormaps[cmap]
    # Soften the colours so that black and white numbers both stay readable.
    ax.imshow(values, cmap=cmap, vmin=low - 0.25 * (high - low), vmax=high + 0.25 * (high - low),
              interpolation="nearest")
    for (row, col), value in np.ndenumerate(values):
        if np.isnan(value):
            continue
        shade = (value - low) / (high - low) if high > low else 0.5
        red, green, blue, _ = colormap(0.25 / 1.5 + np.clip(shade, 0, 1) / 1.5)
        text_color = "black" if 0.299 * red + 0.587 * green + 0.114 * blue > 0.5 else "white"
        ax.text(col, row, fmt.format(value), ha="center", va="center", color=text_color,
                fontsize=fontsize)
    for row, col in (highlight or ()):
        ax.add_patch(Rectangle((col - 0.5, row - 0.5), 1, 1, fill=False, edgecolor="red",
                               linewidth=2.5, clip_on=False))
    # Thin white lines between cells.
    rows, cols = values.shape
    ax.hlines(np.arange(1, rows) - 0.5, -0.5, cols - 0.5, color="white", linewidth=1.5)
    ax.vlines(np.arange(1, cols) - 0.5, -0.5, rows - 0.5, color="white", linewidth=1.5)
    _ticks_off(ax)
    if title:
        ax.set_title(title)
    return ax


# --------------------------------------------------------------------------------------------
# Animation: a window sliding forward, the gradient flowing back
# --------------------------------------------------------------------------------------------

def _pool(kind):
    """The naive forward and backward functions for ``kind`` ("max" or "avg")."""
    if kind == "max":
        return naive.max_pool_forward, naive.max_pool_backward
    if kind == "avg":
        return naive.avg_pool_forward, naive.avg_pool_backward
    raise ValueError(f'kind must be "max" or "avg"; got {kind!r}')


def sliding_window_frames(grid, size, stride, kind="max", dout=None):
    """The states of the sliding-window animation, computed with the naive style.

    Parameters
    ----------
    grid : (H, W) input
    size, stride : int
    kind : "max" or "avg"
    dout : (OH, OW) upstream gradient, optional (1, 2, 3, ... by default)

    Returns
    -------
    out : (OH, OW) the full forward output
    dout : (OH, OW)
    steps : list of (i, j, dx_so_far) with dx_so_far (H, W)
        After backward step ``(i, j)``, the gradient from windows ``(0, 0) .. (i, j)``
        (row-major) added up: pixels covered by several windows collect several shares.
    """
    forward, backward = _pool(kind)
    grid = np.asarray(grid, dtype=float)
    out, cache = forward(grid[None, :, :, None], size, stride)   # (H, W) -> (1, H, W, 1)
    out = out[0, :, :, 0]                                        # -> (OH, OW)
    if dout is None:
        dout = np.arange(1, out.size + 1, dtype=float).reshape(out.shape)
    dout = np.asarray(dout, dtype=float)
    steps, dx_so_far = [], np.zeros_like(grid)
    for i, j in np.ndindex(out.shape):
        # The gradient of window (i, j) alone: backward of a dout that is zero elsewhere.
        one_window = np.zeros_like(dout)
        one_window[i, j] = dout[i, j]
        dx_so_far = dx_so_far + backward(one_window[None, :, :, None], cache)[0, :, :, 0]
        steps.append((i, j, dx_so_far))
    return out, dout, steps


def animate_sliding_window(grid, size, stride, path, kind="max", dout=None, fps=1.5, dpi=80):
    """Write a GIF: a window slides over ``grid`` filling the output, then the gradient flows back.

    The first half shows the forward pass, one output cell per frame; the second half sends
    ``dout`` back window by window and adds it into ``dx``, so pixels shared by overlapping
    windows visibly collect more than one share. Every frame is computed with the naive style
    and the GIF is the same file on every run.

    Parameters
    ----------
    grid : (H, W) small input with the numbers to print (e.g. 7x7 integers)
    size, stride : int
    path : str or Path of the .gif to write
    kind : "max" or "avg"
    dout : (OH, OW), optional
    fps, dpi : frames per second and resolution

    Returns
    -------
    path : Path of the written file
    """
    grid = np.asarray(grid, dtype=float)
    out, dout, steps = sliding_window_frames(grid, size, stride, kind, dout)
    boxes = {(i, j): (top, left, height, width)
             for i, j, top, left, height, width in window_boxes(grid.shape, size, stride,
                                                                windows="all")}
    label = f"{kind} · size {size} · stride {stride}"
    number_format = "{:g}" if kind == "max" else "{:.2f}"
    dx_limit = symmetric_limit(steps[-1][2])
    blank_out = np.full(out.shape, np.nan)

    fig, axes = plt.subplots(1, 4, figsize=(11, 3.2), dpi=dpi,
                             gridspec_kw={"width_ratios": [grid.shape[1], out.shape[1],
                                                           out.shape[1], grid.shape[1]]})
    fig.subplots_adjust(left=0.01, right=0.99, bottom=0.02, top=0.8, wspace=0.15)

    def draw(frame):
        for ax in axes:
            ax.clear()
        forward_frames = len(steps)
        if frame < forward_frames:                          # forward: fill the output
            i, j = np.unravel_index(frame, out.shape)
            shown_out = blank_out.copy()
            shown_out.flat[:frame + 1] = out.flat[:frame + 1]
            fig.suptitle(f"forward · {label} · window ({i}, {j})", fontsize=13)
            dx_shown, dout_shown = np.full(grid.shape, np.nan), np.full(out.shape, np.nan)
        else:                                               # backward: add up the gradient
            i, j, dx_shown = steps[frame - forward_frames]
            shown_out, dout_shown = out, dout
            fig.suptitle(f"backward · {label} · window ({i}, {j}) sends dout = "
                         f"{number_format.format(dout[i, j])} back", fontsize=13)
        top, left, height, width = boxes[(i, j)]
        show_numbers(grid, ax=axes[0], title="input x", fmt="{:g}")
        show_numbers(shown_out, ax=axes[1], title="output", fmt=number_format,
                     limits=(grid.min(), grid.max()))
        show_numbers(dout_shown, ax=axes[2], title="dout", cmap="RdBu_r", fmt="{:g}",
                     limits=(-symmetric_limit(dout), symmetric_limit(dout)))
        show_numbers(dx_shown, ax=axes[3], title="dx (adds up)", cmap="RdBu_r",
                     fmt=number_format, limits=(-dx_limit, dx_limit))
        window_axes = axes[0] if frame < forward_frames else axes[3]
        window_axes.add_patch(Rectangle((left - 0.5, top - 0.5), width, height, fill=False,
                                        edgecolor="#ff8800", linewidth=3, clip_on=False))
        cell_axes = axes[1] if frame < forward_frames else axes[2]
        cell_axes.add_patch(Rectangle((j - 0.5, i - 0.5), 1, 1, fill=False,
                                      edgecolor="#ff8800", linewidth=3, clip_on=False))
        if frame < forward_frames and kind == "max":
            # Outline the window's winner, its first maximum in row-major order.
            window = grid[top:top + height, left:left + width]
            row, col = np.unravel_index(np.argmax(window), window.shape)
            axes[0].add_patch(Rectangle((left + col - 0.5, top + row - 0.5), 1, 1, fill=False,
                                        edgecolor="red", linewidth=2.5, clip_on=False))

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    writer = animation.PillowWriter(fps=fps)
    with writer.saving(fig, path, dpi=dpi):
        for frame in range(2 * len(steps)):
            draw(frame)
            writer.grab_frame()
    plt.close(fig)
    return path


# --- figures added for notebooks 03-07 below ---


# --- figures for notebooks 03-05 ---

def byte_offsets(array) -> np.ndarray:
    """Where each element of a 2-D array starts, in bytes after element ``[0, 0]``.

    ``offset[i, j] = i * strides[0] + j * strides[1]``: the whole of NumPy's indexing, for
    any 2-D array or view (a transposed or sliced view has other strides, same memory).

    Parameters
    ----------
    array : (rows, cols) ndarray

    Returns
    -------
    offsets : (rows, cols) int array
    """
    array = np.asarray(array)
    if array.ndim != 2:
        raise ValueError(f"array must be 2-D (rows, cols); got shape {array.shape}")
    rows, cols = np.indices(array.shape)
    return rows * array.strides[0] + cols * array.strides[1]


def show_memory(array, highlight=(), title=None, fmt="{:g}"):
    """Draw a small 2-D array twice: as the grid we index, and as the line of bytes it lives in.

    Each grid cell shows its value and its byte offset; the memory line below lists the same
    elements in the order they sit in memory. Highlighted cells (e.g. the taps of one window)
    are coloured in both drawings, and arrows over the memory line show each jump between
    them in bytes: that jump is what a stride is.

    Parameters
    ----------
    array : (rows, cols) C-contiguous ndarray, small (up to about 6x8)
    highlight : sequence of (row, col), optional
        Cells in the order they are visited; consecutive ones are joined by an arrow.
    title : str, optional
        Title of the grid; by default its shape and strides.
    fmt : str
        Format of each value.

    Returns
    -------
    fig, (grid_ax, memory_ax)
    """
    array = np.asarray(array)
    if array.ndim != 2 or not array.flags.c_contiguous:
        raise ValueError(f"array must be a C-contiguous 2-D array (rows, cols); got shape "
                         f"{array.shape} with C-contiguous={array.flags.c_contiguous}")
    rows, cols = array.shape
    offsets = byte_offsets(array)
    highlight = [tuple(int(v) for v in cell) for cell in highlight]
    color = WINDOW_COLORS[4]
    fig, (grid_ax, memory_ax) = plt.subplots(
        2, 1, figsize=(max(5.0, 0.62 * array.size + 0.6), 0.75 * rows + 2.6),
        gridspec_kw={"height_ratios": [rows + 0.8, 2.4]}, layout="constrained")

    for (row, col), value in np.ndenumerate(array):
        face = color if (row, col) in highlight else "#eeeeee"
        grid_ax.add_patch(Rectangle((col, row), 1, 1, facecolor=face, edgecolor="gray"))
        grid_ax.text(col + 0.5, row + 0.42, fmt.format(value), ha="center", va="center",
                     fontsize=12)
        grid_ax.text(col + 0.5, row + 0.8, f"byte {offsets[row, col]}", ha="center",
                     va="center", fontsize=7, color="dimgray")
    grid_ax.set_xlim(0, cols)
    grid_ax.set_ylim(rows, 0)                             # row 0 on top, as in print(array)
    grid_ax.set_aspect("equal")
    grid_ax.axis("off")
    grid_ax.set_title(title or f"array · shape {array.shape} · strides {array.strides} bytes")

    itemsize = array.itemsize
    for index, value in enumerate(array.ravel()):        # C order is memory order
        cell = divmod(index, cols)
        face = color if cell in highlight else "#eeeeee"
        memory_ax.add_patch(Rectangle((index, 0), 1, 1, facecolor=face, edgecolor="gray"))
        memory_ax.text(index + 0.5, 0.5, fmt.format(value), ha="center", va="center",
                       fontsize=10)
        memory_ax.text(index + 0.5, -0.3, f"{index * itemsize}", ha="center", va="center",
                       fontsize=7, color="dimgray")
    for start, end in zip(highlight, highlight[1:]):
        first, second = start[0] * cols + start[1], end[0] * cols + end[1]
        jump = int(offsets[end] - offsets[start])
        memory_ax.annotate("", xy=(second + 0.5, 1.05), xytext=(first + 0.5, 1.05),
                           arrowprops={"arrowstyle": "->", "color": "black",
                                       "connectionstyle": "arc3,rad=-0.45"})
        memory_ax.text((first + second) / 2 + 0.5, 1.25 + 0.09 * abs(second - first),
                       f"{jump:+d} B", ha="center", va="bottom", fontsize=8)
    memory_ax.set_xlim(-0.2, array.size + 0.2)
    memory_ax.set_ylim(-0.7, 2.6)
    memory_ax.set_aspect("equal")
    memory_ax.axis("off")
    memory_ax.set_title(f"memory · {array.size} elements of {itemsize} bytes, byte offset below",
                        fontsize=10)
    return fig, (grid_ax, memory_ax)


def _compact(pair):
    """``(2, 2) -> "2"``, ``((1, 1), (1, 1)) -> "1"``; anything uneven is shown in full."""
    flat = np.ravel(pair)
    return str(flat[0]) if (flat == flat[0]).all() else str(pair)


def tap_positions(in_hw, kernel, stride=1, padding=0, dilation=1, output=(0, 0)):
    """The pixels one output's window reads, in tap order (row-major over the kernel).

    Parameters
    ----------
    in_hw : (H, W)
    kernel, stride, dilation : int or (rows, cols)
    padding : as for the convolution functions
    output : (i, j) an output position inside (OH, OW)

    Returns
    -------
    taps : list of (row, col) in image coordinates
        A row or column below 0 or past the image's last one lies in the padding.
    """
    kernel = common.as_pair(kernel, "kernel")
    geometry = common.conv_geometry((1, *in_hw, 1), (*kernel, 1, 1), stride, padding, dilation)
    i, j = output
    if not (0 <= i < geometry.out_hw[0] and 0 <= j < geometry.out_hw[1]):
        raise ValueError(f"output must lie inside the output grid (OH, OW) = "
                         f"{geometry.out_hw}; got {output}")
    (top, _), (left, _) = geometry.padding
    (sh, sw), (dh, dw) = geometry.stride, geometry.dilation
    return [(i * sh + a * dh - top, j * sw + b * dw - left) for _, a, b in geometry.offsets()]


def show_taps(in_hw, kernel, stride=1, padding=0, dilation=1, outputs=((0, 0), (0, 1)),
              ax=None, title=None):
    """Draw the input grid, its padding, and the taps that a few output windows read.

    Image cells are white, padding cells gray; the taps of each listed output are filled in
    its own colour (half transparent, so taps two windows share look mixed) and its window's
    span is outlined with a dashed line.

    Parameters
    ----------
    in_hw : (H, W) a small input, e.g. (5, 5)
    kernel, stride, padding, dilation
        As for the convolution functions.
    outputs : sequence of (i, j)
    ax : matplotlib Axes, optional
    title : str, optional
        By default the parameters and the output size.

    Returns
    -------
    ax
    """
    kernel = common.as_pair(kernel, "kernel")
    geometry = common.conv_geometry((1, *in_hw, 1), (*kernel, 1, 1), stride, padding, dilation)
    (top, bottom), (left, right) = geometry.padding
    height, width = in_hw
    ax = _new_axes(ax, figsize=(0.45 * (width + left + right) + 0.6,
                                0.45 * (height + top + bottom) + 0.8))
    for row in range(-top, height + bottom):
        for col in range(-left, width + right):
            inside = 0 <= row < height and 0 <= col < width
            ax.add_patch(Rectangle((col, row), 1, 1, facecolor="white" if inside else "#bbbbbb",
                                   edgecolor="gray", linewidth=0.8))
    for number, output in enumerate(outputs):
        color = WINDOW_COLORS[(number + 1) % len(WINDOW_COLORS)]
        taps = tap_positions(in_hw, kernel, stride, padding, dilation, output)
        for row, col in taps:
            ax.add_patch(Rectangle((col, row), 1, 1, facecolor=color, alpha=0.55,
                                   edgecolor="none"))
        first_row, first_col = taps[0]
        span_h, span_w = geometry.span
        ax.add_patch(Rectangle((first_col, first_row), span_w, span_h, fill=False,
                               edgecolor=color, linewidth=2.5, linestyle="--"))
    ax.set_xlim(-left - 0.1, width + right + 0.1)
    ax.set_ylim(height + bottom + 0.1, -top - 0.1)
    ax.set_aspect("equal")
    ax.axis("off")
    if title is None:
        title = (f"stride {_compact(geometry.stride)} · padding {_compact(geometry.padding)}"
                 f" · dilation {_compact(geometry.dilation)}\n{kernel[0]}x{kernel[1]} kernel: "
                 f"{height}x{width} -> {geometry.out_hw[0]}x{geometry.out_hw[1]}")
    ax.set_title(title, fontsize=10)
    return ax


# --- figures for notebook 07 ---

def show_training(histories, title=None):
    """Draw training curves: the training loss and the test accuracy, epoch by epoch.

    Parameters
    ----------
    histories : dict {label: history}
        Each ``history`` is what ``Sequential.fit`` returns: lists ``"loss"`` and
        ``"test_accuracy"``, one entry per epoch.
    title : str, optional

    Returns
    -------
    fig, axes : the figure and its two Axes (loss, accuracy)
    """
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.2), layout="constrained")
    for label, history in histories.items():
        epochs = np.arange(1, len(history["loss"]) + 1)
        axes[0].plot(epochs, history["loss"], marker="o", markersize=3, label=label)
        axes[1].plot(epochs, 100 * np.asarray(history["test_accuracy"]), marker="o",
                     markersize=3, label=label)
    axes[0].set_yscale("log")                  # the loss falls by orders of magnitude
    axes[0].set(xlabel="epoch", ylabel="mean loss", title="training loss · log scale")
    axes[1].set(xlabel="epoch", ylabel="%", title="test accuracy")
    for ax in axes:
        ax.grid(alpha=0.3)
        ax.legend()
    if title:
        fig.suptitle(title)
    return fig, axes


def show_filters(w, ncols=8, title=None, panel_size=0.9):
    """Draw the kernels of a convolution that reads one-channel images, one panel each.

    All kernels share one colour scale (``RdBu_r``, symmetric around zero), so strong and
    weak filters can be compared: red weights add up bright pixels, blue ones subtract them.

    Parameters
    ----------
    w : (KH, KW, 1, C_out) array
    ncols : int
        Panels per row.
    title : str, optional
    panel_size : float
        Width of a panel in inches.

    Returns
    -------
    fig, axes : the figure and a flat array of its Axes
    """
    w = np.asarray(w, dtype=float)
    if w.ndim != 4 or w.shape[2] != 1:
        raise ValueError(f"w must have shape (KH, KW, 1, C_out), the weights of a layer "
                         f"reading one channel; got shape {w.shape}")
    count = w.shape[3]
    nrows = -(-count // ncols)                            # ceiling division
    limit = symmetric_limit(w)
    fig, axes = plt.subplots(nrows, ncols, figsize=(panel_size * ncols + 0.9,
                                                    panel_size * nrows + 0.5),
                             layout="constrained", squeeze=False)
    axes = axes.ravel()
    for k, ax in enumerate(axes):
        if k >= count:
            ax.set_visible(False)
            continue
        shown = ax.imshow(w[:, :, 0, k], cmap="RdBu_r", vmin=-limit, vmax=limit,
                          interpolation="nearest")
        ax.set_title(f"filter {k}", fontsize=9)
        _ticks_off(ax)
    fig.colorbar(shown, ax=axes, shrink=0.8, label="weight")
    if title:
        fig.suptitle(title)
    return fig, axes


def tile_maps(maps, ncols=16, gap=1) -> np.ndarray:
    """Lay the channels of feature maps out in a grid, for one ``imshow``.

    Parameters
    ----------
    maps : (H, W, C) array
    ncols : int
        Maps per row of the grid; channel ``c`` goes to row ``c // ncols``, column
        ``c % ncols``.
    gap : int
        Pixels of NaN between neighbours (drawn in the colour map's "bad" colour).

    Returns
    -------
    tiles : (rows*(H+gap) - gap, ncols*(W+gap) - gap) float array, rows = ceil(C / ncols)
    """
    maps = np.asarray(maps, dtype=float)
    height, width, channels = maps.shape
    rows = -(-channels // ncols)                          # ceiling division
    tiles = np.full((rows * (height + gap) - gap, ncols * (width + gap) - gap), np.nan)
    for channel in range(channels):
        top = (channel // ncols) * (height + gap)
        left = (channel % ncols) * (width + gap)
        tiles[top:top + height, left:left + width] = maps[:, :, channel]
    return tiles


def show_feature_maps(image, stages, title=None, ncols=16, width=10.0):
    """Draw what the layers of a network make of one image: one panel of maps per stage.

    Each stage's channels are tiled ``ncols`` to a row (channel 0 top left), separated by
    thin light-blue gaps, every map drawn as large as the largest (square maps that halve in
    size, as pooling makes them, keep whole blocks): a pooled map looks blockier, not
    smaller. Non-negative maps (after a
    ReLU or a pool) are gray, black at 0 and white at the panel's largest value, so a max
    pool's panel has the same scale as the panel it pools; maps with negative values are drawn
    with ``RdBu_r``, symmetric around zero.

    Parameters
    ----------
    image : (H, W), (H, W, 1) or (1, H, W, 1)
        The input, drawn on the left.
    stages : sequence of (name, maps)
        ``maps`` is ``(OH, OW, C)`` or ``(1, OH, OW, C)``.
    title : str, optional
    ncols : int
        Maps per row of a panel (at most the largest channel count).
    width : float
        Width of the figure in inches.

    Returns
    -------
    fig, axes : the figure, and its Axes: the input's, then one per stage
    """
    stages = [(name, np.asarray(maps, dtype=float)) for name, maps in stages]
    stages = [(name, maps[0] if maps.ndim == 4 else maps) for name, maps in stages]
    # Blow every map up to the largest map's size (each pixel a block), so that all tiles
    # and gaps have one size and a pooled map looks blockier, not smaller.
    largest = max(maps.shape[0] for _, maps in stages)
    ncols = min(ncols, max(maps.shape[2] for _, maps in stages))
    strips = [tile_maps(maps.repeat(largest // maps.shape[0], axis=0)
                        .repeat(largest // maps.shape[0], axis=1), ncols)
              for _, maps in stages]
    # Panels share the maps' column (about 82 % of the width, beside the input), so each
    # gets the height its aspect ratio asks for, plus room for its title.
    heights = [strip.shape[0] / strip.shape[1] for strip in strips]
    fig = plt.figure(figsize=(width, 0.82 * width * sum(heights) + 0.45 * len(strips) + 0.4),
                     layout="constrained")
    grid = fig.add_gridspec(len(strips), 2, width_ratios=(1, 9), height_ratios=heights)
    input_ax = fig.add_subplot(grid[:, 0])
    show_image(image, ax=input_ax, title="input")
    axes = [input_ax]
    for row, ((name, maps), strip) in enumerate(zip(stages, strips)):
        ax = fig.add_subplot(grid[row, 1])
        if np.nanmin(strip) < 0:
            limit = symmetric_limit(maps)
            cmap, low, high = "RdBu_r", -limit, limit
        else:
            cmap, low, high = "gray", 0.0, max(float(np.nanmax(strip)), 1e-12)
        ax.imshow(strip, cmap=matplotlib.colormaps[cmap].with_extremes(bad="#cfe0f0"),
                  vmin=low, vmax=high, interpolation="nearest")
        ax.set_title(f"{name} · {maps.shape[0]}x{maps.shape[1]} · {maps.shape[2]} channels",
                     fontsize=10)
        _ticks_off(ax)
        axes.append(ax)
    if title:
        fig.suptitle(title)
    return fig, axes


def show_confusion(counts, ax=None, title=None):
    """Draw a confusion matrix: counts with ``viridis``, the number in every non-zero cell.

    Parameters
    ----------
    counts : (K, K) int array
        ``counts[t, p]``: examples of true class ``t`` predicted as ``p``.
    ax : matplotlib Axes, optional
    title : str, optional

    Returns
    -------
    ax
    """
    counts = np.asarray(counts)
    if counts.ndim != 2 or counts.shape[0] != counts.shape[1]:
        raise ValueError(f"counts must be a square (K, K) array; got shape {counts.shape}")
    ax = _new_axes(ax, figsize=(5, 4.2))
    shown = ax.imshow(counts, cmap="viridis", vmin=0, vmax=max(int(counts.max()), 1))
    ax.figure.colorbar(shown, ax=ax, shrink=0.8, label="digits")
    for (true, predicted), count in np.ndenumerate(counts):
        if count:
            # viridis is dark below about 60 % of its range: white text there, black above.
            color = "black" if count > 0.6 * counts.max() else "white"
            ax.text(predicted, true, str(count), ha="center", va="center", color=color,
                    fontsize=9)
    classes = np.arange(counts.shape[0])
    ax.set_xticks(classes)
    ax.set_yticks(classes)
    ax.set(xlabel="predicted", ylabel="true")
    if title:
        ax.set_title(title)
    return ax
