"""The course's photographs, loaded as float arrays ready to pool.

Four real photos travel with the course (sources and licences in ``images/CREDITS.md``)::

    >>> from pooling_lab import images
    >>> images.names()
    ['astronaut', 'chelsea', 'coffee', 'grace_hopper']
    >>> x = images.load("chelsea", grayscale=True, size=128)
    >>> x.shape, x.dtype
    ((1, 85, 128, 1), dtype('float64'))

``load`` returns a batch of one image, ``(1, H, W, C)`` in [0, 1], the package's layout;
``load_file`` reads any image file the same way, whatever its bit depth, orientation or alpha.
"""

import io
import os
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps

from . import rules

_PACKAGE_DIR = Path(__file__).resolve().parent
#: Where to look for the photos, in order: the copy an installed wheel carries in the package,
#: then the top-level ``images/`` folder of a clone of the repository.
SEARCH_DIRS = (_PACKAGE_DIR / "_images", _PACKAGE_DIR.parent / "images")
_SUFFIX = ".jpg"

#: Pillow's modes of 16-bit PNG and TIFF files (``"I"`` stores 32 bits), read as 0..65535.
SIXTEEN_BIT_MODES = ("I;16", "I;16L", "I;16B", "I;16N", "I")
SIXTEEN_BIT_WHITE = 65535
#: Pillow's mode for 32-bit floating-point pixels (float TIFF): values are kept as they are.
FLOAT_MODE = "F"


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
    """The file of photo ``name``: a ``TypeError`` if ``name`` is not a string, a
    ``ValueError`` if it is not one of :func:`names`."""
    available = names()
    if not isinstance(name, str):
        raise TypeError(f"name must be a string, one of the bundled photos {available}; got "
                        f"{name!r} of type {type(name).__name__}")
    if name not in available:
        raise ValueError(f"name must be one of the bundled photos {available}; got {name!r}")
    return _photo_dir() / f"{name}{_SUFFIX}"


def _target_size(size, height: int, width: int, channels: int) -> tuple[int, int]:
    """``size``, an int (the longer side, aspect kept) or ``(H, W)``, as ``(H, W)``; a
    ``ValueError`` if ``(1, H, W, channels)`` would pass :data:`rules.LARGEST_ARRAY` numbers."""
    allowed = "None, a positive int (the longer side) or a pair of positive ints (H, W)"
    sides = rules.whole_numbers(size, "size", allowed, shapes=((), (2,)))
    if sides.ndim:
        target = tuple(sides.tolist())
    else:
        scale = int(sides) / max(height, width)
        target = max(1, round(height * scale)), max(1, round(width * scale))
    rules.check_array_size((1, *target, channels), "an image (1, H, W, C)", f"size {size!r}")
    return target


def load(name: str, grayscale: bool = False, size=None, dtype=np.float64) -> np.ndarray:
    """Load a bundled photo as a batch of one float image, ``x : (1, H, W, C)`` of ``dtype``,
    values in [0, 1]; errors as :func:`load_file`'s, and :func:`path`'s for ``name``.

    Parameters
    ----------
    name : str
        One of :func:`names`.
    grayscale : bool
        True: one channel, ``C = 1`` (luminance, ITU-R 601 weights as in Pillow's ``"L"``
        mode); False: ``C = 3`` (RGB).
    size : None, int or (H, W)
        None keeps the file's size (at most 512 px on the longer side), an int sets the longer
        side (aspect kept), ``(H, W)`` both; resampled with Pillow's Lanczos filter.
    dtype : numpy.float32 or numpy.float64
    """
    return load_file(path(name), grayscale=grayscale, size=size, dtype=dtype)


def _wide_pixels(photo: Image.Image, grayscale: bool, size) -> np.ndarray:
    """A 16-bit or float photo (one channel) -> (H, W, 1 or 3) float64."""
    values = np.asarray(photo).astype(np.float64)                     # (H, W)
    if photo.mode != FLOAT_MODE:
        if values.size and (values.min() < 0 or values.max() > SIXTEEN_BIT_WHITE):
            raise ValueError(f"file holds integers from {values.min():.0f} to "
                             f"{values.max():.0f} in Pillow's mode {photo.mode!r}; only 16-bit "
                             f"data, 0..{SIXTEEN_BIT_WHITE}, can be read")
        values /= SIXTEEN_BIT_WHITE
    if size is not None:
        height, width = _target_size(size, *values.shape, 1 if grayscale else 3)
        resized = Image.fromarray(values.astype(np.float32)).resize(  # Pillow's float mode "F"
            (width, height), Image.Resampling.LANCZOS)                # PIL wants (W, H)
        # Clipped to the range of the file's values: Lanczos rings past sharp edges (Pillow
        # clips 8-bit images the same way).
        values = np.clip(np.asarray(resized, dtype=np.float64), np.nanmin(values),
                         np.nanmax(values))
    pixels = values[:, :, None]                                       # (H, W) -> (H, W, 1)
    # A one-channel photo as RGB: three equal channels, whose luminance is the photo itself.
    return pixels if grayscale else np.repeat(pixels, 3, axis=2)      # -> (H, W, 3)


def _eight_bit_pixels(photo: Image.Image, grayscale: bool, size) -> np.ndarray:
    """An 8-bit photo (any of Pillow's other modes) -> (H, W, 1 or 3) float64 in [0, 1]."""
    if photo.has_transparency_data:
        # Composite onto white, as a viewer shows it on a white page: alpha 0 gives white.
        rgba = photo.convert("RGBA")
        photo = Image.alpha_composite(Image.new("RGBA", rgba.size, "white"), rgba)
    photo = photo.convert("L" if grayscale else "RGB")
    if size is not None:
        height, width = _target_size(size, photo.height, photo.width, 1 if grayscale else 3)
        photo = photo.resize((width, height), Image.Resampling.LANCZOS)  # PIL wants (W, H)
    pixels = np.asarray(photo) / 255.0                # (H, W) or (H, W, 3), uint8 -> [0, 1]
    return pixels[:, :, None] if grayscale else pixels                # (H, W) -> (H, W, 1)


def load_file(file, grayscale: bool = False, size=None, dtype=np.float64) -> np.ndarray:
    """Load any image file Pillow can read, exactly as :func:`load` loads a bundled photo.

    Parameters
    ----------
    file : str, pathlib.Path or an open binary file
    grayscale, size, dtype
        As for :func:`load`.

    Returns
    -------
    x : (1, H, W, C) array of ``dtype``, whose values mean:

        - **8-bit files** (JPEG, most PNGs; any other Pillow mode): divided by 255, so in [0, 1].
        - **16-bit files** (Pillow's modes ``"I;16"``, ``"I;16B"``, ``"I"``...): divided by
          65535, so in [0, 1]; a file whose integers fall outside 0..65535 is refused.
        - **float files** (float TIFF, mode ``"F"``): kept as they are, not scaled or clipped
          (negative, above 1, NaN); ``size`` never resamples past the range of the values.
        - 16-bit and float files have one channel; without ``grayscale`` it is repeated into
          three equal RGB channels.

        The **EXIF orientation** tag is applied first (a phone photo taken upright loads
        upright, its H and W swapped if the tag says so). An **alpha channel** (RGBA, LA,
        a palette or colour key with transparency) is composited onto white, so a fully
        transparent pixel loads as white (1.0) and alpha itself is dropped.

    Raises
    ------
    TypeError
        An argument of the wrong kind: ``file`` neither a path nor a binary file object.
    FileNotFoundError
        No file at that path.
    ValueError
        A bad argument value, or a ``file`` (named) that is a directory, not an image, cut
        short or unreadable (any error Pillow meets), or refused from its header before a
        pixel is decoded: its ``(1, H, W, C)`` array would pass :data:`rules.LARGEST_ARRAY`
        numbers, or Pillow's guard (twice ``PIL.Image.MAX_IMAGE_PIXELS`` pixels) refuses it.
    """
    if isinstance(file, (str, os.PathLike)):
        shown = repr(str(file))                      # how the messages name the file
        if not Path(file).exists():
            raise FileNotFoundError(f"file must be an image file; got {shown}, which does "
                                    f"not exist")
        if not Path(file).is_file():
            raise ValueError(f"file must be an image file; got {shown}, which is not a file")
    elif isinstance(file, io.TextIOBase) or not hasattr(file, "read"):
        raise TypeError(f"file must be a path (str or pathlib.Path) or an open binary file; "
                        f"got {file!r} of type {type(file).__name__}")
    else:
        shown = repr(file)
    dtype = rules.float_dtype(dtype)
    if not isinstance(grayscale, (bool, np.bool_)):
        raise TypeError(f"grayscale must be True or False; got {grayscale!r}")
    try:
        with Image.open(file) as photo:               # reads the header only
            rules.check_array_size((1, photo.height, photo.width, 1 if grayscale else 3),
                                   "an image (1, H, W, C)", f"file {shown}, {photo.width} x "
                                   f"{photo.height} pixels by its header,")
            photo = ImageOps.exif_transpose(photo)    # upright, as the camera meant it
            wide = photo.mode in SIXTEEN_BIT_MODES or photo.mode == FLOAT_MODE
            pixels = (_wide_pixels if wide else _eight_bit_pixels)(photo, grayscale, size)
    except Image.DecompressionBombError as error:
        raise ValueError(f"file {shown} is refused from its header, before decoding, by "
                         f"Pillow's guard (PIL.Image.MAX_IMAGE_PIXELS): {error}") from error
    except OSError as error:                          # not an image, cut short, unreadable
        raise ValueError(f"file must be an image file Pillow can read; got {shown}, which "
                         f"Pillow cannot read ({error})") from error
    return pixels[None].astype(dtype)                 # (H, W, C) -> (1, H, W, C)
