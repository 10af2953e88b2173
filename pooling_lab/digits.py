"""Real handwriting for the capstone: the UCI optical handwritten digits.

1,797 scans of the digits 0-9, each an 8x8 grid of pen-stroke counts 0..16 (UCI Machine
Learning Repository, "Optical Recognition of Handwritten Digits", E. Alpaydin and C. Kaynak,
CC BY 4.0). ``images/export_digits.py`` copied them once, with a
fixed stratified train/test split, into ``images/digits.npz``; this module only reads that
file, so the course needs nothing beyond NumPy to use them.

>>> from pooling_lab import digits
>>> data = digits.load()
>>> data.x_train.shape, data.x_test.shape
((1438, 8, 8, 1), (359, 8, 8, 1))
"""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

import numpy as np

from . import images, rules

#: The largest pen-stroke count in a cell: ``load`` divides by it to land in [0, 1].
MAX_COUNT = 16

#: Where the file may be, in the order we look: the photos' folders, ``images.SEARCH_DIRS``.
SEARCH_PATHS = tuple(folder / "digits.npz" for folder in images.SEARCH_DIRS)


class Digits(NamedTuple):
    """The fixed train/test split.

    Attributes
    ----------
    x_train : (1438, 8, 8, 1) float array in [0, 1]
    y_train : (1438,) int64 array of digits 0..9
    x_test : (359, 8, 8, 1) float array in [0, 1]
    y_test : (359,) int64 array of digits 0..9
    """

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray


def find_file() -> Path:
    """The path of ``digits.npz``, or a ``FileNotFoundError`` listing where we looked."""
    for path in SEARCH_PATHS:
        if path.is_file():
            return path
    looked = ", ".join(str(path) for path in SEARCH_PATHS)
    raise FileNotFoundError(
        f"digits.npz not found; looked in {looked}. Run images/export_digits.py "
        f"(needs scikit-learn) to write it again")


def load(dtype=np.float64) -> Digits:
    """Load the digits as images ready for the layers: channels last, values in [0, 1].

    Parameters
    ----------
    dtype : numpy.float32 or numpy.float64, default float64
        The dtype of ``x_train`` and ``x_test``; a ``TypeError`` if not a dtype, a
        ``ValueError`` for another dtype (as for :func:`pooling_lab.images.load`).

    Returns
    -------
    Digits
        The arrays of :class:`Digits`; 20 % of each digit's scans (rounded) are in the test set.
    """
    dtype = rules.float_dtype(dtype)
    with np.load(find_file()) as stored:
        def scaled(name):
            # (N, 8, 8) counts 0..16 -> (N, 8, 8, 1) in [0, 1]
            return (stored[name].astype(dtype) / MAX_COUNT)[..., None]

        return Digits(x_train=scaled("x_train"), y_train=stored["y_train"].astype(np.int64),
                      x_test=scaled("x_test"), y_test=stored["y_test"].astype(np.int64))
