# The corpus of answers to `my_fold_windows` (notebook 02's challenge); headers as in nb00_to_channels_first.py.

# %% reference_solution · expect: passed
def my_fold_windows(windows, x_shape, stride, padding):
    """Fold windows back onto the image: the adjoint (transpose) of cutting them out, col2im.

    Parameters
    ----------
    windows : (N, OH, OW, size, size, C)
        One value per tap of every window of ``x`` padded by ``padding`` zeros on each side.
    x_shape : (N, H, W, C)
    stride, padding : int

    Returns
    -------
    folded : (N, H, W, C)
        Each pixel holds the sum of the taps that were cut from it; the padding's are dropped.
    """
    batch, rows, cols, channels = x_shape
    _, out_rows, out_cols, size, _, _ = windows.shape
    canvas = np.zeros((batch, rows + 2 * padding, cols + 2 * padding, channels))
    for a in range(size):
        for b in range(size):
            # tap (a, b) of every window: rows a, a + stride, ... are distinct pixels
            canvas[:, a:a + stride * out_rows:stride, b:b + stride * out_cols:stride] += (
                windows[:, :, :, a, b])
    return canvas[:, padding:padding + rows, padding:padding + cols]

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
