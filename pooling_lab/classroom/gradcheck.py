"""Gradient checks, re-exported by ``pooling_lab.check``: central differences, relative error."""

import numbers

import numpy as np

from ..rules import as_real_array


def numerical_gradient(loss, array, h=1e-6, indices=None):
    """``d loss() / d array[i] ~ (loss(array[i] + h) - loss(array[i] - h)) / (2h)``, error ~h**2.

    ``loss()`` reads ``array`` (float64, any shape), whose entries are nudged in place and put back
    even if it raises (``lambda: float(np.sum(x ** 2))`` gives ``2 * x``). Returns float64
    gradients shaped like ``array``, or of the flat ``indices`` only (None: every entry).
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
    differences = [_loss_at(loss, flat, index, flat[index] + h)
                   - _loss_at(loss, flat, index, flat[index] - h) for index in chosen]
    grad = np.array(differences, dtype=np.float64) / (2 * h)
    return grad.reshape(array.shape) if indices is None else grad


def _flat_indices(indices, size: int) -> list:
    """``indices`` as a list of ints in ``range(size)``; a clear error naming it otherwise."""
    allowed = (f"None or a sequence (list, tuple, range, 1-d array) of ints in range({size}), "
               f"the flat indices of array")
    if isinstance(indices, np.ndarray) and indices.ndim != 1:
        raise ValueError(f"indices must be {allowed}; got an array of shape {indices.shape}")
    if not isinstance(indices, (np.ndarray, list, tuple, range)):
        raise TypeError(f"indices must be {allowed}; got {type(indices).__name__} {indices!r:.200}")
    entries = indices.tolist() if isinstance(indices, np.ndarray) else list(indices)
    for entry in entries:
        integer = isinstance(entry, numbers.Integral) and not isinstance(entry, bool)
        if not integer or not 0 <= entry < size:
            raise (ValueError if integer else TypeError)(
                f"indices must be {allowed}; got {indices!r:.200}, whose entry {entry!r} is "
                + ("out of range" if integer else f"of type {type(entry).__name__}"))
    return entries


def _loss_at(loss, flat, index, nudged) -> float:
    """``loss()`` with ``flat[index] = nudged`` (put back even if it raises) as one float."""
    kept, flat[index] = flat[index], nudged
    try:
        value = loss()
    finally:
        flat[index] = kept
    number = value.item() if isinstance(value, np.ndarray) and value.ndim == 0 else value
    if isinstance(number, bool) or not isinstance(number, numbers.Real):
        shown = (f"an array of shape {value.shape} and dtype {value.dtype}"
                 if isinstance(value, np.ndarray) else f"{type(value).__name__} {value!r}")
        raise TypeError(f"loss must return one real number (a Python or NumPy number, or a 0-d "
                        f"array); it returned {shown:.200}")
    return float(number)


def relative_error(a, b) -> float:
    """``max |a - b|`` over the largest magnitude of either, compared in float64: 1e-7 or less
    is a pass. ``a`` and ``b`` : real arrays of the same shape (broadcasting is refused)."""
    a, b = (as_real_array(value, name).astype(np.float64) for name, value in (("a", a), ("b", b)))
    if a.shape != b.shape:
        raise ValueError(f"a and b must have the same shape; got a of shape {a.shape} and b of "
                         f"shape {b.shape}")
    return float(np.abs(a - b).max(initial=0.0) / np.max(np.abs([a, b]), initial=1e-12))
