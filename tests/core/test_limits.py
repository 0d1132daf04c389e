"""Every number in a project has a range, enforced when the file loads, with the field's path."""

from __future__ import annotations

import dataclasses
import json
import typing
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from annotated_types import Interval

from storyboard.cli import main
from storyboard.core import model
from storyboard.core.errors import ProjectCorrupt
from storyboard.core.limits import MAX_PANEL_FRAMES, Repaired
from storyboard.core.persistence import PROJECT_FILE, encode, load_project, save_project
from tests.conftest import rich_project

JsonPath = tuple[str | int, ...]


def number_hints(hint: Any) -> Iterator[tuple[Any, list[Any]]]:
    """(base type, Annotated metadata) of every int or float a type can hold."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin is typing.Annotated:
        base, *meta = args
        if base in (int, float):
            yield base, meta
        else:
            yield from number_hints(base)
    elif hint in (int, float):
        yield hint, []
    elif origin is not None:
        for arg in args:
            yield from number_hints(arg)


def bounds(meta: list[Any]) -> tuple[float, float] | None:
    for item in meta:
        if isinstance(item, Interval):
            return item.ge, item.le  # type: ignore[return-value]
        if isinstance(item, Repaired):
            return item.lo, item.hi
    return None


def numeric_leaves(value: Any, hint: Any = model.Project, path: JsonPath = ()) -> list[Any]:
    """(JSON path, (lo, hi), repaired?) of every number in a project's JSON."""
    if dataclasses.is_dataclass(hint) and isinstance(value, dict):
        hints = typing.get_type_hints(hint, include_extras=True)
        return [
            leaf
            for k, v in value.items()
            if k in hints
            for leaf in numeric_leaves(v, hints[k], (*path, k))
        ]
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if (
        origin is typing.Annotated
        and isinstance(value, int | float)
        and not isinstance(value, bool)
    ):
        found = bounds(list(args[1:]))
        repaired = any(isinstance(m, Repaired) for m in args[1:])
        return [(path, found, repaired)]
    if origin is typing.Annotated:
        return numeric_leaves(value, args[0], path)
    if origin is dict and isinstance(value, dict):
        return [leaf for k, v in value.items() for leaf in numeric_leaves(v, args[1], (*path, k))]
    if origin is list and isinstance(value, list):
        return [
            leaf for i, v in enumerate(value) for leaf in numeric_leaves(v, args[0], (*path, i))
        ]
    if args and origin is not None:  # X | None
        for arg in args:
            if arg is not type(None) and (leaves := numeric_leaves(value, arg, path)):
                return leaves
    return []


def project_json() -> dict[str, Any]:
    data = json.loads(encode(rich_project(loras=True)))
    return data


def with_raw(tmp_path: Path, data: dict[str, Any], where: JsonPath, raw_number: str) -> Path:
    """A bundle whose project.json has ``raw_number`` (JSON text: NaN, 1e400...) at ``where``."""
    node: Any = data
    for key in where[:-1]:
        node = node[key]
    node[where[-1]] = "__NUMBER__"
    bundle = tmp_path / "hostile.storyboard"
    bundle.mkdir(exist_ok=True)
    text = json.dumps(data).replace('"__NUMBER__"', raw_number)
    (bundle / PROJECT_FILE).write_text(text, encoding="utf-8")
    return bundle


def dotted(where: JsonPath) -> str:
    return ".".join(str(part) for part in where)


def test_every_number_in_the_model_declares_its_range() -> None:
    unbounded = []
    for cls in vars(model).values():
        if not (isinstance(cls, type) and dataclasses.is_dataclass(cls)):
            continue
        for name, hint in typing.get_type_hints(cls, include_extras=True).items():
            for base, meta in number_hints(hint):
                found = bounds(meta)
                if found is None or not all(isinstance(b, int | float) for b in found):
                    unbounded.append(f"{cls.__name__}.{name} ({base.__name__})")
    assert unbounded == []


def test_the_fixture_has_numbers_in_every_kind_of_field() -> None:
    leaves = numeric_leaves(project_json())
    assert len(leaves) > 50
    assert all(found is not None for _, found, _ in leaves)


HOSTILE = ["NaN", "Infinity", "-Infinity", "1e400", "-1e400", "1" + "0" * 400, "-1" + "0" * 400]


@pytest.mark.parametrize("raw", HOSTILE)
def test_a_hostile_number_anywhere_is_refused_or_repaired_naming_the_field(
    tmp_path: Path, raw: str
) -> None:
    data = project_json()
    for where, _, repaired in numeric_leaves(data):
        bundle = with_raw(tmp_path, json.loads(json.dumps(data)), where, raw)
        try:
            loaded = load_project(bundle)
        except ProjectCorrupt as exc:
            assert str(bundle / PROJECT_FILE) in str(exc)
            assert dotted(where) in str(exc), str(exc)
            assert "out of range" in str(exc) or "valid number" in str(exc), str(exc)
            continue
        assert repaired, f"{dotted(where)} = {raw} loaded unchecked"
        assert loaded.warnings, f"{dotted(where)} = {raw} repaired without a word"


@pytest.mark.parametrize("raw", ["1e12", "1" + "0" * 400, "1" + "0" * 5000])
def test_a_duration_of_ages_is_cut_to_four_hours_and_info_works(
    tmp_path: Path, raw: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """10^12 frames made export-video run without end; 10^400 crashed info (OverflowError);
    more than 4300 digits is a typed error, not a ValueError without a file name."""
    data = project_json()
    bundle = with_raw(tmp_path, data, ("panels", "p2", "duration"), raw)
    if len(raw) > 4300:
        with pytest.raises(ProjectCorrupt, match="a number is too long"):
            load_project(bundle)
        return
    loaded = load_project(bundle)
    assert loaded.project.panels["p2"].duration == MAX_PANEL_FRAMES
    shown = "1000000000000" if raw == "1e12" else "a 401-digit number"
    note = f"panels.p2.duration: {shown} is out of range (1 to 432000); 432000 is used"
    assert note in loaded.warnings
    assert main(["info", str(bundle)]) == 0
    assert "04:48:0" in capsys.readouterr().out  # 432,000 frames at 25 fps, and the rest


@pytest.mark.parametrize(
    ("where", "raw"),
    [
        (("settings", "page_gutter"), "1e308"),
        (("settings", "page_gutter"), "NaN"),
        (("pages", "pg1", "frames", 0, "crop", "x"), "1e300"),
        (("panels", "p1", "camera", "start", "h"), "-1e300"),
        (("panels", "p1", "camera", "end_angle"), "NaN"),
        (("settings", "page_margins", "top"), "-1"),
        (("panels", "p1", "seed"), "-1"),
        (("settings", "generation", "width"), "100000000"),
    ],
)
def test_the_reported_cases_are_typed_errors_naming_file_and_field(
    tmp_path: Path, where: JsonPath, raw: str, capsys: pytest.CaptureFixture[str]
) -> None:
    bundle = with_raw(tmp_path, project_json(), where, raw)
    assert main(["info", str(bundle)]) == 2
    error = capsys.readouterr().err
    assert error.startswith(f"error: {bundle / PROJECT_FILE}: invalid project data: ")
    assert f"{dotted(where)}: " in error and "out of range" in error


@pytest.mark.parametrize(
    ("where", "raw", "box"),
    [
        (("pages", "pg1", "frames", 0, "crop"), (0.6, 0.2, -0.4, 0.5), (0.2, 0.2, 0.4, 0.5)),
        (("panels", "p1", "camera", "start"), (0.1, 0.9, 0.5, -0.6), (0.1, 0.3, 0.5, 0.6)),
        (("panels", "p1", "character_regions", "mira"), (0.3, 0.3, 0, 0), (0.3, 0.3, 1e-3, 1e-3)),
    ],
)
def test_a_box_drawn_backwards_or_empty_opens_turned_round_with_a_warning(
    tmp_path: Path, where: JsonPath, raw: tuple[float, ...], box: tuple[float, ...]
) -> None:
    """Earlier canvases stored a box dragged up or left with a negative side: still opens."""
    data = project_json()
    node: Any = data
    for key in where:
        node = node[key]
    node.update(zip("xywh", raw, strict=True))
    bundle = tmp_path / "boxes.storyboard"
    bundle.mkdir()
    (bundle / PROJECT_FILE).write_text(json.dumps(data))
    loaded = load_project(bundle)
    reloaded = json.loads(encode(loaded.project))
    for key in where:
        reloaded = reloaded[key]
    assert tuple(reloaded[k] for k in "xywh") == pytest.approx(box)
    named = "".join(f"[{k}]" if isinstance(k, int) else f".{k}" for k in where).lstrip(".")
    assert any(w.startswith(f"{named}: a box of ") for w in loaded.warnings), loaded.warnings


def test_values_at_the_bounds_load_and_save_unchanged(tmp_path: Path) -> None:
    data = project_json()
    for end in (0, 1):
        for where, found, _ in numeric_leaves(data):
            node: Any = data
            for key in where[:-1]:
                node = node[key]
            node[where[-1]] = found[end]
        bundle = with_raw(tmp_path, data, ("settings", "fps"), "25")
        loaded = load_project(bundle)
        assert not [w for w in loaded.warnings if "range" in w or "fixed" in w]
        save_project(loaded.project, bundle)
        assert load_project(bundle).project == loaded.project
