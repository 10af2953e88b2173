"""Export the UCI handwritten digits into ``images/digits.npz``, once.

The course's capstone (notebook 07) trains a small network on real handwriting: the UCI
"Optical Recognition of Handwritten Digits" data (E. Alpaydin and C. Kaynak, CC BY 4.0),
1,797 scans of digits 0-9, each an 8x8 grid of pen-stroke counts 0..16. scikit-learn ships
them as ``sklearn.datasets.load_digits``; this script copies them into a small ``.npz`` next
to the photographs, together with a fixed, stratified train/test split.

The course itself does NOT depend on scikit-learn: this script is run by hand, once, by a
maintainer who has it installed, and nothing in ``pooling_lab`` imports it.
``pooling_lab.digits`` reads the ``.npz`` it writes::

    python images/export_digits.py          # needs numpy and scikit-learn

The file holds (all small integers, to keep it small):

    x_train : (1438, 8, 8) uint8, values 0..16     y_train : (1438,) uint8, digits 0..9
    x_test  : (359, 8, 8) uint8,  values 0..16     y_test  : (359,) uint8,  digits 0..9

The split is stratified: 20 % of each digit's scans (rounded), chosen at random with a fixed
seed, go to the test set, so every digit keeps its share and the split is the same on every run.
"""

from pathlib import Path

import numpy as np
from sklearn.datasets import load_digits

SEED = 0
TEST_FRACTION = 0.2
OUTPUT = Path(__file__).with_name("digits.npz")


def stratified_split(labels: np.ndarray, test_fraction: float, rng: np.random.Generator):
    """Indices ``(train, test)``: from each class, a random ``test_fraction`` goes to test.

    Parameters
    ----------
    labels : (N,) int array
    test_fraction : float in (0, 1)
    rng : numpy.random.Generator

    Returns
    -------
    train, test : 1-D int arrays, sorted, together a partition of ``range(N)``
    """
    train, test = [], []
    for digit in np.unique(labels):
        members = rng.permutation(np.flatnonzero(labels == digit))
        n_test = round(test_fraction * len(members))
        test.append(members[:n_test])
        train.append(members[n_test:])
    return np.sort(np.concatenate(train)), np.sort(np.concatenate(test))


def main() -> None:
    digits = load_digits()
    images = digits.images.astype(np.uint8)       # (1797, 8, 8), pen counts 0..16
    labels = digits.target.astype(np.uint8)       # (1797,), digits 0..9
    assert images.max() <= 16 and np.array_equal(images, digits.images), "not whole counts"
    train, test = stratified_split(labels, TEST_FRACTION, np.random.default_rng(SEED))
    np.savez_compressed(OUTPUT, x_train=images[train], y_train=labels[train],
                        x_test=images[test], y_test=labels[test])
    print(f"wrote {OUTPUT.name}: {len(train)} train and {len(test)} test digits, "
          f"{OUTPUT.stat().st_size / 1024:.0f} KiB")


if __name__ == "__main__":
    main()
