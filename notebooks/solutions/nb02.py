"""Notebook 02 · Slice-stacking: the solution of its exercise."""

import numpy as np

from pooling_lab import check


def my_windows(x, size, stride):
    """Every "valid" window of ``x`` copied into one array, with one slice per kernel offset.

    ``x`` : (N, H, W, C) and the ints ``size``, ``stride`` -> ``windows`` : (N, OH, OW, size, size, C).
        ``windows[n, i, j, a, b, c] == x[n, i*stride + a, j*stride + b, c]``.
    """
    out_rows = (x.shape[1] - size) // stride + 1
    out_cols = (x.shape[2] - size) // stride + 1
    # Offset (a, b) of every window at once: rows a, a + stride, ... (out_rows of them).
    row_stop = (out_rows - 1) * stride + 1
    col_stop = (out_cols - 1) * stride + 1
    grid = [[x[:, a:a + row_stop:stride, b:b + col_stop:stride, :]    # (N, OH, OW, C) each
             for b in range(size)]
            for a in range(size)]
    # size x size slices of (N, OH, OW, C): stacked as axes 3 and 4 -> (N, OH, OW, KH, KW, C)
    return np.stack([np.stack(row, axis=3) for row in grid], axis=3)


def my_fold_windows(windows, x_shape, stride, padding):
    """Fold windows back onto the image: the adjoint (transpose) of cutting them out, col2im.

    Parameters
    ----------
    windows : (N, OH, OW, size, size, C)
        One value per tap of every window of ``x`` padded by ``padding`` zeros on each side.
    x_shape : (N, H, W, C)
    stride, padding : int

    Returns
    -------
    folded : (N, H, W, C)
        Each pixel holds the sum of the taps that were cut from it; the padding's are dropped.
    """
    batch, rows, cols, channels = x_shape
    _, out_rows, out_cols, size, _, _ = windows.shape
    canvas = np.zeros((batch, rows + 2 * padding, cols + 2 * padding, channels))
    for a in range(size):
        for b in range(size):
            # tap (a, b) of every window: rows a, a + stride, ... are distinct pixels
            canvas[:, a:a + stride * out_rows:stride, b:b + stride * out_cols:stride] += (
                windows[:, :, :, a, b])
    return canvas[:, padding:padding + rows, padding:padding + cols]


EXERCISES = {"my_windows": check.pool_windows,
             "my_fold_windows": check.fold_windows}
