"""The figures of the course, by topic: :mod:`.windows` (photos, grids of numbers, windows,
padding, zoom insets, the sliding-window animation), :mod:`.gradients` (signed and one-signed
maps, window counts), :mod:`.memory` (bytes and strides, a window's taps, timings per style)
and :mod:`.training` (the capstone's curves, filters, feature maps, confusion matrix).

Every name is here, as ``pooling_lab.viz.<name>``. Every function draws into the ``ax`` you
pass, or a small new figure, and returns what it drew into; none calls ``plt.show()``.
The course's figure style is set once, in :mod:`.base`: text size, one colour per style and per
window, winners, ties and hatched padding; :mod:`.gradients` picks the colour maps of signed
values and of counts. Images in gray or their own colours, ticks off; numbers on grids larger
darker, each printed in its cell. Images are ``(H, W)``, ``(H, W, C)`` or ``(1, H, W, C)``, C 1
or 3, values in [0, 1].
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
                      frame_durations, image_grid, outline_cells, show_image, show_numbers,
                      sliding_window_frames, window_boxes)
