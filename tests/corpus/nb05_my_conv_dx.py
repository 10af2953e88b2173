# The corpus of answers to `my_conv_dx` (notebook 05's challenge); headers as in nb00_to_channels_first.py.

# %% shared · the helpers every answer below starts with (they differ in one call)
def _conv_dx(dout, w, x_shape, stride, padding, stuff, flip):
    n, h, wd, c = x_shape
    kh, kw = w.shape[:2]
    if stuff:
        spread = np.zeros((n, (dout.shape[1] - 1) * stride + 1, (dout.shape[2] - 1) * stride + 1,
                           dout.shape[3]))
        spread[:, ::stride, ::stride] = dout
        dout = spread
    below, right = (h + 2 * padding - dout.shape[1] - kh + 1, wd + 2 * padding - dout.shape[2] - kw + 1)
    framed = np.pad(dout, ((0, 0), (kh - 1, kh - 1 + max(below, 0)),
                           (kw - 1, kw - 1 + max(right, 0)), (0, 0)))
    kernel = w[::-1, ::-1] if flip else w
    dx = np.einsum("nyxfab,abcf->nyxc", sliding_window_view(framed, (kh, kw), axis=(1, 2)), kernel)
    return dx[:, padding:padding + h, padding:padding + wd]

# %% reference_solution · expect: passed
# (read from notebooks/solutions/nb05.py: the function and the helpers it calls)

# %% not_stuffed · expect: failed cases
def my_conv_dx(dout, w, x_shape, stride, padding):
    """Runs the full convolution on dout as it is, as if the stride were 1."""
    return _conv_dx(dout, w, x_shape, stride, padding, stuff=False, flip=True)

# %% kernel_not_turned · expect: failed cases
def my_conv_dx(dout, w, x_shape, stride, padding):
    """Forgets to turn the kernel by 180 degrees."""
    return _conv_dx(dout, w, x_shape, stride, padding, stuff=True, flip=False)
