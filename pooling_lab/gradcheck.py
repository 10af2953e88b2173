"""Gradient checks, re-exported by ``pooling_lab.check``: central differences, relative error."""

import numbers

import numpy as np


def numerical_gradient(loss, array, h=1e-6, indices=None):
    """``d loss() / d array[i] ~ (loss(array[i] + h) - loss(array[i] - h)) / (2h)``, error ~h**2.

    ``loss() -> float`` reads ``array`` (float64, any shape), whose entries are nudged in place
    and put back, even when ``loss`` raises. ``indices``: None (every entry) or the flat indices
    to check. Returns float64 gradients, the shape of ``array`` or ``(len(indices),)``.

    >>> x = np.array([1.0, -2.0])
    >>> np.round(numerical_gradient(lambda: float(np.sum(x ** 2)), x), 6)
    array([ 2., -4.])
    """
    if not callable(loss):
        raise TypeError(f"loss must be a function; got {type(loss).__name__} {loss!r}")
    if isinstance(h, bool) or not isinstance(h, numbers.Real):         # np.bool_ is not Real
        raise TypeError(f"h must be a positive number (int or float); got {type(h).__name__} {h!r}")
    if not 0 < h < np.inf:
        raise ValueError(f"h must be a positive number; got {h!r}")
    if not isinstance(array, np.ndarray):
        raise TypeError(f"array must be a NumPy array of float64 (nudged in place); got "
                        f"{type(array).__name__}")
    if array.dtype != np.float64:
        raise TypeError(f"array must be float64 to be nudged by h={h}; got {array.dtype}. An "
                        f"integer array cannot hold x + h and float32/float16 round the nudge "
                        f"away: check a float64 copy (array.astype(np.float64)).")
    if not array.flags.writeable or not array.flags.c_contiguous:   # else reshape(-1) copies
        problem = "read-only" if not array.flags.writeable else f"strides {array.strides}"
        raise ValueError(f"array must be writeable and contiguous (C order) so that it can be "
                         f"nudged in place; got {problem} (np.ascontiguousarray(array) is)")
    flat = array.reshape(-1)                                   # (size,) view of array
    chosen = range(flat.size) if indices is None else _flat_indices(indices, flat.size)
    grad = np.empty(len(chosen))
    for k, index in enumerate(chosen):
        kept = flat[index]
        try:
            flat[index] = kept + h
            up = _loss_value(loss)
            flat[index] = kept - h
            grad[k] = (up - _loss_value(loss)) / (2 * h)
        finally:
            flat[index] = kept                                 # restored even if loss raised
    return grad.reshape(array.shape) if indices is None else grad


def _flat_indices(indices, size: int) -> list:
    """``indices`` as a list of ints in ``range(size)``; a clear error naming it otherwise."""
    allowed = (f"None or a sequence (list, tuple, range, 1-d array) of ints in range({size}), "
               f"the flat indices of array")
    shown = f"{indices!r}"[:200]
    if isinstance(indices, np.ndarray) and indices.ndim != 1:
        raise ValueError(f"indices must be {allowed}; got an array of shape {indices.shape}")
    if not isinstance(indices, (np.ndarray, list, tuple, range)):
        raise TypeError(f"indices must be {allowed}; got {type(indices).__name__} {shown}")
    entries = indices.tolist() if isinstance(indices, np.ndarray) else list(indices)
    for entry in entries:
        if isinstance(entry, bool) or not isinstance(entry, numbers.Integral):
            raise TypeError(f"indices must be {allowed}; got {shown}, whose entry {entry!r} is "
                            f"of type {type(entry).__name__}")
        if not 0 <= entry < size:
            raise ValueError(f"indices must be {allowed}; got {shown}, whose entry {entry} is "
                             f"out of range")
    return [int(entry) for entry in entries]


def _loss_value(loss) -> float:
    """``loss()`` as a float; a ``TypeError`` naming ``loss`` unless it is one real number."""
    value = loss()
    number = value.item() if isinstance(value, np.ndarray) and value.ndim == 0 else value
    if isinstance(number, bool) or not isinstance(number, numbers.Real):
        returned = (f"an array of shape {value.shape} and dtype {value.dtype}"
                    if isinstance(value, np.ndarray) else f"{type(value).__name__} {value!r}"[:200])
        raise TypeError(f"loss must return one real number (a Python or NumPy number, or a 0-d "
                        f"array); it returned {returned}")
    return float(number)


def relative_error(a, b) -> float:
    """``max |a - b|`` over the largest magnitude of either, compared in float64: 1e-7 or less
    is a pass. ``a`` and ``b`` : real arrays of the same shape (broadcasting is refused)."""
    a, b = _real_float64(a, "a"), _real_float64(b, "b")
    if a.shape != b.shape:
        raise ValueError(f"a and b must have the same shape; got a of shape {a.shape} and b of "
                         f"shape {b.shape}")
    scale = max(np.abs(a).max(initial=0.0), np.abs(b).max(initial=0.0), 1e-12)
    return float(np.abs(a - b).max(initial=0.0) / scale)


def _real_float64(value, name: str) -> np.ndarray:
    """``value`` as a float64 array, or a ``TypeError`` naming it (ragged lists included)."""
    try:
        array = np.asarray(value)
    except ValueError:                                         # a ragged list: not one array
        raise TypeError(f"{name} must be an array of real numbers; got a "
                        f"{type(value).__name__} that is not one array") from None
    if array.dtype.kind not in "biuf":
        raise TypeError(f"{name} must hold real numbers; got dtype {array.dtype}")
    return array.astype(np.float64)
