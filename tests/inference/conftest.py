"""Shared setup for the inference tests: one CPU thread, offline hub, quiet transformers."""

from __future__ import annotations

from tests.fixtures.torch_setup import quiet_single_thread_torch

quiet_single_thread_torch()

import pytest  # noqa: E402
import torch  # noqa: E402

requires_cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
