"""Training figures of the capstone (notebook 07): learning curves, learned filters, feature
maps layer by layer, and the confusion matrix.
"""

import matplotlib
import matplotlib.pyplot as plt
import numpy as np

from .base import as_picture, new_axes, ticks_off
from .gradients import symmetric_limit
from .windows import show_image


def show_training(histories, title=None):
    """Draw training curves: the training loss (log scale) and the test accuracy, per epoch.
    ``histories`` is ``{label: history}``, each what ``Sequential.fit`` returns (lists ``"loss"``
    and ``"test_accuracy"``). Returns ``fig, axes`` (loss, accuracy).
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
    """Draw the kernels of a convolution reading one channel, ``w`` (KH, KW, 1, C_out), one panel
    each, ``ncols`` to a row of ``panel_size`` inches, on one ``RdBu_r`` scale symmetric around 0
    (red weights add bright pixels up, blue subtract them). Returns ``fig, axes`` (flat).
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
    for k, ax in enumerate(axes[:count]):
        shown = ax.imshow(w[:, :, 0, k], cmap="RdBu_r", vmin=-limit, vmax=limit,
                          interpolation="nearest")
        ticks_off(ax).set_title(f"filter {k}", fontsize=9)
    for ax in axes[count:]:
        ax.set_visible(False)                             # the last row's unused panels
    fig.colorbar(shown, ax=axes, shrink=0.8, label="weight")
    if title:
        fig.suptitle(title)
    return fig, axes


def tile_maps(maps, ncols=16, gap=1) -> np.ndarray:
    """Lay the channels of ``maps`` (H, W, C) out in a grid for one ``imshow``: channel ``c`` at row
    ``c // ncols``, column ``c % ncols``, ``gap`` pixels of NaN between. Returns ``tiles``,
    (rows*(H+gap) - gap, ncols*(W+gap) - gap) floats, rows = ceil(C / ncols).
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


def show_feature_maps(image, stages, title=None, rows=4, width=11.0):
    """Draw what the layers of a network make of one ``image`` (H, W), (H, W, 1) or (1, H, W, 1):
    the input, then a block of maps per stage of ``stages``, a sequence of (name, maps), maps
    (OH, OW, C) or (1, OH, OW, C), the largest ``OH`` a multiple of every stage's. Each stage's
    channels are tiled ``rows`` high (fewer for fewer channels), every map blown up to the
    largest size (a pooled map looks blockier, not smaller), the figure ``width`` inches wide.
    Non-negative maps are gray from 0 to the panel's largest value; maps with negative values
    ``RdBu_r``, symmetric. Returns ``fig, axes``: the input's Axes, then one per stage.
    """
    stages = [(name, np.asarray(maps, dtype=float)) for name, maps in stages]
    stages = [(name, maps[0] if maps.ndim == 4 else maps) for name, maps in stages]
    largest = max(maps.shape[0] for _, maps in stages)
    strips = []
    for _, maps in stages:
        block = largest // maps.shape[0]
        # (OH, OW, C) -> (largest, largest * OW / OH, C): each pixel a block x block square.
        blown_up = maps.repeat(block, axis=0).repeat(block, axis=1)
        tile_rows = min(rows, maps.shape[2])
        strips.append(tile_maps(blown_up, ncols=-(-maps.shape[2] // tile_rows)))
    tallest = max(strip.shape[0] for strip in strips)
    image_height, image_width = as_picture(image).shape[:2]
    # The input as tall as the tallest block; the blocks share one pixel scale.
    ratios = [tallest * image_width / image_height] + [strip.shape[1] for strip in strips]
    height = width * tallest / sum(ratios) + 0.9 + (0.35 if title else 0)
    fig, axes = plt.subplots(1, len(ratios), figsize=(width, height), layout="constrained",
                             gridspec_kw={"width_ratios": ratios})
    show_image(image, ax=axes[0])
    axes[0].set_title("input", fontsize=9)               # as small as the stages' titles
    for ax, (name, maps), strip in zip(axes[1:], stages, strips):
        if np.nanmin(strip) < 0:
            limit = symmetric_limit(maps)
            cmap, low, high = "RdBu_r", -limit, limit
        else:
            cmap, low, high = "gray", 0.0, max(float(np.nanmax(strip)), 1e-12)
        # The NaN gaps between tiles are drawn white, the colour of the figure.
        ax.imshow(strip, cmap=matplotlib.colormaps[cmap].with_extremes(bad="white"),
                  vmin=low, vmax=high, interpolation="nearest")
        ax.set_title(f"{name}\n{maps.shape[0]}x{maps.shape[1]} · {maps.shape[2]} channels",
                     fontsize=9)
        ticks_off(ax)
        ax.spines[:].set_visible(False)
    if title:
        fig.suptitle(title)
    return fig, list(axes)


def show_confusion(counts, ax=None, title=None):
    """Draw a confusion matrix ``counts`` (K, K), ``counts[t, p]`` of true ``t`` predicted ``p``,
    so the mistakes show: off the diagonal on their own ``Reds`` scale (0 white), the diagonal
    gray, every non-zero count printed. Returns ``ax``.
    """
    counts = np.asarray(counts)
    if counts.ndim != 2 or counts.shape[0] != counts.shape[1]:
        raise ValueError(f"counts must be a square (K, K) array; got shape {counts.shape}")
    ax = new_axes(ax, figsize=(5, 4.2))
    correct = np.eye(len(counts), dtype=bool)
    ax.imshow(np.where(correct, 1.0, np.nan), cmap="gray", vmin=0, vmax=1.6)   # light gray
    most = max(int(counts[~correct].max(initial=0)), 1)
    shown = ax.imshow(np.ma.masked_where(correct, counts), cmap="Reds", vmin=0, vmax=most)
    ax.figure.colorbar(shown, ax=ax, shrink=0.8, label="mistakes (off the diagonal)",
                       ticks=matplotlib.ticker.MaxNLocator(integer=True))
    for (true, predicted), count in np.ndenumerate(counts):
        if count:
            dark = not correct[true, predicted] and count > 0.6 * most
            ax.text(predicted, true, str(count), ha="center", va="center", fontsize=10,
                    color="white" if dark else "black")
    classes = np.arange(counts.shape[0])
    ax.set(xticks=classes, yticks=classes, xlabel="predicted", ylabel="true")
    if title:
        ax.set_title(title)
    return ax
