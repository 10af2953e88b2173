"""Style 4 · fast: the strided style plus engineering, same contract, same results.

:mod:`pooling_lab.strided` shows the idea: a zero-copy window view, read one kernel offset at
a time. This module keeps it and adds what makes it fast on real batches: every op walks its
output in **cache blocks** (:func:`blocks`), each tap visiting one block before the next, with
**contiguous scratch** allocated once, so NumPy's inner loops run over long rows. Each op's
docstring names its own path in bold; the engineering they share follows the ops. Arguments
and results are the contract's (:mod:`pooling_lab.contract`); notebook 06 measures each trick.

Example::

    >>> from pooling_lab import fast
    >>> x = np.arange(16.0).reshape(1, 4, 4, 1)        # one 4x4 image (N, H, W, C): 0 .. 15
    >>> out, cache = fast.conv_forward(x, np.ones((2, 2, 1, 1)), stride=2)    # 2x2 box sums
    >>> out[0, :, :, 0]
    array([[10., 18.],
           [42., 50.]])
"""

from typing import NamedTuple

import numpy as np

from .contract import (AvgPoolCache, ConvCache, MaxPoolCache, avg_divisor, backward_setup,
                       conv_setup, keep_padding_from_winning, pool_setup, winner_dtype)
from .geometry import Geometry
from .rules import accumulation_dtype
from .strided import window_view

#: About how many bytes of output one block holds: a block's output and scratch arrays stay in
#: a core's L2 cache (1-2 MB on current processors) while the taps visit them.
BLOCK_BYTES = 256 * 1024

#: Below this many channels, max pool with a column stride above 1 takes the phase path.
FEW_CHANNELS = 8


# ---- Max pool --------------------------------------------------------------------------------

def max_pool_forward(x, size, stride=None, padding="valid", dilation=1):
    """Max pool. **Path: a running maximum** kept with arithmetic, not masks
    (:func:`_keep_larger`), over contiguous copies of the taps, or of each block's **stride
    phases** for few channels (:func:`stride_phases`); windows holding NaN or 0 are settled
    afterwards, only those (:func:`_settle_nan_and_zero`)."""
    x, geometry = pool_setup(x, size, stride, padding, dilation)
    xpad = geometry.pad(x, -np.inf)                             # (N, Hp, Wp, C)
    # a column stride above 1 spaces a tap's numbers: its inner loops would run over C only
    if geometry.x_shape[3] < FEW_CHANNELS and geometry.stride[1] > 1:
        out, winner = _max_pool_phases(xpad, geometry)
    else:
        out, winner = _max_pool_taps(window_view(xpad, geometry), geometry)
    _settle_nan_and_zero(out, winner, xpad, geometry)
    keep_padding_from_winning(out, winner, geometry)
    return out, MaxPoolCache(geometry, winner, x.dtype)


def _max_pool_taps(windows, geometry):
    """Max pool, each tap copied from the window view: ``out, winner``, both ``(N, OH, OW, C)``."""
    shape = (windows.shape[0], *geometry.out_hw, windows.shape[5])   # (N, OH, OW, C)
    out = np.empty(shape, dtype=windows.dtype)
    winner = np.zeros(shape, dtype=winner_dtype(geometry))
    scratch = [Scratch(shape[2:], windows.dtype), Scratch(shape[2:], bool),
               Scratch(shape[2:], winner.dtype)]
    for images, rows, (tap, beats, marks) in blocks(shape, windows.itemsize, *scratch):
        block, block_winner = out[images, rows], winner[images, rows]     # (n, r, OW, C)
        for k, a, b in geometry.offsets():
            if k == 0:
                np.copyto(block, windows[images, rows, :, 0, 0, :])
                continue
            np.copyto(tap, windows[images, rows, :, a, b, :])   # read twice: copy contiguous once
            _keep_larger(tap, k, block, block_winner, beats, marks)
    return out, winner


def _max_pool_phases(xpad, geometry):
    """Max pool, each tap a block of whole rows of a copy of one stride phase: ``out, winner``,
    both ``(N, OH, OW, C)`` and C-contiguous."""
    shape = (xpad.shape[0], *geometry.out_hw, xpad.shape[3])        # (N, OH, OW, C)
    (sh, sw), ow = geometry.stride, shape[2]
    maxima = channels_first_empty(shape, xpad.dtype)
    winner = channels_first_empty(shape, winner_dtype(geometry))
    winner.fill(0)
    taps, reach = stride_phases(geometry)       # reach: {(p, q): (du, dv)}
    # a copy (n, r + du, OW + dv, C) per phase, in the order of reach; beats, marks (n, r, OW, C)
    scratch = [Scratch((ow + dv, shape[3]), xpad.dtype, extra_rows=du, channels_first=True)
               for du, dv in reach.values()]
    scratch += [Scratch(shape[2:], bool, channels_first=True),
                Scratch(shape[2:], winner.dtype, channels_first=True)]
    for images, rows, (*copies, beats, marks) in blocks(shape, xpad.itemsize, *scratch):
        block, block_winner = maxima[images, rows], winner[images, rows]  # (n, r, OW, C)
        for ((p, q), (du, dv)), copy in zip(reach.items(), copies):
            # one strided copy per phase, not per tap: (n, r + du, OW + dv, C)
            phase_rows = xpad[images, p::sh, q::sw][:, rows.start:rows.stop + du, :ow + dv]
            np.copyto(channels_first(copy), channels_first(phase_rows))
        phase_copy = dict(zip(reach, copies))   # (p, q) -> its copy for this block
        for k, phase, u, v in taps:            # in order of k, as _keep_larger needs
            tap = phase_copy[phase][:, u:u + block.shape[1], v:v + ow]   # (n, r, OW, C)
            if k == 0:
                np.copyto(block, tap)
            else:
                _keep_larger(tap, k, block, block_winner, beats, marks)
    contiguous = (np.empty(shape, xpad.dtype), np.empty(shape, winner.dtype))  # (N, OH, OW, C)
    for result, stored in zip(contiguous, (maxima, winner)):
        np.copyto(channels_first(result), channels_first(stored))   # runs along rows, not C
    return contiguous


def max_pool_backward(dout, cache):
    """Send each window's gradient to its winner. **Path: one scatter-add per block**, not
    strided's ``KH*KW`` masked passes: the winner's place in the flat ``dxpad`` is arithmetic,
    ``window_start[n, i, j, c] + tap_offset[k]``, and one ``np.add.at`` adds every gradient at
    its address (twice where two windows chose one pixel), in one tight loop in C when given
    one flat integer array and values of one dtype."""
    geometry, dout, dtype, sum_dtype = backward_setup(dout, cache, MaxPoolCache)
    dout = dout.astype(sum_dtype, copy=False)   # np.add.at's fast loop needs one dtype
    dxpad = np.zeros(geometry.padded_shape, dtype=sum_dtype)            # (N, Hp, Wp, C)
    _, hp, wp, channels = dxpad.shape
    (sh, sw), (dh, dw), ow = geometry.stride, geometry.dilation, dout.shape[2]
    tap_offset = np.array([(a * dh * wp + b * dw) * channels for _, a, b in geometry.offsets()],
                          dtype=np.intp)                        # (KH*KW,)
    n, r = largest_block(dout.shape, dxpad.itemsize)
    # where each window starts, counted from its block's first window: (n, r, OW, C)
    window_start = (np.arange(n).reshape(-1, 1, 1, 1) * (hp * wp * channels)
                    + np.arange(r).reshape(-1, 1, 1) * (sh * wp * channels)
                    + np.arange(ow).reshape(-1, 1) * (sw * channels)
                    + np.arange(channels))
    flat_dx = dxpad.reshape(-1)                                 # a view: (N*Hp*Wp*C,)
    scratch = Scratch(dout.shape[2:], np.intp)
    for images, rows, (address,) in blocks(dout.shape, dxpad.itemsize, scratch):
        block_start = (images.start * hp + rows.start * sh) * wp * channels
        # k -> its offset; every k is a valid index, and mode="clip" lets np.take write into
        # `address` directly (the default "raise" buffers the output first)
        np.take(tap_offset + block_start, cache.winner[images, rows], out=address, mode="clip")
        address += window_start[:address.shape[0], :address.shape[1]]
        # (n, r, OW, C) -> (n*r*OW*C,): one scatter-add, exact where windows share a pixel
        np.add.at(flat_dx, address.reshape(-1), dout[images, rows].reshape(-1))
    return geometry.crop(dxpad).astype(dtype, copy=False)       # -> (N, H, W, C)


# ---- Average pool ----------------------------------------------------------------------------

def avg_pool_forward(x, size, stride=None, padding="valid", dilation=1, count_include_pad=True):
    """Average pool. **Path: a separable box sum**: the ``KH`` rows of every window added first
    give row sums ``(N, OH, Wp, C)``, whose ``KW`` columns added give the window sums, ``KH +
    KW`` passes instead of ``KH * KW``, the first pass over whole image rows."""
    x, geometry = pool_setup(x, size, stride, padding, dilation)
    sum_dtype = accumulation_dtype(x.dtype)              # float32 for float16
    divisor = avg_divisor(geometry, count_include_pad, sum_dtype)  # (OH, OW, 1)
    xpad = geometry.pad(x, 0)                                   # (N, Hp, Wp, C)
    shape = (x.shape[0], *geometry.out_hw, x.shape[3])           # (N, OH, OW, C)
    sums = np.empty(shape, dtype=sum_dtype)
    scratch = Scratch(xpad.shape[2:], sum_dtype)                 # row sums: (n, r, Wp, C)
    for images, rows, (row_sums,) in blocks(shape, sum_dtype.itemsize, scratch):
        block = sums[images, rows]                              # (n, r, OW, C)
        for a in range(geometry.kernel[0]):
            # this block's rows i*SH + a*DH of the padded input, whole rows: (n, r, Wp, C)
            tap_rows = xpad[images, geometry.tap_slices(a, 0)[0]][:, rows]
            _copy_or_add(row_sums, tap_rows, add=a > 0)
        for b in range(geometry.kernel[1]):                     # columns j*SW + b*DW
            _copy_or_add(block, row_sums[:, :, geometry.tap_slices(0, b)[1]], add=b > 0)
        block /= divisor[rows]
    out = sums.astype(x.dtype, copy=False)                      # float16: rounded once
    return out, AvgPoolCache(geometry, divisor, x.dtype)


def avg_pool_backward(dout, cache):
    """Spread each window's share of the gradient over its taps. **Path: the separable box sum
    reversed**: shares go to the ``KW`` columns of their window, ``(N, OH, Wp, C)``, and those
    to its ``KH`` rows; a tap column (row) holds each pixel once, so every ``+=`` is exact."""
    geometry, dout, dtype, sum_dtype = backward_setup(dout, cache, AvgPoolCache)
    dxpad = np.zeros(geometry.padded_shape, dtype=sum_dtype)            # (N, Hp, Wp, C)
    # does a pixel lie in the rows (columns) of two windows? Only then are they read back
    rows_overlap, cols_overlap = (step < span for step, span in zip(geometry.stride, geometry.span))
    scratch = [Scratch(dout.shape[2:], sum_dtype),              # share: (n, r, OW, C)
               Scratch(dxpad.shape[2:], sum_dtype)]             # spread: (n, r, Wp, C)
    for images, rows, (share, spread) in blocks(dout.shape, sum_dtype.itemsize, *scratch):
        np.divide(dout[images, rows], cache.divisor[rows], out=share, dtype=sum_dtype)
        spread.fill(0)                        # columns no window reaches stay 0
        for b in range(geometry.kernel[1]):                     # columns j*SW + b*DW
            _copy_or_add(spread[:, :, geometry.tap_slices(0, b)[1]], share, add=cols_overlap)
        for a in range(geometry.kernel[0]):                     # this block's rows i*SH + a*DH
            tap_rows = dxpad[images, geometry.tap_slices(a, 0)[0]][:, rows]
            _copy_or_add(tap_rows, spread, add=rows_overlap)
    return geometry.crop(dxpad).astype(dtype, copy=False)       # -> (N, H, W, C)


# ---- Convolution -----------------------------------------------------------------------------

def conv_forward(x, w, b=None, stride=1, padding="valid", dilation=1):
    """2-D convolution. **Path: one blocked matrix product per kernel row**, ``out = bias +
    sum_a taps(a) @ w[a]`` with ``taps(a)`` ``(N*OH*OW, KW*C)`` (:func:`_kernel_row_taps`)."""
    x, w, bias, geometry, sum_dtype = conv_setup(x, w, b, stride, padding, dilation)
    windows = window_view(geometry.pad(x, 0), geometry)         # (N, OH, OW, KH, KW, C)
    kernel_rows, kernel_cols, channels, c_out = w.shape
    # (KH, KW, C, C_out) -> (KH, KW*C, C_out): one weight matrix per kernel row
    w_rows = w.reshape(kernel_rows, kernel_cols * channels, c_out).astype(sum_dtype)
    out = np.empty((x.shape[0], *geometry.out_hw, c_out), dtype=sum_dtype)
    product = Scratch((geometry.out_hw[1], c_out), sum_dtype)   # (n, r, OW, C_out)
    for images, rows, a, tap_rows, product_rows in _kernel_row_taps(windows, sum_dtype, product):
        # (n, r, OW, C_out) -> (n*r*OW, C_out): a view, blocks are contiguous
        block_rows = out[images, rows].reshape(product_rows.shape)
        # (n*r*OW, KW*C) @ (KW*C, C_out); the first product goes straight into out
        np.matmul(tap_rows, w_rows[a], out=block_rows if a == 0 else product_rows)
        if a > 0:
            block_rows += product_rows
    if bias is not None:
        out += bias
    out = out.astype(x.dtype, copy=False)                       # float16: rounded once
    return out, ConvCache(geometry, x, w)


def conv_backward(dout, cache):
    """Gradients of :func:`conv_forward`. **Path: blocked matrix products**: ``dw`` one per
    kernel row, ``dx`` one per kernel offset, added into a writeable window view (as strided)."""
    geometry, dout, dtype, sum_dtype = backward_setup(dout, cache, ConvCache)
    dout = dout.astype(sum_dtype, copy=False)
    windows = window_view(geometry.pad(cache.x, 0), geometry)   # (N, OH, OW, KH, KW, C)
    kernel_rows, kernel_cols, channels, c_out = cache.w.shape
    dxpad = np.zeros(geometry.padded_shape, dtype=sum_dtype)
    grad_windows = window_view(dxpad, geometry, writeable=True)
    dw_rows = np.zeros((kernel_rows, kernel_cols * channels, c_out), dtype=sum_dtype)
    w_transposed = cache.w.transpose(0, 1, 3, 2).astype(sum_dtype)     # (KH, KW, C_out, C)
    dw_part = np.empty(dw_rows.shape[1:], dtype=sum_dtype)     # (KW*C, C_out)
    tap_grad = Scratch((geometry.out_hw[1], channels), sum_dtype)   # (n, r, OW, C)
    for images, rows, a, tap_rows, grad_rows in _kernel_row_taps(windows, sum_dtype, tap_grad):
        dout_rows = dout[images, rows].reshape(len(tap_rows), c_out)     # (n*r*OW, C_out)
        # (KW*C, n*r*OW) @ (n*r*OW, C_out) -> (KW*C, C_out), summed over the blocks
        np.matmul(tap_rows.T, dout_rows, out=dw_part)
        dw_rows[a] += dw_part
        for b in range(kernel_cols):
            # (n*r*OW, C_out) @ (C_out, C) -> (n*r*OW, C): one product per offset keeps each
            # tap's gradient contiguous for the += below
            np.matmul(dout_rows, w_transposed[a, b], out=grad_rows)
            target = grad_windows[images, rows, :, a, b, :]   # one offset: each pixel once
            np.add(target, grad_rows.reshape(target.shape), out=target)
    db = dout.sum(axis=(0, 1, 2))                               # -> (C_out,)
    return tuple(grad.astype(dtype, copy=False)
                 for grad in (geometry.crop(dxpad), dw_rows.reshape(cache.w.shape), db))


# ---- The engineering the ops share: blocks and scratch, stride phases, the running maximum ---

class Scratch(NamedTuple):
    """A scratch array that :func:`blocks` allocates once and hands out block by block, as
    ``(n, r + extra_rows, *tail)`` for ``n`` images and ``r`` output rows; ``channels_first``
    stores it channels-first in memory (:func:`channels_first_empty`)."""

    tail: tuple
    dtype: object
    extra_rows: int = 0
    channels_first: bool = False


def largest_block(out_shape, itemsize: int) -> tuple[int, int]:
    """``(n, r)``: images and output rows in the largest block of an output ``(N, OH, OW, C)``,
    about :data:`BLOCK_BYTES`: several whole images, or several rows of one."""
    n, oh, ow, channels = out_shape
    row_bytes = max(1, ow * channels * itemsize)
    if oh * row_bytes <= BLOCK_BYTES:
        return max(1, min(n, BLOCK_BYTES // (oh * row_bytes))), oh           # whole images
    return 1, max(1, min(oh, BLOCK_BYTES // row_bytes))                      # rows of one


def blocks(out_shape, itemsize: int, *scratch: Scratch):
    """Walk an output ``(N, OH, OW, C)`` of ``itemsize``-byte numbers block by block: yield
    ``images, rows`` (slices: ``out[images, rows]`` is the block, ``(n, r, OW, C)``) and one
    view per :class:`Scratch`, in order. Each scratch array is allocated once, for the largest
    block (a fresh one per block costs a page fault per 4 KB), and every block gets the front
    of it, contiguous like the block (whole images, or rows of one image)."""
    per_image, per_row = largest_block(out_shape, itemsize)
    buffers = [(channels_first_empty if spec.channels_first else np.empty)(
                   (per_image, per_row + spec.extra_rows, *spec.tail), spec.dtype)
               for spec in scratch]
    n, oh = out_shape[:2]
    for first_image in range(0, n, per_image):
        images = slice(first_image, min(first_image + per_image, n))
        for first_row in range(0, oh, per_row):
            rows = slice(first_row, min(first_row + per_row, oh))
            size = (images.stop - images.start, rows.stop - rows.start)
            yield images, rows, tuple(buffer[:size[0], :size[1] + spec.extra_rows]
                                      for buffer, spec in zip(buffers, scratch))


def _kernel_row_taps(windows, sum_dtype, other: Scratch):
    """Walk the window view ``(N, OH, OW, KH, KW, C)`` in blocks of taps (BLAS runs about twice
    as fast on operands in cache), kernel row by row: yield ``images, rows, a``, the ``KW`` taps
    of row ``a`` side by side in contiguous scratch ``(n*r*OW, KW*C)`` (matmul then calls BLAS,
    on rows of ``KW*C`` numbers, not ``C``) and ``other``'s view ``(n*r*OW, other.tail[-1])``."""
    n, oh, ow, kernel_rows, kernel_cols, channels = windows.shape
    taps_spec = Scratch((ow, kernel_cols, channels), sum_dtype)     # (n, r, OW, KW, C)
    tap_shape = (n, oh, ow, kernel_cols * channels)
    for images, rows, (taps, extra) in blocks(tap_shape, sum_dtype.itemsize, taps_spec, other):
        pixels = taps.shape[0] * taps.shape[1] * ow             # n*r*OW rows
        tap_rows, extra_rows = taps.reshape(pixels, -1), extra.reshape(pixels, -1)   # views
        for a in range(kernel_rows):
            np.copyto(taps, windows[images, rows, :, a])        # (n, r, OW, KW, C)
            yield images, rows, a, tap_rows, extra_rows


def channels_first(array: np.ndarray) -> np.ndarray:
    """The view ``(n, h, w, C) -> (n, C, h, w)``. NumPy runs its inner loop along the axis that
    is contiguous in *every* array of a call, or else in the axis order it was given: handed
    channels-first views, it loops along image rows (``w`` numbers), not channels (``C``)."""
    return array.transpose(0, 3, 1, 2)


def channels_first_empty(shape, dtype) -> np.ndarray:
    """An empty ``(n, h, w, C)`` array stored ``(n, C, h, w)``: each channel's rows contiguous."""
    n, h, w, channels = shape
    return np.empty((n, channels, h, w), dtype).transpose(0, 2, 3, 1)


def stride_phases(geometry: Geometry):
    """Which stride phase of the padded input each kernel tap reads.

    Rows ``p, p + SH, p + 2*SH, ...`` of the padded input form row phase ``p`` (``0 <= p < SH``),
    and tap ``(a, b)`` of output row ``i`` reads row ``i*SH + a*DH = p + SH*(i + u)``, with
    ``(u, p) = divmod(a*DH, SH)``: rows ``u .. u + OH - 1`` of phase ``p``. Columns: ``(v, q)``.
    Returns ``taps``, a list of ``(k, (p, q), u, v)`` for every tap ``k = a*KW + b`` in order,
    and ``reach``, a dict ``{(p, q): (du, dv)}``: each phase read, and how many rows and
    columns beyond ``(OH, OW)`` its taps need."""
    (sh, sw), (dh, dw) = geometry.stride, geometry.dilation
    taps, reach = [], {}
    for k, a, b in geometry.offsets():
        (u, p), (v, q) = divmod(a * dh, sh), divmod(b * dw, sw)
        taps.append((k, (p, q), u, v))
        du, dv = reach.get((p, q), (0, 0))
        reach[p, q] = (max(du, u), max(dv, v))
    return taps, reach


def _keep_larger(tap, k, block, block_winner, beats, marks) -> None:
    """Fold tap ``k`` into the running maximum ``block`` and its ``block_winner``; ``beats``
    and ``marks`` are scratch. All five arrays have the block's shape ``(n, r, OW, C)``."""
    np.greater(tap, block, out=beats)                   # strict: an earlier tap keeps a tie
    np.maximum(block, tap, out=block)                   # NaN propagates
    # the winner is the last tap that beat the maximum and k only grows: winner = max(winner,
    # k * beats), no masked write; bool * k would cast every bool first, its uint8 bytes need not
    np.multiply(beats.view(np.uint8), block_winner.dtype.type(k), out=marks)
    np.maximum(block_winner, marks, out=block_winner)


def _settle_nan_and_zero(out, winner, xpad, geometry) -> None:
    """Fix, in place, the windows of ``out`` and ``winner`` (N, OH, OW, C), C-contiguous, that
    the running maximum gets wrong, by flat index: those holding NaN (``tap > max`` is False for
    NaN, yet the *last* NaN wins) and those whose maximum is 0 (``np.maximum`` may give ``-0.0``
    where the winner is ``0.0``; common after a ReLU). ``xpad`` is (N, Hp, Wp, C)."""
    # two fast reductions: np.max propagates NaN, and is any output 0?
    if out.size == 0 or not (np.isnan(out.max()) or (out == 0).any()):
        return
    suspects = np.flatnonzero(np.isnan(out) | (out == 0))   # flat indices into out: (S,)
    image, i, j, channel = np.unravel_index(suspects, out.shape)       # (S,) each
    (sh, sw), (dh, dw) = geometry.stride, geometry.dilation
    flat_winner = winner.reshape(-1)                            # a view: (N*OH*OW*C,)
    has_nan = np.isnan(out.reshape(-1)[suspects])
    for k, a, b in geometry.offsets():                  # the last NaN is written last
        value = xpad[image, i * sh + a * dh, j * sw + b * dw, channel]          # (S,)
        flat_winner[suspects[has_nan & np.isnan(value)]] = k
    a, b = np.divmod(flat_winner[suspects].astype(np.intp), geometry.kernel[1])
    out.reshape(-1)[suspects] = xpad[image, i * sh + a * dh, j * sw + b * dw, channel]


def _copy_or_add(target, value, add: bool) -> None:
    """``target += value``, or, when ``add`` is False, a copy that skips reading ``target``."""
    if add:
        np.add(target, value, out=target)
    else:
        np.copyto(target, value)
