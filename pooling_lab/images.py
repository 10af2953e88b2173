"""The course's photographs, loaded as float arrays ready to pool.

Four real photos travel with the course (sources and licences in ``images/CREDITS.md``)::

    >>> from pooling_lab import images
    >>> images.names()
    ['astronaut', 'chelsea', 'coffee', 'grace_hopper']
    >>> x = images.load("chelsea", grayscale=True, size=128)
    >>> x.shape, x.dtype
    ((1, 85, 128, 1), dtype('float64'))

``load`` returns a batch of one image, ``(1, H, W, C)`` channels last, values in [0, 1]: the
layout every function of the package takes.

Where the photos live: in a clone of the repository they sit in its top-level ``images/``
folder; an installed wheel carries a copy inside the package, as ``pooling_lab/_images/``.
We look in the package first, then in the clone.
"""

from __future__ import annotations

import numbers
from pathlib import Path

import numpy as np
from PIL import Image

_PACKAGE_DIR = Path(__file__).resolve().parent
#: Where to look for the photos, in order: inside an installed wheel, then in a clone.
SEARCH_DIRS = (_PACKAGE_DIR / "_images", _PACKAGE_DIR.parent / "images")
_SUFFIX = ".jpg"


def _photo_dir() -> Path:
    """The first folder of :data:`SEARCH_DIRS` that holds photos."""
    for folder in SEARCH_DIRS:
        if any(folder.glob(f"*{_SUFFIX}")):
            return folder
    searched = ", ".join(str(folder) for folder in SEARCH_DIRS)
    raise FileNotFoundError(
        f"no photos found; looked for *{_SUFFIX} files in: {searched}. Reinstall pooling_lab "
        f"(pip install .) or run from a clone of the repository")


def names() -> list[str]:
    """The names of the bundled photos, sorted: ``['astronaut', 'chelsea', ...]``."""
    return sorted(photo.stem for photo in _photo_dir().glob(f"*{_SUFFIX}"))


def path(name: str) -> Path:
    """The file of photo ``name``.

    Raises
    ------
    ValueError
        ``name`` is not one of :func:`names`.
    """
    available = names()
    if name not in available:
        raise ValueError(f"name must be one of the bundled photos {available}; got {name!r}")
    return _photo_dir() / f"{name}{_SUFFIX}"


def _target_size(size, height: int, width: int) -> tuple[int, int]:
    """Read ``size``: an int (the longer side, aspect kept) or ``(H, W)``; returns ``(H, W)``."""
    allowed = "None, a positive int (the longer side) or a pair of positive ints (H, W)"

    def positive_int(value) -> bool:
        return (isinstance(value, numbers.Integral) and not isinstance(value, (bool, np.bool_))
                and value >= 1)

    if isinstance(size, (tuple, list)):
        if len(size) != 2 or not all(positive_int(side) for side in size):
            raise ValueError(f"size must be {allowed}; got {size!r}")
        return int(size[0]), int(size[1])
    if not positive_int(size):
        raise ValueError(f"size must be {allowed}; got {size!r}")
    scale = int(size) / max(height, width)
    return max(1, round(height * scale)), max(1, round(width * scale))


def _check_dtype(dtype) -> None:
    """Accept float32 or float64, given as a type, a dtype or a string such as "float32"."""
    allowed = (np.dtype(np.float32), np.dtype(np.float64))
    try:
        # np.dtype(None) means float64, so None is refused before asking NumPy.
        accepted = dtype is not None and np.dtype(dtype) in allowed
    except TypeError:
        accepted = False
    if not accepted:
        raise ValueError(f"dtype must be numpy.float32 or numpy.float64; got {dtype!r}")


def load(name: str, grayscale: bool = False, size=None, dtype=np.float64) -> np.ndarray:
    """Load a bundled photo as a batch of one float image.

    Parameters
    ----------
    name : str
        One of :func:`names`.
    grayscale : bool
        True: one channel (luminance, ITU-R 601 weights as in Pillow's ``"L"`` mode).
    size : None, int or (H, W)
        None keeps the file's size (at most 512 px on the longer side); an int sets the longer
        side and keeps the aspect ratio; ``(H, W)`` sets both. Resampled with Pillow's
        Lanczos filter.
    dtype : numpy.float32 or numpy.float64

    Returns
    -------
    x : (1, H, W, C) array of ``dtype``, values in [0, 1]
        ``C`` is 1 when ``grayscale`` is True, else 3 (RGB).

    Raises
    ------
    ValueError
        Unknown ``name``, a bad ``size`` or a ``dtype`` that is not float32 or float64.
    """
    return load_file(path(name), grayscale=grayscale, size=size, dtype=dtype)


def load_file(file, grayscale: bool = False, size=None, dtype=np.float64) -> np.ndarray:
    """Load any image file Pillow can read, exactly as :func:`load` loads a bundled photo.

    Parameters
    ----------
    file : str or pathlib.Path
    grayscale, size, dtype
        As for :func:`load`.

    Returns
    -------
    x : (1, H, W, C) array of ``dtype``, values in [0, 1]
    """
    _check_dtype(dtype)
    if not isinstance(grayscale, (bool, np.bool_)):
        raise ValueError(f"grayscale must be True or False; got {grayscale!r}")
    with Image.open(file) as photo:
        photo = photo.convert("L" if grayscale else "RGB")
        if size is not None:
            height, width = _target_size(size, photo.height, photo.width)
            photo = photo.resize((width, height), Image.Resampling.LANCZOS)  # PIL wants (W, H)
        pixels = np.asarray(photo)                        # (H, W) or (H, W, 3), uint8
    if grayscale:
        pixels = pixels[:, :, None]                       # (H, W) -> (H, W, 1)
    return (pixels[None] / 255.0).astype(dtype)     # (H, W, C) -> (1, H, W, C)
