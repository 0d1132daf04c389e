"""Whatever is in project.json, loading ends in a project or a typed ProjectError."""

from __future__ import annotations

import contextlib
import json
from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from storyboard.core.errors import ProjectError
from storyboard.core.persistence import decode, encode
from tests.conftest import rich_project

SOURCE = Path("fuzz/project.json")
VALID: dict[str, Any] = json.loads(encode(rich_project()))

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


ALL_PATHS = [p for p in _paths(VALID) if p]


def _load(raw: bytes) -> None:
    with contextlib.suppress(ProjectError):
        decode(raw, SOURCE)


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
