"""The terminal tour: the three styles on a photo, whether they agree, how long each took.

``python -m pooling_lab demo [IMAGE]`` loads a bundled photo (``astronaut`` unless IMAGE names
another, or a file), runs max pool, average pool and a 3x3 edge-finding convolution forward
and backward in each style, prints a table of times and differences, and writes a picture
of the forward outputs and the backward gradients to a PNG whose name it prints.

The upstream gradient is ``dout = out``, the gradient of the loss ``sum(out**2) / 2``: each
output sends back its own value, so ``dx`` shows where the outputs came from.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from . import STYLES, images

#: A 3x3 Laplacian: it answers 0 on flat regions and strongly on edges.
EDGE_KERNEL = np.array([[0.0, 1.0, 0.0], [1.0, -4.0, 1.0], [0.0, 1.0, 0.0]])


def load_image(image: str, size: int) -> tuple:
    """A bundled photo's name or an image file -> ((1, H, W, 3) float64 in [0, 1], its name)."""
    if image in images.names():
        return images.load(image, size=size), image
    path = Path(image)
    if not path.is_file():
        raise SystemExit(f"demo: IMAGE must be one of {images.names()} or an image file; "
                         f"got {image!r}")
    return images.load_file(path, size=size), path.name


def edge_weights(channels: int) -> np.ndarray:
    """(3, 3, C, C): the Laplacian on each channel separately."""
    w = np.zeros((3, 3, channels, channels))
    for c in range(channels):
        w[:, :, c, c] = EDGE_KERNEL
    return w


def run_op(style, op: str, x: np.ndarray, size: int, stride: int) -> dict:
    """Forward and backward of one op in one style, timed (seconds)."""
    start = time.perf_counter()
    if op == "conv":
        out, cache = style.conv_forward(x, edge_weights(x.shape[3]), padding="same")
    else:
        out, cache = getattr(style, f"{op}_pool_forward")(x, size, stride=stride)
    middle = time.perf_counter()
    grads = getattr(style, f"{op}_pool_backward" if op != "conv" else "conv_backward")(out, cache)
    end = time.perf_counter()
    dx = grads[0] if op == "conv" else grads
    return {"out": out, "dx": dx, "forward": middle - start, "backward": end - middle}


def tour(image: str = "astronaut", size: int = 160, pool: int = 3, stride: int = 2,
         output: str = "pooling_lab_demo.png", show=print) -> dict:
    """Run the tour; return ``{op: {style: result}}`` and write the figure to ``output``."""
    x, name = load_image(image, size)
    show(f"Photo: {name}, x of shape {x.shape} (N, H, W, C), float64 in [0, 1]\n")
    titles = {"max": f"max · size {pool} · stride {stride}",
              "avg": f"avg · size {pool} · stride {stride}",
              "conv": "conv · 3x3 Laplacian · same"}
    results = {}
    show(f"{'op':<34} {'style':<8} {'forward':>10} {'backward':>10}   max |diff| from naive")
    for op in ("max", "avg", "conv"):
        results[op] = {}
        for style_name, style in STYLES.items():
            result = run_op(style, op, x, pool, stride)
            results[op][style_name] = result
            reference = results[op]["naive"]
            difference = max(float(np.abs(result["out"] - reference["out"]).max()),
                             float(np.abs(result["dx"] - reference["dx"]).max()))
            result["difference"] = difference
            show(f"{titles[op]:<34} {style_name:<8} {result['forward'] * 1e3:8.1f} ms "
                 f"{result['backward'] * 1e3:8.1f} ms   "
                 f"{'-' if style_name == 'naive' else f'{difference:.1e}'}")
    worst = max(r["difference"] for op in results.values() for r in op.values())
    agree = worst <= 1e-10
    show(f"\nThe three styles {'agree' if agree else 'DISAGREE'}: largest difference "
         f"{worst:.1e} over every output and gradient (float64).")
    fastest = {op: min(r, key=lambda s: r[s]["forward"] + r[s]["backward"])
               for op, r in results.items()}
    for op, r in results.items():
        naive_time = r["naive"]["forward"] + r["naive"]["backward"]
        best_time = r[fastest[op]]["forward"] + r[fastest[op]]["backward"]
        show(f"{op}: fastest style {fastest[op]}, {naive_time / best_time:.0f}x faster "
             f"than naive (one run each; `python -m pooling_lab bench` measures properly)")
    figure_path = save_figure(x, results, titles, output)
    show(f"\nWrote {figure_path}: forward outputs (top) and gradients dx (bottom), "
         f"strided style.")
    results["agree"] = agree
    results["figure"] = figure_path
    return results


def save_figure(x, results, titles, output) -> str:
    """Top row: the photo and the three forward outputs; bottom row: ``dx`` of each op."""
    import matplotlib
    matplotlib.use("Agg")                          # a file, no window
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(2, 4, figsize=(13, 6.8))
    axes[0, 0].imshow(x[0])
    axes[0, 0].set_title(f"input · {x.shape[1]}x{x.shape[2]}")
    axes[1, 0].axis("off")
    axes[1, 0].text(0.5, 0.5, "dout = out\n(loss = sum(out²) / 2)\n\ngradients: RdBu_r,\n"
                    "limits ± 99.5th percentile\nof |dx|, summed over channels",
                    ha="center", va="center", fontsize=11)
    for column, op in enumerate(("max", "avg", "conv"), start=1):
        result = results[op]["strided"]
        out = result["out"][0]
        if op == "conv":
            edges = np.abs(out).sum(axis=2)        # (OH, OW, C) -> (OH, OW): edge strength
            axes[0, column].imshow(edges, cmap="gray_r", vmin=0, vmax=np.percentile(edges, 99))
        else:
            axes[0, column].imshow(np.clip(out, 0, 1))
        axes[0, column].set_title(f"{titles[op]}\nout {out.shape[0]}x{out.shape[1]}")
        dx = result["dx"][0].sum(axis=2)           # (H, W, C) -> (H, W)
        limit = float(np.percentile(np.abs(dx), 99.5)) or 1.0    # a few outliers would wash it out
        image = axes[1, column].imshow(dx, cmap="RdBu_r", vmin=-limit, vmax=limit)
        axes[1, column].set_title(f"dx\n{titles[op]}")
        figure.colorbar(image, ax=axes[1, column], fraction=0.046, pad=0.03)
    for ax in axes.ravel():
        ax.set_xticks([])
        ax.set_yticks([])
    figure.tight_layout()
    figure.savefig(output, dpi=90)
    plt.close(figure)
    return str(Path(output).resolve())


def add_arguments(parser) -> None:
    """The options of ``python -m pooling_lab demo``."""
    parser.add_argument("image", nargs="?", default="astronaut",
                        help=f"a bundled photo ({', '.join(images.names())}) or an image file "
                             f"(default: astronaut)")
    parser.add_argument("--size", type=int, default=160,
                        help="resize so that the longer side has this many pixels (default 160; "
                             "the naive style takes seconds)")
    parser.add_argument("--pool", type=int, default=3, help="pooling size (default 3)")
    parser.add_argument("--stride", type=int, default=2, help="pooling stride (default 2)")
    parser.add_argument("--output", default="pooling_lab_demo.png",
                        help="where to write the figure (default: pooling_lab_demo.png)")


def main(args) -> int:
    results = tour(args.image, args.size, args.pool, args.stride, args.output)
    return 0 if results["agree"] else 1
