"""Real handwriting for the capstone: the UCI optical handwritten digits.

1,797 scans of the digits 0-9, each an 8x8 grid of pen-stroke counts 0..16 (UCI Machine
Learning Repository, "Optical Recognition of Handwritten Digits", E. Alpaydin and C. Kaynak,
CC BY 4.0). ``images/export_digits.py`` copied them once, with a fixed stratified train/test
split, into ``images/digits.npz``; this module only reads that file, so the course needs
nothing beyond NumPy to use them.

>>> from pooling_lab import digits
>>> data = digits.load()
>>> data.x_train.shape, data.x_test.shape
((1438, 8, 8, 1), (359, 8, 8, 1))
"""

from typing import NamedTuple

import numpy as np

from . import images, rules

#: Where the file may be, in the order we look: the photos' folders, ``images.SEARCH_DIRS``.
SEARCH_PATHS = tuple(folder / "digits.npz" for folder in images.SEARCH_DIRS)


class Digits(NamedTuple):
    """The fixed train/test split, 20 % of each digit's scans (rounded) in the test set:
    ``x_train : (1438, 8, 8, 1)`` and ``x_test : (359, 8, 8, 1)``, floats in [0, 1], and
    ``y_train : (1438,)`` and ``y_test : (359,)``, int64 digits 0..9."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray


def load(dtype=np.float64) -> Digits:
    """Load the :class:`Digits` as images ready for the layers: channels last, values in
    [0, 1], of ``dtype`` (numpy.float32 or numpy.float64, checked as :func:`images.load` does)."""
    dtype = rules.float_dtype(dtype)
    found = [path for path in SEARCH_PATHS if path.is_file()]
    if not found:
        looked = ", ".join(str(path) for path in SEARCH_PATHS)
        raise FileNotFoundError(f"digits.npz not found; looked in {looked}. Run "
                                f"images/export_digits.py (needs scikit-learn) to write it again")
    with np.load(found[0]) as stored:
        # x: (N, 8, 8) pen-stroke counts 0..16 -> (N, 8, 8, 1) in [0, 1]; y: (N,) digits
        x_train, x_test = ((stored[name].astype(dtype) / 16)[..., None]
                           for name in ("x_train", "x_test"))
        return Digits(x_train=x_train, y_train=stored["y_train"].astype(np.int64),
                      x_test=x_test, y_test=stored["y_test"].astype(np.int64))
