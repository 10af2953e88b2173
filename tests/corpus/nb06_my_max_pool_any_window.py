# The corpus of answers to `my_max_pool_any_window` (notebook 06's challenge); headers as in nb00_to_channels_first.py.

# %% reference_solution · expect: passed
# (read from notebooks/solutions/nb06.py: the function and the helpers it calls)

# %% tap_loop · expect: failed no_window_growth
def my_max_pool_any_window(x, size, stride):
    """Separable, but a loop over the window's taps: the cost grows with the window."""
    rows, cols = x.shape[1] - size + 1, x.shape[2] - size + 1
    across = x[:, :, :cols]
    for b in range(1, size):
        across = np.maximum(across, x[:, :, b:b + cols])
    out = across[:, :rows]
    for a in range(1, size):
        out = np.maximum(out, across[:, a:a + rows])
    return out[:, ::stride, ::stride]
