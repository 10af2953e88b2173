# The corpus of answers to `my_max_pool_backward_padded` (notebook 04's challenge); headers as in nb00_to_channels_first.py.

# %% shared · the helpers every answer below starts with (they differ in one call)
def pad(x, padding, value=0.0):
    return np.pad(x, ((0, 0), (padding, padding), (padding, padding), (0, 0)),
                  constant_values=value)


def _max_backward(dout, x, size, stride, padding, fill, nan_rule):
    walled = pad(x, padding, fill)
    taps = sliding_window_view(walled, (size, size), axis=(1, 2))[:, ::stride, ::stride]
    taps = taps.reshape(*dout.shape, size * size)
    winner = taps.argmax(axis=-1)
    if nan_rule:
        last_nan = size * size - 1 - np.isnan(taps)[..., ::-1].argmax(axis=-1)
        winner = np.where(np.isnan(taps).any(axis=-1), last_nan, winner)
    dx = np.zeros(walled.shape)
    view = sliding_window_view(dx, (size, size), axis=(1, 2), writeable=True)[:, ::stride, ::stride]
    for k in range(size * size):
        view[..., k // size, k % size] += np.where(winner == k, dout, 0)
    return dx[:, padding:padding + x.shape[1], padding:padding + x.shape[2]]

# %% reference_solution · expect: passed
# (read from notebooks/solutions/nb04.py: the function and the helpers it calls)

# %% first_nan · expect: failed cases
def my_max_pool_backward_padded(dout, x, size, stride, padding):
    """No NaN rule: argmax picks a window's first NaN."""
    return _max_backward(dout, x, size, stride, padding, -np.inf, nan_rule=False)

# %% padded_with_zeros · expect: failed cases
def my_max_pool_backward_padded(dout, x, size, stride, padding):
    """Pads with zeros: the padding wins, and its gradient is dropped."""
    return _max_backward(dout, x, size, stride, padding, 0.0, nan_rule=True)
