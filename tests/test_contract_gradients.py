"""Every backward of every style against central finite differences (float64)."""

import numpy as np
import pytest

import pooling_lab
from pooling_lab.classroom.gradcheck import numerical_gradient

STYLES = list(pooling_lab.STYLES.items())


def distinct_values(rng, shape):
    """Values at least 0.01 apart in random order: no ties, so max pool is differentiable."""
    return (rng.permutation(np.prod(shape)).reshape(shape) * 0.01
            + rng.uniform(0, 0.001, shape))


POOL_CASES = [
    {"size": 2},                                                        # no overlap
    {"size": 3, "stride": 1},                                           # heavy overlap
    {"size": (3, 2), "stride": (2, 1), "padding": "same"},
    {"size": 2, "stride": 3, "padding": ((1, 0), (0, 1)), "dilation": 2},
]


@pytest.mark.parametrize("kwargs", POOL_CASES, ids=str)
@pytest.mark.parametrize("name,style", STYLES)
def test_max_pool_backward_matches_finite_differences(name, style, kwargs):
    rng = np.random.default_rng(1)
    x = distinct_values(rng, (2, 6, 7, 2))
    out, cache = style.max_pool_forward(x, **kwargs)
    dout = rng.standard_normal(out.shape)

    def loss():
        return np.sum(style.max_pool_forward(x, **kwargs)[0] * dout)

    np.testing.assert_allclose(style.max_pool_backward(dout, cache),
                               numerical_gradient(loss, x), rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("count_include_pad", [True, False])
@pytest.mark.parametrize("kwargs", POOL_CASES, ids=str)
@pytest.mark.parametrize("name,style", STYLES)
def test_avg_pool_backward_matches_finite_differences(name, style, kwargs, count_include_pad):
    rng = np.random.default_rng(2)
    x = rng.standard_normal((2, 6, 7, 2))
    out, cache = style.avg_pool_forward(x, count_include_pad=count_include_pad, **kwargs)
    dout = rng.standard_normal(out.shape)

    def loss():
        out = style.avg_pool_forward(x, count_include_pad=count_include_pad, **kwargs)[0]
        return np.sum(out * dout)

    np.testing.assert_allclose(style.avg_pool_backward(dout, cache),
                               numerical_gradient(loss, x), rtol=1e-6, atol=1e-8)


CONV_CASES = [
    {},
    {"stride": 2, "padding": "same"},
    {"stride": (1, 2), "padding": ((2, 0), (1, 1)), "dilation": (2, 1)},
]


@pytest.mark.parametrize("kwargs", CONV_CASES, ids=str)
@pytest.mark.parametrize("name,style", STYLES)
def test_conv_backward_matches_finite_differences(name, style, kwargs):
    rng = np.random.default_rng(3)
    x = rng.standard_normal((2, 5, 6, 2))
    w = rng.standard_normal((3, 2, 2, 3))
    b = rng.standard_normal(3)
    out, cache = style.conv_forward(x, w, b, **kwargs)
    dout = rng.standard_normal(out.shape)

    def loss():
        return np.sum(style.conv_forward(x, w, b, **kwargs)[0] * dout)

    dx, dw, db = style.conv_backward(dout, cache)
    np.testing.assert_allclose(dx, numerical_gradient(loss, x), rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(dw, numerical_gradient(loss, w), rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(db, numerical_gradient(loss, b), rtol=1e-6, atol=1e-8)
