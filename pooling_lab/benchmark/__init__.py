"""The benchmark: ``bench`` (timings of the four styles, and PyTorch's in ``torch_worker``,
a process of its own) and ``demo`` (a terminal tour). They build on the lesson core
(:mod:`pooling_lab`) and are never imported by it.
"""
