"""The reliability benchmark's kill campaign: real SIGKILLs of real writers, then a real open.

The campaign must count a kill as lost when the open finds something wrong, or its 200 out of
200 would mean nothing: the last test damages a project and a bundle by hand and checks that.
"""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from bench.reliability.kills import (
    WRITERS,
    _after_open,
    kill_generates,
    story,
)
from storyboard.core.persistence import PROJECT_FILE, save_project


@pytest.mark.parametrize("writer", ["save", "autosave", "save as"])
def test_each_writer_killed_three_times_loses_nothing(tmp_path: Path, writer: str) -> None:
    tally = WRITERS[writer](tmp_path, 3, random.Random(2))
    assert (tally.tried, tally.survived, tally.failures) == (3, 3, [])


@pytest.mark.slow
def test_generate_killed_twice_loses_nothing(tmp_path: Path) -> None:
    tally = kill_generates(tmp_path, 2, random.Random(5))
    assert (tally.tried, tally.survived, tally.failures) == (2, 2, [])


def test_what_a_lost_kill_looks_like_is_counted_as_lost(tmp_path: Path) -> None:
    bundle = save_project(story("a", panels=3), tmp_path / "x.storyboard")
    assert _after_open(bundle, {"a"}) == []
    assert _after_open(bundle, {"b"}) == ["opened as an unknown version 'a'"]
    (bundle / ".project.json.0123456789ab.999999-0000abcd.tmp").write_bytes(b"{")  # another host
    assert _after_open(bundle, {"a"}) == ["1 temporary file(s) left"]
    (bundle / PROJECT_FILE).write_bytes(b'{"format": "storyboard-project", "format_ver')
    assert _after_open(bundle, {"a"})[0].startswith("does not open: ")
