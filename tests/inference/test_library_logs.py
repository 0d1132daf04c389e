"""diffusers' and transformers' own messages reach the app's logging, never the bare terminal."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

# What the CLI does (storyboard.cli.main: errors only, -v for all), then what the engines import.
SCRIPT = """
import logging, sys, warnings
verbose = sys.argv[1] == "-v"
level = logging.DEBUG if verbose else logging.ERROR
logging.basicConfig(level=level, format="%(name)s: %(message)s")
from inference.model_loading import quiet_libraries
quiet_libraries()
from diffusers import MotionAdapter, StableDiffusionPipeline, UNetMotionModel
from transformers.utils import logging as transformers_logging
transformers_logging.get_logger("transformers.test").warning("a library's own notice")
warnings.warn("a library deprecation", FutureWarning)
"""


def run(flag: str) -> str:
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, flag], cwd=ROOT, capture_output=True, text=True, check=True
    )
    return done.stdout + done.stderr


@pytest.mark.slow
def test_library_notices_are_quiet_unless_asked_for() -> None:
    assert run("-q") == ""
    verbose = run("-v")
    assert "transformers.test: a library's own notice" in verbose
    assert "py.warnings" in verbose and "a library deprecation" in verbose
