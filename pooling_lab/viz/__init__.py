"""The figures of the course, by topic: :mod:`.windows` (photos, grids of numbers, windows,
padding, zoom insets, the sliding-window animation), :mod:`.gradients` (signed and one-signed
maps, window counts), :mod:`.memory` (bytes and strides, a window's taps, timings per style)
and :mod:`.training` (the capstone's curves, filters, feature maps, confusion matrix).

Every name is here, as ``pooling_lab.viz.<name>``. Every function draws into the ``ax`` you
pass, or a small new figure, and returns what it drew into; none calls ``plt.show()``.
The course's figure style, set here once:

* images in gray or their own colours, ticks off;
* numbers on grids: larger is darker (``Greys``), the number in every cell; padded cells hatched
  gray, with the value they hold (0, or ``-inf`` for max pool);
* gradients of both signs with ``RdBu_r`` and symmetric limits; one-signed ones with a
  sequential map, white at zero (:func:`gradient_colors`);
* counts (how many windows cover a pixel) in one palette, 0 white (:func:`count_colors`);
* one colour per style, :data:`STYLE_COLORS`, and one per window, :data:`WINDOW_COLORS`;
  winners :data:`WINNER_COLOR`, ties :data:`TIE_COLOR`; outlines above the cell separators.

Images are ``(H, W)``, ``(H, W, C)`` or ``(1, H, W, C)``, C 1 or 3, values in [0, 1].
"""

from .base import (NUMBERS_CMAP, OUTLINE_ZORDER, PADDING_FACE, PADDING_HATCH, STYLE_COLORS,
                   STYLE_MARKERS, TIE_COLOR, WINDOW_COLORS, WINNER_COLOR, as_map, as_picture)
from .geometry import coverage_counts
from .gradients import (count_colors, gradient_colors, show_coverage, show_difference,
                        show_gradient, symmetric_limit)
from .memory import (OTHER_COLORS, byte_offsets, dot_plot, plot_by_style, show_memory,
                     show_taps)
from .training import show_confusion, show_feature_maps, show_filters, show_training, tile_maps
from .windows import (add_zoom_inset, animate_sliding_window, draw_padding, draw_windows,
                      frame_durations,
                      image_grid, outline_cells, show_image, show_numbers, sliding_window_frames,
                      window_boxes)

__all__ = [
    # colours
    "STYLE_COLORS", "STYLE_MARKERS", "WINDOW_COLORS", "OTHER_COLORS", "NUMBERS_CMAP",
    "PADDING_FACE", "PADDING_HATCH", "WINNER_COLOR", "TIE_COLOR", "OUTLINE_ZORDER",
    # images and windows
    "as_picture", "show_image", "image_grid", "add_zoom_inset", "window_boxes", "draw_windows",
    "draw_padding", "outline_cells", "show_numbers", "sliding_window_frames", "frame_durations",
    "animate_sliding_window",
    # gradients and coverage
    "as_map", "symmetric_limit", "gradient_colors", "show_gradient", "show_difference",
    "coverage_counts", "count_colors", "show_coverage",
    # memory, strides and speed
    "byte_offsets", "show_memory", "show_taps", "plot_by_style", "dot_plot",
    # training
    "show_training", "show_filters", "tile_maps", "show_feature_maps", "show_confusion",
]
