# The corpus of answers to `my_max_pool_backward` (notebook 04); headers as in
# nb00_to_channels_first.py.

# %% first_maximum_by_offsets · expect: passed
def my_max_pool_backward(dout, x, size, stride):
    windows = sliding_window_view(x, (size, size), axis=(1, 2))[:, ::stride, ::stride]
    winner = windows.reshape(*windows.shape[:4], size * size).argmax(axis=-1)
    dx = np.zeros(x.shape)
    grads = sliding_window_view(dx, (size, size), axis=(1, 2), writeable=True)[:, ::stride, ::stride]
    for a in range(size):
        for b in range(size):
            grads[..., a, b] += np.where(winner == a * size + b, dout, 0.0)
    return dx

# %% every_tied_maximum · expect: failed cases
def my_max_pool_backward(dout, x, size, stride):
    windows = sliding_window_view(x, (size, size), axis=(1, 2))[:, ::stride, ::stride]
    is_max = windows == windows.max(axis=(4, 5), keepdims=True)
    dx = np.zeros(x.shape)
    grads = sliding_window_view(dx, (size, size), axis=(1, 2), writeable=True)[:, ::stride, ::stride]
    for a in range(size):
        for b in range(size):
            grads[..., a, b] += is_max[..., a, b] * dout
    return dx

# %% loop_over_windows · expect: failed no_pixel_loop
def my_max_pool_backward(dout, x, size, stride):
    dx = np.zeros(x.shape)
    n, out_h, out_w, channels = dout.shape
    for i in range(out_h):
        for j in range(out_w):
            window = x[:, i * stride:i * stride + size, j * stride:j * stride + size]
            flat = window.reshape(n, size * size, channels).argmax(axis=1)      # (N, C)
            rows, cols = np.unravel_index(flat, (size, size))
            images, chans = np.indices((n, channels))
            dx[images, i * stride + rows, j * stride + cols, chans] += dout[:, i, j]
    return dx

# %% add_at_is_allowed_here · expect: passed
def my_max_pool_backward(dout, x, size, stride):
    n, out_h, out_w, channels = dout.shape
    windows = sliding_window_view(x, (size, size), axis=(1, 2))[:, ::stride, ::stride]
    rows, cols = np.unravel_index(windows.reshape(n, out_h, out_w, channels, -1).argmax(-1),
                                  (size, size))
    images, i, j, chans = np.indices(dout.shape)
    dx = np.zeros(x.shape)
    np.add.at(dx, (images, i * stride + rows, j * stride + cols, chans), dout)
    return dx

# %% last_maximum · expect: failed cases
def my_max_pool_backward(dout, x, size, stride):
    windows = sliding_window_view(x, (size, size), axis=(1, 2))[:, ::stride, ::stride]
    flat = windows.reshape(*windows.shape[:4], size * size)[..., ::-1]
    winner = size * size - 1 - flat.argmax(axis=-1)
    dx = np.zeros(x.shape)
    grads = sliding_window_view(dx, (size, size), axis=(1, 2), writeable=True)[:, ::stride, ::stride]
    for a in range(size):
        for b in range(size):
            grads[..., a, b] += np.where(winner == a * size + b, dout, 0.0)
    return dx

# %% one_channel_branch · expect: passed
def winners_3d(x, size, stride):
    windows = sliding_window_view(x, (size, size), axis=(1, 2))[:, ::stride, ::stride]
    return windows.reshape(*windows.shape[:3], size * size).argmax(axis=-1)


def my_max_pool_backward(dout, x, size, stride):
    if x.shape[3] == 1:                                  # one channel: (N, H, W) arrays
        winner, dout = winners_3d(x[..., 0], size, stride)[..., None], dout
    else:
        windows = sliding_window_view(x, (size, size), axis=(1, 2))[:, ::stride, ::stride]
        winner = windows.reshape(*windows.shape[:4], size * size).argmax(axis=-1)
    dx = np.zeros(x.shape)
    grads = sliding_window_view(dx, (size, size), axis=(1, 2), writeable=True)[:, ::stride, ::stride]
    for a in range(size):
        for b in range(size):
            grads[..., a, b] += np.where(winner == a * size + b, dout, 0.0)
    return dx

# %% loop_over_images · expect: passed
def my_max_pool_backward(dout, x, size, stride):
    dx = np.zeros(x.shape)
    for n in range(x.shape[0]):
        windows = sliding_window_view(x[n], (size, size), axis=(0, 1))[::stride, ::stride]
        winner = windows.reshape(*windows.shape[:3], size * size).argmax(axis=-1)
        grads = sliding_window_view(dx[n], (size, size), axis=(0, 1), writeable=True)[
            ::stride, ::stride]
        for a in range(size):
            for b in range(size):
                grads[..., a, b] += np.where(winner == a * size + b, dout[n], 0.0)
    return dx

# %% float32 · expect: failed cases
def my_max_pool_backward(dout, x, size, stride):
    windows = sliding_window_view(x, (size, size), axis=(1, 2))[:, ::stride, ::stride]
    winner = windows.reshape(*windows.shape[:4], size * size).argmax(axis=-1)
    dx = np.zeros(x.shape, np.float32)
    grads = sliding_window_view(dx, (size, size), axis=(1, 2), writeable=True)[:, ::stride, ::stride]
    for a in range(size):
        for b in range(size):
            grads[..., a, b] += np.where(winner == a * size + b, dout, 0.0)
    return dx

# %% shape_keyed_cache · expect: failed cases
_masks = {}


def my_max_pool_backward(dout, x, size, stride):
    key = (x.shape, size, stride)
    if key not in _masks:                       # the winners of the first x of this shape
        windows = sliding_window_view(x, (size, size), axis=(1, 2))[:, ::stride, ::stride]
        _masks[key] = windows.reshape(*windows.shape[:4], size * size).argmax(axis=-1)
    winner = _masks[key]
    dx = np.zeros(x.shape)
    grads = sliding_window_view(dx, (size, size), axis=(1, 2), writeable=True)[:, ::stride, ::stride]
    for a in range(size):
        for b in range(size):
            grads[..., a, b] += np.where(winner == a * size + b, dout, 0.0)
    return dx
