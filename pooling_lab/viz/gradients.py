"""Gradients and coverage: maps of signed or one-signed values, and window counts.

The colour rules of the course, in one place:

* a map that takes both signs (most gradients, a Sobel response) uses ``RdBu_r`` with limits
  symmetric around zero, so white means zero, red positive and blue negative;
* a map that never goes negative (the gradient of a pool for ``dout`` of ones, a difference that
  can only grow) uses the sequential ``Reds``, white at zero; one that never goes positive uses
  ``Blues_r``, white at zero;
* counts (how many windows cover a pixel) use one palette everywhere (:func:`count_colors`), 0
  white, with a discrete colourbar: one colour, and one tick, per count that occurs.
"""

from __future__ import annotations

import math
import numbers

import matplotlib
import numpy as np
from matplotlib.colors import BoundaryNorm, ListedColormap

from .. import common
from .base import as_map, new_axes, ticks_off


def symmetric_limit(values, percentile=100.0) -> float:
    """The largest ``|value|`` (1.0 for an all-zero array), for limits ``(-limit, +limit)``.

    Parameters
    ----------
    values : array of any shape (NaN ignored)
    percentile : float in (0, 100]
        Below 100, the given percentile of ``|values|`` instead of the largest: a few strong
        edges then no longer wash out the rest of a map (larger values are drawn at full colour).
    """
    if isinstance(percentile, bool) or not (isinstance(percentile, numbers.Real)
                                            and 0 < percentile <= 100):
        raise ValueError(f"percentile must be a number in (0, 100]; got {percentile!r}")
    magnitudes = np.abs(np.asarray(values, dtype=float))
    magnitudes = magnitudes[np.isfinite(magnitudes)]
    largest = float(np.percentile(magnitudes, percentile)) if magnitudes.size else 0.0
    return largest if largest > 0 else 1.0


def gradient_colors(values, limit=None, diverging=None):
    """The colour map and limits the course uses for a map of signed or one-signed values.

    Parameters
    ----------
    values : array of any shape
    limit : float, optional
        The largest ``|value|`` the colours reach; default :func:`symmetric_limit` of ``values``.
    diverging : bool, optional
        None (default) decides from the values: ``RdBu_r`` when they take both signs, ``Reds``
        when none is negative, ``Blues_r`` when none is positive. True always gives ``RdBu_r``
        (to compare with a signed panel beside it); False requires values of one sign.

    Returns
    -------
    cmap : str
    limits : (low, high)
        ``(-limit, limit)`` for ``RdBu_r``, ``(0, limit)`` for ``Reds``, ``(-limit, 0)`` for
        ``Blues_r``.
    """
    values = np.asarray(values, dtype=float)
    if limit is None:
        limit = symmetric_limit(values)
    elif isinstance(limit, bool) or not (isinstance(limit, numbers.Real) and 0 < limit < math.inf):
        raise ValueError(f"limit must be a positive finite number; got {limit!r}")
    if diverging not in (None, True, False):
        raise ValueError(f"diverging must be None, True or False; got {diverging!r}")
    finite = values[np.isfinite(values)]
    has_negative, has_positive = bool((finite < 0).any()), bool((finite > 0).any())
    if diverging is False and has_negative and has_positive:
        raise ValueError("diverging=False needs values of one sign; these take both signs "
                         f"(from {finite.min():g} to {finite.max():g})")
    if diverging or (diverging is None and has_negative and has_positive):
        return "RdBu_r", (-float(limit), float(limit))
    if has_negative:
        return "Blues_r", (-float(limit), 0.0)
    return "Reds", (0.0, float(limit))


def show_gradient(gradient, ax=None, title=None, colorbar=True, limit=None, diverging=None):
    """Draw a gradient map with the course's colour rule (see :func:`gradient_colors`).

    A gradient taking both signs is drawn with ``RdBu_r`` and symmetric limits (white means
    zero); one that is never negative with ``Reds`` from 0 (white) to ``limit``.

    Parameters
    ----------
    gradient : (H, W), (H, W, C) or (1, H, W, C)
        Channels are summed (the total gradient each pixel receives).
    ax : matplotlib Axes, optional
    title : str, optional
    colorbar : bool
    limit : float, optional
        Colours reach full strength at ``|value| = limit``; default: the largest ``|value|``
        shown. Give panels one ``limit`` to compare them (a constant map fills its own scale at
        full colour); a smaller one (e.g. ``symmetric_limit(g, percentile=99)``) shows faint
        detail, and the colourbar's arrows mark the values drawn at full colour.
    diverging : bool, optional
        Force (True) or forbid (False) the diverging map; by default the values' signs decide.

    Returns
    -------
    ax
    """
    ax = new_axes(ax)
    values = as_map(gradient, "gradient")
    cmap, (low, high) = gradient_colors(values, limit, diverging)
    shown = ax.imshow(values, cmap=cmap, vmin=low, vmax=high, interpolation="nearest")
    if colorbar:
        finite = values[np.isfinite(values)]
        beyond_low, beyond_high = bool((finite < low).any()), bool((finite > high).any())
        extend = {(False, False): "neither", (True, False): "min", (False, True): "max",
                  (True, True): "both"}[beyond_low, beyond_high]
        ax.figure.colorbar(shown, ax=ax, shrink=0.8, extend=extend)
    if title:
        ax.set_title(title)
    ticks_off(ax)
    return ax


def show_difference(after, before, ax=None, title=None, colorbar=True, limit=None):
    """Draw ``after - before`` on their common top-left part, with :func:`show_gradient`'s rule.

    Two pooled images of almost the same size (size 2 and size 3, stride 2: 85x128 and 84x127)
    look alike side by side; their difference shows where and by how much they differ.

    Parameters
    ----------
    after, before : (H1, W1), (H1, W1, C) or (1, H1, W1, C), and the same for (H2, W2)
        Channels are summed; both are cropped to ``(min(H1, H2), min(W1, W2))``.

    Returns
    -------
    ax
    """
    after, before = as_map(after, "after"), as_map(before, "before")
    rows, cols = min(after.shape[0], before.shape[0]), min(after.shape[1], before.shape[1])
    difference = after[:rows, :cols] - before[:rows, :cols]
    return show_gradient(difference, ax=ax, title=title, colorbar=colorbar, limit=limit)


def coverage_counts(image_hw, size, stride=None, padding="valid", dilation=1) -> np.ndarray:
    """How many pooling windows read each pixel: :meth:`common.Geometry.coverage_counts`.

    Parameters
    ----------
    image_hw : (H, W)
    size, stride, padding, dilation
        As for the pooling functions (``stride=None`` means ``stride = size``).

    Returns
    -------
    counts : (H, W) int array
        1 everywhere for windows that tile the image, more where windows overlap, 0 for pixels
        no window reaches (a stride larger than the window, or the gaps of a dilated window).
    """
    return common.pool_geometry((1, *image_hw, 1), size, stride, padding,
                                dilation).coverage_counts()


#: The window count drawn in viridis' last colour: count ``k`` >= 1 sits at
#: ``log(k) / log(LARGEST_COUNT_COLOR)`` along ``viridis``, the same colour in every figure.
LARGEST_COUNT_COLOR = 64


def count_colors(counts):
    """The course's one palette for window counts: 0 ("no window") white, ``k`` >= 1 the
    ``viridis`` colour at ``log(k) / log(64)`` (1 dark violet, 2, 4, 9 ... ever lighter),
    whatever else the figure holds; one discrete colour per count that occurs.

    Parameters
    ----------
    counts : array of non-negative integers

    Returns
    -------
    present : (K,) int array, the counts that occur, ascending
    cmap : ListedColormap of K colours
    norm : BoundaryNorm sending each present count to its own colour
    """
    counts = np.asarray(counts)
    if counts.size == 0 or not np.issubdtype(counts.dtype, np.integer) or counts.min() < 0:
        raise ValueError(f"counts must be a non-empty array of non-negative integers; got "
                         f"dtype {counts.dtype} and shape {counts.shape}")
    present = np.unique(counts)
    shades = np.log(np.maximum(present, 1)) / np.log(LARGEST_COUNT_COLOR)
    colors = matplotlib.colormaps["viridis"](np.minimum(shades, 1.0))
    colors[present == 0] = (1.0, 1.0, 1.0, 1.0)
    # Boundaries halfway between neighbouring counts: each count sits in its own bin.
    edges = np.concatenate([[present[0] - 0.5], (present[:-1] + present[1:]) / 2,
                            [present[-1] + 0.5]])
    return present, ListedColormap(colors), BoundaryNorm(edges, len(present))


def show_coverage(counts, ax=None, title=None, colorbar=True):
    """Draw window counts per pixel with ``viridis`` and a discrete colourbar.

    Each count that occurs gets its own colour and its own tick: counts {0, 1, 2, 4} give a
    bar of four blocks, not a continuous ramp from 0 to 4.

    Parameters
    ----------
    counts : (H, W) int array, e.g. from :func:`coverage_counts`

    Returns
    -------
    ax
    """
    ax = new_axes(ax)
    counts = np.asarray(counts)
    present, cmap, norm = count_colors(counts)
    shown = ax.imshow(counts, cmap=cmap, norm=norm, interpolation="nearest")
    if colorbar:
        # spacing="uniform": one block of equal height per count, whatever the gaps between
        # them; each tick sits in the middle of its block (the middle of its bin).
        edges = norm.boundaries
        bar = ax.figure.colorbar(shown, ax=ax, shrink=0.8, spacing="uniform",
                                 ticks=(edges[:-1] + edges[1:]) / 2)
        bar.set_ticklabels([str(int(count)) for count in present])
        bar.minorticks_off()
        bar.set_label("windows covering the pixel")
    if title:
        ax.set_title(title)
    ticks_off(ax)
    return ax
