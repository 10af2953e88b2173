"""Notebook 01 · Pooling with loops: the solution of its exercise."""

import numpy as np

from pooling_lab import check


def my_avg_pool(x, size, stride):
    """Average pool with "valid" windows, two Python loops over the output positions.

    Parameters
    ----------
    x : (N, H, W, C)
    size, stride : int
        The window is ``size x size``; it moves ``stride`` pixels at a time.

    Returns
    -------
    out : (N, OH, OW, C)
        ``OH = (H - size) // stride + 1`` (the window starts that leave room for a window).
    """
    batch, rows, cols, channels = x.shape
    out_rows = (rows - size) // stride + 1
    out_cols = (cols - size) // stride + 1
    out = np.zeros((batch, out_rows, out_cols, channels), dtype=x.dtype)
    for i in range(out_rows):
        top = i * stride
        for j in range(out_cols):
            left = j * stride
            patch = x[:, top:top + size, left:left + size, :]      # (N, size, size, C)
            # Every image and channel at once: sum the patch's rows and columns, then divide.
            out[:, i, j, :] = patch.sum(axis=(1, 2)) / (size * size)
    return out


EXERCISES = {"my_avg_pool": check.avg_pool_forward}
