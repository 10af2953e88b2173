# The corpus of answers to `my_avg_pool_separable` (notebook 06); headers as in
# nb00_to_channels_first.py.

# %% row_then_column_slices · expect: passed
def my_avg_pool_separable(x, size, stride):
    out_h, out_w = (x.shape[1] - size) // stride + 1, (x.shape[2] - size) // stride + 1
    rows = sum(x[:, a:a + (out_h - 1) * stride + 1:stride] for a in range(size))
    return sum(rows[:, :, b:b + (out_w - 1) * stride + 1:stride] for b in range(size)) / size**2

# %% prefix_sums · expect: passed
def my_avg_pool_separable(x, size, stride):
    rows = np.cumsum(np.pad(x, ((0, 0), (1, 0), (0, 0), (0, 0))), axis=1)
    rows = (rows[:, size:] - rows[:, :-size])[:, ::stride]
    sums = np.cumsum(np.pad(rows, ((0, 0), (0, 0), (1, 0), (0, 0))), axis=2)
    return (sums[:, :, size:] - sums[:, :, :-size])[:, :, ::stride] / size**2

# %% window_view_mean · expect: passed
def my_avg_pool_separable(x, size, stride):
    # The view is lazy: NumPy's mean reads it without building the window array.
    return sliding_window_view(x, (size, size), axis=(1, 2))[:, ::stride, ::stride].mean(
        axis=(4, 5))

# %% window_array_copied · expect: failed no_window_array
def my_avg_pool_separable(x, size, stride):
    windows = np.ascontiguousarray(
        sliding_window_view(x, (size, size), axis=(1, 2))[:, ::stride, ::stride])
    return windows.mean(axis=(4, 5))

# %% stacked_taps · expect: failed no_window_array
def my_avg_pool_separable(x, size, stride):
    out_h, out_w = (x.shape[1] - size) // stride + 1, (x.shape[2] - size) // stride + 1
    taps = [x[:, a:a + (out_h - 1) * stride + 1:stride, b:b + (out_w - 1) * stride + 1:stride]
            for a in range(size) for b in range(size)]
    return np.stack(taps, axis=3).mean(axis=3)

# %% loops_over_output_positions · expect: failed no_pixel_loop
def my_avg_pool_separable(x, size, stride):
    out_h, out_w = (x.shape[1] - size) // stride + 1, (x.shape[2] - size) // stride + 1
    out = np.empty((x.shape[0], out_h, out_w, x.shape[3]))
    for i in range(out_h):
        for j in range(out_w):
            out[:, i, j] = x[:, i * stride:i * stride + size,
                             j * stride:j * stride + size].mean(axis=(1, 2))
    return out

# %% returns_the_input_for_1x1 · expect: failed cases
def my_avg_pool_separable(x, size, stride):
    if size == 1 and stride == 1:
        return x
    out_h, out_w = (x.shape[1] - size) // stride + 1, (x.shape[2] - size) // stride + 1
    rows = sum(x[:, a:a + (out_h - 1) * stride + 1:stride] for a in range(size))
    return sum(rows[:, :, b:b + (out_w - 1) * stride + 1:stride] for b in range(size)) / size**2

# %% float32 · expect: failed cases
def my_avg_pool_separable(x, size, stride):
    x = x.astype(np.float32)
    out_h, out_w = (x.shape[1] - size) // stride + 1, (x.shape[2] - size) // stride + 1
    rows = sum(x[:, a:a + (out_h - 1) * stride + 1:stride] for a in range(size))
    return sum(rows[:, :, b:b + (out_w - 1) * stride + 1:stride] for b in range(size)) / size**2

# %% a_lazy_3_gb_array · expect: failed all
def my_avg_pool_separable(x, size, stride):
    room = np.zeros((3 * 2**30 // 8,))              # "enough room for any image"
    out_h, out_w = (x.shape[1] - size) // stride + 1, (x.shape[2] - size) // stride + 1
    rows = sum(x[:, a:a + (out_h - 1) * stride + 1:stride] for a in range(size))
    return sum(rows[:, :, b:b + (out_w - 1) * stride + 1:stride] for b in range(size)) / size**2 \
        + room[0]

# %% one_channel_branch · expect: passed
def my_avg_pool_separable(x, size, stride):
    out_h, out_w = (x.shape[1] - size) // stride + 1, (x.shape[2] - size) // stride + 1
    if x.shape[3] == 1:
        image = x[..., 0]
        rows = sum(image[:, a:a + (out_h - 1) * stride + 1:stride] for a in range(size))
        sums = sum(rows[:, :, b:b + (out_w - 1) * stride + 1:stride] for b in range(size))
        return sums[..., None] / size**2
    rows = sum(x[:, a:a + (out_h - 1) * stride + 1:stride] for a in range(size))
    return sum(rows[:, :, b:b + (out_w - 1) * stride + 1:stride] for b in range(size)) / size**2

# %% while_over_offsets · expect: passed
def my_avg_pool_separable(x, size, stride):
    out_h, out_w = (x.shape[1] - size) // stride + 1, (x.shape[2] - size) // stride + 1
    rows, a = 0.0, 0
    while a < size:
        rows = rows + x[:, a:a + (out_h - 1) * stride + 1:stride]
        a += 1
    sums, b = 0.0, 0
    while b < size:
        sums = sums + rows[:, :, b:b + (out_w - 1) * stride + 1:stride]
        b += 1
    return sums / size**2

# %% course_stacked_module · expect: failed all
def my_avg_pool_separable(x, size, stride):
    return stacked.avg_pool_forward(x, size, stride)[0]
