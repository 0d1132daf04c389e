"""Every command on every hostile project: nothing outside the bundle is read, written or deleted.

Each variant (``bench/hostile_projects.py``) puts a traversal, an absolute path, an odd name or a
link into one id field or bundle entry; ``bench/hostile_runs.py`` runs a command on a fresh copy,
compares a snapshot of everything else in the sandbox (the victim folder, the other bundles:
names, sizes, modification times, link targets) and looks for the victim's secret image, sound
and text in what was written. Variants the loader can repair must still work (exit 0); the others
are refused with one error line (exit 2) naming the problem.
"""

from __future__ import annotations

import pytest

from bench.hostile_commands import COMMANDS
from bench.hostile_projects import variants
from bench.hostile_runs import run, run_storyboarder
from bench.hostile_sandbox import Sandbox, Variant
from bench.hostile_storyboarder import STORYBOARDER, StoryboarderVariant

FAST = [command for command in COMMANDS if not command.slow]


@pytest.mark.parametrize("variant", variants(), ids=lambda v: v.name)
def test_every_command_stays_inside_the_bundle(sandbox: Sandbox, variant: Variant) -> None:
    failures = [
        outcome.describe() for command in FAST if not (outcome := run(sandbox, variant, command)).ok
    ]
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize("variant", STORYBOARDER, ids=lambda v: v.name)
def test_a_storyboarder_import_reads_only_its_own_folder(
    sandbox: Sandbox, variant: StoryboarderVariant
) -> None:
    outcome = run_storyboarder(sandbox, variant)
    assert outcome.ok, outcome.describe()
    assert outcome.stdout.startswith("imported 1 boards")  # the board itself is kept (empty)


def test_a_refused_project_names_the_field_and_the_value(sandbox: Sandbox) -> None:
    variant = next(v for v in variants() if v.name == "panels.image/traversal")
    outcome = run(sandbox, variant, COMMANDS[0])
    assert outcome.rc == 2
    assert "panels.p1.image: '../../../victim/secret' is not an image id" in outcome.stderr


def test_clean_up_refuses_an_assets_folder_linked_elsewhere(sandbox: Sandbox) -> None:
    variant = next(v for v in variants() if v.name == "assets/symlink")
    clean_up = next(c for c in COMMANDS if c.name == "clean-up")
    outcome = run(sandbox, variant, clean_up)
    assert outcome.ok, outcome.describe()
    assert "assets: leads outside the project folder" in outcome.stderr
