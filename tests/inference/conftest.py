"""Shared setup for the inference tests: one CPU thread, offline hub, quiet transformers.

One intra-op thread keeps timings stable on the 2-core CI machine (with more, runs under load were
10-30x slower; see research/stack-ml.md).
"""

from __future__ import annotations

import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
os.environ.setdefault("DIFFUSERS_VERBOSITY", "error")

import pytest
import torch

torch.set_num_threads(1)

requires_cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
