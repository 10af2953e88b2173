"""The layers, the loss, the optimiser and a small network on the digits (float64).

Every backward is checked against central finite differences; the four styles must give the
same numbers inside a network; a short seeded training run must clearly beat chance; bad input
must raise an error that names the argument. At the end, the figures of notebook 07.
"""

import copy
import math
import pickle
import re

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

import pooling_lab  # noqa: E402
from pooling_lab import digits, viz  # noqa: E402
from pooling_lab.classroom.gradcheck import numerical_gradient  # noqa: E402
from pooling_lab.layers import (SGD, AvgPool2D, Conv2D, Dense, Flatten, MaxPool2D,  # noqa: E402
                                ReLU, Sequential, confusion_matrix, softmax,
                                softmax_cross_entropy)

STYLE_NAMES = list(pooling_lab.STYLES)


def distinct_values(rng, shape):
    """Values at least 0.01 apart, in random order and centred on zero: no ties in any window,
    and none within the finite-difference step (1e-6) of ReLU's kink, so every layer is
    differentiable there."""
    count = math.prod(shape)
    return (rng.permutation(count).reshape(shape) - count / 2 + 0.5) * 0.01


def small_lenet(rng, pool=MaxPool2D, style="strided", channels=(2, 3)):
    """conv -> ReLU -> pool -> conv -> ReLU -> pool -> dense, (N, 8, 8, 1) -> (N, 10).

    With its 2 and 3 channels it is small enough for finite differences on every parameter.
    """
    first, second = channels
    return Sequential([
        Conv2D(1, first, 5, padding="same", style=style, rng=rng), ReLU(), pool(2, style=style),
        Conv2D(first, second, 3, padding="same", style=style, rng=rng), ReLU(),
        pool(2, style=style), Flatten(), Dense(2 * 2 * second, 10, rng=rng),
    ])


# --------------------------------------------------------------------------------------------
# Each layer's backward against finite differences
# --------------------------------------------------------------------------------------------

def check_layer_gradients(layer, x, rtol=1e-6, atol=1e-8):
    """``backward`` gives the gradient of ``sum(forward(x) * dout)`` for x and every param."""
    rng = np.random.default_rng(5)
    dout = rng.standard_normal(layer.forward(x).shape)
    dx = layer.backward(dout)

    def loss():
        return float(np.sum(layer.forward(x) * dout))

    np.testing.assert_allclose(dx, numerical_gradient(loss, x), rtol=rtol, atol=atol)
    for name, param in layer.params.items():
        np.testing.assert_allclose(layer.grads[name], numerical_gradient(loss, param),
                                   rtol=rtol, atol=atol, err_msg=name)


@pytest.mark.parametrize("style", STYLE_NAMES)
@pytest.mark.parametrize("kwargs", [{"kernel_size": 3, "padding": "same"},
                                    {"kernel_size": (2, 3), "stride": 2}], ids=str)
def test_conv2d_backward_matches_finite_differences(style, kwargs):
    rng = np.random.default_rng(0)
    layer = Conv2D(2, 3, style=style, rng=rng, **kwargs)
    layer.params["b"] = rng.standard_normal(3)           # a non-zero bias, to be sure
    check_layer_gradients(layer, rng.standard_normal((2, 5, 6, 2)))
    assert set(layer.grads) == {"w", "b"}


@pytest.mark.parametrize("style", STYLE_NAMES)
@pytest.mark.parametrize("layer_class", [MaxPool2D, AvgPool2D])
def test_pool_backward_matches_finite_differences(style, layer_class):
    rng = np.random.default_rng(1)
    layer = layer_class(3, stride=2, padding=1, style=style)
    check_layer_gradients(layer, distinct_values(rng, (2, 6, 7, 2)))
    assert layer.params == {} and layer.grads == {}


@pytest.mark.parametrize("layer", [ReLU(), Flatten(), Dense(12, 4, rng=3)], ids=repr)
def test_relu_flatten_dense_backward_match_finite_differences(layer):
    rng = np.random.default_rng(2)
    shape = (3, 12) if isinstance(layer, Dense) else (3, 2, 3, 2)
    if isinstance(layer, Dense):
        layer.params["b"] = rng.standard_normal(4)
    check_layer_gradients(layer, distinct_values(rng, shape))


def test_relu_and_flatten_by_hand():
    x = np.array([[-2.0, 0.0, 3.0]])
    relu = ReLU()
    np.testing.assert_array_equal(relu.forward(x), [[0.0, 0.0, 3.0]])
    np.testing.assert_array_equal(relu.backward(np.array([[5.0, 6.0, 7.0]])), [[0.0, 0.0, 7.0]])
    # Shapes alone would pass a flatten in another order (channels first, say): check values.
    flatten = Flatten()
    maps = np.arange(4 * 2 * 3 * 5.0).reshape(4, 2, 3, 5)
    np.testing.assert_array_equal(flatten.forward(maps), np.arange(120.0).reshape(4, 30))
    np.testing.assert_array_equal(flatten.backward(np.arange(120.0).reshape(4, 30)), maps)


def test_softmax_cross_entropy_value_and_gradient():
    rng = np.random.default_rng(3)
    # Equal logits: every class has probability 1/K, so the loss is log K.
    loss, _ = softmax_cross_entropy(np.zeros((4, 10)), np.array([0, 3, 9, 9]))
    assert loss == pytest.approx(math.log(10))
    logits = rng.standard_normal((5, 4)) * 3
    labels = np.array([0, 1, 3, 3, 2])
    loss, dlogits = softmax_cross_entropy(logits, labels)
    by_hand = -np.mean([math.log(softmax(logits)[n, label]) for n, label in enumerate(labels)])
    assert loss == pytest.approx(by_hand, rel=1e-12)
    numeric = numerical_gradient(lambda: softmax_cross_entropy(logits, labels)[0], logits)
    np.testing.assert_allclose(dlogits, numeric, rtol=1e-6, atol=1e-9)
    # Huge logits must not overflow.
    loss, _ = softmax_cross_entropy(np.array([[1000.0, 0.0]]), np.array([1]))
    assert loss == pytest.approx(1000.0)


# --------------------------------------------------------------------------------------------
# A whole network
# --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("pool", [MaxPool2D, AvgPool2D])
def test_network_parameter_gradients_match_finite_differences(pool):
    data = digits.load()
    x, y = data.x_train[:3], data.y_train[:3]
    net = small_lenet(np.random.default_rng(4), pool=pool)
    for layer in net.layers:                 # non-zero biases: every parameter gets checked
        if "b" in layer.params:
            layer.params["b"] += np.random.default_rng(6).normal(0, 0.1, layer.params["b"].shape)
    _, dlogits = softmax_cross_entropy(net.forward(x), y)
    net.backward(dlogits)
    checked = 0
    for layer in net.layers:
        for name, param in layer.params.items():
            numeric = numerical_gradient(lambda: net.loss(x, y), param)
            np.testing.assert_allclose(layer.grads[name], numeric, rtol=1e-5, atol=1e-8,
                                       err_msg=f"{layer!r} {name}")
            checked += param.size
    assert checked == 5 * 5 * 1 * 2 + 2 + 3 * 3 * 2 * 3 + 3 + 12 * 10 + 10


@pytest.mark.parametrize("pool", [MaxPool2D, AvgPool2D])
def test_styles_give_the_same_network_outputs_and_gradients(pool):
    x = digits.load().x_train[:16]
    dlogits = np.random.default_rng(7).standard_normal((16, 10))
    results = {}
    for style in STYLE_NAMES:
        net = small_lenet(np.random.default_rng(8), pool=pool, style=style)
        logits = net.forward(x)
        dx = net.backward(dlogits)
        grads = [grad for layer in net.layers for grad in layer.grads.values()]
        results[style] = [logits, dx, *grads]
    for style in STYLE_NAMES[1:]:
        for ours, reference in zip(results[style], results["naive"]):
            np.testing.assert_allclose(ours, reference, rtol=1e-10, atol=1e-12)


def test_set_style_keeps_the_weights_and_the_outputs():
    x = digits.load().x_test[:8]
    net = small_lenet(np.random.default_rng(9))
    before = net.forward(x)
    net.set_style("naive")
    assert [layer.style for layer in net.layers if hasattr(layer, "style")] == ["naive"] * 4
    np.testing.assert_allclose(net.forward(x), before, rtol=1e-12, atol=1e-12)


def test_short_training_run_clearly_beats_chance():
    # Ten classes, 359 test digits in near-equal shares: a network that ignores the images
    # is right on about 10 % of them. The threshold, 80 %, is 288 of 359 correct; guessing
    # at random gets that many with probability below 1e-170 (binomial tail, p = 0.1), so
    # the test cannot pass by luck. Two epochs take about half a second.
    data = digits.load()
    rng = np.random.default_rng(0)
    net = small_lenet(rng, channels=(8, 16))
    history = net.fit(data.x_train, data.y_train, SGD(lr=0.05, momentum=0.9), epochs=2,
                      batch_size=32, rng=rng, x_test=data.x_test, y_test=data.y_test)
    accuracy = net.accuracy(data.x_test, data.y_test)
    assert accuracy >= 0.80
    assert history["test_accuracy"][-1] == accuracy
    assert history["loss"][-1] < history["loss"][0] < math.log(10)


def test_binomial_tail_quoted_above():
    needed, n = math.ceil(0.80 * 359), 359
    tail = sum(math.comb(n, k) * 0.1**k * 0.9**(n - k) for k in range(needed, n + 1))
    assert needed == 288 and tail < 1e-170


def test_seeded_runs_are_identical_and_seeds_matter():
    data = digits.load()
    x, y = data.x_train[:200], data.y_train[:200]

    def train(seed):
        rng = np.random.default_rng(seed)
        net = small_lenet(rng)
        net.fit(x, y, SGD(lr=0.05), epochs=1, batch_size=50, rng=rng)
        return np.concatenate([p.ravel() for layer in net.layers for p in layer.params.values()])

    np.testing.assert_array_equal(train(0), train(0))
    assert not np.allclose(train(0), train(1))


def test_float32_networks_copies_and_the_summary_table():
    net = small_lenet(np.random.default_rng(11)).astype(np.float32)
    x = digits.load(np.float32).x_test[:4]
    assert all(value.dtype == np.float32 for layer in net.layers
               for value in layer.params.values())
    assert net.forward(x).dtype == np.float32
    twin = copy.deepcopy(net)
    twin.set_style("naive")
    twin.layers[0].params["w"][...] = 0
    assert net.layers[0].style == "strided" and np.abs(net.layers[0].params["w"]).max() > 0
    table = net.describe((8, 8, 1)).splitlines()
    assert len(table) == 2 + len(net.layers) + 1
    assert table[2].startswith("Conv2D(1, 2, (5, 5), stride=1, padding='same', style='strided')")
    assert table[2].endswith("(8, 8, 2)      52")
    assert table[-1].split() == ["total", f"{52 + 57 + 130}"]
    with pytest.raises(ValueError, match=r"dtype must be numpy.float32 or numpy.float64; "
                                         r"got <class 'numpy.int32'>"):
        net.astype(np.int32)
    with pytest.raises(TypeError, match=r"dtype must be .*; got None, which is not a dtype"):
        net.astype(None)


def test_describe_leaves_the_caches_of_the_last_forward_alone():
    # describe used to run a batch of one through every layer, so a backward after it saw
    # the wrong caches.
    rng = np.random.default_rng(14)
    x = rng.standard_normal((3, 8, 8, 1))
    dlogits = rng.standard_normal((3, 10))
    net, twin = small_lenet(np.random.default_rng(15)), small_lenet(np.random.default_rng(15))
    net.forward(x)
    twin.forward(x)
    net.describe((8, 8, 1))
    np.testing.assert_array_equal(net.backward(dlogits), twin.backward(dlogits))
    for layer, reference in zip(net.layers, twin.layers):
        for name, grad in layer.grads.items():
            np.testing.assert_array_equal(grad, reference.grads[name])


@pytest.mark.parametrize("layers,input_shape", [
    ([Conv2D(3, 4, (3, 2), stride=(2, 1), padding=((0, 2), (1, 0)), rng=0), ReLU(),
      MaxPool2D(3, stride=2, padding=1), AvgPool2D((2, 1), padding="same",
                                                   count_include_pad=False),
      Flatten()], (11, 9, 3)),
    ([AvgPool2D(2, stride=1), Conv2D(2, 5, 1, padding="same", rng=0), Flatten(),
      Dense(5 * 4 * 6, 3, rng=0)], (5, 7, 2)),
], ids=["conv-pools", "dense"])
def test_output_shape_arithmetic_matches_forward(layers, input_shape):
    x = np.zeros((2, *input_shape))
    shape = input_shape
    for layer in layers:
        shape = layer.output_shape(shape)
        x = layer.forward(x)
        assert x.shape == (2, *shape), repr(layer)


def test_output_shape_and_describe_refuse_what_forward_refuses():
    with pytest.raises(ValueError, match=r"the input must have in_channels = 1 channels"):
        Conv2D(1, 2, 3).output_shape((8, 8, 3))
    with pytest.raises(ValueError, match=r"MaxPool2D takes examples of 3 axes \(H, W, C\); "
                                         r"got input shape \(64,\)"):
        MaxPool2D().output_shape((64,))
    with pytest.raises(ValueError, match=r"Dense takes examples of shape \(in_features,\) = "
                                         r"\(4,\); got input shape \(2, 2, 1\)"):
        Dense(4, 2).output_shape((2, 2, 1))
    with pytest.raises(ValueError, match=r"size \(2, 2\) .* larger than the padded input"):
        Sequential([MaxPool2D(), MaxPool2D()]).describe((2, 2, 1))
    with pytest.raises(TypeError, match=r"input_shape must be one example's shape"):
        Sequential([ReLU()]).describe(8)
    with pytest.raises(ValueError, match=r"input_shape must be a tuple of positive ints"):
        Sequential([ReLU()]).describe((8, 0, 1))


def test_pool_layers_share_one_base():
    from pooling_lab.layers import _Pool2D
    assert MaxPool2D.__bases__ == AvgPool2D.__bases__ == (_Pool2D,)
    for layer_class in (MaxPool2D, AvgPool2D):      # the work is written once, in the base
        for method in ("forward", "backward", "output_shape", "__repr__"):
            assert method not in vars(layer_class)
    assert (MaxPool2D.op, AvgPool2D.op) == ("max", "avg")


def test_layers_default_to_fast_and_accept_every_style():
    assert [layer.style for layer in (Conv2D(1, 2, 3), MaxPool2D(), AvgPool2D())] == ["fast"] * 3
    rng = np.random.default_rng(16)
    x = distinct_values(rng, (2, 6, 6, 2))
    pool_kwargs = {"stride": 2, "padding": 1}
    for style in pooling_lab.STYLES:
        for layer_class, op, extra in [(MaxPool2D, "max", {}),
                                       (AvgPool2D, "avg", {"count_include_pad": False})]:
            layer = layer_class(3, **pool_kwargs, **extra, style=style)
            forward, backward = pooling_lab.op_functions(style, op)
            expected, cache = forward(x, 3, **pool_kwargs, **extra)
            np.testing.assert_array_equal(layer.forward(x), expected, err_msg=f"{style} {op}")
            dout = rng.standard_normal(expected.shape)
            np.testing.assert_array_equal(layer.backward(dout), backward(dout, cache),
                                          err_msg=f"{style} {op}")
        conv = Conv2D(2, 3, 3, padding="same", style=style, rng=0)
        forward, backward = pooling_lab.op_functions(style, "conv")
        expected, cache = forward(x, conv.params["w"], conv.params["b"], padding="same")
        np.testing.assert_array_equal(conv.forward(x), expected, err_msg=f"{style} conv")
        dout = rng.standard_normal(expected.shape)
        dx, dw, db = backward(dout, cache)
        np.testing.assert_array_equal(conv.backward(dout), dx, err_msg=f"{style} conv")
        np.testing.assert_array_equal(conv.grads["w"], dw, err_msg=f"{style} conv")
        np.testing.assert_array_equal(conv.grads["b"], db, err_msg=f"{style} conv")


def test_confusion_matrix_by_hand():
    counts = confusion_matrix(np.array([0, 1, 1, 2, 2]), np.array([0, 2, 1, 2, 2]), classes=3)
    np.testing.assert_array_equal(counts, [[1, 0, 0], [0, 1, 1], [0, 0, 2]])
    with pytest.raises(ValueError, match=r"predictions must lie in 0..2 .*got values from 0 to 3"):
        confusion_matrix(np.array([0, 1]), np.array([0, 3]), classes=3)
    with pytest.raises(ValueError, match=r"predictions must be an int array of shape "
                                         r"\(N,\) = \(2,\).* got shape \(3,\)"):
        confusion_matrix(np.array([0, 1]), np.array([0, 1, 1]), classes=3)
    with pytest.raises(TypeError, match=r"labels must be an int array .*; got None"):
        confusion_matrix(None, np.array([0, 1]), classes=3)


def test_predictions_and_accuracy():
    net = Sequential([Dense(3, 3, rng=0)])
    net.layers[0].params["w"] = np.eye(3)
    x = np.array([[3.0, 1, 0], [0, 0, 2], [0, 5, 1], [1, 0, 0]])
    np.testing.assert_array_equal(net.predict(x), [0, 2, 1, 0])
    assert net.accuracy(x, [0, 2, 2, 2]) == 0.5
    np.testing.assert_allclose(net.predict_proba(x), softmax(x), rtol=1e-15)   # logits = x
    np.testing.assert_allclose(net.predict_proba(x).sum(axis=1), 1.0)


# --------------------------------------------------------------------------------------------
# Initialisation and the optimiser
# --------------------------------------------------------------------------------------------

def test_he_and_glorot_initialisation_scales():
    conv = Conv2D(64, 64, 3, rng=0)                       # He: std sqrt(2 / (3*3*64))
    assert conv.params["w"].shape == (3, 3, 64, 64)
    assert conv.params["w"].std() == pytest.approx(math.sqrt(2 / 576), rel=0.02)
    np.testing.assert_array_equal(conv.params["b"], np.zeros(64))
    dense = Dense(300, 100, rng=0)                        # Glorot: uniform on +-sqrt(6 / 400)
    limit = math.sqrt(6 / 400)
    assert np.abs(dense.params["w"]).max() <= limit
    assert dense.params["w"].std() == pytest.approx(limit / math.sqrt(3), rel=0.02)
    np.testing.assert_array_equal(Dense(5, 2, rng=7).params["w"], Dense(5, 2, rng=7).params["w"])


def test_sgd_with_momentum_by_hand():
    layer = Dense(1, 1, rng=0)
    layer.params["w"][...] = 1.0
    layer.grads = {"w": np.array([[2.0]]), "b": np.array([0.0])}
    sgd = SGD(lr=0.1, momentum=0.9)
    sgd.step([layer])                          # v = -0.1 * 2 = -0.2,             w = 0.8
    assert layer.params["w"][0, 0] == pytest.approx(0.8)
    sgd.step([layer])                          # v = 0.9 * -0.2 - 0.2 = -0.38,    w = 0.42
    assert layer.params["w"][0, 0] == pytest.approx(0.42)


def test_forward_and_backward_do_not_modify_their_inputs():
    rng = np.random.default_rng(10)
    x = rng.standard_normal((2, 8, 8, 1))
    kept = x.copy()
    net = small_lenet(rng)
    dlogits = rng.standard_normal((2, 10))
    dlogits_kept = dlogits.copy()
    net.forward(x)
    net.backward(dlogits)
    np.testing.assert_array_equal(x, kept)
    np.testing.assert_array_equal(dlogits, dlogits_kept)


# --------------------------------------------------------------------------------------------
# Clear errors
# --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("layer", [Conv2D(1, 2, 3), MaxPool2D(), AvgPool2D(), ReLU(),
                                   Flatten(), Dense(4, 2)], ids=repr)
def test_backward_before_forward_is_a_clear_error(layer):
    with pytest.raises(RuntimeError, match=r"backward was called before forward"):
        layer.backward(np.zeros((1, 2)))


@pytest.mark.parametrize("layer,x,error,message", [
    (Conv2D(1, 2, 3), np.zeros((8, 8, 1)), ValueError,
     r"x must have 4 axes \(N, H, W, C\); got shape \(8, 8, 1\)"),
    (Conv2D(1, 2, 3), np.zeros((2, 8, 8, 3)), ValueError,
     r"x must have in_channels = 1 channels .* got x of shape \(2, 8, 8, 3\) with 3"),
    (MaxPool2D(), np.zeros((8, 8)), ValueError, r"x must have 4 axes"),
    (AvgPool2D(), np.zeros((2, 1, 1, 1)), ValueError,
     r"size \(2, 2\) .* larger than the padded input"),
    (Dense(4, 2), np.zeros((3, 5)), ValueError,
     r"x must have shape \(N, in_features\) = \(N, 4\); got \(3, 5\)"),
    (Dense(4, 2), np.zeros((3, 2, 2)), ValueError,
     r"x must have shape .* got \(3, 2, 2\) .*Flatten"),
    (Flatten(), np.zeros(5), ValueError, r"x must have a batch axis .* got shape \(5,\)"),
    (ReLU(), np.array(["a"]), TypeError, r"x must hold real numbers; got dtype <U1"),
], ids=["conv-3-axes", "conv-channels", "pool-2-axes", "pool-too-small", "dense-features",
        "dense-images", "flatten-1-axis", "relu-strings"])
def test_bad_forward_input_is_a_clear_error(layer, x, error, message):
    with pytest.raises(error, match=message):      # the contract's type: ValueError for values
        layer.forward(x)


@pytest.mark.parametrize("layer,x", [(Conv2D(1, 2, 3), np.zeros((2, 5, 5, 1))),
                                     (MaxPool2D(), np.zeros((2, 4, 4, 1))),
                                     (ReLU(), np.zeros((2, 3))), (Flatten(), np.zeros((2, 3, 1))),
                                     (Dense(3, 2), np.zeros((2, 3)))], ids=repr)
def test_dout_of_the_wrong_shape_is_a_clear_error(layer, x):
    out = layer.forward(x)
    with pytest.raises(ValueError, match=r"dout must have the .*shape"):
        layer.backward(np.zeros((out.shape[0] + 1, *out.shape[1:])))


@pytest.mark.parametrize("make,error,message", [
    (lambda: Conv2D(1, 2, 3, style="loops"), ValueError,
     r"style must be one of 'naive', 'stacked', 'strided', 'fast'; got 'loops'"),
    (lambda: MaxPool2D(style=None), TypeError, r"style must be one of .*; got None"),
    (lambda: Conv2D(0, 2, 3), ValueError, r"in_channels must be a positive integer.*; got 0"),
    (lambda: Conv2D(1, 2.5, 3), TypeError, r"out_channels must be a positive integer; got 2.5"),
    (lambda: Conv2D(1, 2, 0), ValueError, r"kernel_size must be .*; got 0"),
    (lambda: MaxPool2D(size=(2, 2, 2)), ValueError, r"size must be .*got \(2, 2, 2\) with 3"),
    (lambda: Dense(4, 2, init="xavier"), ValueError,
     r'init must be "he" or "glorot"; got \'xavier\''),
    (lambda: Dense(4, 2, rng="seed"), TypeError, r"rng must be .*; got 'seed'"),
    (lambda: SGD(lr=0), ValueError, r"lr must be a finite number > 0; got 0"),
    (lambda: SGD(momentum=1), ValueError, r"momentum must be a number in \[0, 1\); got 1"),
    (lambda: Sequential([ReLU(), "dense"]), TypeError,
     r"layers must hold Layer objects; got 'dense' at position 1"),
    # Issue 10 item 6: refused when the layer is built, not at the first forward (or never).
    (lambda: Conv2D(3, 4, 3, stride=0), ValueError, r"stride must be .*; got 0"),
    (lambda: Conv2D(3, 4, 3, stride="2"), TypeError, r"stride must be .*; got '2'"),
    (lambda: Conv2D(3, 4, 3, padding=-1), ValueError, r"padding must .*; got -1"),
    (lambda: Conv2D(3, 4, 3, padding="full"), ValueError, r"padding must be .*'full'"),
    (lambda: MaxPool2D(2, padding=5), ValueError,
     r"padding \(\(5, 5\), \(5, 5\)\) is too large for pooling: at most half the window"),
    (lambda: AvgPool2D(3, padding=(1, 2)), ValueError, r"too large for pooling"),
    (lambda: MaxPool2D(2, stride=0), ValueError, r"stride must be .*; got 0"),
    (lambda: AvgPool2D(2, count_include_pad="yes"), TypeError,
     r"count_include_pad must be True or False; got 'yes'"),
    (lambda: SGD(lr=True), TypeError, r"lr must be a finite number > 0; got True"),
    (lambda: SGD(lr="0.1"), TypeError, r"lr must be a finite number > 0; got '0.1'"),
    (lambda: SGD(lr=float("inf")), ValueError, r"lr must be a finite number > 0; got inf"),
    (lambda: SGD(lr=float("nan")), ValueError, r"lr must be a finite number > 0; got nan"),
    (lambda: SGD(momentum=-0.1), ValueError, r"momentum must be a number in \[0, 1\); got -0.1"),
    (lambda: SGD(momentum=float("nan")), ValueError, r"momentum .*; got nan"),
    (lambda: SGD(momentum=None), TypeError, r"momentum .*; got None"),
    # Issue 10 item 8: a negative seed names rng (NumPy's own message does not).
    (lambda: Dense(4, 2, rng=-1), ValueError, r"rng must be .* int seed >= 0; got -1"),
    (lambda: Conv2D(1, 2, 3, rng=-7), ValueError, r"rng must be .* int seed >= 0; got -7"),
], ids=["style", "style-none", "in_channels", "out_channels", "kernel_size", "size", "init",
        "rng", "lr", "momentum", "sequential", "conv-stride-0", "conv-stride-str",
        "conv-padding-negative", "conv-padding-unknown", "maxpool-padding-5",
        "avgpool-padding-pair", "pool-stride-0", "count_include_pad-yes", "lr-true", "lr-str",
        "lr-inf", "lr-nan", "momentum-negative", "momentum-nan", "momentum-none",
        "dense-rng-negative", "conv-rng-negative"])
def test_bad_layer_arguments_are_clear_errors(make, error, message):
    with pytest.raises(error, match=message):
        make()


def test_set_style_rejects_an_unknown_style():
    with pytest.raises(ValueError, match=r"style must be one of .*; got 'loops'"):
        small_lenet(np.random.default_rng(0)).set_style("loops")


@pytest.mark.parametrize("logits,labels,error,message", [
    (np.zeros((2, 3)), np.array([0, 3]), ValueError,
     r"labels must lie in 0..2 .* got values from 0 to 3"),
    (np.zeros((2, 3)), np.array([0.0, 1.0]), TypeError,
     r"labels must be an int array of shape \(N,\) = \(2,\).* got dtype float64"),
    (np.zeros((2, 3)), np.array([0, 1, 2]), ValueError,
     r"labels must be an int array of shape \(N,\) = \(2,\).* got shape \(3,\)"),
    (np.zeros(3), np.array([0]), ValueError,
     r"logits must have 2 axes \(N, K\); got shape \(3,\)"),
])
def test_bad_loss_input_is_a_clear_error(logits, labels, error, message):
    with pytest.raises(error, match=message):
        softmax_cross_entropy(logits, labels)


def test_fit_rejects_mismatched_data_and_bad_epochs():
    net = Sequential([Flatten(), Dense(64, 10)])
    x = np.zeros((5, 8, 8, 1))
    with pytest.raises(ValueError, match=r"y must be an int array of shape \(N,\) = \(5,\)"
                                         r".* got shape \(4,\)"):
        net.fit(x, np.zeros(4, dtype=int), SGD(), epochs=1)
    with pytest.raises(ValueError, match=r"epochs must be a positive integer.*; got 0"):
        net.fit(x, np.zeros(5, dtype=int), SGD(), epochs=0)


def test_same_layer_object_twice_is_refused_when_the_network_is_built():
    # One Conv2D used twice gave a weight gradient with relative error about 1: its second
    # forward overwrote the cache its first backward needs.
    conv = Conv2D(1, 1, 3, padding="same", rng=0)
    with pytest.raises(ValueError, match=r"layers must hold each layer object once; got the "
                                         r"same Conv2D object at positions 0 and 2"):
        Sequential([conv, ReLU(), conv, Flatten(), Dense(64, 10)])
    relu = ReLU()                                    # no weights, but a cache all the same
    with pytest.raises(ValueError, match=r"same ReLU object at positions 1 and 3"):
        Sequential([Conv2D(1, 2, 3), relu, Conv2D(2, 2, 3), relu])
    # Two separate layers of the same kind are fine.
    assert len(Sequential([ReLU(), ReLU()]).layers) == 2


@pytest.mark.parametrize("y,error,message", [
    (np.arange(4).reshape(4, 1), ValueError,
     r"y must be an int array of shape \(N,\) = \(4,\).* got shape \(4, 1\) "
     r"\(for a column of labels pass y.ravel\(\)\)"),
    (None, TypeError, r"y must be an int array .*; got None"),
    (np.array([0, 1, 2]), ValueError, r"y must be .*\(4,\).* got shape \(3,\)"),
    (np.array([0.0, 1.0, 2.0, 0.0]), TypeError, r"y must be an int array .* got dtype float64"),
    (np.array([0, 1, 2, 3]), ValueError, r"y must lie in 0..2 .* got values from 0 to 3"),
], ids=["column", "none", "length", "floats", "range"])
def test_accuracy_refuses_labels_that_would_broadcast_or_mean_nothing(y, error, message):
    net = Sequential([Dense(3, 3, rng=0)])
    x = np.eye(4, 3)
    with pytest.raises(error, match=message):
        net.accuracy(x, y)


def test_accuracy_of_an_empty_batch_is_a_clear_error():
    with pytest.raises(ValueError, match=r"x must hold at least one example .* \(0, 3\)"):
        Sequential([Dense(3, 3, rng=0)]).accuracy(np.zeros((0, 3)), np.zeros(0, dtype=int))


def test_fit_takes_x_test_and_y_test_together_and_checks_them_before_training():
    net = Sequential([Flatten(), Dense(4, 2, rng=0)])
    x, y = np.zeros((6, 2, 2, 1)), np.array([0, 1, 0, 1, 0, 1])
    w_before = net.layers[1].params["w"].copy()
    with pytest.raises(ValueError, match=r"x_test and y_test go together: got x_test but "
                                         r"y_test is None"):
        net.fit(x, y, SGD(), epochs=1, x_test=x)
    with pytest.raises(ValueError, match=r"got y_test but x_test is None"):
        net.fit(x, y, SGD(), epochs=1, y_test=y)
    with pytest.raises(ValueError, match=r"y_test must be .* got shape \(6, 1\)"):
        net.fit(x, y, SGD(), epochs=1, x_test=x, y_test=y[:, None])
    np.testing.assert_array_equal(net.layers[1].params["w"], w_before)   # nothing trained


def test_flatten_and_a_network_on_an_empty_batch():
    flatten = Flatten()
    out = flatten.forward(np.zeros((0, 2, 3, 4)))
    assert out.shape == (0, 24)
    assert flatten.backward(np.zeros((0, 24))).shape == (0, 2, 3, 4)
    for style in STYLE_NAMES:
        net = small_lenet(np.random.default_rng(0), style=style)
        assert net.forward(np.zeros((0, 8, 8, 1))).shape == (0, 10)
        assert net.backward(np.zeros((0, 10))).shape == (0, 8, 8, 1)


def test_fit_on_an_empty_training_set_is_a_clear_error():
    net = Sequential([Flatten(), Dense(4, 2, rng=0)])
    with pytest.raises(ValueError, match=r"x must hold at least one training example; got "
                                         r"shape \(0, 2, 2, 1\)"):
        net.fit(np.zeros((0, 2, 2, 1)), np.zeros(0, dtype=int), SGD(), epochs=1)


def test_fit_with_a_negative_seed_names_rng():
    net = Sequential([Flatten(), Dense(4, 2, rng=0)])
    with pytest.raises(ValueError, match=r"rng must be .* int seed >= 0; got -1"):
        net.fit(np.zeros((2, 2, 2, 1)), np.array([0, 1]), SGD(), epochs=1, rng=-1)


def test_sgd_step_before_backward_is_a_clear_error():
    with pytest.raises(RuntimeError, match=r"Dense has no gradient for 'w'"):
        SGD().step([Dense(2, 2)])


# --------------------------------------------------------------------------------------------
# The digits
# --------------------------------------------------------------------------------------------

def test_digits_split_is_fixed_stratified_and_scaled():
    data = digits.load()
    assert data.x_train.shape == (1438, 8, 8, 1) and data.x_test.shape == (359, 8, 8, 1)
    assert data.x_train.dtype == np.float64 and data.y_train.dtype == np.int64
    for images in (data.x_train, data.x_test):
        assert images.min() == 0.0 and images.max() == 1.0
        # Pen counts 0..16 divided by 16: every value is a whole number of sixteenths.
        np.testing.assert_array_equal(images * 16, np.round(images * 16))
    per_class = np.bincount(data.y_train, minlength=10) + np.bincount(data.y_test, minlength=10)
    assert per_class.sum() == 1797
    # Stratified: each digit has 20 % of its scans (rounded) in the test set.
    np.testing.assert_array_equal(np.bincount(data.y_test, minlength=10),
                                  np.round(0.2 * per_class))
    assert digits.load(np.float32).x_test.dtype == np.float32


def test_digits_checks_its_dtype_as_images_does():
    # One policy for a dtype argument: a dtype that is not allowed is a ValueError, something
    # that is not a dtype at all a TypeError.
    for bad in (np.int64, np.float16):
        with pytest.raises(ValueError, match=r"dtype must be numpy.float32 or numpy.float64; "
                                             r"got <class 'numpy\.(int64|float16)'>"):
            digits.load(bad)
    with pytest.raises(TypeError, match=r"dtype must be numpy.float32 .*; got None"):
        digits.load(None)
    assert digits.load("float32").x_train.dtype == np.float32


def test_digits_missing_file_is_a_clear_error(monkeypatch, tmp_path):
    monkeypatch.setattr(digits, "SEARCH_PATHS", (tmp_path / "a.npz", tmp_path / "b.npz"))
    with pytest.raises(FileNotFoundError, match=r"digits.npz not found; looked in .*a.npz, "
                                                r".*b.npz\. Run images/export_digits.py"):
        digits.load()

# --------------------------------------------------------------------------------------------
# The figures of notebook 07
# --------------------------------------------------------------------------------------------

def test_show_filters_draws_one_panel_per_filter_on_one_symmetric_scale(close_figures):
    w = np.random.default_rng(12).standard_normal((5, 5, 1, 6))
    fig, axes = viz.show_filters(w, ncols=4, title="conv 1")
    shown = [ax for ax in axes if ax.get_visible()]
    assert len(axes) == 8 and len(shown) == 6
    for k, ax in enumerate(shown):
        image = ax.get_images()[0]
        np.testing.assert_array_equal(image.get_array(), w[:, :, 0, k])
        assert image.get_clim() == (-np.abs(w).max(), np.abs(w).max())
        assert image.get_cmap().name == "RdBu_r" and ax.get_title() == f"filter {k}"
    with pytest.raises(ValueError, match=r"w must have shape \(KH, KW, 1, C_out\).*"
                                         r" \(3, 3, 2, 4\)"):
        viz.show_filters(np.zeros((3, 3, 2, 4)))


def test_tile_maps_places_every_channel_and_leaves_nan_gaps():
    maps = np.arange(2 * 3 * 5, dtype=float).reshape(2, 3, 5)      # (H, W, C)
    tiles = viz.tile_maps(maps, ncols=2, gap=1)
    assert tiles.shape == (3 * 2 + 2, 2 * 3 + 1)                  # 3 rows of 2 maps
    np.testing.assert_array_equal(tiles[0:2, 0:3], maps[:, :, 0])
    np.testing.assert_array_equal(tiles[0:2, 4:7], maps[:, :, 1])
    np.testing.assert_array_equal(tiles[6:8, 0:3], maps[:, :, 4])
    assert np.isnan(tiles[2]).all() and np.isnan(tiles[:, 3]).all()     # the gaps
    assert np.isnan(tiles[6:, 4:]).all()                                 # no sixth channel


def test_show_feature_maps_shares_the_scale_of_a_map_and_its_max_pool(close_figures):
    rng = np.random.default_rng(13)
    conv = np.maximum(rng.standard_normal((1, 8, 8, 3)), 0)
    pooled, _ = pooling_lab.strided.max_pool_forward(conv, 2)
    signed = rng.standard_normal((4, 4, 2))
    fig, axes = viz.show_feature_maps(np.zeros((8, 8, 1)), [("conv", conv), ("pool", pooled),
                                                          ("signed", signed)], title="digit")
    assert len(axes) == 4 and axes[0].get_title() == "input"
    conv_image, pool_image, signed_image = (ax.get_images()[0] for ax in axes[1:])
    assert conv_image.get_clim() == pool_image.get_clim() == (0.0, conv.max())
    assert conv_image.get_cmap().name.startswith("gray")
    assert signed_image.get_clim() == (-np.abs(signed).max(), np.abs(signed).max())
    # Pooled 4x4 maps are blown up to 8x8: both panels are a column of 3 8x8 tiles, 2 gaps.
    assert conv_image.get_array().shape == pool_image.get_array().shape == (3 * 8 + 2, 8)
    assert axes[2].get_title() == "pool\n4x4 · 3 channels"


def test_show_confusion_prints_every_nonzero_count(close_figures):
    counts = np.array([[5, 0, 1], [0, 7, 0], [2, 0, 4]])
    ax = viz.show_confusion(counts, title="test")
    texts = {(text.get_position(), text.get_text()) for text in ax.texts}
    assert texts == {((0, 0), "5"), ((2, 0), "1"), ((1, 1), "7"), ((0, 2), "2"), ((2, 2), "4")}
    assert ax.get_images()[-1].get_clim() == (0, 2) and ax.get_xlabel() == "predicted"
    with pytest.raises(ValueError, match=r"counts must be a square \(K, K\) array; "
                                         r"got shape \(2, 3\)"):
        viz.show_confusion(np.zeros((2, 3)))


def test_show_training_draws_loss_and_accuracy_per_epoch(close_figures):
    history = {"loss": [1.0, 0.1, 0.01], "test_accuracy": [0.5, 0.8, 0.9]}
    fig, (loss_ax, accuracy_ax) = viz.show_training({"max": history, "avg": history})
    assert len(loss_ax.lines) == len(accuracy_ax.lines) == 2
    np.testing.assert_array_equal(loss_ax.lines[0].get_xydata(), [[1, 1.0], [2, 0.1], [3, 0.01]])
    np.testing.assert_allclose(accuracy_ax.lines[1].get_ydata(), [50, 80, 90])
    assert loss_ax.get_yscale() == "log"



# --------------------------------------------------------------------------------------------
# Bad arguments that used to reach NumPy or an AttributeError
# --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("kernel_size,shape", [(2**31 - 1, "(2147483647, 2147483647, 1, 2)"),
                                               (50000, "(50000, 50000, 1, 2)")])
def test_conv2d_refuses_weights_over_the_size_bound(kernel_size, shape):
    # NumPy said "array is too big" or tried to allocate 37 GiB
    with pytest.raises(ValueError) as error:
        Conv2D(1, 2, kernel_size)
    message = str(error.value)
    assert f"kernel_size ({kernel_size}, {kernel_size}), in_channels 1 and out_channels 2" \
        in message
    assert shape in message and f"{pooling_lab.rules.LARGEST_ARRAY:,}" in message


def test_dense_refuses_weights_over_the_size_bound():
    with pytest.raises(ValueError, match=r"in_features 100000 and out_features 100000 .*"
                                         r"\(100000, 100000\).*LARGEST_ARRAY"):
        Dense(100000, 100000)
    # the bound itself is allowed (checked without making the 8 GiB array)
    pooling_lab.rules.check_array_size((2**15, 2**15), "w", "in_features")
    with pytest.raises(ValueError, match="LARGEST_ARRAY"):
        pooling_lab.rules.check_array_size((2**15, 2**15 + 1), "w", "in_features")


@pytest.mark.parametrize("optimizer", [None, "sgd"])
def test_fit_and_train_step_need_an_sgd(optimizer):
    net = Sequential([Flatten(), Dense(4, 2)])
    x, y = np.zeros((3, 2, 2, 1)), np.array([0, 1, 0])
    for call in (lambda: net.fit(x, y, optimizer, epochs=1),
                 lambda: net.train_step(x, y, optimizer)):
        with pytest.raises(TypeError, match=rf"optimizer must be an SGD.*got {optimizer!r}"):
            call()


@pytest.mark.parametrize("layers,fragment", [(3, "layers must be a list of Layer objects"),
                                             ([3], "layers must hold Layer objects"),
                                             (Dense(2, 2), "layers must be a list")])
def test_sgd_step_needs_a_list_of_layers(layers, fragment):
    with pytest.raises(TypeError, match=fragment):
        SGD().step(layers)


def test_softmax_needs_at_least_one_class():
    for call in (lambda: softmax(np.zeros((2, 0))),
                 lambda: softmax_cross_entropy(np.zeros((2, 0)), np.zeros(2, int))):
        with pytest.raises(ValueError, match=r"logits must hold at least one class.*\(2, 0\)"):
            call()


def test_softmax_cross_entropy_refuses_an_empty_batch():
    # it returned NaN silently
    with pytest.raises(ValueError, match=r"logits must hold at least one example.*\(0, 3\)"):
        softmax_cross_entropy(np.zeros((0, 3)), np.zeros(0, int))


def test_sequential_needs_at_least_one_layer():
    with pytest.raises(ValueError, match="layers must hold at least one Layer"):
        Sequential([])


# --------------------------------------------------------------------------------------------
# Divergence, aliasing and pickling (issue 20)
# --------------------------------------------------------------------------------------------

def test_fit_stops_as_soon_as_the_loss_is_not_finite():
    # It went on with NaN losses and reported accuracies computed from NaN logits.
    data = digits.load()
    net = Sequential([Flatten(), Dense(64, 10, rng=0)])
    with np.errstate(all="ignore"), pytest.raises(FloatingPointError) as error:
        net.fit(data.x_train[:300], data.y_train[:300], SGD(lr=1e308), epochs=3,
                batch_size=50, x_test=data.x_test, y_test=data.y_test)
    assert str(error.value) == ("fit stopped in epoch 1 of 3: the loss is nan, not finite: "
                                "training diverged; the learning rate lr = 1e+308 may be too "
                                "large")


def test_accuracy_refuses_logits_that_are_not_finite():
    net = Sequential([Dense(3, 2, rng=0)])
    net.layers[0].params["w"][0, 0] = 1e308               # a weight that diverged
    x = np.array([[1.0, 0, 0], [0, 1, 0], [2, 0, 0]])     # the last logit row overflows
    with np.errstate(over="ignore"), pytest.raises(
            FloatingPointError, match=r"the logits of 1 of 3 examples are not finite"):
        net.accuracy(x, np.array([0, 1, 1]))


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_fit_refuses_training_data_that_is_not_finite(bad):
    x = np.zeros((4, 3))
    x[1, 2] = x[3, 0] = bad
    net = Sequential([Dense(3, 2, rng=0)])
    with pytest.raises(ValueError, match=r"^x must hold finite numbers; got 2 NaN or "
                                         r"infinite values$"):
        net.fit(x, np.array([0, 1, 0, 1]), SGD(), epochs=1)
    with pytest.raises(ValueError, match=r"^x_test must hold finite numbers; got 2 NaN"):
        net.fit(np.ones((4, 3)), np.array([0, 1, 0, 1]), SGD(), epochs=1, x_test=x,
                y_test=np.array([0, 1, 0, 1]))


def test_dense_keeps_a_private_copy_of_x():
    # Dense kept the caller's x by reference: changing it in place before backward changed
    # grads["w"].
    rng = np.random.default_rng(17)
    x, dout = rng.standard_normal((4, 3)), rng.standard_normal((4, 2))
    dense = Dense(3, 2, rng=0)
    dense.forward(x)
    expected = x.T @ dout                                 # (D_in, N) @ (N, D_out)
    x += 100.0
    dense.backward(dout)
    np.testing.assert_array_equal(dense.grads["w"], expected)


@pytest.mark.parametrize("layer", [
    *(make(style=style) for style in STYLE_NAMES for make in (
        lambda style: Conv2D(2, 2, 1, style=style), lambda style: MaxPool2D(1, style=style),
        lambda style: AvgPool2D(1, style=style), lambda style: MaxPool2D(2, style=style))),
    ReLU(), Flatten(), Dense(2, 3)], ids=repr)
def test_no_layer_returns_memory_it_was_given(layer):
    # Flatten.forward returned a view of x, and Flatten.backward one of dout. Windows of
    # 1 x 1 are where a pool or a convolution could most easily hand back its input.
    shape = (2, 2) if isinstance(layer, Dense) else (2, 4, 4, 2)
    x = np.random.default_rng(18).standard_normal(shape)
    out = layer.forward(x)
    dout = np.ones_like(out)
    dx = layer.backward(dout)
    for given in (x, dout):
        assert not np.shares_memory(out, given) and not np.shares_memory(dx, given)


def trained_pair():
    """A network and its SGD after two steps: the velocities are not zero."""
    data = digits.load()
    net = Sequential([Flatten(), Dense(64, 10, rng=0)])
    optimizer = SGD(lr=0.1, momentum=0.9)
    for first in (0, 20):
        net.train_step(data.x_train[first:first + 20], data.y_train[first:first + 20], optimizer)
    return net, optimizer, data.x_train[40:60], data.y_train[40:60]


def parameters(net):
    return [param.copy() for layer in net.layers for param in layer.params.values()]


@pytest.mark.parametrize("together", [True, False], ids=["together", "apart"])
def test_momentum_survives_pickling(together):
    # Velocities were keyed by layer objects: an SGD pickled apart from its network met new
    # layer objects and started again from zero.
    net, optimizer, x, y = trained_pair()
    if together:
        net_copy, optimizer_copy = pickle.loads(pickle.dumps((net, optimizer)))
    else:
        net_copy, optimizer_copy = (pickle.loads(pickle.dumps(net)),
                                    pickle.loads(pickle.dumps(optimizer)))
    net.train_step(x, y, optimizer)
    net_copy.train_step(x, y, optimizer_copy)
    for ours, restored in zip(parameters(net), parameters(net_copy)):
        np.testing.assert_array_equal(restored, ours)
    fresh = pickle.loads(pickle.dumps(net))               # without its velocities: not equal
    fresh.train_step(x, y, SGD(lr=0.1, momentum=0.9))
    assert not np.allclose(parameters(fresh)[0], parameters(net_copy)[0])


def test_one_sgd_keeps_the_velocities_of_two_networks_apart():
    net, optimizer, x, y = trained_pair()
    other = Sequential([Flatten(), Dense(64, 10, rng=0)])
    alone = copy.deepcopy(other)
    other.train_step(x, y, optimizer)                     # shares the SGD with net
    alone.train_step(x, y, SGD(lr=0.1, momentum=0.9))     # an SGD of its own
    for shared, own in zip(parameters(other), parameters(alone)):
        np.testing.assert_array_equal(shared, own)


def test_train_step_takes_no_step_on_a_loss_that_is_not_finite():
    net = Sequential([Dense(2, 2, rng=0)])
    net.layers[0].params["w"][0, 0] = np.inf
    before = parameters(net)
    optimizer = SGD()
    with np.errstate(invalid="ignore"), pytest.raises(
            FloatingPointError, match=r"^the loss is nan, not finite: training diverged; the "
                                      r"learning rate lr = 0.05 may be too large$"):
        net.train_step(np.array([[1.0, 0.0], [0.0, 1.0]]), np.array([0, 1]), optimizer)
    for ours, kept in zip(parameters(net), before):
        np.testing.assert_array_equal(ours, kept)
    assert optimizer.velocity == {}


# --------------------------------------------------------------------------------------------
# Bad input named before any work (issue 20)
# --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("fit_kwargs,message", [
    ({"y": np.array([0, 1, 2, 3])}, r"^y must lie in 0..2 \(the network has 3 classes\); got "
                                    r"values from 0 to 3$"),
    ({"x_test": np.zeros((2, 4)), "y_test": np.array([0, 5])},
     r"^y_test must lie in 0..2 .* got values from 0 to 5$"),
    ({"x_test": np.zeros((2, 5)), "y_test": np.array([0, 1])},
     r"^x_test must hold examples shaped like x's, \(4,\); got \(5,\)$"),
    ({"x": np.zeros((4, 5))}, r"^x must hold examples the network takes; got shape \(4, 5\): "
                              r"Dense takes examples of shape \(in_features,\) = \(4,\); got "
                              r"input shape \(5,\)"),
    ({"x": np.zeros((4, 0))}, r"^x must hold examples the network takes; got shape \(4, 0\): "
                              r"input_shape must be a tuple of positive ints"),
], ids=["y-classes", "y_test-classes", "x_test-shape", "x-shape", "x-empty-examples"])
def test_fit_names_bad_labels_and_shapes_before_training(fit_kwargs, message):
    # y was named "labels" at the first batch; y_test was named "y", and x_test's shape
    # refused, only after a whole epoch of training.
    net = Sequential([Dense(4, 3, rng=0)])
    before = parameters(net)
    arguments = {"x": np.ones((4, 4)), "y": np.array([0, 1, 2, 0]), **fit_kwargs}
    with pytest.raises(ValueError, match=message):
        net.fit(arguments.pop("x"), arguments.pop("y"), SGD(), epochs=1, **arguments)
    for ours, kept in zip(parameters(net), before):
        np.testing.assert_array_equal(ours, kept)


@pytest.mark.parametrize("layers", [Dense(2, 2), 3, None], ids=["a-layer", "int", "none"])
def test_sequential_needs_a_list_of_layers(layers):
    # A single layer gave "'Dense' object is not iterable".
    with pytest.raises(TypeError, match=rf"^layers must be a list of Layer objects \(e.g. "
                                        rf"net.layers\); got {re.escape(repr(layers))} of type"):
        Sequential(layers)


@pytest.mark.parametrize("layer", [ReLU(), Flatten(), Dense(4, 2), MaxPool2D(), Conv2D(1, 2, 3)],
                         ids=repr)
@pytest.mark.parametrize("input_shape,error,message", [
    (5, TypeError, r"input_shape must be one example's shape as a tuple, e.g. \(8, 8, 1\); "
                   r"got 5"),
    (None, TypeError, r"input_shape must be one example's shape .*; got None"),
    ((2, "a", 1), TypeError, r"input_shape must be a tuple of positive ints, e.g. \(8, 8, 1\)"),
    ((4, 0, 1), ValueError, r"input_shape must be a tuple of positive ints, e.g. \(8, 8, 1\)"),
], ids=["int", "none", "str-side", "zero-side"])
def test_output_shape_names_a_bad_input_shape(layer, input_shape, error, message):
    # ReLU, Flatten and Dense said "'int' object is not iterable"; the pools "invalid literal
    # for int()"; Conv2D compared a string's last letter with its channels.
    with pytest.raises(error, match=message):
        layer.output_shape(input_shape)
