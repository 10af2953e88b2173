"""Where the windows of a :class:`pooling_lab.geometry.Geometry` lie, in the coordinates of
the unpadded input: what the figures and the explorers draw."""

import numpy as np

from ..geometry import Geometry, pool_geometry


def window_origin(geometry: Geometry, i: int, j: int) -> tuple[int, int]:
    """``(row, col)`` of the top-left tap of output ``(i, j)``'s window in the unpadded input
    (negative where the window starts in the padding)."""
    (sh, sw), ((top, _), (left, _)) = geometry.stride, geometry.padding
    return (i * sh - top, j * sw - left)


def tap_positions(geometry: Geometry, i: int, j: int) -> np.ndarray:
    """(KH, KW, 2) int array: ``(row, col)`` in the unpadded input of every tap of output
    ``(i, j)``'s window (outside ``0..H-1`` / ``0..W-1`` where a tap reads padding)."""
    row, col = window_origin(geometry, i, j)
    rows = row + np.arange(geometry.kernel[0]) * geometry.dilation[0]          # (KH,)
    cols = col + np.arange(geometry.kernel[1]) * geometry.dilation[1]          # (KW,)
    return np.stack(np.meshgrid(rows, cols, indexing="ij"), axis=-1)           # -> (KH, KW, 2)


def coverage_counts(image_hw, size, stride=None, padding="valid", dilation=1) -> np.ndarray:
    """How many pooling windows read each pixel, ``(H, W)`` ints: 1 for windows that tile the
    image, more where they overlap, 0 where none reaches; arguments as for the pooling functions.

    It is the gradient that a ``dout`` of ones sends back through a sum over every window:
    one ``+=`` per kernel offset into a padded count, then the padding cropped away.
    """
    geometry = pool_geometry((1, *image_hw, 1), size, stride, padding, dilation)
    counts = np.zeros(geometry.padded_shape, dtype=np.int64)              # (1, PH, PW, 1)
    for _, a, b in geometry.offsets():
        counts[(slice(None), *geometry.tap_slices(a, b))] += 1   # each pixel at most once
    return geometry.crop(counts)[0, :, :, 0]                               # -> (H, W)
