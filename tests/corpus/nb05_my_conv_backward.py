# The corpus of answers to `my_conv_backward` (notebook 05); headers as in
# nb00_to_channels_first.py.

# %% einsum_and_offsets · expect: passed
def my_conv_backward(dout, x, w, stride):
    kh, kw = w.shape[:2]
    windows = sliding_window_view(x, (kh, kw), axis=(1, 2))[:, ::stride, ::stride]
    dw = np.einsum("nijcab,nijo->abco", windows, dout)
    dx = np.zeros(x.shape)
    dx_windows = sliding_window_view(dx, (kh, kw), axis=(1, 2), writeable=True)[:, ::stride, ::stride]
    for a in range(kh):
        for b in range(kw):
            dx_windows[..., a, b] += dout @ w[a, b].T
    return dx, dw, dout.sum(axis=(0, 1, 2))

# %% dw_axes_swapped · expect: failed cases
def my_conv_backward(dout, x, w, stride):
    kh, kw = w.shape[:2]
    windows = sliding_window_view(x, (kh, kw), axis=(1, 2))[:, ::stride, ::stride]
    dw = np.einsum("nijcab,nijo->baco", windows, dout)
    dx = np.zeros(x.shape)
    dx_windows = sliding_window_view(dx, (kh, kw), axis=(1, 2), writeable=True)[:, ::stride, ::stride]
    for a in range(kh):
        for b in range(kw):
            dx_windows[..., a, b] += dout @ w[a, b].T
    return dx, dw, dout.sum(axis=(0, 1, 2))

# %% forgets_db · expect: failed cases
def my_conv_backward(dout, x, w, stride):
    windows = sliding_window_view(x, w.shape[:2], axis=(1, 2))[:, ::stride, ::stride]
    return np.zeros(x.shape), np.einsum("nijcab,nijo->abco", windows, dout)

# %% loops_over_output_positions · expect: failed no_pixel_loop
def my_conv_backward(dout, x, w, stride):
    kh, kw = w.shape[:2]
    dx, dw = np.zeros(x.shape), np.zeros(w.shape)
    for i in range(dout.shape[1]):
        for j in range(dout.shape[2]):
            patch = x[:, i * stride:i * stride + kh, j * stride:j * stride + kw]
            dw += np.einsum("nabc,no->abco", patch, dout[:, i, j])
            dx[:, i * stride:i * stride + kh, j * stride:j * stride + kw] += np.einsum(
                "abco,no->nabc", w, dout[:, i, j])
    return dx, dw, dout.sum(axis=(0, 1, 2))

# %% db_in_float32 · expect: failed cases
def my_conv_backward(dout, x, w, stride):
    kh, kw = w.shape[:2]
    windows = sliding_window_view(x, (kh, kw), axis=(1, 2))[:, ::stride, ::stride]
    dx = np.zeros(x.shape)
    dx_windows = sliding_window_view(dx, (kh, kw), axis=(1, 2), writeable=True)[:, ::stride, ::stride]
    for a in range(kh):
        for b in range(kw):
            dx_windows[..., a, b] += dout @ w[a, b].T
    return (dx, np.einsum("nijcab,nijo->abco", windows, dout),
            dout.sum(axis=(0, 1, 2)).astype(np.float32))

# %% a_list_of_three · expect: passed
def my_conv_backward(dout, x, w, stride):
    kh, kw = w.shape[:2]
    windows = sliding_window_view(x, (kh, kw), axis=(1, 2))[:, ::stride, ::stride]
    dx = np.zeros(x.shape)
    dx_windows = sliding_window_view(dx, (kh, kw), axis=(1, 2), writeable=True)[:, ::stride, ::stride]
    for a in range(kh):
        for b in range(kw):
            dx_windows[..., a, b] += np.einsum("nijo,co->nijc", dout, w[a, b])
    return [dx, np.einsum("nijcab,nijo->abco", windows, dout), dout.sum(axis=(0, 1, 2))]

# %% dx_ignores_the_stride · expect: failed cases
def my_conv_backward(dout, x, w, stride):
    kh, kw = w.shape[:2]
    windows = sliding_window_view(x, (kh, kw), axis=(1, 2))[:, ::stride, ::stride]
    dx = np.zeros(x.shape)
    dx_windows = sliding_window_view(dx, (kh, kw), axis=(1, 2), writeable=True)
    out_h, out_w = dout.shape[1:3]
    for a in range(kh):
        for b in range(kw):
            dx_windows[:, :out_h, :out_w, :, a, b] += dout @ w[a, b].T
    return dx, np.einsum("nijcab,nijo->abco", windows, dout), dout.sum(axis=(0, 1, 2))

# %% stride_one_fast_path · expect: passed
def my_conv_backward(dout, x, w, stride):
    kh, kw = w.shape[:2]
    windows = sliding_window_view(x, (kh, kw), axis=(1, 2))[:, ::stride, ::stride]
    dw, db = np.einsum("nijcab,nijo->abco", windows, dout), dout.sum(axis=(0, 1, 2))
    if stride == 1:                     # dx is a full correlation with the flipped kernel
        padded = np.pad(dout, ((0, 0), (kh - 1, kh - 1), (kw - 1, kw - 1), (0, 0)))
        views = sliding_window_view(padded, (kh, kw), axis=(1, 2))
        dx = np.einsum("nijoab,abco->nijc", views, w[::-1, ::-1])
        return dx[:, :x.shape[1], :x.shape[2]], dw, db
    dx = np.zeros(x.shape)
    dx_windows = sliding_window_view(dx, (kh, kw), axis=(1, 2), writeable=True)[:, ::stride, ::stride]
    for a in range(kh):
        for b in range(kw):
            dx_windows[..., a, b] += dout @ w[a, b].T
    return dx, dw, db

# %% tolist · expect: failed cases
def my_conv_backward(dout, x, w, stride):
    kh, kw = w.shape[:2]
    windows = sliding_window_view(x, (kh, kw), axis=(1, 2))[:, ::stride, ::stride]
    dx = np.zeros(x.shape)
    dx_windows = sliding_window_view(dx, (kh, kw), axis=(1, 2), writeable=True)[:, ::stride, ::stride]
    for a in range(kh):
        for b in range(kw):
            dx_windows[..., a, b] += dout @ w[a, b].T
    return dx.tolist(), np.einsum("nijcab,nijo->abco", windows, dout), dout.sum(axis=(0, 1, 2))
