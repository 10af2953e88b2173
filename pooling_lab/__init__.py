"""pooling_lab: max pool, average pool and 2-D convolution, forward and backward, four ways.

Each style is a module with the same six functions (``max_pool_forward``, ``conv_backward``...)
and the same contract (shapes, padding, tie rule, errors), described once in
:mod:`pooling_lab.contract`; :mod:`pooling_lab.rules` reads the arguments and
:mod:`pooling_lab.geometry` places the windows.

``STYLES`` maps each style's name to its module, in the order the course teaches them, so a
notebook or a test can loop over them; :func:`op_functions` finds one op's pair of functions::

    for name, style in pooling_lab.STYLES.items():
        out, cache = style.max_pool_forward(x, size=3, stride=2)
"""

import importlib

from . import fast, naive, stacked, strided

__version__ = "1.0.0"

#: Three ways to visit the windows, and ``fast``, the strided idea plus engineering (notebook 06).
STYLES = {"naive": naive, "stacked": stacked, "strided": strided, "fast": fast}

#: The ops, and the names of their forward and backward functions in every style.
OPS = {"max": ("max_pool_forward", "max_pool_backward"),
       "avg": ("avg_pool_forward", "avg_pool_backward"),
       "conv": ("conv_forward", "conv_backward")}

#: The six functions every style provides, op by op.
FUNCTIONS = tuple(name for pair in OPS.values() for name in pair)


def check_style(style) -> str:
    """``style`` itself if it names a style of :data:`STYLES`, else a ``TypeError`` (not a
    string) or a ``ValueError`` (an unknown name) listing the names."""
    allowed = ", ".join(repr(name) for name in STYLES)
    if not isinstance(style, str):
        raise TypeError(f"style must be one of {allowed}; got {style!r} "
                        f"of type {type(style).__name__}")
    if style not in STYLES:
        raise ValueError(f"style must be one of {allowed}; got {style!r}")
    return style


def op_functions(style, op: str):
    """The ``(forward, backward)`` functions of ``op`` ("max", "avg" or "conv") in ``style``, a
    name in :data:`STYLES` (:func:`check_style`) or one of the style modules.

    >>> forward, backward = op_functions("naive", "max")
    >>> forward.__name__, backward.__name__
    ('max_pool_forward', 'max_pool_backward')
    """
    if not any(style is module for module in STYLES.values()):
        style = STYLES[check_style(style)]
    if op not in OPS:
        raise ValueError(f"op must be one of {list(OPS)}; got {op!r}")
    return tuple(getattr(style, name) for name in OPS[op])


#: Helper modules, imported on first use so that ``import pooling_lab`` stays quick (``viz``
#: pulls in matplotlib); ``pooling_lab.check`` finds one in a subpackage.
_LAZY_MODULES = {path.rpartition(".")[2]: path for path in (
    "images", "viz", "layers", "digits", "explore", "measure", "classroom.check",
    "classroom.gradcheck", "benchmark.bench", "benchmark.demo")}


def __getattr__(name):
    if name in _LAZY_MODULES:
        return importlib.import_module(f".{_LAZY_MODULES[name]}", __name__)
    raise AttributeError(f"module 'pooling_lab' has no attribute {name!r}")


__all__ = ["STYLES", "FUNCTIONS", "OPS", "check_style", "op_functions", "naive", "stacked",
           "strided", "fast", "rules", "geometry", "contract", "__version__", *_LAZY_MODULES]
