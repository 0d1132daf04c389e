"""The image store: deduplicated, immutable, cleaned only on request."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from storyboard.core.assets import AssetStore
from storyboard.core.commands import AddCandidate, RemovePanels
from storyboard.core.errors import ProjectError
from storyboard.core.model import Candidate, Project
from tests.conftest import png_bytes


def test_same_image_is_stored_once_under_its_hash(tmp_path: Path) -> None:
    store = AssetStore(tmp_path)
    data = png_bytes()
    first, second = store.put(data), store.put(data)
    assert first == second == hashlib.sha256(data).hexdigest()
    assert [p.name for p in store.root.iterdir()] == [f"{first}.png"]


def test_non_png_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ProjectError, match="only PNG"):
        AssetStore(tmp_path).put(b"GIF89a....")


def test_images_of_deleted_panels_stay_until_an_explicit_clean_up(
    project: Project, tmp_path: Path
) -> None:
    store = AssetStore(tmp_path)
    kept, dropped = store.put(png_bytes((1, 1, 1))), store.put(png_bytes((2, 2, 2)))
    AddCandidate("p2", Candidate(asset=kept)).apply(project)
    AddCandidate("p3", Candidate(asset=dropped)).apply(project)
    RemovePanels(["p3"]).apply(project)
    assert store.stored() == {kept, dropped}  # nothing is deleted automatically
    assert store.unreferenced(project) == {dropped}
    assert store.clean_up(project) == [dropped]
    assert store.stored() == {kept}
