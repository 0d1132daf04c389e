"""The trainers' tests (``training/``, outside the wheel) run tiny models: torch set up as for the
inference tests."""

from __future__ import annotations

from tests.fixtures.torch_setup import quiet_single_thread_torch

quiet_single_thread_torch()
