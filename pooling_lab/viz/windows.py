"""Images and windows: photos, small grids of numbers, pooling windows drawn over them, and the
sliding-window animation. Coordinates follow ``imshow``: pixel ``(row, col)`` is centred on
the point ``(col, row)``; padded cells have negative rows and columns or ones past the end.
"""

from pathlib import Path

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.colors import ListedColormap, Normalize
from matplotlib.patches import Rectangle
from PIL import Image

from .. import op_functions
from ..geometry import pool_geometry
from ..rules import resolve_padding
from . import geometry as viz_geometry
from .base import (CENTERED, GRAY_WEIGHTS, NUMBERS_CMAP, PADDING_FACE, PADDING_HATCH, WINDOW_COLORS,
                   WINNER_COLOR, as_picture, new_axes, outline, ticks_off)
from .gradients import count_colors, gradient_colors, symmetric_limit


def show_image(image, ax=None, title=None):
    """Draw one image, ``(H, W)``, ``(H, W, C)`` or ``(1, H, W, C)`` in [0, 1], gray if it has one
    channel, ticks off."""
    ax = new_axes(ax)
    picture = as_picture(image)
    # Clip: pooled or filtered images can leave [0, 1] by rounding, and imshow would warn.
    ax.imshow(np.clip(picture, 0, 1), cmap="gray", vmin=0, vmax=1, interpolation="nearest")
    return ticks_off(ax, title)


def image_grid(images, titles=None, ncols=None, panel_size=3.0):
    """Draw several ``images``, each (H, W), (H, W, C) or (1, H, W, C), with its ``titles`` entry,
    ``ncols`` to a row (all in one row by default), each panel ``panel_size`` inches wide (high
    as the tallest image needs) and keeping its own pixel scale, so a pooled image looks
    blockier, not smaller. Returns ``fig, axes``, a flat array of its Axes (unused ones hidden).
    """
    images = list(images)
    if titles is not None and len(titles) != len(images):
        raise ValueError(f"titles must have one entry per image ({len(images)}); "
                         f"got {len(titles)}")
    ncols = len(images) if ncols is None else ncols
    nrows = -(-len(images) // ncols)                      # ceiling division
    tallest = max(picture.shape[0] / picture.shape[1] for picture in map(as_picture, images))
    row_height = panel_size * tallest + (0.35 if titles is not None else 0.1)
    fig, axes = plt.subplots(nrows, ncols, figsize=(panel_size * ncols, row_height * nrows),
                             layout="constrained", squeeze=False)
    axes = axes.ravel()
    for index, image in enumerate(images):
        show_image(image, ax=axes[index], title=None if titles is None else titles[index])
    for ax in axes[len(images):]:
        ax.set_visible(False)                             # the last row's unused panels
    return fig, axes


def add_zoom_inset(ax, rows, cols, bounds=(0.56, 0.56, 0.42, 0.42), color="#E69F00"):
    """Magnify ``image[rows, cols]`` (``(start, stop)`` pixels) of the image drawn in ``ax`` in an
    inset at ``bounds`` (x, y, width, height as fractions of ``ax``), framed in ``color`` and
    joined to a box on the image: a frame a few pixels wide (as "same" padding leaves) shows.
    Returns the inset's Axes.
    """
    images = ax.get_images()
    if not images:
        raise ValueError("ax must already hold an image to magnify; it holds none")
    source = images[0]
    data = np.asarray(source.get_array())
    (top, bottom), (left, right) = rows, cols
    if not (0 <= top < bottom <= data.shape[0] and 0 <= left < right <= data.shape[1]):
        raise ValueError(f"rows {rows} and cols {cols} must be (start, stop) ranges inside the "
                         f"image of shape {data.shape[:2]}")
    inset = ax.inset_axes(bounds)
    # extent keeps the image's pixel coordinates, so the zoom lines meet the right box.
    inset.imshow(data[top:bottom, left:right], cmap=source.get_cmap(), norm=source.norm,
                 interpolation="nearest",
                 extent=(left - 0.5, right - 0.5, bottom - 0.5, top - 0.5))
    ticks_off(inset)
    inset.spines[:].set(edgecolor=color, linewidth=2)
    ax.indicate_inset_zoom(inset, edgecolor=color, alpha=1.0, linewidth=1.5)
    return inset


def window_boxes(image_hw, size, stride=None, padding="valid", windows=((0, 0), (0, 1), (1, 0)),
                 dilation=1):
    """Where pooling windows lie on an image of ``image_hw`` (H, W), in its pixel coordinates;
    ``size``, ``stride``, ``padding``, ``dilation`` as for the pooling functions; ``windows`` a
    sequence of (i, j) output positions (outside ones skipped), or "all".

    Returns
    -------
    boxes : list of (i, j, top, left, height, width), ``(top, left)`` the window's origin
        (negative in the padding), ``(height, width)`` its span
    """
    geometry = pool_geometry((1, *image_hw, 1), size, stride, padding, dilation)
    oh, ow = geometry.out_hw
    if isinstance(windows, str):
        if windows != "all":
            raise ValueError(f'windows must be "all" or a sequence of (i, j) output positions; '
                             f"got {windows!r}")
        windows = [(i, j) for i in range(oh) for j in range(ow)]
    return [(i, j, *viz_geometry.window_origin(geometry, i, j), *geometry.span)
            for i, j in windows if 0 <= i < oh and 0 <= j < ow]


def draw_windows(ax, image_hw, size, stride=None, padding="valid",
                 windows=((0, 0), (0, 1), (1, 0)), linewidth=2.0, fill_alpha=0.35, dilation=1,
                 inset=0.0):
    """Outline pooling windows over an image or grid drawn in ``ax``: window ``k`` in
    ``WINDOW_COLORS[k]`` filled at ``fill_alpha`` (overlaps show as mixed tints), or with
    ``windows="all"`` every window outlined in one colour; the padding they reach into hatched
    (:func:`draw_padding`), the axes widened to show it. ``image_hw``, ``size``, ``stride``,
    ``padding``, ``windows``, ``dilation`` as for :func:`window_boxes`; ``inset`` shrinks each
    outline by that many pixels, so touching windows keep both borders.
    """
    boxes = window_boxes(image_hw, size, stride, padding, windows, dilation)
    draw_padding(ax, image_hw, pool_geometry((1, *image_hw, 1), size, stride, padding,
                                             dilation).padding)
    every_window = isinstance(windows, str)
    for number, (_, _, top, left, height, width) in enumerate(boxes):
        color = WINDOW_COLORS[0 if every_window else number % len(WINDOW_COLORS)]
        face = "none" if every_window else matplotlib.colors.to_rgba(color, fill_alpha)
        outline(ax, top, left, height, width, color, linewidth, inset, face)
    if boxes:
        # Widen the axes to every box's pixel edges, never narrowing what is shown already (the
        # image, or a padded grid); image axes run top to bottom, so y limits are (bottom, top).
        _, _, tops, lefts, heights, widths = np.transpose(boxes)
        x_low, x_high = sorted(ax.get_xlim())
        y_low, y_high = sorted(ax.get_ylim())
        ax.set_xlim(min(x_low, lefts.min() - 0.5), max(x_high, (lefts + widths).max() - 0.5))
        ax.set_ylim(max(y_high, (tops + heights).max() - 0.5), min(y_low, tops.min() - 0.5))
    return ax


def draw_padding(ax, image_hw, padding) -> None:
    """Hatch the padding ``((top, bottom), (left, right))`` round an image of ``image_hw`` drawn
    in ``ax``, behind it, as on the grids of numbers; nothing when there is no padding."""
    (top, bottom), (left, right) = padding
    if top or bottom or left or right:
        height, width = image_hw
        ax.add_patch(Rectangle((-left - 0.5, -top - 0.5), width + left + right,
                               height + top + bottom, facecolor=PADDING_FACE, linewidth=0,
                               hatch=PADDING_HATCH, edgecolor="#8c8c8c", zorder=-1))


def outline_cells(ax, cells, colors=WINDOW_COLORS, linewidth=3.0, inset=0.08):
    """Frame grid ``cells`` (row, col), cell ``k`` in ``colors[k]`` (cycled; by default the
    colours :func:`draw_windows` gives windows in the same order), each shrunk by ``inset``
    pixels so neighbours do not overlap."""
    for number, (row, col) in enumerate(cells):
        outline(ax, row, col, 1, 1, colors[number % len(colors)], linewidth, inset)
    return ax


def _default_limits(values, cmap, true_levels):
    """Colour limits when none are given: see :func:`show_numbers`."""
    if true_levels:
        return (0.0, 255.0)
    if cmap == "RdBu_r":
        limit = symmetric_limit(values)
        return (-limit, limit)
    finite = values[np.isfinite(values)]
    low, high = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
    return (low - 1, high + 1) if low == high else (low, high)


def show_numbers(values, ax=None, title=None, fmt="{:g}", cmap=NUMBERS_CMAP, limits=None,
                 highlight=None, fontsize=11, padding=0, pad_value=0.0):
    """Draw a small 2-D array as shaded cells, **larger darker**, each value printed in its cell
    at ``fontsize``.

    Parameters
    ----------
    values : (rows, cols) array (NaN cells blank); ``uint8`` is drawn on its true scale 0..255
    fmt : str or callable, the format of each number (``"{:.2f}"``) or a function to its text
    cmap : str
        ``"Greys"`` (default), ``"gradient"`` (as :func:`gradient_colors` picks), ``"counts"``
        (integers, :func:`count_colors`) or any colour map; a dark end is lightened
    limits : (low, high), optional; by default the values' range (symmetric for ``RdBu_r``);
        with ``"gradient"`` full colour at ``max(|low|, |high|)``
    highlight : sequence of (row, col), optional, cells outlined in :data:`WINNER_COLOR`
    padding : int, (ph, pw) or ((top, bottom), (left, right)); padded cells drawn hatched round
        the grid, holding ``pad_value`` (0, ``-np.inf`` for max pool, None: nothing printed)
    """
    raw = np.asarray(values)
    if raw.ndim != 2:
        raise ValueError(f"values must be a 2-D (rows, cols) array; got shape {raw.shape}")
    values = raw.astype(float)
    if isinstance(padding, str):                          # no window here to make "same" of
        raise ValueError(f'padding must be an int, a pair (ph, pw) or ((top, bottom), '
                         f'(left, right)) here; got {padding!r} (for "same", pass the '
                         f'geometry\'s padding, e.g. pool_geometry(...).padding)')
    (top, bottom), (left, right) = resolve_padding(padding, values.shape, (1, 1), (1, 1), (1, 1))
    rows, cols = values.shape
    ax = new_axes(ax, figsize=(0.5 * (cols + left + right) + 0.6,
                               0.5 * (rows + top + bottom) + 0.6))
    if cmap == "gradient":
        # Here limits only set the magnitude the colours reach; the values' signs pick the map.
        limit = None if limits is None else max(abs(limits[0]), abs(limits[1]))
        cmap, limits = gradient_colors(values, limit)
    if cmap == "counts":
        _, colormap, norm = count_colors(raw)
    else:
        low, high = limits if limits is not None else _default_limits(values, cmap,
                                                                      raw.dtype == np.uint8)
        if not low < high:
            raise ValueError(f"limits must be (low, high) with low < high; got {limits!r}")
        # Only the lighter three quarters of a map whose end is dark, so that no number sits
        # on black; a white end stays white, so 0 on a gradient map is white.
        colormap = matplotlib.colormaps[cmap]
        light = [end if colormap(end)[:3] @ GRAY_WEIGHTS > 0.9 else 0.2 + 0.6 * end
                 for end in (0., 1.)]
        colormap = ListedColormap(colormap(np.linspace(*light, 256)), name=cmap)
        norm = Normalize(low, high, clip=True)
    padded = np.pad(values, ((top, bottom), (left, right)), constant_values=np.nan)
    ax.imshow(padded, cmap=colormap, norm=norm, interpolation="nearest",
              extent=(-left - 0.5, cols + right - 0.5, rows + bottom - 0.5, -top - 0.5))
    number = fmt if callable(fmt) else fmt.format
    for (row, col), value in np.ndenumerate(values):
        if not np.isnan(value):
            text_color = "black" if colormap(norm(value))[:3] @ GRAY_WEIGHTS > 0.5 else "white"
            ax.text(col, row, number(value), color=text_color, fontsize=fontsize, **CENTERED)
    inside = np.pad(np.ones((rows, cols), bool), ((top, bottom), (left, right)))
    for row, col in np.argwhere(~inside) - (top, left):              # each padded cell
        ax.add_patch(Rectangle((col - 0.5, row - 0.5), 1, 1, facecolor=PADDING_FACE,
                               edgecolor="#8c8c8c", hatch=PADDING_HATCH, linewidth=0))
        if pad_value is not None:
            ax.text(col, row, number(pad_value), style="italic", color="#404040",
                    fontsize=fontsize, bbox={"facecolor": PADDING_FACE, "edgecolor": "none",
                                             "pad": 1}, **CENTERED)
    outline_cells(ax, highlight or (), colors=[WINNER_COLOR], linewidth=2.5, inset=0.0)
    # Thin white lines between cells; a dark frame around the image when it is padded.
    ax.hlines(np.arange(-top + 1, rows + bottom) - 0.5, -left - 0.5, cols + right - 0.5,
              color="white", linewidth=1.5)
    ax.vlines(np.arange(-left + 1, cols + right) - 0.5, -top - 0.5, rows + bottom - 0.5,
              color="white", linewidth=1.5)
    if top or bottom or left or right:
        ax.add_patch(Rectangle((-0.5, -0.5), cols, rows, fill=False, edgecolor="black",
                               linewidth=1.5))
    return ticks_off(ax, title)


def sliding_window_frames(grid, size, stride, kind="max", dout=None):
    """The states of the sliding-window animation of a ``kind`` ("max" or "avg") pooling over
    ``grid`` (H, W), computed with the naive style; ``dout`` (OH, OW) by default 1, 2, 3, ...

    Returns
    -------
    out, dout : (OH, OW)
    steps : list of (i, j, dx_so_far), dx_so_far (H, W) the gradient from windows (0, 0) ..
        (i, j) in row-major order, added up
    """
    if kind not in ("max", "avg"):
        raise ValueError(f'kind must be "max" or "avg"; got {kind!r}')
    forward, backward = op_functions("naive", kind)
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


def frame_durations(steps: int, fps: float, pause: float) -> list[int]:
    """Milliseconds per frame: ``steps`` forward then ``steps`` backward frames of ``1 / fps``
    seconds, the last of each half held ``pause`` seconds (the complete output and gradient).
    """
    durations = [round(1000 / fps)] * (2 * steps)
    durations[steps - 1] = durations[-1] = round(1000 * pause)
    return durations


def animate_sliding_window(grid, size, stride, path, kind="max", dout=None, fps=1.5, dpi=80,
                           pause=3.0):
    """Write a GIF to ``path`` (returned as a Path), the same file every run: a window slides
    over ``grid`` (H, W), a small input with numbers to print, filling the output, then the
    gradient flows back window by window into ``dx`` (shared pixels collect several shares).
    ``kind`` and ``dout`` as for :func:`sliding_window_frames`; ``fps`` frames per second while
    the window moves; ``pause`` seconds the complete output and gradient are held.
    """
    grid = np.asarray(grid, dtype=float)
    out, dout, steps = sliding_window_frames(grid, size, stride, kind, dout)
    geometry = pool_geometry((1, *grid.shape, 1), size, stride, "valid", 1)
    height, width = geometry.span
    label = f"{kind} · size {size} · stride {stride}"
    number_format = "{:g}" if kind == "max" else "{:.2f}"
    dout_limit, dx_limit = symmetric_limit(dout), symmetric_limit(steps[-1][2])

    fig, axes = plt.subplots(1, 4, figsize=(11, 3.2), dpi=dpi,
                             gridspec_kw={"width_ratios": [grid.shape[1], out.shape[1],
                                                           out.shape[1], grid.shape[1]]})
    fig.subplots_adjust(left=0.01, right=0.99, bottom=0.02, top=0.8, wspace=0.15)
    frames = []
    for frame in range(2 * len(steps)):
        forward = frame < len(steps)
        if forward:                                         # fill the output
            i, j = np.unravel_index(frame, out.shape)
            shown_out = np.full(out.shape, np.nan)
            shown_out.flat[:frame + 1] = out.flat[:frame + 1]
            fig.suptitle(f"forward · {label} · window ({i}, {j})", fontsize=13)
            dx_shown, dout_shown = np.full(grid.shape, np.nan), np.full(out.shape, np.nan)
        else:                                               # add up the gradient
            i, j, dx_shown = steps[frame - len(steps)]
            shown_out, dout_shown = out, dout
            fig.suptitle(f"backward · {label} · window ({i}, {j}) sends dout = "
                         f"{number_format.format(dout[i, j])} back", fontsize=13)
        for ax in axes:
            ax.clear()
        show_numbers(grid, ax=axes[0], title="input x", fmt="{:g}")
        show_numbers(shown_out, ax=axes[1], title="output", fmt=number_format,
                     limits=(grid.min(), grid.max()))
        show_numbers(dout_shown, ax=axes[2], title="dout", cmap="gradient", fmt="{:g}",
                     limits=(-dout_limit, dout_limit))
        show_numbers(dx_shown, ax=axes[3], title="dx (adds up)", cmap="gradient",
                     fmt=number_format, limits=(-dx_limit, dx_limit))
        # The window over the input (forward) or over dx (backward), its cell in out or dout.
        top, left = viz_geometry.window_origin(geometry, i, j)
        outline(axes[0] if forward else axes[3], top, left, height, width, WINDOW_COLORS[0])
        outline(axes[1] if forward else axes[2], i, j, 1, 1, WINDOW_COLORS[0])
        if forward and kind == "max":
            # Outline the window's winner, its first maximum in row-major order.
            window = grid[top:top + height, left:left + width]
            row, col = np.unravel_index(np.argmax(window), window.shape)
            outline(axes[0], top + row, left + col, 1, 1, WINNER_COLOR, linewidth=2.5)
        fig.canvas.draw()
        rgb = np.asarray(fig.canvas.buffer_rgba())[:, :, :3]    # (rows, cols, 4) -> RGB
        # A GIF holds 256 colours per frame: pick them per frame (maximum coverage keeps the
        # pale shades of the maps apart from white), without dithering noise.
        frames.append(Image.fromarray(rgb).quantize(256, method=Image.Quantize.MAXCOVERAGE,
                                                    dither=Image.Dither.NONE))
    plt.close(fig)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    frames[0].save(path, save_all=True, append_images=frames[1:], loop=0,
                   duration=frame_durations(len(steps), fps, pause))
    return path
