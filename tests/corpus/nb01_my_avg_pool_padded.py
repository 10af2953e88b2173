# The corpus of answers to `my_avg_pool_padded` (notebook 01's challenge); headers as in nb00_to_channels_first.py.

# %% reference_solution · expect: passed
# (read from notebooks/solutions/nb01.py: the function and the helpers it calls)

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
