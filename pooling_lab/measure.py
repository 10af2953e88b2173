"""Measuring a call: how long it takes (``timeit``) and how much memory it holds (``tracemalloc``).

One home for the two measurements the course makes: the benchmark, the checkers, the demo and
notebook 06 all call these, so a time or a peak means the same thing everywhere.

>>> import numpy as np
>>> x = np.ones((256, 256))
>>> peak_bytes(lambda: x * 2) >= x.nbytes          # the product is a new array
True
"""

import statistics
import time
import timeit
import tracemalloc

#: The clocks by name: wall time, or this process's CPU time (steadier on a busy machine).
CLOCKS = {"wall": time.perf_counter, "cpu": time.process_time}


def seconds(call, repeats: int = 5, clock=time.perf_counter, warm_up: bool = True) -> list[float]:
    """Run ``call()`` once to warm up (unless ``warm_up`` is False: the caller already did),
    then ``repeats`` times; the seconds of each run on ``clock`` (one of :data:`CLOCKS`)."""
    if warm_up:
        call()
    return timeit.Timer(call, timer=clock).repeat(repeat=repeats, number=1)


def median_seconds(call, repeats: int = 5, clock=time.perf_counter) -> float:
    """The median of :func:`seconds`: one slow run (a page fault, say) does not move it."""
    return statistics.median(seconds(call, repeats, clock))


def timed(call, clock=time.perf_counter) -> tuple:
    """Run ``call()`` once; return what it returned and the seconds it took."""
    start = clock()
    result = call()
    return result, clock() - start


def peak_bytes(call) -> int:
    """The most memory ``call()`` allocates at once beyond what existed before it, in bytes:
    ``tracemalloc`` sees every allocation through Python's allocator, NumPy's arrays included
    (if it was already tracing, it is left tracing)."""
    was_tracing = tracemalloc.is_tracing()
    if not was_tracing:
        tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        before, _ = tracemalloc.get_traced_memory()
        call()
        return tracemalloc.get_traced_memory()[1] - before
    finally:
        if not was_tracing:
            tracemalloc.stop()
