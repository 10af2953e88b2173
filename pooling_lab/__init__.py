"""pooling_lab: max pool, average pool and 2-D convolution, forward and backward, three ways.

Each style is a module with the same six functions and the same contract (shapes, padding,
tie rule, errors), described in :mod:`pooling_lab.common`::

    out, cache = max_pool_forward(x, size, stride=None, padding="valid", dilation=1)
    dx         = max_pool_backward(dout, cache)
    out, cache = avg_pool_forward(x, size, stride=None, padding="valid", dilation=1,
                                  count_include_pad=True)
    dx         = avg_pool_backward(dout, cache)
    out, cache = conv_forward(x, w, b=None, stride=1, padding="valid", dilation=1)
    dx, dw, db = conv_backward(dout, cache)

``STYLES`` maps each style's name to its module, slowest first, so a notebook or a test can
loop over them::

    for name, style in pooling_lab.STYLES.items():
        out, cache = style.max_pool_forward(x, size=3, stride=2)
"""

import importlib

from . import naive, stacked, strided

__version__ = "1.0.0"

#: The three styles, in the order the course teaches them.
STYLES = {"naive": naive, "stacked": stacked, "strided": strided}

#: The six functions every style provides.
FUNCTIONS = ("max_pool_forward", "max_pool_backward", "avg_pool_forward",
             "avg_pool_backward", "conv_forward", "conv_backward")

#: Helper modules, imported on first use so that ``import pooling_lab`` stays quick
#: (``viz`` pulls in matplotlib): ``pooling_lab.viz`` just works.
_LAZY_MODULES = ("images", "viz", "check", "layers", "digits", "bench", "demo")


def __getattr__(name):
    if name in _LAZY_MODULES:
        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module 'pooling_lab' has no attribute {name!r}")


__all__ = ["STYLES", "FUNCTIONS", "naive", "stacked", "strided", "__version__",
           *_LAZY_MODULES]
