"""Notebook 06 · Speed and memory: the solution of its exercise."""

import numpy as np

from pooling_lab import check


def my_avg_pool_separable(x, size, stride):
    """Average pool as two passes of slice sums: the rows of each window, then the columns.

    A window's sum is the sum of its ``size`` row sums, so ``2 * size`` slice additions do
    the work of ``size * size``, and no window array is ever built.

    ``x`` : (N, H, W, C) and the ints ``size``, ``stride`` -> ``out`` : (N, OH, OW, C).
    """
    batch, rows, cols, channels = x.shape
    out_rows = (rows - size) // stride + 1
    out_cols = (cols - size) // stride + 1
    row_stop = (out_rows - 1) * stride + 1               # rows a, a + stride, ... of the slice
    col_stop = (out_cols - 1) * stride + 1

    # Pass 1: for every output row i, add the window's rows i*stride + a, a = 0 .. size-1.
    row_sums = np.zeros((batch, out_rows, cols, channels), dtype=np.result_type(x, 1.0))
    for a in range(size):
        row_sums += x[:, a:a + row_stop:stride]          # (N, OH, W, C)

    # Pass 2: the same along the columns of the row sums.
    window_sums = np.zeros((batch, out_rows, out_cols, channels), dtype=row_sums.dtype)
    for b in range(size):
        window_sums += row_sums[:, :, b:b + col_stop:stride]   # (N, OH, OW, C)
    return window_sums / (size * size)


EXERCISES = {"my_avg_pool_separable": check.avg_pool_separable}
