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


def _running_max(x, size, axis):
    """The maximum of every ``size`` consecutive entries along ``axis`` (van Herk/Gil-Werman):
    ``(..., L, ...) -> (..., L - size + 1, ...)``, three maxima per entry whatever ``size``."""
    line = np.moveaxis(x, axis, -1)
    length = line.shape[-1]
    blocks = -(-length // size)                    # ceil: blocks of size entries
    padded = np.pad(line, [(0, 0)] * (line.ndim - 1) + [(0, blocks * size - length)],
                    constant_values=-np.inf)
    chunks = padded.reshape(*line.shape[:-1], blocks, size)
    # ahead: from its block's start to here; behind: from here to its block's end
    ahead = np.maximum.accumulate(chunks, axis=-1).reshape(padded.shape)
    behind = np.maximum.accumulate(chunks[..., ::-1], axis=-1)[..., ::-1].reshape(padded.shape)
    # a window [i, i + size - 1] is the end of one block and the start of the next
    return np.moveaxis(np.maximum(behind[..., :length - size + 1], ahead[..., size - 1:length]),
                       -1, axis)


def my_max_pool_any_window(x, size, stride):
    """Max pool with "valid" windows at a cost that does not grow with ``size``.

    ``x`` : (N, H, W, C), ints ``size``, ``stride`` -> ``out`` : (N, OH, OW, C): the running
    maximum along the columns, every ``stride``-th kept, then along the rows.
    """
    across = _running_max(x, size, axis=2)[:, :, ::stride]       # (N, H, OW, C)
    return _running_max(across, size, axis=1)[:, ::stride]


EXERCISES = {"my_avg_pool_separable": check.avg_pool_separable,
             "my_max_pool_any_window": check.max_pool_any_window}
