# The corpus of answers to `my_max_pool_forward` (notebook 03); headers as in
# nb00_to_channels_first.py.

# %% window_view · expect: passed
def my_max_pool_forward(x, size, stride):
    windows = sliding_window_view(x, (size, size), axis=(1, 2))[:, ::stride, ::stride]
    return windows.max(axis=(4, 5))

# %% as_strided · expect: passed
def my_max_pool_forward(x, size, stride):
    n, height, width, channels = x.shape
    out_h, out_w = (height - size) // stride + 1, (width - size) // stride + 1
    sn, sh, sw, sc = x.strides
    view = as_strided(x, (n, out_h, out_w, channels, size, size),
                      (sn, sh * stride, sw * stride, sc, sh, sw), writeable=False)
    return view.max(axis=(4, 5))

# %% apply_along_axis · expect: failed no_pixel_loop
def my_max_pool_forward(x, size, stride):
    windows = sliding_window_view(x, (size, size), axis=(1, 2))[:, ::stride, ::stride]
    flat = windows.reshape(*windows.shape[:4], size * size)
    return np.apply_along_axis(np.max, -1, flat)

# %% vectorize_over_positions · expect: failed no_pixel_loop
def my_max_pool_forward(x, size, stride):
    windows = sliding_window_view(x, (size, size), axis=(1, 2))[:, ::stride, ::stride]
    n, out_h, out_w, channels = windows.shape[:4]
    pick = np.vectorize(lambda a, i, j, c: windows[a, i, j, c].max())
    return pick(*np.indices((n, out_h, out_w, channels))).astype(float)

# %% loops_over_output_positions · expect: failed no_pixel_loop
def my_max_pool_forward(x, size, stride):
    n, height, width, channels = x.shape
    out_h, out_w = (height - size) // stride + 1, (width - size) // stride + 1
    out = np.empty((n, out_h, out_w, channels))
    for i in range(out_h):
        for j in range(out_w):
            out[:, i, j] = x[:, i * stride:i * stride + size,
                             j * stride:j * stride + size].max(axis=(1, 2))
    return out

# %% one_channel_branch · expect: passed
def my_max_pool_forward(x, size, stride):
    if x.shape[3] == 1:
        windows = sliding_window_view(x[..., 0], (size, size), axis=(1, 2))
        return windows[:, ::stride, ::stride].max(axis=(3, 4))[..., None]
    windows = sliding_window_view(x, (size, size), axis=(1, 2))[:, ::stride, ::stride]
    return windows.max(axis=(4, 5))

# %% shape_keyed_cache · expect: failed cases
cache = {}


def my_max_pool_forward(x, size, stride):
    key = x.shape + (size, stride)
    if key not in cache:
        windows = sliding_window_view(x, (size, size), axis=(1, 2))[:, ::stride, ::stride]
        cache[key] = windows.max(axis=(4, 5))
    return cache[key]

# %% float16 · expect: failed cases
def my_max_pool_forward(x, size, stride):
    windows = sliding_window_view(x.astype(np.float16), (size, size), axis=(1, 2))
    return windows[:, ::stride, ::stride].max(axis=(4, 5))

# %% float32_then_cast_back · expect: failed cases
def my_max_pool_forward(x, size, stride):
    windows = sliding_window_view(x.astype(np.float32), (size, size), axis=(1, 2))
    return windows[:, ::stride, ::stride].max(axis=(4, 5)).astype(np.float64)

# %% returns_the_input_for_1x1 · expect: failed cases
def my_max_pool_forward(x, size, stride):
    if size == stride == 1:
        return x                                    # nothing to pool
    windows = sliding_window_view(x, (size, size), axis=(1, 2))[:, ::stride, ::stride]
    return windows.max(axis=(4, 5))

# %% course_pool_geometry · expect: failed all
def my_max_pool_forward(x, size, stride):
    geometry = pool_geometry(x.shape, size, stride, "valid", 1)
    windows = sliding_window_view(x, (size, size), axis=(1, 2))[:, ::stride, ::stride]
    return windows.max(axis=(4, 5)).reshape(geometry.out_shape)

# %% module_level_lambda · expect: passed
window_max = lambda windows: windows.max(axis=(4, 5))  # noqa: E731


def my_max_pool_forward(x, size, stride):
    return window_max(sliding_window_view(x, (size, size), axis=(1, 2))[:, ::stride, ::stride])

# %% namedtuple_class · expect: passed
from collections import namedtuple

Geometry = namedtuple("Geometry", "out_h out_w")


def my_max_pool_forward(x, size, stride):
    shape = Geometry((x.shape[1] - size) // stride + 1, (x.shape[2] - size) // stride + 1)
    windows = sliding_window_view(x, (size, size), axis=(1, 2))[:, ::stride, ::stride]
    assert windows.shape[1:3] == shape
    return windows.max(axis=(4, 5))

# %% sorted_last · expect: passed
def my_max_pool_forward(x, size, stride):
    windows = sliding_window_view(x, (size, size), axis=(1, 2))[:, ::stride, ::stride]
    flat = windows.reshape(*windows.shape[:4], size * size)
    return np.sort(flat, axis=-1)[..., -1]

# %% mean_not_max · expect: failed cases
def my_max_pool_forward(x, size, stride):
    windows = sliding_window_view(x, (size, size), axis=(1, 2))[:, ::stride, ::stride]
    return windows.mean(axis=(4, 5))
