"""``generate`` on hostile projects: identity banks stay in the project's own cache folder.

A character id such as ``../../models/v1`` once made the bank save write into another folder and
its clean-up delete that folder's ``*.safetensors``; a ``cache/`` or ``cache/identity/`` linked
elsewhere had the same effect. ``bench/hostile_runs.py`` snapshots everything outside the run's
bundle before and after (see ``tests/hostile``).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.hostile_commands import generate_command
from bench.hostile_projects import variants
from bench.hostile_runs import run
from bench.hostile_sandbox import Sandbox, make_sandbox
from tests.fixtures.engine_helpers import save_tiny

CHOSEN = [
    "characters.id/traversal",
    "characters.id/absolute",
    "cache/symlink",
    "cache/identity/symlink",
    "cache/identity/<bank>/symlink",
    "all-ids/traversal",
]


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Sandbox:
    return make_sandbox(Path(tmp_path_factory.mktemp("hostile")))


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> str:
    return str(save_tiny("sdxl", tmp_path_factory.mktemp("models") / "tiny-sdxl"))


@pytest.mark.slow
@pytest.mark.parametrize("name", CHOSEN)
def test_generate_keeps_its_banks_inside_the_bundle(sandbox: Sandbox, tiny: str, name: str) -> None:
    variant = next(v for v in variants() if v.name == name)
    outcome = run(sandbox, variant, generate_command(tiny))
    assert outcome.ok, outcome.describe()
    assert outcome.stdout.startswith("generated 3 image(s)")
    banks = [p for p in outcome.bundle_after if p.endswith(".safetensors")]
    if name.startswith(("characters", "cache/identity/<bank>")):  # the cache is usable: kept there
        assert len(banks) == 2 and all(b.startswith("cache/identity/") for b in banks), banks
    else:  # a cache leading out is not used at all
        assert banks == []
