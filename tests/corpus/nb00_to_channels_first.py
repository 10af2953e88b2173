# The corpus of answers to `to_channels_first` (notebook 00), as students write them.
# Each "# %%" header names an answer and its expected verdict: "passed", or "failed" and the
# parts that fail ("cases" fails the method rules with it; "all": every part, as a stop does).
# An answer named "reference_solution" is read from notebooks/solutions/, not written here.
# A "# %% shared" section before the answers holds helpers every answer of the file starts with.

# %% moveaxis · expect: passed
def to_channels_first(x):
    return np.moveaxis(x, 3, 1)

# %% transpose · expect: passed
def to_channels_first(x):
    return x.transpose(0, 3, 1, 2)

# %% einsum · expect: passed
def to_channels_first(x):
    return np.einsum("nhwc->nchw", x)

# %% contiguous_copy · expect: passed
def to_channels_first(x):
    return np.ascontiguousarray(np.transpose(x, (0, 3, 1, 2)))

# %% two_swaps · expect: passed
def to_channels_first(x):
    return x.swapaxes(1, 3).swapaxes(2, 3)

# %% loop_over_channels_same_dtype · expect: passed
def to_channels_first(x):
    n, h, w, c = x.shape
    out = np.empty((n, c, h, w), dtype=x.dtype)
    for channel in range(c):
        out[:, channel] = x[..., channel]
    return out

# %% loop_into_float_array · expect: failed cases
def to_channels_first(x):
    n, h, w, c = x.shape
    out = np.empty((n, c, h, w))          # float64, even for 8-bit pixels
    for channel in range(c):
        out[:, channel] = x[..., channel]
    return out

# %% reshape_instead_of_transpose · expect: failed cases
def to_channels_first(x):
    n, h, w, c = x.shape
    return x.reshape(n, c, h, w)

# %% wrong_axis_order · expect: failed cases
def to_channels_first(x):
    return x.transpose(0, 3, 2, 1)

# %% tolist · expect: failed cases
def to_channels_first(x):
    return np.moveaxis(x, 3, 1).tolist()

# %% shape_keyed_cache · expect: failed cases
_seen = {}


def to_channels_first(x):
    if x.shape not in _seen:
        _seen[x.shape] = np.moveaxis(x, 3, 1).copy()
    return _seen[x.shape]

# %% float32 · expect: failed cases
def to_channels_first(x):
    return np.moveaxis(x, 3, 1).astype(np.float32)
