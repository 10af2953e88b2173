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


EXERCISES = {"my_windows": check.pool_windows}
