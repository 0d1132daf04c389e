"""Checking that work grows linearly with its input, without a wall-clock limit.

A measure gives CPU ms per unit of input at a size; :func:`growth` compares the time per unit at
a small and at a large size (8 times as large by default). Linear work keeps its time per unit
(a ratio near 1); quadratic work takes about 8 times as long per unit. The large run may only
spend its share of the budget that ratio allows; one that overruns is stopped there (by a CPU
timer, which also interrupts a regex), so slow old code fails in seconds instead of running for
hours. Measure with ``time.thread_time``: while that timer is armed, Linux updates the process's
CPU clock (``time.process_time``) only at scheduler ticks.
"""

from __future__ import annotations

import signal
from collections.abc import Callable, Iterator
from contextlib import contextmanager

GROWTH_LIMIT = 3.0  # linear is ~1; quadratic is ~8 for 8 times the input
SMALL_BUDGET = 20.0  # CPU seconds for the small runs, which take milliseconds when linear


class TooSlow(Exception):
    pass


@contextmanager
def cpu_budget(seconds: float) -> Iterator[None]:
    """Stop the code inside after ``seconds`` of CPU time (a regex checks for signals too)."""
    if not hasattr(signal, "setitimer"):  # Windows: no timer, the ratio check still runs
        yield
        return

    def stop(signum: int, frame: object) -> None:
        # Raised where the code happens to be; if that is a callback whose errors are swallowed
        # (a garbage collector callback), the timer fires again soon after.
        signal.setitimer(signal.ITIMER_VIRTUAL, 0.05)
        raise TooSlow

    previous = signal.signal(signal.SIGVTALRM, stop)
    signal.setitimer(signal.ITIMER_VIRTUAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_VIRTUAL, 0)
        signal.signal(signal.SIGVTALRM, previous)


def growth(measure: Callable[[float], float], small: float, large: float) -> float:
    """Time per unit at ``large`` over time per unit at ``small``; ``measure(size)`` gives CPU ms
    per unit, from the best of three runs. Infinite when a run overran its budget."""
    try:
        with cpu_budget(SMALL_BUDGET):
            per_unit_small = measure(small)
        # seconds for one large run, with room for making the input and collecting garbage
        budget = GROWTH_LIMIT * per_unit_small * large / 1000 + 1.0
        with cpu_budget(budget * 3):  # three runs, the best one counts
            per_unit_large = measure(large)
    except TooSlow:
        return float("inf")
    return per_unit_large / per_unit_small
