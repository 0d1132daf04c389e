"""Whatever is in project.json, loading ends in a project or a typed ProjectError.

A project that loads must be whole: saving it and loading it again gives the same file, with no
repair left to make. And a loader that refuses too much fails here too: the valid project loads
as itself, and edits of its free text and numbers within their ranges are loaded and kept.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from storyboard.core.errors import ProjectError
from storyboard.core.model import Project
from storyboard.core.persistence import decode, encode
from tests.conftest import rich_project

SOURCE = Path("fuzz/project.json")
VALID: dict[str, Any] = json.loads(encode(rich_project(loras=True)))

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=5), children, max_size=3)
    ),
    max_leaves=8,
)


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix]
    if isinstance(value, dict):
        for key, item in value.items():
            found += _paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += _paths(item, (*prefix, index))
    return found


def _at(data: Any, path: tuple[Any, ...]) -> Any:
    for key in path:
        data = data[key]
    return data


ALL_PATHS = [p for p in _paths(VALID) if p]
FREE_TEXT = {"title", "notes", "dialogue", "action", "prompt", "text", "description"}
TEXT_PATHS = [p for p in ALL_PATHS if p[-1] in FREE_TEXT and isinstance(_at(VALID, p), str)]
DURATION_PATHS = [p for p in ALL_PATHS if p[-1] == "duration"]


def _reloads_unchanged(project: Project) -> None:
    """A loaded project is whole: saved and loaded again, it is the same, with nothing to repair."""
    saved = encode(project)
    again, warnings = decode(saved, SOURCE)
    assert warnings == []
    assert encode(again) == saved


def _load(raw: bytes) -> Project | None:
    try:
        project, _ = decode(raw, SOURCE)
    except ProjectError:
        return None
    _reloads_unchanged(project)
    return project


def test_the_valid_project_loads_as_itself() -> None:
    project, warnings = decode(json.dumps(VALID).encode(), SOURCE)
    assert warnings == []
    assert json.loads(encode(project)) == VALID
    assert TEXT_PATHS and DURATION_PATHS  # the edits below have fields to edit


@settings(max_examples=200, deadline=None)
@given(
    edits=st.lists(
        st.tuples(st.sampled_from(TEXT_PATHS), st.text(max_size=40)), min_size=1, max_size=6
    )
)
def test_any_free_text_loads_and_is_kept(edits: list[tuple[tuple[Any, ...], str]]) -> None:
    data = json.loads(json.dumps(VALID))
    for path, text in edits:
        _at(data, path[:-1])[path[-1]] = text
    project = _load(json.dumps(data).encode())
    assert project is not None
    loaded = json.loads(encode(project))
    for path, _ in edits:
        assert _at(loaded, path) == _at(data, path)


@settings(max_examples=100, deadline=None)
@given(path=st.sampled_from(DURATION_PATHS), frames=st.integers(1, 24 * 60 * 60))
def test_any_duration_up_to_an_hour_loads_and_is_kept(path: tuple[Any, ...], frames: int) -> None:
    data = json.loads(json.dumps(VALID))
    _at(data, path[:-1])[path[-1]] = frames
    project = _load(json.dumps(data).encode())
    assert project is not None
    assert _at(json.loads(encode(project)), path) == frames


@settings(max_examples=300, deadline=None)
@given(raw=st.binary(max_size=200))
def test_arbitrary_bytes(raw: bytes) -> None:
    _load(raw)


@settings(max_examples=300, deadline=None)
@given(value=json_values)
def test_arbitrary_json(value: Any) -> None:
    _load(json.dumps(value).encode())


@settings(max_examples=400, deadline=None)
@given(
    edits=st.lists(
        st.tuples(st.sampled_from(ALL_PATHS), json_values, st.booleans()), min_size=1, max_size=4
    )
)
def test_mutated_valid_projects(edits: list[tuple[tuple[Any, ...], Any, bool]]) -> None:
    data = json.loads(json.dumps(VALID))
    for path, value, delete in edits:
        parent: Any = data
        try:
            for key in path[:-1]:
                parent = parent[key]
            if delete and isinstance(parent, dict):
                parent.pop(path[-1], None)
            else:
                parent[path[-1]] = value
        except (KeyError, IndexError, TypeError):
            continue
    _load(json.dumps(data).encode())
