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


def my_avg_pool_padded(x, size, stride, padding, dilation, count_include_pad):
    """Average pool with zero padding on every side and dilated windows, two loops.

    Parameters
    ----------
    x : (N, H, W, C)
    size, stride, padding, dilation : int
        ``padding`` zeros on each side; the taps of a window are ``dilation`` pixels apart.
    count_include_pad : bool
        True: divide by ``size * size``; False: by the taps that fall inside the image.

    Returns
    -------
    out : (N, OH, OW, C), ``OH = (H + 2*padding - span) // stride + 1``,
        ``span = dilation * (size - 1) + 1``.
    """
    batch, rows, cols, channels = x.shape
    span = dilation * (size - 1) + 1               # from a window's first tap to its last
    framed = np.pad(x, ((0, 0), (padding, padding), (padding, padding), (0, 0)))
    inside = np.pad(np.ones((rows, cols)), padding)   # 1 on the image, 0 on the padding
    out = np.empty((batch, (rows + 2 * padding - span) // stride + 1,
                    (cols + 2 * padding - span) // stride + 1, channels))
    for i in range(out.shape[1]):
        for j in range(out.shape[2]):
            # the window's taps: every dilation-th row and column of its span
            taps = (slice(i * stride, i * stride + span, dilation),
                    slice(j * stride, j * stride + span, dilation))
            divisor = size * size if count_include_pad else inside[taps].sum()
            out[:, i, j, :] = framed[:, taps[0], taps[1], :].sum(axis=(1, 2)) / divisor
    return out


EXERCISES = {"my_avg_pool": check.avg_pool_forward,
             "my_avg_pool_padded": check.avg_pool_padded}
