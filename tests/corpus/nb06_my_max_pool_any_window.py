# The corpus of answers to `my_max_pool_any_window` (notebook 06's challenge); headers as in nb00_to_channels_first.py.

# %% reference_solution · expect: passed
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
