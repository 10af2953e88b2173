# The corpus of answers to `my_conv_forward` (notebook 05); headers as in
# nb00_to_channels_first.py.

# %% view_and_einsum · expect: passed
def my_conv_forward(x, w, b, stride):
    windows = sliding_window_view(x, w.shape[:2], axis=(1, 2))[:, ::stride, ::stride]
    return np.einsum("nijcab,abco->nijo", windows, w) + b

# %% tensordot · expect: passed
def my_conv_forward(x, w, b, stride):
    windows = sliding_window_view(x, w.shape[:2], axis=(1, 2))[:, ::stride, ::stride]
    return np.tensordot(windows, w, axes=([3, 4, 5], [2, 0, 1])) + b

# %% loop_over_kernel_offsets · expect: passed
def my_conv_forward(x, w, b, stride):
    kh, kw = w.shape[:2]
    out_h, out_w = (x.shape[1] - kh) // stride + 1, (x.shape[2] - kw) // stride + 1
    out = np.zeros((x.shape[0], out_h, out_w, w.shape[3])) + b
    for a in range(kh):
        for c in range(kw):
            taps = x[:, a:a + (out_h - 1) * stride + 1:stride, c:c + (out_w - 1) * stride + 1:stride]
            out += taps @ w[a, c]
    return out

# %% seven_nested_loops · expect: failed no_pixel_loop
def my_conv_forward(x, w, b, stride):
    n, height, width, channels = x.shape
    kh, kw, _, filters = w.shape
    out_h, out_w = (height - kh) // stride + 1, (width - kw) // stride + 1
    out = np.zeros((n, out_h, out_w, filters))
    for image in range(n):
        for i in range(out_h):
            for j in range(out_w):
                for o in range(filters):
                    total = b[o]
                    for a in range(kh):
                        for c in range(kw):
                            for ch in range(channels):
                                total += x[image, i * stride + a, j * stride + c, ch] * w[a, c, ch, o]
                    out[image, i, j, o] = total
    return out

# %% flipped_kernel · expect: failed cases
def my_conv_forward(x, w, b, stride):
    windows = sliding_window_view(x, w.shape[:2], axis=(1, 2))[:, ::stride, ::stride]
    return np.einsum("nijcab,abco->nijo", windows, w[::-1, ::-1]) + b

# %% forgets_the_bias · expect: failed cases
def my_conv_forward(x, w, b, stride):
    windows = sliding_window_view(x, w.shape[:2], axis=(1, 2))[:, ::stride, ::stride]
    return np.einsum("nijcab,abco->nijo", windows, w)

# %% ignores_the_stride · expect: failed cases
def my_conv_forward(x, w, b, stride):
    windows = sliding_window_view(x, w.shape[:2], axis=(1, 2))
    return np.einsum("nijcab,abco->nijo", windows, w) + b

# %% im2col · expect: passed
def my_conv_forward(x, w, b, stride):
    kh, kw, channels, filters = w.shape
    windows = sliding_window_view(x, (kh, kw), axis=(1, 2))[:, ::stride, ::stride]
    columns = np.moveaxis(windows, 3, 5).reshape(*windows.shape[:3], kh * kw * channels)
    return columns @ w.reshape(kh * kw * channels, filters) + b

# %% loop_over_output_rows · expect: failed no_pixel_loop
def my_conv_forward(x, w, b, stride):
    windows = sliding_window_view(x, w.shape[:2], axis=(1, 2))[:, ::stride, ::stride]
    rows = [np.einsum("njcab,abco->njo", windows[:, i], w) for i in range(windows.shape[1])]
    return np.stack(rows, axis=1) + b

# %% float32 · expect: failed cases
def my_conv_forward(x, w, b, stride):
    windows = sliding_window_view(x.astype(np.float32), w.shape[:2], axis=(1, 2))
    return np.einsum("nijcab,abco->nijo", windows[:, ::stride, ::stride],
                     w.astype(np.float32)) + b.astype(np.float32)

# %% too_slow_every_pixel_for_every_output · expect: failed all
def my_conv_forward(x, w, b, stride):
    n, height, width, channels = x.shape
    kh, kw, _, filters = w.shape
    out_h, out_w = (height - kh) // stride + 1, (width - kw) // stride + 1
    out = np.zeros((n, out_h, out_w, filters))
    for image in range(n):
        for i in range(out_h):
            for j in range(out_w):
                for o in range(filters):
                    total = b[o]
                    for r in range(height):                 # every pixel, masked by the kernel
                        for c in range(width):
                            for a in range(kh):
                                for d in range(kw):
                                    for ch in range(channels):      # and channel by channel
                                        if r == i * stride + a and c == j * stride + d:
                                            total += x[image, r, c, ch] * w[a, d, ch, o]
                    out[image, i, j, o] = total
    return out

# %% course_conv_geometry · expect: failed all
def my_conv_forward(x, w, b, stride):
    geometry = conv_geometry(x.shape, w.shape, stride, "valid", 1)
    windows = sliding_window_view(x, w.shape[:2], axis=(1, 2))[:, ::stride, ::stride]
    assert geometry is not None
    return np.einsum("nijcab,abco->nijo", windows, w) + b

# %% returns_out_and_cache · expect: passed
def my_conv_forward(x, w, b, stride):
    windows = sliding_window_view(x, w.shape[:2], axis=(1, 2))[:, ::stride, ::stride]
    return np.einsum("nijcab,abco->nijo", windows, w) + b, (x, w, b, stride)
