# The corpus of answers to `my_max_pool_winners` (notebook 03's challenge); headers as in nb00_to_channels_first.py.

# %% reference_solution · expect: passed
# (read from notebooks/solutions/nb03.py: the function and the helpers it calls)

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
