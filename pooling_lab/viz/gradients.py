"""Gradients and coverage: maps of signed or one-signed values, coloured as :func:`gradient_colors`
picks (white at zero), and window counts in :func:`count_colors`' one palette."""

import math
import numbers

import matplotlib
import numpy as np
from matplotlib.colors import BoundaryNorm, ListedColormap

from .base import as_map, new_axes, ticks_off


def symmetric_limit(values, percentile=100.0) -> float:
    """The largest ``|value|`` (NaN ignored; 1.0 for all zeros), for limits ``(-limit, +limit)``;
    below 100, the ``percentile`` of ``|values|`` instead, so a few strong edges do not wash
    out the rest of a map.
    """
    if isinstance(percentile, bool) or not (isinstance(percentile, numbers.Real)
                                            and 0 < percentile <= 100):
        raise ValueError(f"percentile must be a number in (0, 100]; got {percentile!r}")
    magnitudes = np.abs(np.asarray(values, dtype=float))
    magnitudes = magnitudes[np.isfinite(magnitudes)]
    largest = float(np.percentile(magnitudes, percentile)) if magnitudes.size else 0.0
    return largest if largest > 0 else 1.0


def gradient_colors(values, limit=None, diverging=None):
    """The colour map (a name) and limits ``(low, high)`` the course uses for ``values`` (any
    shape) of one or both signs: ``"RdBu_r"`` and ``(-limit, limit)`` for both signs, ``"Reds"``
    and ``(0, limit)`` when none is negative, ``"Blues_r"`` and ``(-limit, 0)`` when none is
    positive; ``limit``, the largest ``|value|`` the colours reach, by default
    :func:`symmetric_limit`'s. ``diverging=True`` always picks ``RdBu_r``; False requires values
    of one sign."""
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
    """Draw ``gradient`` (H, W), (H, W, C) or (1, H, W, C), channels summed, in the course's
    colours (:func:`gradient_colors`, ``diverging`` as there), with a colourbar or not.
    ``limit``: full colour at ``|value| = limit`` (default the largest); one ``limit`` for panels
    to compare; a smaller one shows faint detail, the colourbar's arrows mark what is beyond.
    """
    ax = new_axes(ax)
    values = as_map(gradient, "gradient")
    cmap, (low, high) = gradient_colors(values, limit, diverging)
    shown = ax.imshow(values, cmap=cmap, vmin=low, vmax=high, interpolation="nearest")
    if colorbar:
        finite = values[np.isfinite(values)]
        # An arrow at each end with values beyond its limit: index 1 for low, 2 for high, 3 both.
        extend = ["neither", "min", "max", "both"][(finite < low).any() + 2 * (finite > high).any()]
        ax.figure.colorbar(shown, ax=ax, shrink=0.8, extend=extend)
    return ticks_off(ax, title)


def show_difference(after, before, ax=None, title=None, colorbar=True, limit=None):
    """Draw ``after - before`` (each as ``gradient`` of :func:`show_gradient`) on their common
    top-left part: two pooled images of almost one size (85x128, 84x127) differ where coloured.
    """
    after, before = as_map(after, "after"), as_map(before, "before")
    rows, cols = min(after.shape[0], before.shape[0]), min(after.shape[1], before.shape[1])
    difference = after[:rows, :cols] - before[:rows, :cols]
    return show_gradient(difference, ax=ax, title=title, colorbar=colorbar, limit=limit)


#: The window count drawn in viridis' last colour (see :func:`count_colors`).
LARGEST_COUNT_COLOR = 16


def count_colors(counts):
    """The course's one palette for ``counts`` (non-negative integers, any shape): 0 ("no
    window") white, ``k`` >= 1 the ``viridis`` colour at ``log(k) / log(LARGEST_COUNT_COLOR)``.

    Returns
    -------
    present : (K,) the counts that occur, ascending
    cmap, norm : ListedColormap of K colours and BoundaryNorm sending each count to its own
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
    """Draw window counts per pixel, ``counts`` (H, W) ints, in :func:`count_colors` with a
    discrete colourbar: one block and tick per count present ({0, 1, 2, 4}: four blocks).
    """
    ax = new_axes(ax)
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
    return ticks_off(ax, title)
