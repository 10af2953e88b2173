"""Layers: the course's convolution and pooling, wrapped into a network that learns.

A backward pass only matters because something learns from it. This module wraps the six
functions of the contract into layer objects, adds the few pieces a classifier needs (ReLU,
Flatten, Dense, a softmax cross-entropy loss, SGD with momentum) and strings them together
in a tiny :class:`Sequential` that trains and evaluates.

Every layer has the same small interface::

    out = layer.forward(x)       # remembers what backward needs (the contract's cache)
    dx = layer.backward(dout)    # dout shaped like out; fills layer.grads
    layer.params                 # {name: array}, the arrays the optimiser updates in place
    layer.grads                  # {name: array}, same names and shapes, written by backward

``Conv2D`` has ``params = {"w": (KH, KW, C_in, C_out), "b": (C_out,)}``; ``Dense`` has
``params = {"w": (D_in, D_out), "b": (D_out,)}``; the other layers have none (empty dicts).

``Conv2D``, ``MaxPool2D`` and ``AvgPool2D`` take ``style="naive" | "stacked" | "strided"``
and call that module of :data:`pooling_lab.STYLES`; they never re-implement it. All styles
compute the same numbers, so a trained network can switch style and keep its weights.

Weights start random, from a seeded generator: pass one ``rng`` (a ``numpy.random.Generator``
or an int seed) to every layer of a network and the whole run is reproducible.
"""

from __future__ import annotations

import math
import numbers
import time

import numpy as np

from . import STYLES, common


# --------------------------------------------------------------------------------------------
# Checking arguments
# --------------------------------------------------------------------------------------------

def style_module(style):
    """The module of :data:`pooling_lab.STYLES` called ``style``, or a clear ``ValueError``."""
    if not isinstance(style, str) or style not in STYLES:
        allowed = ", ".join(repr(name) for name in STYLES)
        raise ValueError(f"style must be one of {allowed}; got {style!r}")
    return STYLES[style]


def _positive_int(value, name: str) -> int:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral) \
            or value < 1:
        raise ValueError(f"{name} must be a positive integer; got {value!r}")
    return int(value)


def _as_generator(rng) -> np.random.Generator:
    """Accept a ``numpy.random.Generator`` (used as is) or an int seed."""
    if isinstance(rng, np.random.Generator):
        return rng
    if isinstance(rng, numbers.Integral) and not isinstance(rng, (bool, np.bool_)):
        return np.random.default_rng(int(rng))
    raise TypeError(f"rng must be a numpy.random.Generator or an int seed; got {rng!r}")


def _check_dout_shape(dout, expected: tuple, layer) -> np.ndarray:
    dout = common.as_real_array(dout, "dout")
    if dout.shape != expected:
        raise ValueError(f"dout must have the shape of {type(layer).__name__}.forward's "
                         f"output {expected}; got {dout.shape}")
    return dout


def initial_weights(shape, fan_in: int, fan_out: int, init: str, rng) -> np.ndarray:
    """Random starting weights that keep the signal's scale steady from layer to layer.

    Parameters
    ----------
    shape : tuple
        ``(KH, KW, C_in, C_out)`` or ``(D_in, D_out)``.
    fan_in, fan_out : int
        Inputs feeding one output (``KH*KW*C_in``) and outputs fed by one input.
    init : "he" or "glorot"
        ``"he"`` (He et al., 2015): normal with variance ``2 / fan_in``, for layers followed
        by a ReLU, which zeroes half its inputs on average. ``"glorot"`` (Glorot and Bengio,
        2010): uniform on ``±sqrt(6 / (fan_in + fan_out))``, for a layer without ReLU.
    rng : numpy.random.Generator
    """
    if init == "he":
        return rng.normal(0.0, math.sqrt(2.0 / fan_in), size=shape)
    if init == "glorot":
        limit = math.sqrt(6.0 / (fan_in + fan_out))
        return rng.uniform(-limit, limit, size=shape)
    raise ValueError(f'init must be "he" or "glorot"; got {init!r}')


# --------------------------------------------------------------------------------------------
# Layers
# --------------------------------------------------------------------------------------------

class Layer:
    """What every layer shares: ``params``, ``grads`` and the rule "forward before backward".

    Subclasses keep what their backward needs in ``self._cache``; it is ``None`` until the
    first forward.
    """

    def __init__(self):
        self.params: dict[str, np.ndarray] = {}
        self.grads: dict[str, np.ndarray] = {}
        self._cache = None

    def _forward_cache(self):
        if self._cache is None:
            raise RuntimeError(f"{type(self).__name__}.backward was called before forward: "
                               f"call forward(x) first, then backward(dout) with dout shaped "
                               f"like forward's output")
        return self._cache

    def forward(self, x):
        """``out`` for the input ``x``; each layer defines it and keeps its cache."""
        raise NotImplementedError

    def backward(self, dout):
        """``dx`` for the upstream gradient ``dout``; each layer defines it."""
        raise NotImplementedError


class _StyledLayer(Layer):
    """A layer that calls one style of the contract, chosen by name and changeable later.

    It keeps the style's name, not its module, so a layer can be copied (``copy.deepcopy``)
    or pickled.
    """

    def __init__(self, style: str):
        super().__init__()
        self.style = style

    @property
    def style(self) -> str:
        """``"naive"``, ``"stacked"`` or ``"strided"``: which module does the work."""
        return self._style_name

    @style.setter
    def style(self, style: str) -> None:
        style_module(style)                      # check it now, not at the first forward
        self._style_name = style

    @property
    def _style(self):
        return STYLES[self._style_name]


class Conv2D(_StyledLayer):
    """2-D convolution with a learned bias: ``out = conv(x, w) + b``.

    Parameters
    ----------
    in_channels, out_channels : int
        ``C_in`` of the input, ``C_out`` of the output.
    kernel_size : int or (KH, KW)
    stride : int or (SH, SW), default 1
    padding : "valid", "same", int, (ph, pw) or ((top, bottom), (left, right)), default "valid"
    init : "he" (default, for a Conv2D followed by ReLU) or "glorot"
    style : "naive", "stacked" or "strided" (default)
    rng : numpy.random.Generator or int seed, default 0

    Attributes
    ----------
    params : {"w": (KH, KW, C_in, C_out), "b": (C_out,)}
        ``b`` starts at zero.
    grads : {"w": (KH, KW, C_in, C_out), "b": (C_out,)}
        Written by :meth:`backward`.
    """

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding="valid", *,
                 init="he", style="strided", rng=0):
        super().__init__(style)
        self.in_channels = _positive_int(in_channels, "in_channels")
        self.out_channels = _positive_int(out_channels, "out_channels")
        self.kernel_size = common.as_pair(kernel_size, "kernel_size")
        self.stride = stride
        self.padding = padding
        taps = self.kernel_size[0] * self.kernel_size[1]
        shape = (*self.kernel_size, self.in_channels, self.out_channels)
        self.params = {
            "w": initial_weights(shape, taps * self.in_channels, taps * self.out_channels,
                                 init, _as_generator(rng)),
            "b": np.zeros(self.out_channels),
        }

    def forward(self, x):
        """``x : (N, H, W, C_in) -> out : (N, OH, OW, C_out)``."""
        x = common.as_float_array(x, "x", "N, H, W, C")
        if x.shape[3] != self.in_channels:
            raise ValueError(f"x must have in_channels = {self.in_channels} channels on its "
                             f"last axis (N, H, W, C); got x of shape {x.shape} with "
                             f"{x.shape[3]}")
        out, self._cache = self._style.conv_forward(x, self.params["w"], self.params["b"],
                                                    stride=self.stride, padding=self.padding)
        return out

    def backward(self, dout):
        """``dout : (N, OH, OW, C_out) -> dx : (N, H, W, C_in)``; fills ``grads``."""
        dx, self.grads["w"], self.grads["b"] = self._style.conv_backward(
            dout, self._forward_cache())
        return dx

    def __repr__(self):
        return (f"Conv2D({self.in_channels}, {self.out_channels}, {self.kernel_size}, "
                f"stride={self.stride!r}, padding={self.padding!r}, style={self.style!r})")


class MaxPool2D(_StyledLayer):
    """Max pool: the largest value of each window; backward sends the gradient to it.

    Parameters
    ----------
    size : int or (KH, KW), default 2
    stride : int, (SH, SW) or None (default: ``stride = size``)
    padding : as for :class:`Conv2D`, default "valid"
    style : "naive", "stacked" or "strided" (default)
    """

    def __init__(self, size=2, stride=None, padding="valid", *, style="strided"):
        super().__init__(style)
        self.size = common.as_pair(size, "size")
        self.stride = stride
        self.padding = padding

    def forward(self, x):
        """``x : (N, H, W, C) -> out : (N, OH, OW, C)``."""
        out, self._cache = self._style.max_pool_forward(x, self.size, stride=self.stride,
                                                        padding=self.padding)
        return out

    def backward(self, dout):
        """``dout : (N, OH, OW, C) -> dx : (N, H, W, C)``."""
        return self._style.max_pool_backward(dout, self._forward_cache())

    def __repr__(self):
        return (f"MaxPool2D({self.size}, stride={self.stride!r}, padding={self.padding!r}, "
                f"style={self.style!r})")


class AvgPool2D(_StyledLayer):
    """Average pool: the mean of each window; backward shares the gradient out evenly.

    Parameters
    ----------
    size, stride, padding, style
        As for :class:`MaxPool2D`.
    count_include_pad : bool, default True
        With padding: divide by ``KH*KW`` (True) or by the taps inside the image (False).
    """

    def __init__(self, size=2, stride=None, padding="valid", count_include_pad=True, *,
                 style="strided"):
        super().__init__(style)
        self.size = common.as_pair(size, "size")
        self.stride = stride
        self.padding = padding
        self.count_include_pad = count_include_pad

    def forward(self, x):
        """``x : (N, H, W, C) -> out : (N, OH, OW, C)``."""
        out, self._cache = self._style.avg_pool_forward(
            x, self.size, stride=self.stride, padding=self.padding,
            count_include_pad=self.count_include_pad)
        return out

    def backward(self, dout):
        """``dout : (N, OH, OW, C) -> dx : (N, H, W, C)``."""
        return self._style.avg_pool_backward(dout, self._forward_cache())

    def __repr__(self):
        return (f"AvgPool2D({self.size}, stride={self.stride!r}, padding={self.padding!r}, "
                f"style={self.style!r})")


class ReLU(Layer):
    """``max(x, 0)``, element-wise, for an input of any shape."""

    def forward(self, x):
        x = common.as_real_array(x, "x")
        self._cache = x > 0                      # where the gradient flows through
        return np.maximum(x, 0)

    def backward(self, dout):
        passes = self._forward_cache()
        return _check_dout_shape(dout, passes.shape, self) * passes

    def __repr__(self):
        return "ReLU()"


class Flatten(Layer):
    """``(N, H, W, C) -> (N, H*W*C)``, the bridge from feature maps to a Dense layer."""

    def forward(self, x):
        x = common.as_real_array(x, "x")
        if x.ndim < 2:
            raise ValueError(f"x must have a batch axis and at least one more, (N, ...); "
                             f"got shape {x.shape}")
        self._cache = x.shape
        return x.reshape(x.shape[0], -1)

    def backward(self, dout):
        x_shape = self._forward_cache()
        dout = _check_dout_shape(dout, (x_shape[0], math.prod(x_shape[1:])), self)
        return dout.reshape(x_shape)

    def __repr__(self):
        return "Flatten()"


class Dense(Layer):
    """A fully connected layer: ``out = x @ w + b``.

    Parameters
    ----------
    in_features, out_features : int
        ``D_in`` and ``D_out``.
    init : "glorot" (default, for a last layer that feeds the softmax) or "he"
    rng : numpy.random.Generator or int seed, default 0

    Attributes
    ----------
    params : {"w": (D_in, D_out), "b": (D_out,)}
        ``b`` starts at zero.
    grads : {"w": (D_in, D_out), "b": (D_out,)}
    """

    def __init__(self, in_features, out_features, *, init="glorot", rng=0):
        super().__init__()
        self.in_features = _positive_int(in_features, "in_features")
        self.out_features = _positive_int(out_features, "out_features")
        shape = (self.in_features, self.out_features)
        self.params = {
            "w": initial_weights(shape, self.in_features, self.out_features, init,
                                 _as_generator(rng)),
            "b": np.zeros(self.out_features),
        }

    def forward(self, x):
        """``x : (N, D_in) -> out : (N, D_out)``."""
        x = common.as_real_array(x, "x")
        if x.ndim != 2 or x.shape[1] != self.in_features:
            raise ValueError(f"x must have shape (N, in_features) = (N, {self.in_features}); "
                             f"got {x.shape} (put a Flatten before Dense to flatten images)")
        self._cache = x
        return x @ self.params["w"] + self.params["b"]

    def backward(self, dout):
        """``dout : (N, D_out) -> dx : (N, D_in)``; fills ``grads``."""
        x = self._forward_cache()
        dout = _check_dout_shape(dout, (x.shape[0], self.out_features), self)
        self.grads["w"] = x.T @ dout                   # (D_in, N) @ (N, D_out)
        self.grads["b"] = dout.sum(axis=0)             # (N, D_out) -> (D_out,)
        return dout @ self.params["w"].T               # (N, D_out) @ (D_out, D_in)

    def __repr__(self):
        return f"Dense({self.in_features}, {self.out_features})"


# --------------------------------------------------------------------------------------------
# Loss and optimiser
# --------------------------------------------------------------------------------------------

def softmax(logits):
    """Class probabilities, ``(N, K) -> (N, K)``, each row summing to 1."""
    logits = common.as_real_array(logits, "logits")
    # Subtracting each row's maximum changes nothing mathematically and keeps exp from
    # overflowing.
    exps = np.exp(logits - logits.max(axis=-1, keepdims=True))
    return exps / exps.sum(axis=-1, keepdims=True)


def softmax_cross_entropy(logits, labels):
    """The mean cross-entropy of ``softmax(logits)`` against integer labels, and its gradient.

    ``loss = mean_n( -log softmax(logits)[n, labels[n]] )``, and
    ``dlogits = (softmax(logits) - one_hot(labels)) / N``.

    Parameters
    ----------
    logits : (N, K) array_like
    labels : (N,) int array_like, values in 0..K-1

    Returns
    -------
    loss : float
    dlogits : (N, K)
    """
    logits = common.as_real_array(logits, "logits")
    labels = np.asarray(labels)
    if logits.ndim != 2:
        raise ValueError(f"logits must have 2 axes (N, K); got shape {logits.shape}")
    if labels.dtype.kind not in "iu" or labels.shape != logits.shape[:1]:
        raise ValueError(f"labels must be {logits.shape[0]} integers (shape (N,) to match "
                         f"logits of shape {logits.shape}); got dtype {labels.dtype}, "
                         f"shape {labels.shape}")
    classes = logits.shape[1]
    if labels.size and (labels.min() < 0 or labels.max() >= classes):
        raise ValueError(f"labels must lie in 0..{classes - 1} (logits has K = {classes} "
                         f"columns); got values from {labels.min()} to {labels.max()}")
    rows = np.arange(len(labels))
    shifted = logits - logits.max(axis=1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))   # (N, K)
    loss = -log_probs[rows, labels].mean()
    dlogits = np.exp(log_probs)
    dlogits[rows, labels] -= 1
    return float(loss), dlogits / len(labels)


class SGD:
    """Stochastic gradient descent with momentum.

    For every parameter ``p`` with gradient ``g`` and velocity ``v`` (zero at first)::

        v <- momentum * v - lr * g
        p <- p + v                  (in place: the layer sees the new value)

    Parameters
    ----------
    lr : float > 0
        The learning rate.
    momentum : float in [0, 1)
        How much of the last step carries over; 0 gives plain gradient descent.
    """

    def __init__(self, lr=0.05, momentum=0.9):
        if not isinstance(lr, numbers.Real) or not lr > 0:
            raise ValueError(f"lr must be a positive number; got {lr!r}")
        if not isinstance(momentum, numbers.Real) or not 0 <= momentum < 1:
            raise ValueError(f"momentum must be a number in [0, 1); got {momentum!r}")
        self.lr = float(lr)
        self.momentum = float(momentum)
        self.velocity: dict[tuple[Layer, str], np.ndarray] = {}

    def step(self, layers) -> None:
        """Move every parameter of ``layers`` one step against its gradient."""
        for layer in layers:
            for name, param in layer.params.items():
                if name not in layer.grads:
                    raise RuntimeError(f"{type(layer).__name__} has no gradient for {name!r}: "
                                       f"call backward before SGD.step")
                velocity = self.velocity.get((layer, name))
                if velocity is None:
                    velocity = self.velocity[layer, name] = np.zeros_like(param)
                velocity *= self.momentum
                velocity -= self.lr * layer.grads[name]
                param += velocity


# --------------------------------------------------------------------------------------------
# A network
# --------------------------------------------------------------------------------------------

class Sequential:
    """Layers applied one after another, with a softmax cross-entropy loss on top.

    Parameters
    ----------
    layers : list of Layer
        The last layer's output is the logits ``(N, K)``.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> net = Sequential([Flatten(), Dense(64, 10, rng=rng)])
    >>> net.forward(np.zeros((5, 8, 8, 1))).shape
    (5, 10)
    """

    def __init__(self, layers):
        self.layers = list(layers)
        for index, layer in enumerate(self.layers):
            if not isinstance(layer, Layer):
                raise TypeError(f"layers must hold Layer objects; got {layer!r} at "
                                f"position {index}")

    def forward(self, x):
        """The logits, ``(N, ...) -> (N, K)``."""
        for layer in self.layers:
            x = layer.forward(x)
        return x

    def backward(self, dlogits):
        """Back-propagate ``dlogits : (N, K)``; every layer's ``grads`` is filled. Returns dx."""
        for layer in reversed(self.layers):
            dlogits = layer.backward(dlogits)
        return dlogits

    def set_style(self, style: str) -> None:
        """Switch every convolution and pooling layer to ``style``; the weights stay."""
        style_module(style)
        for layer in self.layers:
            if isinstance(layer, _StyledLayer):
                layer.style = style

    def astype(self, dtype) -> "Sequential":
        """Cast every parameter to ``dtype``, in place, and return the network.

        float32 halves the bytes every matrix product moves, and trains about twice as fast;
        finite-difference gradient checks need float64 (the default). Call it before
        training: the optimiser's velocities take the dtype of the parameters they first see.
        """
        dtype = np.dtype(dtype)
        if dtype.kind != "f":
            raise TypeError(f"dtype must be a floating dtype (float32 or float64); got {dtype}")
        for layer in self.layers:
            for name, param in layer.params.items():
                layer.params[name] = param.astype(dtype)
        return self

    def describe(self, input_shape) -> str:
        """A table with one line per layer: its output shape (one example's) and its number
        of parameters.

        ``input_shape`` is one example's shape, e.g. ``(8, 8, 1)``.
        """
        x = np.zeros((1, *input_shape))
        rows = [("input", x.shape[1:], "")]
        total = 0
        for layer in self.layers:
            x = layer.forward(x)
            count = sum(param.size for param in layer.params.values())
            total += count
            rows.append((repr(layer), x.shape[1:], f"{count:,}"))
        rows = [("layer", "output shape", "params"), *rows, ("total", "", f"{total:,}")]
        width = max(len(name) for name, _, _ in rows)
        return "\n".join(f"{name:<{width}}  {str(shape):>12}  {count:>6}".rstrip()
                         for name, shape, count in rows)

    def loss(self, x, y) -> float:
        """The mean softmax cross-entropy on ``x : (N, ...)`` against ``y : (N,)``."""
        return softmax_cross_entropy(self.forward(x), y)[0]

    def predict_proba(self, x):
        """Class probabilities, ``(N, ...) -> (N, K)``."""
        return softmax(self.forward(x))

    def predict(self, x):
        """The most likely class of each example, ``(N, ...) -> (N,)`` ints."""
        return self.forward(x).argmax(axis=1)

    def accuracy(self, x, y) -> float:
        """The fraction of ``x : (N, ...)`` whose predicted class equals ``y : (N,)``."""
        return float(np.mean(self.predict(x) == np.asarray(y)))

    def train_step(self, x, y, optimizer: SGD) -> float:
        """Forward, loss, backward and one optimiser step on one batch; returns the loss."""
        loss, dlogits = softmax_cross_entropy(self.forward(x), y)
        self.backward(dlogits)
        optimizer.step(self.layers)
        return loss

    def fit(self, x, y, optimizer: SGD, *, epochs, batch_size=32, rng=0, x_test=None,
            y_test=None) -> dict:
        """Train for ``epochs`` passes over ``(x, y)`` in shuffled mini-batches.

        Parameters
        ----------
        x : (N, ...) array, y : (N,) int array
        optimizer : SGD
        epochs, batch_size : int
            The last batch of an epoch may be smaller.
        rng : numpy.random.Generator or int seed, default 0
            Shuffles the examples anew each epoch.
        x_test, y_test : optional
            Measured after every epoch.

        Returns
        -------
        history : dict of lists, one entry per epoch
            ``"loss"`` (mean training loss over the epoch's batches), ``"test_accuracy"``
            (if test data was given) and ``"seconds"`` (wall time of the epoch's training).
        """
        x, y = np.asarray(x), np.asarray(y)
        if len(x) != len(y):
            raise ValueError(f"x and y must hold as many examples; got len(x) = {len(x)}, "
                             f"len(y) = {len(y)}")
        epochs = _positive_int(epochs, "epochs")
        batch_size = _positive_int(batch_size, "batch_size")
        rng = _as_generator(rng)
        history = {"loss": [], "seconds": []}
        if x_test is not None:
            history["test_accuracy"] = []
        for _ in range(epochs):
            start = time.perf_counter()
            order = rng.permutation(len(x))
            total = 0.0
            for first in range(0, len(x), batch_size):
                batch = order[first:first + batch_size]
                total += self.train_step(x[batch], y[batch], optimizer) * len(batch)
            history["seconds"].append(time.perf_counter() - start)
            history["loss"].append(total / len(x))
            if x_test is not None:
                history["test_accuracy"].append(self.accuracy(x_test, y_test))
        return history


# --------------------------------------------------------------------------------------------
# Evaluating
# --------------------------------------------------------------------------------------------

def confusion_matrix(labels, predictions, classes: int) -> np.ndarray:
    """Count how often each true class was predicted as each class.

    Parameters
    ----------
    labels, predictions : (N,) int arrays, values in 0..classes-1
    classes : int

    Returns
    -------
    counts : (classes, classes) int array
        ``counts[t, p]`` is the number of examples of class ``t`` predicted as ``p``; the
        diagonal holds the right answers.
    """
    classes = _positive_int(classes, "classes")
    labels, predictions = np.asarray(labels), np.asarray(predictions)
    for name, values in (("labels", labels), ("predictions", predictions)):
        if values.dtype.kind not in "iu" or values.shape != labels.shape or values.ndim != 1:
            raise ValueError(f"{name} must be a 1-D int array of the same length as labels; "
                             f"got dtype {values.dtype}, shape {values.shape}")
        if values.size and (values.min() < 0 or values.max() >= classes):
            raise ValueError(f"{name} must lie in 0..{classes - 1}; got values from "
                             f"{values.min()} to {values.max()}")
    # Pair (t, p) gets the number t*classes + p; counting those numbers fills the matrix.
    pairs = labels.astype(np.int64) * classes + predictions.astype(np.int64)
    return np.bincount(pairs, minlength=classes * classes).reshape(classes, classes)
