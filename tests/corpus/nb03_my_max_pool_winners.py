# The corpus of answers to `my_max_pool_winners` (notebook 03's challenge); headers as in nb00_to_channels_first.py.

# %% reference_solution · expect: passed
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

# %% padded_with_zeros · expect: failed cases
def pad(x, padding, value=0.0):
    return np.pad(x, ((0, 0), (padding, padding), (padding, padding), (0, 0)),
                  constant_values=value)


def my_max_pool_winners(x, size, stride, padding, dilation):
    """Pads with zeros, so the padding wins windows of negative values."""
    span = dilation * (size - 1) + 1
    windows = sliding_window_view(pad(x, padding), (span, span), axis=(1, 2))[:, ::stride, ::stride]
    taps = windows[..., ::dilation, ::dilation].reshape(*windows.shape[:4], size * size)
    winner = taps.argmax(axis=-1)
    return taps.max(axis=-1), winner

# %% last_maximum · expect: failed cases
def pad(x, padding, value=0.0):
    return np.pad(x, ((0, 0), (padding, padding), (padding, padding), (0, 0)),
                  constant_values=value)


def my_max_pool_winners(x, size, stride, padding, dilation):
    """Gives a tie to the last maximum."""
    span = dilation * (size - 1) + 1
    windows = sliding_window_view(pad(x, padding, -np.inf), (span, span), axis=(1, 2))
    taps = windows[:, ::stride, ::stride, :, ::dilation, ::dilation]
    taps = taps.reshape(*taps.shape[:4], size * size)
    return taps.max(axis=-1), size * size - 1 - taps[..., ::-1].argmax(axis=-1)
