# The corpus of answers to `my_avg_pool_padded` (notebook 01's challenge); headers as in nb00_to_channels_first.py.

# %% reference_solution · expect: passed
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

# %% always_size_squared · expect: failed cases
def pad(x, padding, value=0.0):
    return np.pad(x, ((0, 0), (padding, padding), (padding, padding), (0, 0)),
                  constant_values=value)


def my_avg_pool_padded(x, size, stride, padding, dilation, count_include_pad):
    """Ignores count_include_pad: always divides by size * size."""
    framed, span = pad(x, padding), dilation * (size - 1) + 1
    windows = sliding_window_view(framed, (span, span), axis=(1, 2))[:, ::stride, ::stride]
    return windows[..., ::dilation, ::dilation].mean(axis=(4, 5))

# %% without_padding · expect: failed cases
def my_avg_pool_padded(x, size, stride, padding, dilation, count_include_pad):
    """Forgets the padding."""
    span = dilation * (size - 1) + 1
    windows = sliding_window_view(x, (span, span), axis=(1, 2))[:, ::stride, ::stride]
    return windows[..., ::dilation, ::dilation].mean(axis=(4, 5))
