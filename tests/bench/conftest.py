"""The benchmarks' CPU smoke runs (``bench/``, outside the wheel) on tiny models: torch set up as
for the inference tests. Timings are never checked: the CI machine is too noisy for them."""

from __future__ import annotations

from tests.fixtures.torch_setup import quiet_single_thread_torch

quiet_single_thread_torch()
