"""Layers: the course's convolution and pooling, wrapped into a network that learns.

A backward pass only matters because something learns from it. This module wraps the
contract's functions into layers (:class:`Layer` gives their interface), adds the few pieces a
classifier needs (ReLU, Flatten, Dense, a softmax cross-entropy loss, SGD with momentum) and
strings them together in a tiny :class:`Sequential` that trains and evaluates. Weights start
random: pass one ``rng`` (a ``numpy.random.Generator`` or an int seed >= 0, by default 0) to
every layer of a network and the whole run is reproducible. A layer's ``style`` is
:class:`_StyledLayer`'s.
"""

import math
import numbers
import time
import uuid
from collections.abc import Iterable

import numpy as np

from . import check_style, op_functions, rules
from .geometry import conv_geometry, pool_geometry

#: The style layers use unless told otherwise: the tuned engine (notebook 06).
DEFAULT_STYLE = "fast"


def _as_generator(rng) -> np.random.Generator:
    """Accept a ``numpy.random.Generator`` (used as is) or an int seed >= 0."""
    allowed = "a numpy.random.Generator or an int seed >= 0"
    if isinstance(rng, np.random.Generator):
        return rng
    if not isinstance(rng, numbers.Integral) or isinstance(rng, (bool, np.bool_)):
        raise TypeError(f"rng must be {allowed}; got {rng!r} of type {type(rng).__name__}")
    if rng < 0:
        raise ValueError(f"rng must be {allowed}; got {rng!r}")
    return np.random.default_rng(int(rng))


def _real_number(value, name: str, allowed: str, accepts) -> float:
    """One real number for which ``accepts(number)`` is True: else a ``TypeError`` for a
    non-number (a bool, a string), a ``ValueError`` for a refused one (NaN fails comparisons)."""
    received = value
    if isinstance(value, np.ndarray) and value.ndim == 0:
        value = value.item()                     # a 0-d array is the number it holds
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be {allowed}; got {received!r} "
                        f"of type {type(received).__name__}")
    if not accepts(float(value)):
        raise ValueError(f"{name} must be {allowed}; got {received!r}")
    return float(value)


def _as_batch(x, name: str, example: str = "example") -> np.ndarray:
    """``x : (N, ...)`` as a floating array of finite numbers, ``N >= 1``; ``example`` says
    what one example is for, in the error message."""
    x = rules.as_real_array(x, name)
    if x.ndim < 1 or len(x) == 0:
        raise ValueError(f"{name} must hold at least one {example}; got shape {x.shape}")
    if not np.isfinite(x).all():
        raise ValueError(f"{name} must hold finite numbers; got {x.size - np.isfinite(x).sum()}"
                         f" NaN or infinite values")
    return x


def check_labels(labels, count: int | None, name: str, classes: int | None = None) -> np.ndarray:
    """``labels`` as an int array of shape ``(count,)`` (any length if ``count`` is None)
    with values in ``0..classes-1`` (unchecked if ``classes`` is None), else a ``TypeError``
    (None, not ints) or a ``ValueError``. A column ``(N, 1)`` is refused, not flattened:
    beside ``(N,)`` predictions it would broadcast to an ``(N, N)`` table."""
    shape = "(N,)" if count is None else f"(N,) = ({count},)"
    expected = f"an int array of shape {shape}, one class label per example"
    if labels is None:
        raise TypeError(f"{name} must be {expected}; got None")
    array = np.asarray(labels)
    if array.dtype.kind not in "iu":
        raise TypeError(f"{name} must be {expected}; got dtype {array.dtype}")
    if array.ndim != 1 or (count is not None and array.shape != (count,)):
        hint = f" (for a column of labels pass {name}.ravel())" if array.size == count else ""
        raise ValueError(f"{name} must be {expected}; got shape {array.shape}{hint}")
    if classes is not None and array.size and (array.min() < 0 or array.max() >= classes):
        raise ValueError(f"{name} must lie in 0..{classes - 1} (the network has {classes} "
                         f"classes); got values from {array.min()} to {array.max()}")
    return array


def _check_dout_shape(dout, expected: tuple, layer) -> np.ndarray:
    dout = rules.as_real_array(dout, "dout")
    if dout.shape != expected:
        raise ValueError(f"dout must have the shape of {type(layer).__name__}.forward's "
                         f"output {expected}; got {dout.shape}")
    return dout


def _example_shape(input_shape, image_layer=None) -> tuple:
    """One example's shape, e.g. ``(8, 8, 1)``: a tuple (or list) of positive ints, with the
    three axes (H, W, C) if it is for an ``image_layer``."""
    if not isinstance(input_shape, (tuple, list)):
        raise TypeError(f"input_shape must be one example's shape as a tuple, e.g. "
                        f"(8, 8, 1); got {input_shape!r}")
    shape = tuple(rules.positive_int(side, "input_shape", "a tuple of positive ints, e.g. "
                                     "(8, 8, 1)") for side in input_shape)
    if image_layer is not None and len(shape) != 3:
        raise ValueError(f"{type(image_layer).__name__} takes examples of 3 axes (H, W, C); "
                         f"got input shape {shape}")
    return shape


def initial_weights(shape, fan_in: int, fan_out: int, init: str, rng) -> np.ndarray:
    """Random starting weights of ``shape``, ``(KH, KW, C_in, C_out)`` or ``(D_in, D_out)``,
    that keep the signal's scale steady from layer to layer: ``fan_in`` inputs feed one output
    (``KH*KW*C_in``), one input feeds ``fan_out`` outputs; ``rng`` is a Generator.

    ``init="he"`` (He et al., 2015): normal with variance ``2 / fan_in``, for layers followed
    by a ReLU, which zeroes half its inputs on average. ``"glorot"`` (Glorot and Bengio,
    2010): uniform on ``±sqrt(6 / (fan_in + fan_out))``, for a layer without ReLU.
    """
    if init == "he":
        return rng.normal(0.0, math.sqrt(2.0 / fan_in), size=shape)
    if init == "glorot":
        limit = math.sqrt(6.0 / (fan_in + fan_out))
        return rng.uniform(-limit, limit, size=shape)
    error = ValueError if isinstance(init, str) else TypeError
    raise error(f'init must be "he" or "glorot"; got {init!r}')


class Layer:
    """The interface every layer shares::

        out = layer.forward(x)       # keeps what backward needs in self._cache
        dx = layer.backward(dout)    # dout shaped like out; fills layer.grads
        layer.output_shape(shape)    # one example's output shape, computed without running
        layer.params                 # {name: array}, the arrays the optimiser updates in place
        layer.grads                  # {name: array}, same names and shapes, written by backward

    Arguments are checked when a layer is built: a bad ``stride`` fails at once, with the
    contract's message. Each forward replaces the cache (``None`` before the first), so one
    layer object may appear only once in a :class:`Sequential`. ``key``, a random name kept by
    copies and pickles, files the layer's velocities in :class:`SGD`.
    """

    def __init__(self):
        self.params: dict[str, np.ndarray] = {}
        self.grads: dict[str, np.ndarray] = {}
        self.key = uuid.uuid4().hex
        self._cache = None

    def _forward_cache(self):
        if self._cache is None:
            raise RuntimeError(f"{type(self).__name__}.backward was called before forward: "
                               f"call forward(x) first, then backward(dout) with dout shaped "
                               f"like forward's output")
        return self._cache

    def __repr__(self):
        return f"{type(self).__name__}()"


class _StyledLayer(Layer):
    """A layer that calls the functions of one ``style``, a name of :data:`pooling_lab.STYLES`
    (default ``"fast"``, the tuned engine), checked whenever it is set, with the keyword
    arguments of :meth:`_options` (its windows' ``stride`` and ``padding``). All styles compute
    the same numbers, so a trained network can switch style and keep its weights. The name, not
    the module, is kept, so the layer can be copied (``copy.deepcopy``) or pickled."""

    def __init__(self, style: str, stride, padding):
        super().__init__()
        self.style = style
        self.stride = stride
        self.padding = padding

    @property
    def style(self) -> str:
        return self._style_name

    @style.setter
    def style(self, style: str) -> None:
        self._style_name = check_style(style)    # checked now, not at the first forward

    def _options(self) -> dict:
        return {"stride": self.stride, "padding": self.padding}


class Conv2D(_StyledLayer):
    """2-D convolution with a learned bias: ``out = conv(x, w) + b``. ``params`` and ``grads``
    hold ``w : (KH, KW, C_in, C_out)`` and ``b : (C_out,)``, which starts at zero.

    Parameters
    ----------
    in_channels, out_channels : int, ``C_in`` of the input and ``C_out`` of the output
    kernel_size : int or (KH, KW)
    stride, padding : default 1 and "valid"; as in the contract (:mod:`pooling_lab.contract`)
    init : "he" (default, for a Conv2D followed by ReLU) or "glorot"
    """

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding="valid", *,
                 init="he", style=DEFAULT_STYLE, rng=0):
        super().__init__(style, stride, padding)
        self.in_channels = rules.positive_int(in_channels, "in_channels")
        self.out_channels = rules.positive_int(out_channels, "out_channels")
        self.kernel_size = rules.as_pair(kernel_size, "kernel_size")
        w_shape = (*self.kernel_size, self.in_channels, self.out_channels)
        rules.check_array_size(w_shape, "the weights w (KH, KW, C_in, C_out)",
                               f"kernel_size {self.kernel_size}, in_channels "
                               f"{self.in_channels} and out_channels {self.out_channels}")
        # An input one kernel large checks stride and padding now, with the contract's messages.
        conv_geometry((1, *w_shape[:3]), w_shape, stride, padding, 1)
        taps = self.kernel_size[0] * self.kernel_size[1]
        w = initial_weights(w_shape, taps * self.in_channels, taps * self.out_channels, init,
                            _as_generator(rng))
        self.params = {"w": w, "b": np.zeros(self.out_channels)}

    def _check_channels(self, shape: tuple, what: str) -> None:
        if shape[-1] != self.in_channels:
            raise ValueError(f"{what} must have in_channels = {self.in_channels} channels on "
                             f"its last axis (C); got {what} of shape {shape} with {shape[-1]}")

    def forward(self, x):
        """``x : (N, H, W, C_in) -> out : (N, OH, OW, C_out)``."""
        x = rules.as_float_array(x, "x", "N, H, W, C")
        self._check_channels(x.shape, "x")
        conv_forward, _ = op_functions(self.style, "conv")
        out, self._cache = conv_forward(x, self.params["w"], self.params["b"], **self._options())
        return out

    def backward(self, dout):
        """``dout : (N, OH, OW, C_out) -> dx : (N, H, W, C_in)``."""
        _, conv_backward = op_functions(self.style, "conv")
        dx, self.grads["w"], self.grads["b"] = conv_backward(dout, self._forward_cache())
        return dx

    def output_shape(self, input_shape):
        """``(H, W, C_in) -> (OH, OW, C_out)``."""
        input_shape = _example_shape(input_shape, self)
        self._check_channels(input_shape, "the input")
        geometry = conv_geometry((1, *input_shape), self.params["w"].shape, self.stride,
                                 self.padding, 1)
        return (*geometry.out_hw, self.out_channels)

    def __repr__(self):
        return (f"Conv2D({self.in_channels}, {self.out_channels}, {self.kernel_size}, "
                f"stride={self.stride!r}, padding={self.padding!r}, style={self.style!r})")


class _Pool2D(_StyledLayer):
    """What :class:`MaxPool2D` and :class:`AvgPool2D` share: the window arguments and the
    calls to the style's functions for ``op`` (``"max"`` or ``"avg"``)."""

    op: str

    def __init__(self, size=2, stride=None, padding="valid", *, style=DEFAULT_STYLE):
        super().__init__(style, stride, padding)
        self.size = rules.as_pair(size, "size")
        # An input one window large checks stride and padding (at most half the window) now.
        pool_geometry((1, *self.size, 1), self.size, stride, padding, 1)

    def forward(self, x):
        """``x : (N, H, W, C) -> out : (N, OH, OW, C)``."""
        pool_forward, _ = op_functions(self.style, self.op)
        out, self._cache = pool_forward(x, self.size, **self._options())
        return out

    def backward(self, dout):
        """``dout : (N, OH, OW, C) -> dx : (N, H, W, C)``."""
        _, pool_backward = op_functions(self.style, self.op)
        return pool_backward(dout, self._forward_cache())

    def output_shape(self, input_shape):
        """``(H, W, C) -> (OH, OW, C)``."""
        input_shape = _example_shape(input_shape, self)
        geometry = pool_geometry((1, *input_shape), self.size, self.stride, self.padding, 1)
        return (*geometry.out_hw, input_shape[2])

    def __repr__(self):
        return (f"{type(self).__name__}({self.size}, stride={self.stride!r}, "
                f"padding={self.padding!r}, style={self.style!r})")


class MaxPool2D(_Pool2D):
    """Max pool: the largest value of each window; backward sends the gradient to it.

    Parameters
    ----------
    size : int or (KH, KW), default 2
    stride : int, (SH, SW) or None (default: ``stride = size``)
    padding : as for :class:`Conv2D`, default "valid"; at most half the window on each side
    """

    op = "max"


class AvgPool2D(_Pool2D):
    """Average pool: the mean of each window; backward shares the gradient out evenly. The
    arguments are :class:`MaxPool2D`'s, and ``count_include_pad`` (default True): with
    padding, divide by ``KH*KW`` (True) or by the taps inside the image (False)."""

    op = "avg"

    def __init__(self, size=2, stride=None, padding="valid", count_include_pad=True, *,
                 style=DEFAULT_STYLE):
        if not isinstance(count_include_pad, (bool, np.bool_)):
            raise TypeError(f"count_include_pad must be True or False; got {count_include_pad!r}")
        super().__init__(size, stride, padding, style=style)
        self.count_include_pad = bool(count_include_pad)

    def _options(self) -> dict:
        return {**super()._options(), "count_include_pad": self.count_include_pad}


class ReLU(Layer):
    """``max(x, 0)``, element-wise, for an input of any shape."""

    def forward(self, x):
        x = rules.as_real_array(x, "x")
        self._cache = x > 0                      # where the gradient flows through
        return np.maximum(x, 0)

    def backward(self, dout):
        passes = self._forward_cache()
        return _check_dout_shape(dout, passes.shape, self) * passes

    def output_shape(self, input_shape):
        return _example_shape(input_shape)


class Flatten(Layer):
    """``(N, H, W, C) -> (N, H*W*C)``, the bridge from feature maps to a Dense layer."""

    def forward(self, x):
        array = rules.as_real_array(x, "x")
        if array.ndim < 2:
            raise ValueError(f"x must have a batch axis and at least one more, (N, ...); "
                             f"got shape {array.shape}")
        self._cache = array.shape
        # The feature count is spelled out: reshape(N, -1) cannot guess it when N = 0. A copy,
        # not a view: no layer returns memory that its caller may change in place.
        return array.reshape(array.shape[0], math.prod(array.shape[1:])).copy()

    def backward(self, dout):
        x_shape = self._forward_cache()
        checked = _check_dout_shape(dout, (x_shape[0], math.prod(x_shape[1:])), self)
        return checked.reshape(x_shape).copy()          # a copy, not a view of dout

    def output_shape(self, input_shape):
        """``(H, W, C) -> (H*W*C,)``."""
        return (math.prod(_example_shape(input_shape)),)


class Dense(Layer):
    """A fully connected layer: ``out = x @ w + b``. ``params`` and ``grads`` hold
    ``w : (D_in, D_out)`` and ``b : (D_out,)``, which starts at zero.

    Parameters
    ----------
    in_features, out_features : int, ``D_in`` and ``D_out``
    init : "glorot" (default, for a last layer that feeds the softmax) or "he"
    """

    def __init__(self, in_features, out_features, *, init="glorot", rng=0):
        super().__init__()
        self.in_features = rules.positive_int(in_features, "in_features")
        self.out_features = rules.positive_int(out_features, "out_features")
        shape = (self.in_features, self.out_features)
        rules.check_array_size(shape, "the weights w (D_in, D_out)", f"in_features "
                               f"{self.in_features} and out_features {self.out_features}")
        w = initial_weights(shape, self.in_features, self.out_features, init, _as_generator(rng))
        self.params = {"w": w, "b": np.zeros(self.out_features)}

    def forward(self, x):
        """``x : (N, D_in) -> out : (N, D_out)``."""
        array = rules.as_real_array(x, "x")
        if array.ndim != 2 or array.shape[1] != self.in_features:
            raise ValueError(f"x must have shape (N, in_features) = (N, {self.in_features}); "
                             f"got {array.shape} (put a Flatten before Dense to flatten images)")
        # A copy: x changed in place before backward leaves grads["w"] exact.
        self._cache = array.copy()
        return array @ self.params["w"] + self.params["b"]

    def backward(self, dout):
        """``dout : (N, D_out) -> dx : (N, D_in)``."""
        x = self._forward_cache()
        dout = _check_dout_shape(dout, (x.shape[0], self.out_features), self)
        self.grads["w"] = x.T @ dout                   # (D_in, N) @ (N, D_out)
        self.grads["b"] = dout.sum(axis=0)             # (N, D_out) -> (D_out,)
        return dout @ self.params["w"].T               # (N, D_out) @ (D_out, D_in)

    def output_shape(self, input_shape):
        """``(D_in,) -> (D_out,)``."""
        if _example_shape(input_shape) != (self.in_features,):
            raise ValueError(f"Dense takes examples of shape (in_features,) = "
                             f"({self.in_features},); got input shape {input_shape} "
                             f"(put a Flatten before Dense to flatten images)")
        return (self.out_features,)

    def __repr__(self):
        return f"Dense({self.in_features}, {self.out_features})"


def _check_classes(logits: np.ndarray) -> None:
    if logits.ndim == 0 or logits.shape[-1] == 0:
        raise ValueError(f"logits must hold at least one class on its last axis (K >= 1); "
                         f"got shape {logits.shape}")


def softmax(logits):
    """Class probabilities, ``(..., K) -> (..., K)``, each row summing to 1; ``K >= 1``."""
    logits = rules.as_real_array(logits, "logits")
    _check_classes(logits)
    # Subtracting each row's maximum changes nothing and keeps exp from overflowing.
    exps = np.exp(logits - logits.max(axis=-1, keepdims=True))
    return exps / exps.sum(axis=-1, keepdims=True)


def softmax_cross_entropy(logits, labels):
    """The mean cross-entropy of ``softmax(logits)`` against integer labels, and its gradient.

    ``logits : (N, K)``, K >= 1 and N >= 1 (the mean of no losses is not a number), and
    ``labels : (N,)``, ints in 0..K-1, give the float ``loss`` and ``dlogits : (N, K)``::

        loss = mean_n( -log softmax(logits)[n, labels[n]] )
        dlogits = (softmax(logits) - one_hot(labels)) / N
    """
    logits = rules.as_real_array(logits, "logits")
    if logits.ndim != 2:
        raise ValueError(f"logits must have 2 axes (N, K); got shape {logits.shape}")
    _check_classes(logits)
    if logits.shape[0] == 0:
        raise ValueError(f"logits must hold at least one example (N >= 1): the mean loss of "
                         f"an empty batch is not a number; got shape {logits.shape}")
    labels = check_labels(labels, logits.shape[0], "labels", classes=logits.shape[1])
    rows = np.arange(len(labels))
    shifted = logits - logits.max(axis=1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))   # (N, K)
    loss = -log_probs[rows, labels].mean()
    dlogits = np.exp(log_probs)
    dlogits[rows, labels] -= 1
    return float(loss), dlogits / len(labels)


def _layer_list(layers) -> list:
    """The ``layers`` argument of :class:`SGD` and :class:`Sequential`: an iterable of Layer."""
    if isinstance(layers, Layer) or not isinstance(layers, Iterable):
        raise TypeError(f"layers must be a list of Layer objects (e.g. net.layers); got "
                        f"{layers!r} of type {type(layers).__name__}")
    layers = list(layers)
    for index, layer in enumerate(layers):
        if not isinstance(layer, Layer):
            raise TypeError(f"layers must hold Layer objects; got {layer!r} at position {index}")
    return layers


class SGD:
    """Stochastic gradient descent with momentum: for every parameter ``p`` with gradient
    ``g`` and velocity ``v`` (zero at first)::

        v <- momentum * v - lr * g
        p <- p + v                  (in place: the layer sees the new value)

    ``lr``, the learning rate, is finite and > 0; ``momentum``, in [0, 1), is how much of the
    last step carries over (0 gives plain gradient descent). ``velocity`` maps
    ``(layer.key, name)`` to ``v``: keyed by :attr:`Layer.key`, it survives pickling the SGD
    and its network apart. A copy of a network keeps its keys: give it an SGD of its own.
    """

    def __init__(self, lr=0.05, momentum=0.9):
        self.lr = _real_number(lr, "lr", "a finite number > 0",
                               lambda number: 0 < number < math.inf)
        self.momentum = _real_number(momentum, "momentum", "a number in [0, 1)",
                                     lambda number: 0 <= number < 1)
        self.velocity: dict[tuple[str, str], np.ndarray] = {}

    def step(self, layers) -> None:
        """Move every parameter of ``layers`` (a list of Layer, usually a network's
        ``layers``, each after its ``backward``) one step against its gradient."""
        for layer in _layer_list(layers):
            for name, param in layer.params.items():
                if name not in layer.grads:
                    raise RuntimeError(f"{type(layer).__name__} has no gradient for {name!r}: "
                                       f"call backward before SGD.step")
                velocity = self.velocity.setdefault((layer.key, name), np.zeros_like(param))
                velocity *= self.momentum
                velocity -= self.lr * layer.grads[name]
                param += velocity


class Sequential:
    """``layers`` applied one after another, with a softmax cross-entropy loss on top. The
    last layer's output is the logits ``(N, K)``. Each layer object may appear only once (see
    :class:`Layer`; shared weights would also need their gradients summed).

    >>> net = Sequential([Flatten(), Dense(64, 10, rng=np.random.default_rng(0))])
    >>> net.forward(np.zeros((5, 8, 8, 1))).shape
    (5, 10)
    """

    def __init__(self, layers):
        self.layers = _layer_list(layers)
        if not self.layers:
            raise ValueError("layers must hold at least one Layer (the last one's output is "
                             "the logits); got none")
        for index, layer in enumerate(self.layers):
            first = self.layers.index(layer)     # by identity: a Layer has no __eq__ of its own
            if first != index:
                kind = type(layer).__name__
                raise ValueError(
                    f"layers must hold each layer object once; got the same {kind} object "
                    f"at positions {first} and {index}. Its second forward would overwrite "
                    f"the cache the first one's backward needs; create a separate {kind} for "
                    f"each position")

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
        check_style(style)
        for layer in self.layers:
            if isinstance(layer, _StyledLayer):
                layer.style = style

    def astype(self, dtype) -> "Sequential":
        """Cast every parameter to ``dtype``, in place, and return the network. float32 halves
        the bytes every matrix product moves, and trains about twice as fast; finite-difference
        gradient checks need float64 (the default). Call it before training: the optimiser's
        velocities take the dtype of the parameters they first see."""
        dtype = rules.float_dtype(dtype)
        for layer in self.layers:
            layer.params.update({name: param.astype(dtype) for name, param in layer.params.items()})
        return self

    def describe(self, input_shape) -> str:
        """A table with one line per layer: its output shape (one example's) and its number
        of parameters, for one example's ``input_shape``, e.g. ``(8, 8, 1)``. Shape arithmetic
        only (each layer's ``output_shape``): nothing runs, the caches are left as they were."""
        shape = _example_shape(input_shape)
        rows = [("layer", "output shape", "params"), ("input", shape, "")]
        for layer in self.layers:
            shape = layer.output_shape(shape)
            rows.append((repr(layer), shape, f"{sum(p.size for p in layer.params.values()):,}"))
        total = sum(param.size for layer in self.layers for param in layer.params.values())
        rows.append(("total", "", f"{total:,}"))
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
        """The fraction of ``x : (N, ...)``, finite, N >= 1, whose predicted class equals
        ``y : (N,)`` ints (:func:`check_labels`). Logits that are not finite (parameters that
        diverged) are a ``FloatingPointError``: an accuracy from NaN logits means nothing."""
        x = _as_batch(x, "x", "example to measure an accuracy")
        logits = self.forward(x)
        labels = check_labels(y, len(x), "y", classes=logits.shape[1])
        if not np.isfinite(logits).all():
            raise FloatingPointError(f"the logits of {(~np.isfinite(logits)).any(axis=1).sum()}"
                                     f" of {len(x)} examples are not finite: the parameters "
                                     f"diverged")
        return float(np.mean(logits.argmax(axis=1) == labels))

    def train_step(self, x, y, optimizer: SGD) -> float:
        """Forward, loss, backward and one optimiser step on one batch; returns the loss. A
        loss that is not finite (training diverged) is a ``FloatingPointError`` naming it and
        the learning rate, raised before backward: no step is taken on it."""
        if not isinstance(optimizer, SGD):
            raise TypeError(f"optimizer must be an SGD, e.g. SGD(lr=0.05); got {optimizer!r} of "
                            f"type {type(optimizer).__name__}")
        loss, dlogits = softmax_cross_entropy(self.forward(x), y)
        if not math.isfinite(loss):
            raise FloatingPointError(f"the loss is {loss}, not finite: training diverged; the "
                                     f"learning rate lr = {optimizer.lr} may be too large")
        self.backward(dlogits)
        optimizer.step(self.layers)
        return loss

    def fit(self, x, y, optimizer: SGD, *, epochs, batch_size=32, rng=0, x_test=None,
            y_test=None) -> dict:
        """Train for ``epochs`` passes over ``(x, y)`` in shuffled mini-batches.

        Parameters
        ----------
        x : (N, ...) array with N >= 1, y : (N,) int array
        epochs, batch_size : int
            The last batch of an epoch may be smaller.
        rng : numpy.random.Generator or int seed >= 0, default 0, shuffles anew each epoch
        x_test : (M, ...) array, y_test : (M,) int array, optional
            Given together, or not at all; the accuracy on them is measured after every epoch.

        Returns
        -------
        history : dict of lists, one entry per epoch
            ``"loss"`` (mean training loss over the epoch's batches), ``"test_accuracy"``
            (if test data was given) and ``"seconds"`` (wall time of the epoch's training).

        A batch whose loss is not finite stops training with :meth:`train_step`'s
        ``FloatingPointError`` (naming the epoch too), as ``optimizer``, not an SGD, does with
        its ``TypeError`` before any step.
        """
        x = _as_batch(x, "x", "training example")
        shape = x.shape[1:]                      # one example's, through every layer: shape
        try:                                     # arithmetic only, nothing runs yet
            for layer in self.layers:
                shape = layer.output_shape(shape)
        except ValueError as error:
            raise ValueError(f"x must hold examples the network takes; got shape {x.shape}: "
                             f"{error}") from None
        classes = shape[-1]
        y = check_labels(y, len(x), "y", classes)
        if (x_test is None) != (y_test is None):
            given, missing = ("x_test", "y_test") if y_test is None else ("y_test", "x_test")
            raise ValueError(f"x_test and y_test go together: got {given} but {missing} is "
                             f"None (pass both to measure the test accuracy, or neither)")
        if x_test is not None:
            x_test = _as_batch(x_test, "x_test")
            if x_test.shape[1:] != x.shape[1:]:
                raise ValueError(f"x_test must hold examples shaped like x's, {x.shape[1:]}; "
                                 f"got {x_test.shape[1:]}")
            check_labels(y_test, len(x_test), "y_test", classes)
        epochs = rules.positive_int(epochs, "epochs")
        batch_size = rules.positive_int(batch_size, "batch_size")
        rng = _as_generator(rng)
        history = {"loss": [], "seconds": []}
        if x_test is not None:
            history["test_accuracy"] = []
        for epoch in range(1, epochs + 1):
            start = time.perf_counter()
            order = rng.permutation(len(x))
            total = 0.0
            try:
                for first in range(0, len(x), batch_size):
                    batch = order[first:first + batch_size]
                    total += self.train_step(x[batch], y[batch], optimizer) * len(batch)
                history["seconds"].append(time.perf_counter() - start)
                history["loss"].append(total / len(x))
                if x_test is not None:
                    history["test_accuracy"].append(self.accuracy(x_test, y_test))
            except FloatingPointError as error:
                raise FloatingPointError(f"fit stopped in epoch {epoch} of {epochs}: "
                                         f"{error}") from None
        return history


def confusion_matrix(labels, predictions, classes: int) -> np.ndarray:
    """How often each true class was predicted as each class, from ``labels`` and
    ``predictions``, ``(N,)`` ints in ``0..classes-1``: ``counts : (classes, classes)``, where
    ``counts[t, p]`` examples of class ``t`` were predicted as ``p`` (the diagonal is right)."""
    classes = rules.positive_int(classes, "classes")
    labels = check_labels(labels, None, "labels", classes)
    predictions = check_labels(predictions, len(labels), "predictions", classes)
    # Pair (t, p) gets the number t*classes + p; counting those numbers fills the matrix.
    pairs = labels.astype(np.int64) * classes + predictions.astype(np.int64)
    return np.bincount(pairs, minlength=classes * classes).reshape(classes, classes)
