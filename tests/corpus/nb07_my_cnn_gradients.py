# The corpus of answers to `my_cnn_gradients` (notebook 07's challenge); headers as in nb00_to_channels_first.py.

# %% shared · the helpers every answer below starts with (they differ in one call)
def _cnn(x, labels, w1, b1, w2, b2, relu_mask, mean):
    n = len(x)
    patches = sliding_window_view(x, (3, 3), axis=(1, 2))
    hidden = np.einsum("nijcab,abcf->nijf", patches, w1) + b1
    _, oh, ow, f = hidden.shape
    tiles = np.maximum(hidden, 0).reshape(n, oh // 2, 2, ow // 2, 2, f).transpose(
        0, 1, 3, 5, 2, 4).reshape(n, oh // 2, ow // 2, f, 4)
    winner = tiles.argmax(axis=-1)
    features = tiles.max(axis=-1).reshape(n, -1)
    logits = features @ w2 + b2
    p = np.exp(logits - logits.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    loss = -np.log(p[np.arange(n), labels]).mean()
    p[np.arange(n), labels] -= 1
    dlogits = p / n if mean else p
    dtiles = (np.arange(4) == winner[..., None]) * (dlogits @ w2.T).reshape(*winner.shape, 1)
    dhidden = dtiles.reshape(n, oh // 2, ow // 2, f, 2, 2).transpose(0, 1, 4, 2, 5, 3).reshape(
        hidden.shape) * ((hidden > 0) if relu_mask else 1)
    return (loss, np.einsum("nijcab,nijf->abcf", patches, dhidden), dhidden.sum(axis=(0, 1, 2)),
            features.T @ dlogits, dlogits.sum(axis=0))

# %% reference_solution · expect: passed
# (read from notebooks/solutions/nb07.py: the function and the helpers it calls)

# %% without_relu_gradient · expect: failed cases
def my_cnn_gradients(x, labels, w1, b1, w2, b2):
    """Forgets that ReLU passes the gradient only where its input is positive."""
    return _cnn(x, labels, w1, b1, w2, b2, relu_mask=False, mean=True)

# %% not_divided_by_n · expect: failed cases
def my_cnn_gradients(x, labels, w1, b1, w2, b2):
    """The loss is the mean, but dlogits is not divided by N."""
    return _cnn(x, labels, w1, b1, w2, b2, relu_mask=True, mean=False)
