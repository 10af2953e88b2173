# The corpus of answers to `my_windows` (notebook 02); headers as in nb00_to_channels_first.py.

# %% one_slice_per_offset · expect: passed
def my_windows(x, size, stride):
    out_h = (x.shape[1] - size) // stride + 1
    out_w = (x.shape[2] - size) // stride + 1
    rows = []
    for a in range(size):
        row = [x[:, a:a + (out_h - 1) * stride + 1:stride, b:b + (out_w - 1) * stride + 1:stride]
               for b in range(size)]
        rows.append(np.stack(row, axis=3))
    return np.stack(rows, axis=3)

# %% sliding_window_view_copied · expect: passed
def my_windows(x, size, stride):
    view = sliding_window_view(x, (size, size), axis=(1, 2))[:, ::stride, ::stride]
    return np.moveaxis(view, 3, 5).copy()

# %% read_only_view · expect: failed cases
def my_windows(x, size, stride):
    view = sliding_window_view(x, (size, size), axis=(1, 2))[:, ::stride, ::stride]
    return np.moveaxis(view, 3, 5)

# %% a_slice_per_output_position · expect: failed no_pixel_loop
def my_windows(x, size, stride):
    n, height, width, channels = x.shape
    out_h, out_w = (height - size) // stride + 1, (width - size) // stride + 1
    windows = np.empty((n, out_h, out_w, size, size, channels))
    for i in range(out_h):
        for j in range(out_w):
            windows[:, i, j] = x[:, i * stride:i * stride + size, j * stride:j * stride + size]
    return windows

# %% comprehension_over_rows · expect: failed no_pixel_loop
def my_windows(x, size, stride):
    out_h = (x.shape[1] - size) // stride + 1
    view = np.moveaxis(sliding_window_view(x, (size, size), axis=(1, 2)), 3, 5)
    return np.stack([view[:, i * stride, ::stride] for i in range(out_h)], axis=1)

# %% channels_not_last · expect: failed cases
def my_windows(x, size, stride):
    return sliding_window_view(x, (size, size), axis=(1, 2))[:, ::stride, ::stride].copy()

# %% float32 · expect: failed cases
def my_windows(x, size, stride):
    view = sliding_window_view(x, (size, size), axis=(1, 2))[:, ::stride, ::stride]
    return np.moveaxis(view, 3, 5).astype(np.float32)

# %% one_channel_branch · expect: passed
def my_windows(x, size, stride):
    if x.shape[3] == 1:                     # one channel: windows of a 3-D array
        view = sliding_window_view(x[..., 0], (size, size), axis=(1, 2))[:, ::stride, ::stride]
        return view[..., None].copy()
    view = sliding_window_view(x, (size, size), axis=(1, 2))[:, ::stride, ::stride]
    return np.moveaxis(view, 3, 5).copy()

# %% module_level_alias · expect: passed
swv = np.lib.stride_tricks.sliding_window_view


def my_windows(x, size, stride):
    return np.moveaxis(swv(x, (size, size), axis=(1, 2))[:, ::stride, ::stride], 3, 5).copy()

# %% as_strided_copied · expect: passed
def my_windows(x, size, stride):
    n, height, width, channels = x.shape
    out_h, out_w = (height - size) // stride + 1, (width - size) // stride + 1
    sn, sh, sw, sc = x.strides
    view = as_strided(x, (n, out_h, out_w, size, size, channels),
                      (sn, sh * stride, sw * stride, sh, sw, sc), writeable=False)
    return view.copy()

# %% course_pool_geometry · expect: failed all
def my_windows(x, size, stride):
    geometry = pool_geometry(x.shape, size, stride, "valid", 1)
    view = sliding_window_view(x, (size, size), axis=(1, 2))[:, ::stride, ::stride]
    assert view.shape[1] == geometry.out_h
    return np.moveaxis(view, 3, 5).copy()

# %% while_over_offsets · expect: passed
def my_windows(x, size, stride):
    out_h = (x.shape[1] - size) // stride + 1
    out_w = (x.shape[2] - size) // stride + 1
    taps, a = [], 0
    while a < size:
        b = 0
        while b < size:
            taps.append(x[:, a:a + (out_h - 1) * stride + 1:stride,
                          b:b + (out_w - 1) * stride + 1:stride])
            b += 1
        a += 1
    stacked = np.stack(taps, axis=3)                       # (N, OH, OW, size*size, C)
    return stacked.reshape(*stacked.shape[:3], size, size, x.shape[3])

# %% first_window_repeated · expect: failed cases
def my_windows(x, size, stride):
    view = sliding_window_view(x, (size, size), axis=(1, 2))
    return np.moveaxis(view, 3, 5)[:, :(x.shape[1] - size) // stride + 1,
                                   :(x.shape[2] - size) // stride + 1].copy()
