"""The contract every style keeps: how its six functions start, and what their caches hold.

Every style (``naive``, ``stacked``, ``strided``, ``fast``) offers the same six functions::

    out, cache = max_pool_forward(x, size, stride=None, padding="valid", dilation=1)
    dx         = max_pool_backward(dout, cache)
    out, cache = avg_pool_forward(x, size, stride=None, padding="valid", dilation=1,
                                  count_include_pad=True)
    dx         = avg_pool_backward(dout, cache)
    out, cache = conv_forward(x, w, b=None, stride=1, padding="valid", dilation=1)
    dx, dw, db = conv_backward(dout, cache)

with, in the notation of :mod:`pooling_lab.geometry`:

* Arrays: ``x (N, H, W, C)`` channels last, ``w (KH, KW, C, C_out)``, ``b (C_out,)`` or None,
  ``out (N, OH, OW, C)`` (``C_out`` for convolution); ``dx`` like ``x``, ``dw`` like ``w``,
  ``db (C_out,)``, the sum of ``dout`` even when forward had no bias. No input is ever
  written into, and no result shares memory with an input.
* ``size``, ``stride``, ``dilation``: an int or ``(rows, cols)``; pooling's ``stride=None``
  means ``stride = size``. ``padding``: ``"valid"``, ``"same"`` (TensorFlow/Keras), an int,
  ``(ph, pw)`` or ``((top, bottom), (left, right))``; see :mod:`pooling_lab.rules`.
* Max pool pads with -inf and padded cells never win (:func:`keep_padding_from_winning`). Its
  winner follows PyTorch's CPU rule (:func:`window_max`): walking a window's taps in row-major
  order, a tap replaces the running maximum if it is larger or NaN. So the *first* maximum
  wins, or the *last* NaN (``[1, nan, 2, nan]``: tap 3), and the output is the winner's own
  value (``[0.0, -0.0]`` gives ``0.0``, ``[-0.0, 0.0]`` gives ``-0.0``). Average pool
  and convolution pad with zeros; ``count_include_pad=True`` divides by ``KH*KW``, False by
  the taps inside the image. Convolution is cross-correlation, as in every framework.
* dtypes: floating inputs keep their precision, integers and bools become float64, mixed
  inputs follow ``np.result_type``; float16 is summed in float32
  (:func:`rules.accumulation_dtype`) and rounded once.
* Errors: ``TypeError`` for a wrong type, ``ValueError`` for a bad value, naming the argument,
  the value and what is allowed (:mod:`pooling_lab.rules`). A cache holds what backward needs
  and cannot go stale (:func:`owned`); backward checks it is the right kind (:func:`check_cache`).
"""

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from .geometry import Geometry, conv_geometry, pool_geometry
from .rules import accumulation_dtype, as_float_array


@dataclass(frozen=True)
class MaxPoolCache:
    """What ``max_pool_backward`` needs: ``winner (N, OH, OW, C)``, the number ``k`` of each
    window's winning tap (:func:`winner_dtype`), and the forward's floating ``dtype``."""

    made_by: ClassVar[str] = "max_pool_forward"
    geometry: Geometry
    winner: np.ndarray
    dtype: np.dtype


@dataclass(frozen=True)
class AvgPoolCache:
    """What ``avg_pool_backward`` needs: ``divisor (OH, OW, 1)``, what each window's sum was
    divided by, and the forward's ``dtype``."""

    made_by: ClassVar[str] = "avg_pool_forward"
    geometry: Geometry
    divisor: np.ndarray
    dtype: np.dtype


@dataclass(frozen=True)
class ConvCache:
    """What ``conv_backward`` needs: the forward's ``x (N, H, W, C)`` and ``w (KH, KW, C,
    C_out)``, in the forward's dtype and owned by the cache (:func:`owned`)."""

    made_by: ClassVar[str] = "conv_forward"
    geometry: Geometry
    x: np.ndarray
    w: np.ndarray

    @property
    def dtype(self) -> np.dtype:
        return self.x.dtype


def check_cache(cache, expected: type):
    """``cache`` if it is an ``expected``, else a ``TypeError`` naming what came instead (rather
    than an ``AttributeError`` from deep inside)."""
    if isinstance(cache, expected):
        return cache
    made_by = getattr(type(cache), "made_by", None)        # another kind of cache
    if made_by is not None:
        received = f"a {type(cache).__name__}, which {made_by} returns"
    elif isinstance(cache, tuple):
        received = (f"a tuple of {len(cache)} items: pass the cache alone, not forward's "
                    f"whole (out, cache) result")
    else:
        received = f"a value of type {type(cache).__name__}"
    raise TypeError(f"cache must be the {expected.__name__} that {expected.made_by} returns; "
                    f"got {received}")


def avg_divisor(geometry: Geometry, count_include_pad: bool, dtype) -> np.ndarray:
    """(OH, OW, 1): ``KH*KW`` for every window, or its count of taps inside the image."""
    if not isinstance(count_include_pad, (bool, np.bool_)):
        raise TypeError(f"count_include_pad must be True or False; "
                        f"got {count_include_pad!r} of type {type(count_include_pad).__name__}")
    if count_include_pad:
        counts = np.full(geometry.out_hw, geometry.taps)
    else:
        counts = geometry.inside_counts()
    return counts[:, :, None].astype(dtype)


def pool_setup(x, size, stride, padding, dilation) -> tuple[np.ndarray, Geometry]:
    """The start of every style's pooling forward: ``x (N, H, W, C)`` as a floating array
    (possibly the caller's: never written into) and the call's checked geometry."""
    x = as_float_array(x, "x", "N, H, W, C")
    return x, pool_geometry(x.shape, size, stride, padding, dilation)


def owned(array: np.ndarray, given) -> np.ndarray:
    """``array``, or a private copy where it may share memory with ``given``, the caller's:
    a cache that keeps it cannot go stale (``w -= lr * dw`` between forward and backward
    leaves the gradients exact; PyTorch raises there instead). ``np.may_share_memory`` only
    compares memory bounds: quick, and when unsure it says yes (one copy too many at worst)."""
    return array.copy() if np.may_share_memory(array, given) else array


def conv_setup(x, w, b, stride, padding, dilation):
    """The start of every style's ``conv_forward``: ``x (N, H, W, C)``, ``w (KH, KW, C, C_out)``
    and ``bias (C_out,)`` (the argument ``b``) or None, checked, in their common floating dtype
    (``x`` and ``w`` the call's own, for ``ConvCache(geometry, x, w)``), then the ``geometry``
    and ``sum_dtype``, the dtype sums are taken in."""
    checked_x = as_float_array(x, "x", "N, H, W, C")
    checked_w = as_float_array(w, "w", "KH, KW, C_in, C_out")
    if checked_w.shape[2] != checked_x.shape[3]:
        raise ValueError(
            f"w's C_in (axis 2 of w, shape {checked_w.shape}) must equal x's channel count "
            f"C = {checked_x.shape[3]} (x has shape {checked_x.shape}); got C_in = "
            f"{checked_w.shape[2]}")
    if 0 in checked_w.shape[:2]:
        raise ValueError(f"w's kernel (KH, KW) must be at least 1x1; got w of shape "
                         f"{checked_w.shape}")
    arrays, bias = [checked_x, checked_w], None
    if b is not None:
        bias = as_float_array(b, "b")
        if bias.shape != (checked_w.shape[3],):
            raise ValueError(f"b must have shape (C_out,) = ({checked_w.shape[3]},) to match w "
                             f"of shape {checked_w.shape}; got {bias.shape}")
        arrays.append(bias)
    dtype = np.result_type(*arrays)
    geometry = conv_geometry(checked_x.shape, checked_w.shape, stride, padding, dilation)
    return (owned(checked_x.astype(dtype, copy=False), x),
            owned(checked_w.astype(dtype, copy=False), w),
            None if bias is None else bias.astype(dtype, copy=False),
            geometry, accumulation_dtype(dtype))


def check_dout(dout, geometry: Geometry, channels: int) -> np.ndarray:
    """``dout`` as a floating array of the forward output's shape ``(N, OH, OW, channels)``."""
    dout = as_float_array(dout, "dout", "N, OH, OW, C")
    expected = (geometry.x_shape[0], *geometry.out_hw, channels)
    if dout.shape != expected:
        raise ValueError(f"dout must have the forward output's shape {expected}; got {dout.shape}")
    return dout


def backward_setup(dout, cache, expected: type):
    """The start of every style's backward: the forward's ``geometry`` from ``cache``, checked
    to be an ``expected`` first; ``dout`` checked (:func:`check_dout`); the gradients' ``dtype``,
    ``np.result_type`` of the forward's and ``dout``'s; and ``sum_dtype``, the dtype of sums."""
    geometry = check_cache(cache, expected).geometry
    channels = cache.w.shape[3] if isinstance(cache, ConvCache) else geometry.x_shape[3]
    dout = check_dout(dout, geometry, channels)
    dtype = np.result_type(cache.dtype, dout.dtype)
    return geometry, dout, dtype, accumulation_dtype(dtype)


# ---- Max pool: the tie and NaN rule, and the padding rule, that every style follows ----------

def window_max(taps) -> tuple[np.ndarray, np.ndarray]:
    """Each window's maximum and its winning tap's number, by the rule above: ``taps[k]`` is tap
    ``k`` of every window, ``KH*KW`` arrays of the results' shape. Only arrays the size of one
    tap are made (``np.argmax`` over a middle axis would copy every window)."""
    out = taps[0].copy()
    winner = np.zeros(out.shape, dtype=np.min_scalar_type(len(taps) - 1))   # winner_dtype
    for k in range(1, len(taps)):
        replace = (taps[k] > out) | np.isnan(taps[k])     # strict: a tie keeps the earlier tap
        np.copyto(out, taps[k], where=replace)
        winner[replace] = k
    return out, winner


def winner_dtype(geometry: Geometry) -> np.dtype:
    """The smallest unsigned dtype that can number every tap (uint8 up to 16x16 kernels)."""
    return np.min_scalar_type(geometry.taps - 1)


def keep_padding_from_winning(out: np.ndarray, winner: np.ndarray, geometry: Geometry) -> None:
    """Max pool pads with -inf, so a window whose real values are all -inf ties with its
    padding. Padded cells never win: such a window's ``winner`` (updated in place) is its
    first tap inside the image. ``out`` and ``winner`` are ``(N, OH, OW, C)``."""
    if geometry.is_padded:
        first_inside = geometry.first_inside_tap().astype(winner.dtype)[:, :, None]  # (OH, OW, 1)
        np.copyto(winner, first_inside, where=np.isneginf(out))      # broadcast over N and C
