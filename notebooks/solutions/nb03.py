"""Notebook 03 · Strided views: the solution of its exercise."""

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from pooling_lab import check


def my_max_pool_forward(x, size, stride):
    """Max pool with "valid" windows over a window view: no copy, no Python loop.

    ``x`` : (N, H, W, C) and the ints ``size``, ``stride`` -> ``out`` : (N, OH, OW, C).
    """
    # A view of every window start; the two window axes are appended last:
    # (N, H, W, C) -> (N, H - size + 1, W - size + 1, C, size, size)
    every_start = sliding_window_view(x, (size, size), axis=(1, 2))
    # Keep one start in `stride` along each axis (a slice of a view is still a view).
    kept = every_start[:, ::stride, ::stride]           # (N, OH, OW, C, size, size)
    return kept.max(axis=(4, 5))                        # -> (N, OH, OW, C)


def my_max_pool_winners(x, size, stride, padding, dilation):
    """Max pool with -inf padding and dilated windows, and the tap that won each window.

    Parameters
    ----------
    x : (N, H, W, C)
    size, stride, padding, dilation : int

    Returns
    -------
    out : (N, OH, OW, C)
    winner : (N, OH, OW, C) ints, ``k = a * size + b`` of the first maximum (row-major)
    """
    walled = np.pad(x, ((0, 0), (padding, padding), (padding, padding), (0, 0)),
                    constant_values=-np.inf)       # padding can never win
    span = dilation * (size - 1) + 1
    spans = sliding_window_view(walled, (span, span), axis=(1, 2))[:, ::stride, ::stride]
    taps = spans[..., ::dilation, ::dilation]      # (N, OH, OW, C, size, size), still a view
    numbered = taps.reshape(*taps.shape[:4], size * size)    # a copy: tap k = a * size + b
    winner = numbered.argmax(axis=-1)              # argmax keeps the first maximum
    return np.take_along_axis(numbered, winner[..., None], axis=-1)[..., 0], winner


EXERCISES = {"my_max_pool_forward": check.max_pool_vectorised,
             "my_max_pool_winners": check.max_pool_winners}
