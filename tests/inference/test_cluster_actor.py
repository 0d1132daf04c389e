"""One cluster actor in this process (no Ray): what a read task says when a character's bank is
not there, and when it is there but this node's model differs from the node that wrote it."""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

import pytest

from inference.cluster.actors import EngineActor, bank_path
from inference.cluster.scheduler import BankMade
from inference.errors import BankMissing, ModelUnavailable
from storyboard.core.jobs import Overrides, StoryRequest, build_story_request
from storyboard.core.persistence import load_project

SAMPLE = Path(__file__).resolve().parents[2] / "projects" / "sample.storyboard"

pytestmark = pytest.mark.slow


def one_character(folder: Path) -> tuple[StoryRequest, StoryRequest]:
    """The sample's first character alone: its identity request and a read of one of its panels."""
    bundle = Path(shutil.copytree(SAMPLE, folder / "sample.storyboard"))
    project = load_project(bundle).project
    request = build_story_request(project, bundle=bundle, overrides=Overrides(steps=2))
    character = request.characters[0]
    identity = {p.panel_id for p in character.identity_panels}
    panel = next(
        p
        for p in request.panels
        if p.characters == (character.character_id,) and p.panel_id not in identity
    )
    alone = dataclasses.replace(request, characters=(character,))
    return (
        dataclasses.replace(alone, panels=()),
        dataclasses.replace(alone, panels=(panel,), batch_size=1, reuse_only=True),
    )


def test_a_read_tells_a_missing_bank_from_one_this_nodes_model_does_not_match(
    tmp_path: Path,
) -> None:
    identity, read = one_character(tmp_path)
    (character,) = identity.characters
    actor = EngineActor(1, "cpu", False, None)
    written = tmp_path / "written"
    made = list(actor.identity("i", identity, False, str(written), False, False))[-1]
    assert isinstance(made, BankMade) and made.written
    own = bank_path(written, character.character_id, made.digest)
    assert own.is_file()

    node = EngineActor(1, "cpu", False, None)  # another node's actor: no bank in its memory
    elsewhere = tmp_path / "elsewhere"  # a folder without the bank: plainly missing
    banks = [(character.character_id, "0" * len(made.digest), None)]
    with pytest.raises(BankMissing):
        list(node.read("r1", read, banks, str(elsewhere), False))

    # the bank as a node with another model would name it: there, under a key this node does
    # not compute; the node is then unfit for the story (the scheduler retires it), and says why
    other = bank_path(elsewhere, character.character_id, "0" * len(made.digest))
    other.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(own, other)
    with pytest.raises(ModelUnavailable, match="this node's copy differs from the one its"):
        list(node.read("r2", read, banks, str(elsewhere), False))

    # and with the node's own key the read draws the panel
    images = list(
        node.read("r3", read, [(character.character_id, made.digest, None)], str(written), False)
    )
    assert [i.job.panel_id for i in images if hasattr(i, "png")] == [read.panels[0].panel_id]
