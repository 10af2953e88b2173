# The corpus of answers to `my_avg_pool_as_conv` (notebook 05); headers as in
# nb00_to_channels_first.py. Each answer cell holds the student's my_conv_forward too.

# %% eye_kernel · expect: passed
def my_conv_forward(x, w, b, stride):
    windows = sliding_window_view(x, w.shape[:2], axis=(1, 2))[:, ::stride, ::stride]
    return np.einsum("nijcab,abco->nijo", windows, w) + b


def my_avg_pool_as_conv(x, size, stride):
    channels = x.shape[3]
    w = np.zeros((size, size, channels, channels))
    w[:, :, np.arange(channels), np.arange(channels)] = 1 / size**2
    return my_conv_forward(x, w, np.zeros(channels), stride)

# %% kernel_mixes_channels · expect: failed cases
def my_conv_forward(x, w, b, stride):
    windows = sliding_window_view(x, w.shape[:2], axis=(1, 2))[:, ::stride, ::stride]
    return np.einsum("nijcab,abco->nijo", windows, w) + b


def my_avg_pool_as_conv(x, size, stride):
    channels = x.shape[3]
    w = np.full((size, size, channels, channels), 1 / size**2)
    return my_conv_forward(x, w, np.zeros(channels), stride)

# %% no_call_a_direct_mean · expect: failed calls_my_conv_forward
def my_conv_forward(x, w, b, stride):
    windows = sliding_window_view(x, w.shape[:2], axis=(1, 2))[:, ::stride, ::stride]
    return np.einsum("nijcab,abco->nijo", windows, w) + b


def my_avg_pool_as_conv(x, size, stride):
    return sliding_window_view(x, (size, size), axis=(1, 2))[:, ::stride, ::stride].mean(
        axis=(4, 5))

# %% per_channel_calls · expect: passed
def my_conv_forward(x, w, b, stride):
    windows = sliding_window_view(x, w.shape[:2], axis=(1, 2))[:, ::stride, ::stride]
    return np.einsum("nijcab,abco->nijo", windows, w) + b


def my_avg_pool_as_conv(x, size, stride):
    w = np.full((size, size, 1, 1), 1 / size**2)
    maps = [my_conv_forward(x[..., c:c + 1], w, np.zeros(1), stride) for c in range(x.shape[3])]
    return np.concatenate(maps, axis=3)

# %% scalar_bias · expect: passed
def my_conv_forward(x, w, b, stride):
    windows = sliding_window_view(x, w.shape[:2], axis=(1, 2))[:, ::stride, ::stride]
    return np.einsum("nijcab,abco->nijo", windows, w) + b


def my_avg_pool_as_conv(x, size, stride):
    w = np.einsum("ab,co->abco", np.ones((size, size)) / size**2, np.eye(x.shape[3]))
    return my_conv_forward(x, w, 0.0, stride)

# %% einsum_instead_of_the_call · expect: failed calls_my_conv_forward
def my_conv_forward(x, w, b, stride):
    windows = sliding_window_view(x, w.shape[:2], axis=(1, 2))[:, ::stride, ::stride]
    return np.einsum("nijcab,abco->nijo", windows, w) + b


def my_avg_pool_as_conv(x, size, stride):
    w = np.einsum("ab,co->abco", np.ones((size, size)) / size**2, np.eye(x.shape[3]))
    windows = sliding_window_view(x, (size, size), axis=(1, 2))[:, ::stride, ::stride]
    return np.einsum("nijcab,abco->nijo", windows, w)

# %% conv_still_a_stub · expect: failed all
def my_conv_forward(x, w, b, stride):
    raise NotImplementedError


def my_avg_pool_as_conv(x, size, stride):
    w = np.einsum("ab,co->abco", np.ones((size, size)) / size**2, np.eye(x.shape[3]))
    return my_conv_forward(x, w, np.zeros(x.shape[3]), stride)

# %% divides_by_size · expect: failed cases
def my_conv_forward(x, w, b, stride):
    windows = sliding_window_view(x, w.shape[:2], axis=(1, 2))[:, ::stride, ::stride]
    return np.einsum("nijcab,abco->nijo", windows, w) + b


def my_avg_pool_as_conv(x, size, stride):
    w = np.einsum("ab,co->abco", np.ones((size, size)) / size, np.eye(x.shape[3]))
    return my_conv_forward(x, w, np.zeros(x.shape[3]), stride)
