# The corpus of answers to `my_conv_dx` (notebook 05's challenge); headers as in nb00_to_channels_first.py.

# %% reference_solution · expect: passed
def my_conv_dx(dout, w, x_shape, stride, padding):
    """The input gradient of a strided, zero-padded convolution, by zero-stuffing ``dout``.

    Parameters
    ----------
    dout : (N, OH, OW, C_out)
    w : (KH, KW, C, C_out)
    x_shape : (N, H, W, C)
    stride, padding : int

    Returns
    -------
    dx : (N, H, W, C)
        A stride-1 "full" convolution of ``dout``, spread out by ``stride``, with ``w``
        turned 180 degrees and its channel axes swapped; the padding's rows dropped.
    """
    batch, rows, cols, channels = x_shape
    kh, kw = w.shape[:2]
    _, out_rows, out_cols, filters = dout.shape
    # stride - 1 zeros between dout's entries: the gradient of the stride-1 output
    stuffed = np.zeros((batch, (out_rows - 1) * stride + 1, (out_cols - 1) * stride + 1, filters))
    stuffed[:, ::stride, ::stride] = dout
    # KH - 1 zeros around for a "full" convolution, more below and right for the rows and
    # columns no window reached (their gradient is 0)
    below = rows + 2 * padding - (out_rows - 1) * stride - kh
    right = cols + 2 * padding - (out_cols - 1) * stride - kw
    framed = np.pad(stuffed, ((0, 0), (kh - 1, kh - 1 + below), (kw - 1, kw - 1 + right), (0, 0)))
    spots = sliding_window_view(framed, (kh, kw), axis=(1, 2))   # (N, H+2p, W+2p, F, KH, KW)
    turned = w[::-1, ::-1]                                       # (KH, KW, C, F), 180 degrees
    dx = np.einsum("nyxfab,abcf->nyxc", spots, turned)
    return dx[:, padding:padding + rows, padding:padding + cols]

# %% not_stuffed · expect: failed cases
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


def my_conv_dx(dout, w, x_shape, stride, padding):
    """Runs the full convolution on dout as it is, as if the stride were 1."""
    return _conv_dx(dout, w, x_shape, stride, padding, stuff=False, flip=True)

# %% kernel_not_turned · expect: failed cases
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


def my_conv_dx(dout, w, x_shape, stride, padding):
    """Forgets to turn the kernel by 180 degrees."""
    return _conv_dx(dout, w, x_shape, stride, padding, stuff=True, flip=False)
