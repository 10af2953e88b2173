"""Style 3 · strided views: look at the windows through a zero-copy view of the input.

NumPyNet builds its windows with ``as_strided``: an array that walks the input's memory with
new strides, so that ``view[n, i, j, a, b, c]`` *is* ``xpad[n, i*SH + a*DH, j*SW + b*DW, c]``,
without copying a byte. We use NumPy's ``sliding_window_view``, which computes those strides
for us and checks that they stay inside the array (a wrong stride in ``as_strided`` reads
whatever memory lies there).

Forward reduces the view one kernel offset at a time: ``view[:, :, :, a, b, :]`` is tap
``(a, b)`` of every window at once, ``(N, OH, OW, C)``. The loop runs ``KH * KW`` times and
never builds the ``(N, OH, OW, KH, KW, C)`` array the stacked style builds. (Average pool
goes one step further and adds kernel rows, then kernel columns: see below.)

Backward is where views get subtle. A *writeable* window view of the gradient ``dxpad`` lists
each pixel once for every window that covers it, so when windows overlap ``view += g`` reads
every copy of a pixel before writing any and keeps only one update (the bug discussed in the
Q&A about vectorising this backward). ``np.add.at`` on that view is correct but slow. Average
pool and convolution loop over kernel offsets instead: one offset's slice of the view holds
every pixel at most once, so its ``+=`` is exact, and the sum over offsets adds up the
overlapping windows. Max pool needs no view at all: each window sends its gradient to one
pixel, whose flat address is arithmetic, and one ``np.add.at`` on those addresses adds them
all (see :func:`max_pool_backward`). Apart from a loop over blocks of about 256 KB (for cache
locality, below), no Python loop runs over N, H, W or C. NumPyNet's max-pool backward loops
over every output position, and its avg-pool backward uses the first image's normaliser for the
whole batch; neither happens here.

Making it fast (notebook 06 measures the main tricks; each costs a few lines):

* **Blocks that stay in cache.** Max pool visits every output ``KH*KW`` times, once per tap.
  Over a whole batch those outputs are megabytes and come back from main memory at every
  visit; we cut the output into blocks of about 256 KB (a few images, or a few rows of one
  large image) and let all the taps visit one block before moving on. The loop runs over
  blocks, a few dozen per megabyte-sized batch, never over single pixels or channels.
* **Contiguous scratch.** On a strided channels-last slice, NumPy's innermost loop is only
  ``C`` numbers long and its per-loop overhead dominates. Max pool reads each tap twice
  (compare, then maximum), so it first copies the tap to a contiguous buffer, read fast twice.
* **Arithmetic, not masks.** Writes through a random mask (``np.where``, ``where=``, boolean
  indexing) cost several times, up to twenty times, the plain arithmetic that does the same.
  Max pool keeps its winners with ``np.maximum`` on small integers.
* **Few channels: stride phases, stored channels-first.** With ``C`` below
  :data:`FEW_CHANNELS` (a photo has 3) and a column stride above 1, the contiguous scratch above
  is not enough: every tap copy still runs ``OH*OW`` inner loops of ``C`` numbers. Max pool
  then splits each block of the input into its ``SH*SW`` stride phases (every SH-th row and
  SW-th column, :func:`stride_phases`), copies each phase once, channels-first, and finds every
  tap inside one phase as a block of whole rows: one strided copy per phase instead of one per
  tap, and every other operation on rows ``OW`` numbers long. (About 2x on a 512x512 RGB
  photo with size 3 and stride 2; with many channels the tap copies already run long inner
  loops and the phase copies would only add a pass.)
* **Max pool backward is a scatter.** One pass over ``dout`` with ``np.add.at`` on flat
  addresses, instead of ``KH*KW`` passes that each pick one tap's gradients with a mask.
* **A separable average.** A box sum is a sum of row sums: ``KH + KW`` passes over the data
  instead of ``KH * KW``, and the row pass reads whole image rows. When no two windows share
  a row (a column), the backward writes rows (columns) instead of adding to them.
* **Convolution is matrix products** on contiguous copies of the taps (BLAS needs rows of
  neighbouring numbers): one per kernel row, ``(N*OH*OW, KW*C) @ (KW*C, C_out)``, rather
  than one im2col matrix ``KH*KW`` times the size of the input, and block by block, since
  BLAS runs about twice as fast on operands that stay in cache.
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from . import common


def window_view(xpad: np.ndarray, geometry: common.Geometry, writeable: bool = False):
    """A view of every window of ``xpad``, copying nothing.

    Parameters
    ----------
    xpad : (N, Hp, Wp, C)
    geometry : Geometry
    writeable : bool
        Only for writing gradients into ``xpad`` one kernel offset at a time (see the module
        docstring for why a single ``+=`` on the whole view would be wrong).

    Returns
    -------
    windows : (N, OH, OW, KH, KW, C) view of ``xpad``
        ``windows[n, i, j, a, b, c]`` is ``xpad[n, i*SH + a*DH, j*SW + b*DW, c]``.
    """
    (sh, sw), (dh, dw) = geometry.stride, geometry.dilation
    # (N, Hp, Wp, C) -> (N, Hp-span_h+1, Wp-span_w+1, C, span_h, span_w): every window start
    every_start = sliding_window_view(xpad, geometry.span, axis=(1, 2), writeable=writeable)
    # keep every SH-th start and every DH-th tap -> (N, OH, OW, C, KH, KW)
    windows = every_start[:, ::sh, ::sw, :, ::dh, ::dw]
    return windows.transpose(0, 1, 2, 4, 5, 3)          # -> (N, OH, OW, KH, KW, C)


# --------------------------------------------------------------------------------------------
# Blocks of output rows, small enough to stay in cache
# --------------------------------------------------------------------------------------------

#: About how many bytes of output one block holds: a block's output and scratch arrays stay in
#: a core's L2 cache (1-2 MB on current processors) while the taps visit them.
BLOCK_BYTES = 256 * 1024


def row_blocks(out_shape, itemsize: int):
    """Cut the output ``(N, OH, OW, C)`` into blocks of about :data:`BLOCK_BYTES`.

    Returns
    -------
    blocks : list of (images, rows) slices
        ``out[images, rows]`` is one block: several whole images, or several rows of one.
    largest : (n, r)
        The images and rows of the first block, the largest: scratch buffers of that size are
        allocated once and reused, since a fresh allocation per block costs a page fault per
        4 KB of it.
    """
    n, oh, ow, channels = out_shape
    row_bytes = max(1, ow * channels * itemsize)
    if oh * row_bytes <= BLOCK_BYTES:
        per_block = max(1, BLOCK_BYTES // (oh * row_bytes))              # whole images
        blocks = [(slice(first, min(first + per_block, n)), slice(0, oh))
                  for first in range(0, n, per_block)]
        return blocks, (min(per_block, n), oh)
    per_block = max(1, BLOCK_BYTES // row_bytes)                         # rows of one image
    blocks = [(slice(image, image + 1), slice(first, min(first + per_block, oh)))
              for image in range(n) for first in range(0, oh, per_block)]
    return blocks, (1, min(per_block, oh))


def _every(first: int, step: int, count: int) -> slice:
    """The slice of the ``count`` positions ``first, first + step, ...``."""
    return slice(first, first + (count - 1) * step + 1, step)


# --------------------------------------------------------------------------------------------
# Few channels: stride phases, stored channels-first
# --------------------------------------------------------------------------------------------

#: Below this many channels, max pool with a column stride above 1 takes the phase path.
FEW_CHANNELS = 8


def _few_channels(geometry: common.Geometry) -> bool:
    """True when tap slices would give NumPy inner loops only ``C`` numbers long: few channels
    and a column stride above 1 (with stride 1, a tap's rows are runs of ``OW*C`` numbers)."""
    return geometry.x_shape[3] < FEW_CHANNELS and geometry.stride[1] > 1


def channels_first(array: np.ndarray) -> np.ndarray:
    """The view ``(n, h, w, C) -> (n, C, h, w)``.

    NumPy runs its innermost loop along the axis that is contiguous in *every* array of a call;
    when the arrays disagree, it keeps the axis order it was given. Handing it channels-first
    views of a channels-last and a channels-first array makes it loop along image rows (``w``
    numbers) rather than along channels (``C`` numbers).
    """
    return array.transpose(0, 3, 1, 2)


def channels_first_empty(shape, dtype) -> np.ndarray:
    """An uninitialised ``(n, h, w, C)`` array stored channels-first, ``(n, C, h, w)`` in memory:
    each row of each channel is a contiguous run of ``w`` numbers."""
    n, h, w, channels = shape
    return np.empty((n, channels, h, w), dtype).transpose(0, 2, 3, 1)


def stride_phases(geometry: common.Geometry):
    """Which stride phase of the padded input each kernel tap reads.

    Rows ``p, p + SH, p + 2*SH, ...`` of the padded input form row phase ``p`` (``0 <= p < SH``);
    likewise for columns. Tap ``(a, b)`` of output row ``i`` reads padded row
    ``i*SH + a*DH = p + SH*(i + u)`` with ``(u, p) = divmod(a*DH, SH)``: for all ``i`` at once,
    rows ``u .. u + OH - 1`` of phase ``p``, neighbours in that phase. Columns: ``(v, q)``.

    Returns
    -------
    taps : list of (k, (p, q), u, v)
        Every tap ``k = a*KW + b`` in order, its phase and where its block starts in it.
    reach : dict {(p, q): (du, dv)}
        The phases some tap reads, and how many rows and columns beyond ``(OH, OW)`` they need.
    """
    (sh, sw), (dh, dw) = geometry.stride, geometry.dilation
    taps, reach = [], {}
    for k, a, b in geometry.offsets():
        (u, p), (v, q) = divmod(a * dh, sh), divmod(b * dw, sw)
        taps.append((k, (p, q), u, v))
        du, dv = reach.get((p, q), (0, 0))
        reach[p, q] = (max(du, u), max(dv, v))
    return taps, reach


def _phase_of(padded, geometry, phase, extra, images, rows):
    """The part of phase ``(p, q)`` of ``padded`` (N, Hp, Wp, C) that the taps of output rows
    ``rows`` read: a strided view ``(n, r + du, OW + dv, C)``, with ``extra = (du, dv)``."""
    (sh, sw), (p, q), (du, dv) = geometry.stride, phase, extra
    r, ow = rows.stop - rows.start, geometry.out_hw[1]
    return padded[images, _every(p + sh * rows.start, sh, r + du), _every(q, sw, ow + dv)]


# --------------------------------------------------------------------------------------------
# Max pool
# --------------------------------------------------------------------------------------------

def max_pool_forward(x, size, stride=None, padding="valid", dilation=1):
    """Max pool over a zero-copy window view, one kernel offset at a time.

    Parameters
    ----------
    x : (N, H, W, C) array_like
    size, stride, dilation : int or (rows, cols)
        ``stride=None`` means ``stride = size``.
    padding : "valid", "same", int, (ph, pw) or ((top, bottom), (left, right))
        Padded cells never win.

    Returns
    -------
    out : (N, OH, OW, C)
    cache : MaxPoolCache
    """
    x = common.as_float_array(x, "x", "N, H, W, C")
    geometry = common.pool_geometry(x.shape, size, stride, padding, dilation)
    xpad = geometry.pad(x, -np.inf)
    windows = window_view(xpad, geometry)                       # (N, OH, OW, KH, KW, C)
    if _few_channels(geometry):
        out, winner = _max_pool_phases(xpad, geometry)
    else:
        out, winner = _max_pool_taps(windows, geometry)
    _first_nan_wins(out, winner, windows, geometry)
    common.keep_padding_from_winning(out, winner, geometry)
    return out, common.MaxPoolCache(geometry, winner, x.dtype)


def _max_pool_taps(windows, geometry):
    """Max pool, each tap read from the window view: ``out, winner``, both ``(N, OH, OW, C)``."""
    shape = (windows.shape[0], *geometry.out_hw, windows.shape[5])   # (N, OH, OW, C)
    out = np.empty(shape, dtype=windows.dtype)
    winner = np.zeros(shape, dtype=common.winner_dtype(geometry))
    blocks, (n, r) = row_blocks(shape, windows.itemsize)
    tap_buffer = np.empty((n, r, *shape[2:]), dtype=windows.dtype)   # scratch, reused by blocks
    beats_buffer = np.empty(tap_buffer.shape, dtype=bool)
    marks_buffer = np.empty(tap_buffer.shape, dtype=winner.dtype)
    for images, rows in blocks:            # a few large blocks, for cache locality
        block, block_winner = out[images, rows], winner[images, rows]     # (n, r, OW, C)
        n, r = block.shape[:2]
        tap, beats, marks = tap_buffer[:n, :r], beats_buffer[:n, :r], marks_buffer[:n, :r]
        for k, a, b in geometry.offsets():
            if k == 0:
                np.copyto(block, windows[images, rows, :, 0, 0, :])
                continue
            np.copyto(tap, windows[images, rows, :, a, b, :])   # read twice: copy contiguous once
            _keep_larger(tap, k, block, block_winner, beats, marks)
    return out, winner


def _max_pool_phases(xpad, geometry):
    """Max pool for few channels: each block's stride phases are copied once, channels-first,
    and every tap is a block of whole contiguous rows of one phase (see :func:`stride_phases`).

    Returns ``out`` (N, OH, OW, C), and ``winner`` of that shape stored channels-first.
    """
    shape = (xpad.shape[0], *geometry.out_hw, xpad.shape[3])        # (N, OH, OW, C)
    ow = shape[2]
    maxima = channels_first_empty(shape, xpad.dtype)
    winner = channels_first_empty(shape, common.winner_dtype(geometry))
    winner.fill(0)
    taps, reach = stride_phases(geometry)
    blocks, (n, r) = row_blocks(shape, xpad.itemsize)
    phase_buffers = {phase: channels_first_empty((n, r + du, ow + dv, shape[3]), xpad.dtype)
                     for phase, (du, dv) in reach.items()}
    beats_buffer = channels_first_empty((n, r, *shape[2:]), bool)
    marks_buffer = channels_first_empty(beats_buffer.shape, winner.dtype)
    for images, rows in blocks:            # a few large blocks, for cache locality
        block, block_winner = maxima[images, rows], winner[images, rows]  # (n, r, OW, C)
        n, r = block.shape[:2]
        beats, marks = beats_buffer[:n, :r], marks_buffer[:n, :r]
        for phase, extra in reach.items():
            # one strided copy per phase, not per tap: (n, r + du, OW + dv, C)
            np.copyto(channels_first(phase_buffers[phase][:n, :r + extra[0]]),
                      channels_first(_phase_of(xpad, geometry, phase, extra, images, rows)))
        for k, phase, u, v in taps:            # in order of k, as _keep_larger needs
            tap = phase_buffers[phase][:n, u:u + r, v:v + ow]   # (n, r, OW, C), rows contiguous
            if k == 0:
                np.copyto(block, tap)
            else:
                _keep_larger(tap, k, block, block_winner, beats, marks)
    out = np.empty(shape, dtype=xpad.dtype)                     # hand back channels-last
    np.copyto(channels_first(out), channels_first(maxima))
    return out, winner


def _keep_larger(tap, k, block, block_winner, beats, marks) -> None:
    """Fold tap ``k`` into the running maximum ``block`` and its ``block_winner``; ``beats``
    and ``marks`` are scratch. All five arrays have the block's shape ``(n, r, OW, C)``."""
    np.greater(tap, block, out=beats)                   # strict: an earlier tap keeps a tie
    np.maximum(block, tap, out=block)                   # NaN propagates
    # The winner is the last tap that beat the running maximum, and k only grows, so
    # winner = max(winner, k * beats): arithmetic on small integers, no masked write.
    # (bool * integer would make NumPy cast every bool first; the same bytes as uint8 need not)
    np.multiply(beats.view(np.uint8), block_winner.dtype.type(k), out=marks)
    np.maximum(block_winner, marks, out=block_winner)


def _first_nan_wins(out, winner, windows, geometry) -> None:
    """``tap > out`` is False for NaN, so fix the windows that hold a NaN: their winner is the
    first NaN (as ``np.argmax`` and PyTorch choose). Only runs when the input has NaN."""
    # np.max propagates NaN: one fast reduction tells whether any window holds one.
    if out.size == 0 or not np.isnan(out.max()):
        return
    has_nan = np.isnan(out)
    for k, a, b in reversed(list(geometry.offsets())):        # the first NaN is written last
        hit = has_nan & np.isnan(windows[:, :, :, a, b, :])
        winner[hit] = k


def max_pool_backward(dout, cache):
    """Send each window's gradient to its first maximum: one scatter-add of flat addresses.

    Max pool's gradient is sparse: window ``(n, i, j)`` sends all of ``dout[n, i, j, c]`` to
    a single pixel, the tap ``k = a*KW + b`` that won. Where that pixel sits in the flattened
    ``dxpad`` is arithmetic::

        address = window_start[n, i, j, c] + tap_offset[k]
        window_start = ((n*Hp + i*SH)*Wp + j*SW)*C + c        tap_offset = (a*DH*Wp + b*DW)*C

    and ``np.add.at(dxpad.ravel(), address, dout.ravel())`` adds every value at its address.
    Unlike ``+=``, ``np.add.at`` *adds* when two windows chose the same pixel, which happens
    when windows overlap. Given one flat integer array of addresses and values of the same
    dtype, it runs one tight loop in C (NumPy 1.25 and later), so one pass over ``dout`` beats
    ``KH*KW`` masked passes. (``np.add.at`` on a multi-dimensional window view, notebook 04,
    takes NumPy's general path and is slow.)

    Parameters
    ----------
    dout : (N, OH, OW, C) array_like
    cache : MaxPoolCache

    Returns
    -------
    dx : (N, H, W, C)
    """
    geometry = cache.geometry
    dout = common.check_dout(dout, geometry, geometry.x_shape[3])
    dtype = common.backward_dtype(cache.dtype, dout)
    dout = dout.astype(dtype, copy=False)       # np.add.at's fast loop needs one dtype
    dxpad = common.zeros_padded(geometry, dtype)                # (N, Hp, Wp, C)
    _, hp, wp, channels = dxpad.shape
    (sh, sw), (dh, dw), ow = geometry.stride, geometry.dilation, dout.shape[2]
    tap_offset = np.array([(a * dh * wp + b * dw) * channels for _, a, b in geometry.offsets()],
                          dtype=np.intp)                        # (KH*KW,)
    blocks, (n, r) = row_blocks(dout.shape, dxpad.itemsize)
    # where each window starts, counted from its block's first window: (n, r, OW, C)
    window_start = (np.arange(n).reshape(-1, 1, 1, 1) * (hp * wp * channels)
                    + np.arange(r).reshape(-1, 1, 1) * (sh * wp * channels)
                    + np.arange(ow).reshape(-1, 1) * (sw * channels)
                    + np.arange(channels))
    address_buffer = np.empty(window_start.shape, dtype=np.intp)
    flat_dx = dxpad.reshape(-1)                                 # a view: (N*Hp*Wp*C,)
    for images, rows in blocks:            # a few large blocks, for cache locality
        block_winner = cache.winner[images, rows]               # (n, r, OW, C)
        n, r = block_winner.shape[:2]
        address = address_buffer[:n, :r]
        block_start = (images.start * hp + rows.start * sh) * wp * channels
        np.take(tap_offset + block_start, block_winner, out=address)   # winner k -> its offset
        address += window_start[:n, :r]
        # (n, r, OW, C) -> (n*r*OW*C,): one scatter-add, exact where windows share a pixel
        np.add.at(flat_dx, address.reshape(-1), dout[images, rows].reshape(-1))
    return geometry.crop(dxpad)                                 # -> (N, H, W, C)


# --------------------------------------------------------------------------------------------
# Average pool
# --------------------------------------------------------------------------------------------

def avg_pool_forward(x, size, stride=None, padding="valid", dilation=1, count_include_pad=True):
    """Average pool: add the taps, one kernel row and then one kernel column at a time.

    A box sum is separable: adding the ``KH`` rows of every window first gives row sums
    ``(N, OH, Wp, C)``, and adding ``KW`` columns of those gives the window sums. That is
    ``KH + KW`` passes over the data instead of ``KH * KW``, and the row pass reads whole
    image rows, the fastest thing NumPy does.

    Parameters
    ----------
    x : (N, H, W, C) array_like
    size, stride, dilation, padding
        As for :func:`max_pool_forward`; padding adds zeros.
    count_include_pad : bool
        True: divide by ``KH*KW``; False: by the number of taps inside the image.

    Returns
    -------
    out : (N, OH, OW, C)
    cache : AvgPoolCache
    """
    x = common.as_float_array(x, "x", "N, H, W, C")
    geometry = common.pool_geometry(x.shape, size, stride, padding, dilation)
    divisor = common.avg_divisor(geometry, count_include_pad, x.dtype)    # (OH, OW, 1)
    xpad = geometry.pad(x, 0)                                   # (N, Hp, Wp, C)
    (sh, sw), (dh, dw), (kh, kw) = geometry.stride, geometry.dilation, geometry.kernel
    shape = (x.shape[0], *geometry.out_hw, x.shape[3])           # (N, OH, OW, C)
    ow = shape[2]
    out = np.empty(shape, dtype=x.dtype)
    blocks, (n, r) = row_blocks(shape, x.itemsize)
    sums_buffer = np.empty((n, r, *xpad.shape[2:]), dtype=x.dtype)     # (n, r, Wp, C) scratch
    for images, rows in blocks:            # a few large blocks, for cache locality
        block = out[images, rows]                               # (n, r, OW, C)
        n, r = block.shape[:2]
        row_sums = sums_buffer[:n, :r]
        for a in range(kh):
            # rows i*SH + a*DH of the padded input, whole rows: (n, r, Wp, C)
            tap_rows = xpad[images, _every(rows.start * sh + a * dh, sh, r)]
            if a == 0:
                np.copyto(row_sums, tap_rows)
            else:
                row_sums += tap_rows
        for b in range(kw):
            tap_cols = row_sums[:, :, _every(b * dw, sw, ow)]  # columns j*SW + b*DW: (n, r, OW, C)
            if b == 0:
                np.copyto(block, tap_cols)
            else:
                block += tap_cols
        block /= divisor[rows]
    return out, common.AvgPoolCache(geometry, divisor, x.dtype)


def avg_pool_backward(dout, cache):
    """Spread each window's share of the gradient over its taps: columns first, then rows.

    The forward pass's two passes, reversed: each share goes to the ``KW`` columns of its
    window, giving ``(N, OH, Wp, C)``, and those go to the ``KH`` rows. One tap column (or
    row) holds each pixel at most once, so every ``+=`` is exact even when windows overlap.

    Parameters
    ----------
    dout : (N, OH, OW, C) array_like
    cache : AvgPoolCache

    Returns
    -------
    dx : (N, H, W, C)
    """
    geometry = cache.geometry
    dout = common.check_dout(dout, geometry, geometry.x_shape[3])
    dtype = common.backward_dtype(cache.dtype, dout)
    dxpad = common.zeros_padded(geometry, dtype)                # (N, Hp, Wp, C)
    (sh, sw), (dh, dw), (kh, kw) = geometry.stride, geometry.dilation, geometry.kernel
    ow = dout.shape[2]
    # does a pixel lie in the rows (columns) of two windows? Then its rows (columns) need +=
    rows_overlap, cols_overlap = sh < geometry.span[0], sw < geometry.span[1]
    blocks, (n, r) = row_blocks(dout.shape, dxpad.itemsize)
    share_buffer = np.empty((n, r, *dout.shape[2:]), dtype=dtype)     # (n, r, OW, C) scratch
    spread_buffer = np.empty((n, r, *dxpad.shape[2:]), dtype=dtype)   # (n, r, Wp, C) scratch
    for images, rows in blocks:            # a few large blocks, for cache locality
        n, r = dout[images, rows].shape[:2]
        share, spread = share_buffer[:n, :r], spread_buffer[:n, :r]
        np.divide(dout[images, rows], cache.divisor[rows], out=share)   # each tap's gradient
        spread.fill(0)                        # columns no window reaches stay 0
        for b in range(kw):
            target = spread[:, :, _every(b * dw, sw, ow)]      # columns j*SW + b*DW
            if cols_overlap:
                np.add(target, share, out=target)
            else:
                np.copyto(target, share)      # no column is written twice: skip reading back
        for a in range(kh):
            target = dxpad[images, _every(rows.start * sh + a * dh, sh, r)]   # rows i*SH + a*DH
            if rows_overlap:
                np.add(target, spread, out=target)
            else:
                np.copyto(target, spread)     # no row is written twice: skip reading dx back
    return geometry.crop(dxpad)                                 # -> (N, H, W, C)


# --------------------------------------------------------------------------------------------
# Convolution
# --------------------------------------------------------------------------------------------

def conv_forward(x, w, b=None, stride=1, padding="valid", dilation=1):
    """2-D convolution as one matrix product per kernel row, block by block.

    ``out = b + sum_a taps(a) @ w[a]``, where ``taps(a)`` is ``(N*OH*OW, KW*C)``: the ``KW``
    taps of kernel row ``a`` side by side, and ``w[a]`` is ``(KW*C, C_out)``.

    Parameters
    ----------
    x : (N, H, W, C) array_like
    w : (KH, KW, C, C_out) array_like
    b : (C_out,) array_like or None
    stride, dilation : int or (rows, cols)
    padding : "valid", "same", int, (ph, pw) or ((top, bottom), (left, right))
        Zero padding.

    Returns
    -------
    out : (N, OH, OW, C_out)
    cache : ConvCache
    """
    x, w, b = common.conv_inputs(x, w, b)
    geometry = common.conv_geometry(x.shape, w.shape, stride, padding, dilation)
    windows = window_view(geometry.pad(x, 0), geometry)         # (N, OH, OW, KH, KW, C)
    n, oh, ow, kernel_rows, kernel_cols, channels = windows.shape
    w_rows = w.reshape(kernel_rows, kernel_cols * channels, w.shape[3])   # (KH, KW*C, C_out)
    out = np.empty((n, oh, ow, w.shape[3]), dtype=x.dtype)
    # Blocks of about BLOCK_BYTES of taps: BLAS runs about twice as fast on operands that stay
    # in cache, and the scratch below is allocated once, not once per kernel row.
    blocks, (n, r) = row_blocks((n, oh, ow, kernel_cols * channels), x.itemsize)
    taps_buffer = np.empty((n, r, ow, kernel_cols, channels), dtype=x.dtype)
    product_buffer = np.empty((n * r * ow, w.shape[3]), dtype=x.dtype)
    for images, rows in blocks:            # a few large blocks, for cache locality
        block = out[images, rows]                               # (n, r, OW, C_out)
        n, r = block.shape[:2]
        block_rows = block.reshape(n * r * ow, w.shape[3])      # a view: (n*r*OW, C_out)
        taps, product = taps_buffer[:n, :r], product_buffer[:n * r * ow]
        for a in range(kernel_rows):
            # A contiguous copy lets matmul call BLAS, and a whole kernel row gives it KW*C
            # numbers per row instead of C (faster when C is small): (n, r, OW, KW, C)
            np.copyto(taps, windows[images, rows, :, a])
            # (n*r*OW, KW*C) @ (KW*C, C_out); the first product goes straight into out
            np.matmul(taps.reshape(-1, kernel_cols * channels), w_rows[a],
                      out=block_rows if a == 0 else product)
            if a > 0:
                block_rows += product
    if b is not None:
        out += b
    return out, common.ConvCache(geometry, x, w)


def conv_backward(dout, cache):
    """Gradients of :func:`conv_forward`, block by block: ``dw`` one matrix product per kernel
    row, ``dx`` one per kernel offset.

    Parameters
    ----------
    dout : (N, OH, OW, C_out) array_like
    cache : ConvCache

    Returns
    -------
    dx : (N, H, W, C)
    dw : (KH, KW, C, C_out)
    db : (C_out,)
    """
    geometry, w = cache.geometry, cache.w
    dout = common.check_dout(dout, geometry, w.shape[3])
    dtype = common.backward_dtype(cache.dtype, dout)
    dout = dout.astype(dtype, copy=False)
    windows = window_view(geometry.pad(cache.x, 0), geometry)   # (N, OH, OW, KH, KW, C)
    n, oh, ow, kernel_rows, kernel_cols, channels = windows.shape
    dxpad = common.zeros_padded(geometry, dtype)
    grad_windows = window_view(dxpad, geometry, writeable=True)
    dw_rows = np.zeros((kernel_rows, kernel_cols * channels, w.shape[3]), dtype=dtype)
    w_transposed = w.transpose(0, 1, 3, 2).astype(dtype)       # (KH, KW, C_out, C)
    blocks, (n, r) = row_blocks((n, oh, ow, kernel_cols * channels), np.dtype(dtype).itemsize)
    taps_buffer = np.empty((n, r, ow, kernel_cols, channels), dtype=cache.dtype)
    dw_part = np.empty(dw_rows.shape[1:], dtype=dtype)         # (KW*C, C_out)
    grad_buffer = np.empty((n * r * ow, channels), dtype=dtype)
    for images, rows in blocks:            # a few large blocks, for cache locality
        block_dout = dout[images, rows]                         # (n, r, OW, C_out)
        n, r = block_dout.shape[:2]
        dout_rows = block_dout.reshape(n * r * ow, w.shape[3])  # (n*r*OW, C_out)
        taps, tap_grad = taps_buffer[:n, :r], grad_buffer[:n * r * ow]
        for a in range(kernel_rows):
            np.copyto(taps, windows[images, rows, :, a])         # (n, r, OW, KW, C)
            # (KW*C, n*r*OW) @ (n*r*OW, C_out) -> (KW*C, C_out), summed over the blocks
            np.matmul(taps.reshape(-1, kernel_cols * channels).T, dout_rows, out=dw_part)
            dw_rows[a] += dw_part
            for b in range(kernel_cols):
                # (n*r*OW, C_out) @ (C_out, C) -> (n, r, OW, C): one product per offset keeps
                # each tap's gradient contiguous for the += below
                np.matmul(dout_rows, w_transposed[a, b], out=tap_grad)
                target = grad_windows[images, rows, :, a, b, :]   # one offset: each pixel once
                np.add(target, tap_grad.reshape(n, r, ow, channels), out=target)
    db = dout.reshape(-1, w.shape[3]).sum(axis=0)               # -> (C_out,)
    return geometry.crop(dxpad), dw_rows.reshape(w.shape), db
