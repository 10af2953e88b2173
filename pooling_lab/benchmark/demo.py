"""Run the four styles on a photo, say whether they agree and how long each took, draw them.

``python -m pooling_lab demo [IMAGE]`` loads a bundled photo (``astronaut`` unless IMAGE names
another, or a file), runs max pool, average pool and a 3x3 edge-finding convolution forward
and backward in each style, prints a table of times and differences, and writes a picture of
the forward outputs and the backward gradients to a PNG whose name it prints. Exit status 0
when the styles agree, :data:`DISAGREE` (3) when they do not; 2 and 130 as every command.

The upstream gradient is ``dout = out``, the gradient of the loss ``sum(out**2) / 2``: each
output sends back its own value, so ``dx`` shows where the outputs came from.
"""

from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

from .. import OPS, STYLES, images, measure, op_functions, rules, viz
from ..cli import output_file

#: The command multiplies matrices (convolution): it takes ``--threads``.
USES_BLAS = True

#: A 3x3 Laplacian: it answers 0 on flat regions and strongly on edges.
EDGE_KERNEL = np.array([[0.0, 1.0, 0.0], [1.0, -4.0, 1.0], [0.0, 1.0, 0.0]])

#: The exit status when the styles disagree (0 and 2 are taken: done, and a bad option).
DISAGREE = 3

#: The figure formats matplotlib writes without LaTeX (its PGF backend needs xelatex).
FIGURE_FORMATS = sorted(set(Figure().canvas.get_supported_filetypes()) - {"pgf"})

#: The largest ``--size``: a 1024x1024 photo already keeps the naive style busy for minutes,
#: and the slice-stacking style holds several copies of it (about 25 MB each, float64).
LARGEST_SIZE = 1024


def load_image(image: str, size: int) -> tuple:
    """A bundled photo's name or an image file -> ((1, H, W, 3) float64 in [0, 1], its name);
    a ValueError if it is neither, or holds NaN or infinite values (a float TIFF can)."""
    if image in images.names():
        return images.load(image, size=size), image
    path = Path(image)
    if not path.is_file():
        raise ValueError(f"IMAGE must be one of {images.names()} or an image file; got {image!r}")
    try:
        x = images.load_file(path, size=size)
    except (OSError, ValueError) as error:        # not an image, unreadable, a mode Pillow lacks
        raise ValueError(f"IMAGE {image!r} could not be loaded: {error}") from None
    if not np.isfinite(x).all():                  # a float TIFF may hold NaN or inf
        raise ValueError(f"IMAGE {image!r} holds NaN or infinite values; the demo needs a "
                         f"photo of finite numbers")
    return x, path.name


def run_op(style_name: str, op: str, x: np.ndarray, size: int, stride: int) -> dict:
    """Forward and backward of one op in one style, timed once: a dict of ``out``
    (1, OH, OW, C), ``dx`` (1, H, W, C), and ``forward`` and ``backward`` in seconds."""
    forward, backward = op_functions(style_name, op)
    if op == "conv":
        w = EDGE_KERNEL[:, :, None, None] * np.eye(x.shape[3])   # (3, 3, C, C): channels apart
        (out, cache), forward_seconds = measure.timed(lambda: forward(x, w, padding="same"))
    else:
        (out, cache), forward_seconds = measure.timed(lambda: forward(x, size, stride=stride))
    grads, backward_seconds = measure.timed(lambda: backward(out, cache))     # dout = out
    return {"out": out, "dx": grads[0] if op == "conv" else grads,    # conv: (dx, dw, db)
            "forward": forward_seconds, "backward": backward_seconds}


def tour(x: np.ndarray, name: str, pool: int = 3, stride: int = 2,
         output: str = "pooling_lab_demo.png", show=print) -> dict:
    """Run every op in every style on ``x`` (1, H, W, 3), print the table through ``show``;
    return ``{op: {style: result}}`` (:func:`run_op`'s, plus its ``difference`` from the naive
    style), ``agree`` and ``figure``, the path of the picture written to ``output``."""
    show(f"Photo: {name}, x of shape {x.shape} (N, H, W, C), float64 in [0, 1]\n")
    titles = {"max": f"max · size {pool} · stride {stride}",
              "avg": f"avg · size {pool} · stride {stride}", "conv": "conv · 3x3 Laplacian · same"}
    results = {}
    show(f"{'op':<34} {'style':<8} {'forward':>10} {'backward':>10}   max |diff| from naive")
    for op in OPS:
        results[op] = by_style = {}
        for style_name in STYLES:
            by_style[style_name] = result = run_op(style_name, op, x, pool, stride)
            result["difference"] = max(float(np.abs(result[key] - by_style["naive"][key]).max())
                                       for key in ("out", "dx"))
            shown = "-" if style_name == "naive" else f"{result['difference']:.1e}"
            show(f"{titles[op]:<34} {style_name:<8} {result['forward'] * 1e3:8.1f} ms "
                 f"{result['backward'] * 1e3:8.1f} ms   {shown}")
    worst = max(r["difference"] for by_style in results.values() for r in by_style.values())
    agree = worst <= 1e-10                # float64: the styles may differ only by rounding
    show(f"\nAll {len(STYLES)} styles {'agree' if agree else 'DISAGREE'}: largest difference "
         f"{worst:.1e} over every output and gradient (float64).")
    for op, by_style in results.items():
        seconds = {style: r["forward"] + r["backward"] for style, r in by_style.items()}
        fastest = min(seconds, key=seconds.get)
        show(f"{op}: fastest style {fastest}, {seconds['naive'] / seconds[fastest]:.0f}x faster "
             f"than naive (one run each; `python -m pooling_lab bench` measures properly)")
    figure_path = save_figure(x, results, titles, output)
    show(f"\nWrote {figure_path}: forward outputs (top) and gradients dx (bottom), strided style.")
    return {**results, "agree": agree, "figure": figure_path}


def save_figure(x, results, titles, output) -> str:
    """Top row: the photo and the three forward outputs; bottom row: ``dx`` of each op. Drawn
    with :mod:`pooling_lab.viz` on a ``Figure`` of its own: no window, the backend untouched."""
    figure = Figure(figsize=(13, 6.8), layout="constrained")
    axes = figure.subplots(2, 4)
    viz.show_image(x, ax=axes[0, 0], title=f"input · {x.shape[1]}x{x.shape[2]}")
    axes[1, 0].axis("off")
    axes[1, 0].text(0.5, 0.5, "dout = out\n(loss = sum(out²) / 2)\n\ngradients: RdBu_r,\n"
                    "limits ± 99.5th percentile\nof |dx|, summed over channels",
                    ha="center", va="center", fontsize=11)
    for column, op in enumerate(OPS, start=1):
        result = results[op]["strided"]
        out = picture = result["out"][0]           # (1, OH, OW, C) -> (OH, OW, C)
        if op == "conv":
            edges = np.abs(out).sum(axis=2)        # (OH, OW, C) -> (OH, OW): edge strength
            # Scaled so that the 99th percentile is white: a few strong edges would dim the rest.
            picture = edges / viz.symmetric_limit(edges, percentile=99)
        viz.show_image(picture, ax=axes[0, column],
                       title=f"{titles[op]}\nout {out.shape[0]}x{out.shape[1]}")
        dx = result["dx"][0].sum(axis=2)           # (H, W, C) -> (H, W)
        limit = viz.symmetric_limit(dx, percentile=99.5)    # a few outliers would wash it out
        viz.show_gradient(dx, ax=axes[1, column], title=f"dx\n{titles[op]}", limit=limit)
    path = Path(output).expanduser()
    figure.savefig(path, dpi=90)
    return str(path.resolve())


def add_arguments(parser) -> None:
    """The options of ``python -m pooling_lab demo``."""
    option = parser.add_argument
    option("image", nargs="?", default="astronaut", help=f"a bundled photo "
           f"({', '.join(images.names())}) or an image file (default: astronaut)")
    option("--size", type=int, default=160, help=f"resize so that the longer side has this many "
           f"pixels, 1 to {LARGEST_SIZE} (default 160; the naive style takes seconds)")
    option("--pool", type=int, default=3,
           help="pooling size, at most the photo's shorter side (default 3)")
    option("--stride", type=int, default=2, help="pooling stride (default 2)")
    option("--output", default="pooling_lab_demo.png", help="where to write the figure; its suffix "
           f"sets the format, one of {', '.join(FIGURE_FORMATS)}; default: pooling_lab_demo.png")


def check_arguments(args) -> dict:
    """Check the options, load the photo (see :mod:`pooling_lab.cli`); :func:`tour`'s arguments."""
    size = rules.positive_int(args.size, "--size")
    if size > LARGEST_SIZE:
        raise ValueError(f"--size must be from 1 to {LARGEST_SIZE} pixels (the naive style "
                         f"already takes minutes at {LARGEST_SIZE}); got {size}")
    pool = rules.positive_int(args.pool, "--pool")
    stride = rules.positive_int(args.stride, "--stride")
    output = output_file(args.output, "--output", FIGURE_FORMATS)
    x, name = load_image(args.image, size)
    if pool > min(x.shape[1:3]):                 # no window would fit
        raise ValueError(f"--pool {pool} is larger than the photo, {x.shape[1]}x{x.shape[2]} "
                         f"pixels at --size {size}; use a smaller --pool or a larger --size")
    return {"x": x, "name": name, "pool": pool, "stride": stride, "output": str(output)}


def run(settings: dict) -> int:
    """Run the tour; exit status 0 if the styles agree, :data:`DISAGREE` if not."""
    return 0 if tour(**settings)["agree"] else DISAGREE
