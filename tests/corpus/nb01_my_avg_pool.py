# The corpus of answers to `my_avg_pool` (notebook 01); headers as in nb00_to_channels_first.py.

# %% two_loops · expect: passed
def my_avg_pool(x, size, stride):
    n, height, width, channels = x.shape
    out_h, out_w = (height - size) // stride + 1, (width - size) // stride + 1
    out = np.zeros((n, out_h, out_w, channels))
    for i in range(out_h):
        for j in range(out_w):
            window = x[:, i * stride:i * stride + size, j * stride:j * stride + size, :]
            out[:, i, j, :] = window.mean(axis=(1, 2))
    return out

# %% vectorised · expect: passed
def my_avg_pool(x, size, stride):
    windows = sliding_window_view(x, (size, size), axis=(1, 2))[:, ::stride, ::stride]
    return windows.mean(axis=(4, 5))

# %% while_over_window_starts · expect: passed
def my_avg_pool(x, size, stride):
    rows = []
    top = 0
    while top + size <= x.shape[1]:
        row, left = [], 0
        while left + size <= x.shape[2]:
            row.append(x[:, top:top + size, left:left + size, :].mean(axis=(1, 2)))
            left += stride
        rows.append(np.stack(row, axis=1))
        top += stride
    return np.stack(rows, axis=1)

# %% math_floor · expect: passed
def my_avg_pool(x, size, stride):
    out_h = math.floor((x.shape[1] - size) / stride) + 1
    out_w = math.floor((x.shape[2] - size) / stride) + 1
    out = np.zeros((x.shape[0], out_h, out_w, x.shape[3]))
    for i in range(out_h):
        for j in range(out_w):
            out[:, i, j] = x[:, i * stride:i * stride + size, j * stride:j * stride + size].sum(
                axis=(1, 2)) / (size * size)
    return out

# %% divides_by_size · expect: failed cases
def my_avg_pool(x, size, stride):
    windows = sliding_window_view(x, (size, size), axis=(1, 2))[:, ::stride, ::stride]
    return windows.sum(axis=(4, 5)) / size

# %% output_too_small · expect: failed cases
def my_avg_pool(x, size, stride):
    out_h, out_w = (x.shape[1] - size) // stride, (x.shape[2] - size) // stride
    out = np.zeros((x.shape[0], out_h, out_w, x.shape[3]))
    for i in range(out_h):
        for j in range(out_w):
            out[:, i, j] = x[:, i * stride:i * stride + size,
                             j * stride:j * stride + size].mean(axis=(1, 2))
    return out

# %% the_course_naive_style · expect: failed all
def my_avg_pool(x, size, stride):
    return naive.avg_pool_forward(x, size, stride)[0]

# %% float32_output · expect: failed cases
def my_avg_pool(x, size, stride):
    n, height, width, channels = x.shape
    out_h, out_w = (height - size) // stride + 1, (width - size) // stride + 1
    out = np.zeros((n, out_h, out_w, channels), dtype=np.float32)
    for i in range(out_h):
        for j in range(out_w):
            out[:, i, j] = x[:, i * stride:i * stride + size,
                             j * stride:j * stride + size].mean(axis=(1, 2))
    return out

# %% tolist · expect: failed cases
def my_avg_pool(x, size, stride):
    windows = sliding_window_view(x, (size, size), axis=(1, 2))[:, ::stride, ::stride]
    return windows.mean(axis=(4, 5)).tolist()

# %% shape_keyed_cache · expect: failed cases
results = {}


def my_avg_pool(x, size, stride):
    key = (x.shape, size, stride)
    if key not in results:
        windows = sliding_window_view(x, (size, size), axis=(1, 2))[:, ::stride, ::stride]
        results[key] = windows.mean(axis=(4, 5))
    return results[key]

# %% a_lazy_3_gb_scratch_array · expect: failed all
def my_avg_pool(x, size, stride):
    scratch = np.zeros(3 * 2**30 // 8)          # never touched: the pages are never used
    windows = sliding_window_view(x, (size, size), axis=(1, 2))[:, ::stride, ::stride]
    return windows.mean(axis=(4, 5)) + scratch[0]

# %% integer_division · expect: failed cases
def my_avg_pool(x, size, stride):
    windows = sliding_window_view(x, (size, size), axis=(1, 2))[:, ::stride, ::stride]
    return windows.sum(axis=(4, 5)) // (size * size)

# %% bare_except_retry_loop · expect: failed all
def my_avg_pool(x, size, stride):
    while True:
        try:
            windows = sliding_window_view(x, (size, size), axis=(1, 2))[:, ::stride, ::stride]
            return windows.mean(axis=(4, 5), keepdims=True).squeeze(axis=(4, 5, 6))  # no axis 6
        except:
            continue
