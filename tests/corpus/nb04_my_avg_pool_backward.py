# The corpus of answers to `my_avg_pool_backward` (notebook 04); headers as in
# nb00_to_channels_first.py.

# %% offsets_into_a_view · expect: passed
def my_avg_pool_backward(dout, x, size, stride):
    dx = np.zeros(x.shape)
    view = sliding_window_view(dx, (size, size), axis=(1, 2), writeable=True)[:, ::stride, ::stride]
    share = dout / (size * size)
    for a in range(size):
        for b in range(size):
            view[..., a, b] += share
    return dx

# %% np_add_at · expect: failed no_scatter
def my_avg_pool_backward(dout, x, size, stride):
    dx = np.zeros(x.shape)
    view = sliding_window_view(dx, (size, size), axis=(1, 2), writeable=True)[:, ::stride, ::stride]
    np.add.at(view, (Ellipsis,), np.broadcast_to((dout / size**2)[..., None, None], view.shape))
    return dx

# %% bincount · expect: failed no_scatter
def my_avg_pool_backward(dout, x, size, stride):
    index = np.arange(x.size).reshape(x.shape)
    windows = sliding_window_view(index, (size, size), axis=(1, 2))[:, ::stride, ::stride]
    weights = np.broadcast_to((dout / size**2)[..., None, None], windows.shape)
    return np.bincount(windows.ravel(), weights.ravel(), minlength=x.size).reshape(x.shape)

# %% loop_over_windows · expect: failed no_pixel_loop
def my_avg_pool_backward(dout, x, size, stride):
    dx = np.zeros(x.shape)
    for i in range(dout.shape[1]):
        for j in range(dout.shape[2]):
            dx[:, i * stride:i * stride + size, j * stride:j * stride + size] += (
                dout[:, i:i + 1, j:j + 1] / size**2)
    return dx

# %% one_plus_equals_on_the_whole_view · expect: failed cases
def my_avg_pool_backward(dout, x, size, stride):
    dx = np.zeros(x.shape)
    view = sliding_window_view(dx, (size, size), axis=(1, 2), writeable=True)[:, ::stride, ::stride]
    view += (dout / size**2)[..., None, None]          # overlapping windows lose updates
    return dx

# %% divides_dout_in_place · expect: failed cases
def my_avg_pool_backward(dout, x, size, stride):
    dout /= size * size
    dx = np.zeros(x.shape)
    view = sliding_window_view(dx, (size, size), axis=(1, 2), writeable=True)[:, ::stride, ::stride]
    for a in range(size):
        for b in range(size):
            view[..., a, b] += dout
    return dx

# %% tiny_constant · expect: passed
TINY = 10.0 ** -300


def my_avg_pool_backward(dout, x, size, stride):
    dx = np.zeros(x.shape)
    view = sliding_window_view(dx, (size, size), axis=(1, 2), writeable=True)[:, ::stride, ::stride]
    share = dout / (size * size + TINY)
    for a in range(size):
        for b in range(size):
            view[..., a, b] += share
    return dx

# %% annotated_counter · expect: passed
steps_run: int = 0


def my_avg_pool_backward(dout, x, size, stride):
    global steps_run
    steps_run += 1
    dx = np.zeros_like(x)
    view = sliding_window_view(dx, (size, size), axis=(1, 2), writeable=True)[:, ::stride, ::stride]
    for a in range(size):
        for b in range(size):
            view[..., a, b] += dout / size**2
    return dx

# %% float32 · expect: failed cases
def my_avg_pool_backward(dout, x, size, stride):
    dx = np.zeros(x.shape, dtype=np.float32)
    view = sliding_window_view(dx, (size, size), axis=(1, 2), writeable=True)[:, ::stride, ::stride]
    for a in range(size):
        for b in range(size):
            view[..., a, b] += dout / size**2
    return dx

# %% course_strided_module · expect: failed all
def my_avg_pool_backward(dout, x, size, stride):
    dx = np.zeros(x.shape)
    view = strided.sliding_window_view(dx, (size, size), axis=(1, 2), writeable=True)
    for a in range(size):
        for b in range(size):
            view[:, ::stride, ::stride][..., a, b] += dout / size**2
    return dx

# %% returns_dout_shape · expect: failed cases
def my_avg_pool_backward(dout, x, size, stride):
    return dout / (size * size)
