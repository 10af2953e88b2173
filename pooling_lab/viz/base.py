"""What every figure of the course shares, set here once so that a label reads the same and a
style, a window or a padded cell looks the same in every notebook: its text size (applied when
``pooling_lab.viz`` is imported), its colours and small drawing helpers."""

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.patches import Rectangle

#: The size rule of every figure (COURSE_STYLE, "Projected from the back row"): all text
#: ``FONT_PT`` points, drawn at ``DPI`` dots per inch, so 12 * 100 / 72 = 16.7 px in the notebook
#: at 100% zoom, and the same on a 1280x720 slide, which shows a figure of up to 12.3 x 6.6
#: inches (1232 x 660 px, ``classroom.slides.PICTURE``) at its own size. Applied to matplotlib
#: when this module is imported.
FONT_PT, DPI = 12, 100
READABLE = {name: FONT_PT for name in ("font.size", "axes.titlesize", "axes.labelsize",
                                       "figure.titlesize", "xtick.labelsize", "ytick.labelsize",
                                       "legend.fontsize", "legend.title_fontsize")}
plt.rcParams.update({**READABLE, "figure.dpi": DPI, "savefig.dpi": DPI})

#: One colour per style, from the Okabe-Ito palette (told apart with every common kind of colour
#: blindness). Notebooks 06 and 07 draw each style in its colour.
STYLE_COLORS = {"naive": "#D55E00",      # vermillion
                "stacked": "#0072B2",    # blue
                "strided": "#009E73",    # bluish green
                "fast": "#CC79A7"}       # reddish purple

#: One marker per style, so that the styles stay apart in gray print too.
STYLE_MARKERS = {"naive": "o", "stacked": "s", "strided": "^", "fast": "D"}

#: Colours for window outlines, one per window, in order: bright enough on a photo, dark enough
#: on a light grid of numbers.
WINDOW_COLORS = ("#E69F00", "#D1006F", "#0096D6", "#2CA02C", "#7A3EC8", "#8C564B")

#: The winner of a max window is outlined in red; cells tied with it dashed in blue, far from
#: the window colours' orange and from red.
WINNER_COLOR, TIE_COLOR = "red", "#0050C8"

#: Outlines (windows, winners, ties) are drawn above a grid's white cell separators (zorder 2)
#: and below its numbers (zorder 3).
OUTLINE_ZORDER = 2.5

#: Padded cells: a light gray with a hatch, so they never pass for image cells.
PADDING_FACE = "#d9d9d9"
PADDING_HATCH = "///"

#: Shade convention for numbers on grids: larger is darker (``Greys``: 0 white, 1 black).
NUMBERS_CMAP = "Greys"

#: Text centred on its point (a number in its cell).
CENTERED = {"ha": "center", "va": "center"}

#: Weights of R, G and B in a gray level, 0 black to 1 white (ITU-R 601, as Pillow's "L" and
#: images.load): how light a colour looks.
GRAY_WEIGHTS = np.array([0.299, 0.587, 0.114])


def new_axes(ax, figsize=(4, 4)):
    """Return ``ax``, or the axes of a new figure of ``figsize`` inches when ``ax`` is None."""
    if ax is None:
        _, ax = plt.subplots(figsize=figsize, layout="constrained")
    return ax


def outline(ax, top, left, height, width, color, linewidth=3.0, inset=0.0, face=None,
            linestyle="-") -> None:
    """Frame pixels ``top..top+height-1``, ``left..left+width-1`` (a window, a cell) in ``color``
    above a grid's cell separators, shrunk by ``inset`` pixels on every side (so that touching
    frames keep both borders), filled with ``face`` (None: not filled)."""
    # clip_on=False keeps the half of an edge line that falls outside the axes.
    ax.add_patch(Rectangle((left - 0.5 + inset, top - 0.5 + inset), width - 2 * inset,
                           height - 2 * inset, fill=face is not None, facecolor=face,
                           edgecolor=color, linewidth=linewidth, linestyle=linestyle,
                           clip_on=False, zorder=OUTLINE_ZORDER))


def ticks_off(ax, title=None):
    """Hide both axes' ticks (pixel numbers say nothing on an image) and give ``ax`` its
    ``title``, if any; returns ``ax``."""
    ax.set(xticks=[], yticks=[])
    if title:
        ax.set_title(title)
    return ax


def as_picture(image) -> np.ndarray:
    """An image ready for ``imshow``: ``(1, H, W, C)``, ``(H, W, C)`` or ``(H, W)`` -> ``(H, W)``
    for one channel, ``(H, W, 3)`` for three."""
    picture = np.asarray(image)
    if picture.ndim == 4:
        if picture.shape[0] != 1:
            raise ValueError(f"image must be a single image; got a batch of shape {picture.shape}")
        picture = picture[0]                              # (1, H, W, C) -> (H, W, C)
    if picture.ndim == 3 and picture.shape[2] == 1:
        picture = picture[:, :, 0]                        # (H, W, 1) -> (H, W)
    if picture.ndim not in (2, 3) or (picture.ndim == 3 and picture.shape[2] != 3):
        raise ValueError(f"image must be (H, W), (H, W, 1), (H, W, 3) or (1, H, W, C); "
                         f"got shape {np.shape(image)}")
    return picture


def as_map(values, name: str = "values") -> np.ndarray:
    """A map of one number per pixel: ``(1, H, W, C)``, ``(H, W, C)`` or ``(H, W)`` -> ``(H, W)``,
    channels summed (the total each pixel receives, e.g. of a gradient)."""
    values = np.asarray(values, dtype=float)
    if values.ndim == 4:
        if values.shape[0] != 1:
            raise ValueError(f"{name} must be a single map; got a batch of shape {values.shape}")
        values = values[0]                                # (1, H, W, C) -> (H, W, C)
    if values.ndim == 3:
        values = values.sum(axis=2)                       # (H, W, C) -> (H, W)
    if values.ndim != 2:
        raise ValueError(f"{name} must be (H, W), (H, W, C) or (1, H, W, C); "
                         f"got shape {values.shape}")
    return values
