# The corpus of answers to `my_fold_windows` (notebook 02's challenge); headers as in nb00_to_channels_first.py.

# %% reference_solution · expect: passed
# (read from notebooks/solutions/nb02.py: the function and the helpers it calls)

# %% without_cropping · expect: failed cases
def my_fold_windows(windows, x_shape, stride, padding):
    """Folds right but returns the padded canvas."""
    n, h, w, c = x_shape
    size, (oh, ow) = windows.shape[3], windows.shape[1:3]
    canvas = np.zeros((n, h + 2 * padding, w + 2 * padding, c))
    for a in range(size):
        for b in range(size):
            canvas[:, a:a + stride * oh:stride, b:b + stride * ow:stride] += windows[:, :, :, a, b]
    return canvas

# %% window_by_window · expect: failed no_pixel_loop
def my_fold_windows(windows, x_shape, stride, padding):
    """Right values, one Python loop step per window."""
    n, h, w, c = x_shape
    size = windows.shape[3]
    canvas = np.zeros((n, h + 2 * padding, w + 2 * padding, c))
    for i in range(windows.shape[1]):
        for j in range(windows.shape[2]):
            canvas[:, i * stride:i * stride + size, j * stride:j * stride + size] += windows[:, i, j]
    return canvas[:, padding:padding + h, padding:padding + w]
