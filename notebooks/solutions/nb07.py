"""Notebook 07 · Capstone: the solution of its exercise."""

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from pooling_lab import check


def my_softmax_cross_entropy(logits, labels):
    """Mean cross-entropy of the softmax of ``logits``, and its gradient.

    Parameters
    ----------
    logits : (N, K)
    labels : (N,) ints in 0 .. K-1

    Returns
    -------
    loss : float
        ``-mean over n of log softmax(logits[n])[labels[n]]``
    dlogits : (N, K)
        ``(softmax(logits) - one_hot(labels)) / N``
    """
    # Subtracting each row's maximum changes no probability and keeps np.exp below overflow.
    shifted = logits - logits.max(axis=1, keepdims=True)              # (N, K), each max is 0
    # log softmax = shifted - log(sum(exp(shifted))): never log(0) even for tiny probabilities.
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    samples = np.arange(len(labels))
    loss = -log_probs[samples, labels].mean()
    dlogits = np.exp(log_probs)                                       # the probabilities
    dlogits[samples, labels] -= 1                                     # minus the one-hot labels
    return float(loss), dlogits / len(labels)


def my_cnn_gradients(x, labels, w1, b1, w2, b2):
    """A small CNN's loss and the gradient of every parameter, by hand.

    conv 3x3 ("valid", stride 1) -> ReLU -> max pool 2x2 stride 2 -> flatten -> dense ->
    mean softmax cross-entropy.

    Parameters
    ----------
    x : (N, H, W, C), with H - 2 and W - 2 even
    labels : (N,) ints in 0..K-1
    w1 : (3, 3, C, F), b1 : (F,)
    w2 : (PH*PW*F, K), b2 : (K,), with ``PH = (H - 2) // 2``

    Returns
    -------
    loss : float
    dw1, db1, dw2, db2 : like w1, b1, w2, b2
    """
    n = len(x)
    patches = sliding_window_view(x, (3, 3), axis=(1, 2))           # (N, H-2, W-2, C, 3, 3)
    hidden = np.einsum("nijcab,abcf->nijf", patches, w1) + b1      # (N, H-2, W-2, F)
    _, oh, ow, f = hidden.shape
    # the 2x2 tiles do not overlap: (N, OH/2, OW/2, F, 4), tap k = 2a + b
    tiles = np.maximum(hidden, 0).reshape(n, oh // 2, 2, ow // 2, 2, f).transpose(
        0, 1, 3, 5, 2, 4).reshape(n, oh // 2, ow // 2, f, 4)
    winner = tiles.argmax(axis=-1)
    features = np.take_along_axis(tiles, winner[..., None], axis=-1).reshape(n, -1)
    logits = features @ w2 + b2                                      # (N, K)
    log_p = logits - logits.max(axis=1, keepdims=True)
    log_p -= np.log(np.exp(log_p).sum(axis=1, keepdims=True))
    loss = -log_p[np.arange(n), labels].mean()
    dlogits = np.exp(log_p)
    dlogits[np.arange(n), labels] -= 1
    dlogits /= n
    # back through the pool: each tile's gradient to its winner, then the tiles laid back out
    dtiles = (np.arange(4) == winner[..., None]) * (dlogits @ w2.T).reshape(*winner.shape, 1)
    dhidden = dtiles.reshape(n, oh // 2, ow // 2, f, 2, 2).transpose(0, 1, 4, 2, 5, 3).reshape(
        hidden.shape) * (hidden > 0)                                 # ReLU passes where > 0
    dw1 = np.einsum("nijcab,nijf->abcf", patches, dhidden)
    return loss, dw1, dhidden.sum(axis=(0, 1, 2)), features.T @ dlogits, dlogits.sum(axis=0)


EXERCISES = {"my_softmax_cross_entropy": check.softmax_cross_entropy,
             "my_cnn_gradients": check.cnn_gradients}
