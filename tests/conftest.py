"""Shared fixtures: a project in which every field holds a non-default value."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import pytest

from storyboard.core.model import (
    Balloon,
    BalloonKind,
    CameraMove,
    Candidate,
    Character,
    GenerationSettings,
    Guidance,
    GuidanceMethod,
    IdentitySettings,
    LayerKind,
    LoraUse,
    Page,
    PageMargins,
    Panel,
    PanelFrame,
    PanelLayer,
    Point,
    Project,
    ProjectSettings,
    ReadingOrder,
    Rect,
    Scene,
    Transition,
    TransitionKind,
)


def png_bytes(color: tuple[int, int, int] = (200, 30, 30), size: tuple[int, int] = (8, 6)) -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, format="PNG")
    return out.getvalue()


def rich_project(*, loras: bool = False) -> Project:
    """Two scenes, characters, a page: every field of every object set away from its default.

    ``loras``: with LoRAs attached to a character, the project and a style (the file format's
    tests); without, requests can be built from it with no LoRA files around.
    """
    mira = Character(
        id="mira",
        name="Mira",
        description="a young courier with short red hair, green jacket",
        reference_images=["a" * 64],
        seed=1234,
        identity=IdentitySettings(
            identity_panels=4, sample_rate_low_res=0.3, sample_rate_high_res=0.6, enabled=False
        ),
    )
    oto = Character(id="oto", name="Oto", description="an old robot", seed=7)
    if loras:
        mira.loras = [LoraUse("people/mira.safetensors", 0.7, "mirachar")]
    first = Panel(
        id="p1",
        prompt="[Mira] runs across a rooftop at dusk",
        character_ids=["mira"],
        character_regions={"mira": Rect(0.1, 0.2, 0.3, 0.7)},
        dialogue="MIRA: Not again!",
        action="Mira leaps the gap.",
        notes="Wide shot, low angle",
        balloons=[
            Balloon(
                id="b1",
                kind=BalloonKind.SHOUT,
                text="Not again!",
                box=Rect(0.6, 0.05, 0.3, 0.2),
                tail=Point(0.3, 0.4),
                character_id="mira",
            )
        ],
        duration=60,
        camera=CameraMove(
            start=Rect(0.05, 0, 0.9, 0.9),
            end=Rect(0.2, 0.1, 0.6, 0.6),
            easing="linear",
            start_angle=-4.0,
            end_angle=6.5,
        ),
        transition=Transition(TransitionKind.PUSH, 12, direction="up", clip="e" * 64 + ".mp4"),
        image="b" * 64,
        candidates=[
            Candidate(
                asset="b" * 64,
                id="c1",
                prompt="a young courier runs across a rooftop",
                negative_prompt="blurry",
                seed=99,
                model="sdxl-base",
                settings={"steps": 30, "guidance": 5.0, "scheduler": "ddim", "freeu": True},
                created="2026-11-26T10:00:00+00:00",
            )
        ],
        number_override="1A-alt",
        negative_prompt="extra fingers",
        style="manga",
        seed=42,
        seed_locked=True,
        audio="c" * 64 + ".wav",
        audio_gain_db=-3.5,
        layers=[
            PanelLayer(LayerKind.NOTES, "f" * 64, opacity=0.5, visible=False, name="notes"),
            PanelLayer(LayerKind.MASK),
        ],
        balloon_space=[Rect(0.6, 0.0, 0.4, 0.25)],
        guidance=Guidance(GuidanceMethod.CONTROLNET, strength=0.8),
    )
    second = Panel(id="p2", prompt="[Oto] waits in the rain", character_ids=["oto"])
    third = Panel(id="p3", prompt="[NC] the city skyline")
    project = Project(
        settings=ProjectSettings(
            title="Rooftops",
            fps=25.0,
            aspect_ratio=2.39,
            default_style="noir",
            reading_order=ReadingOrder.RIGHT_TO_LEFT,
            page_preset="a4",
            page_gutter=14.4,
            page_margins=PageMargins(top=30.0, bottom=40.0, inner=50.0, outer=20.0),
            generation=GenerationSettings(
                model="/models/realvis.safetensors",
                width=1152,
                height=896,
                steps=25,
                guidance=6.5,
                scheduler="dpmpp-2m-karras",
                negative_prompt="lowres",
                seed=5,
                freeu=True,
                exact_size=True,
            ),
            soundtrack="d" * 64 + ".mp3",
            soundtrack_gain_db=-12.0,
            fit_panels_to_audio=True,
        ),
        scenes={
            "s1": Scene(id="s1", title="Chase", notes="Night, rain", panel_ids=["p1", "p2"]),
            "s2": Scene(id="s2", title="Skyline", panel_ids=["p3"]),
        },
        scene_ids=["s1", "s2"],
        panels={"p1": first, "p2": second, "p3": third},
        characters={"mira": mira, "oto": oto},
        character_ids=["mira", "oto"],
        pages={
            "pg1": Page(
                id="pg1",
                template="grid-2x2",
                frames=[
                    PanelFrame(
                        "p1", Rect(0, 0, 1, 0.5), full_bleed=True, crop=Rect(0.1, 0, 0.8, 0.9)
                    )
                ],
            )
        },
        page_ids=["pg1"],
    )
    if loras:
        project.settings.loras = [LoraUse("ink.safetensors", -0.5)]
        project.settings.style_loras = {"noir": [LoraUse("noir.safetensors", 1.5, "noirfilm")]}
    return project


@pytest.fixture
def project() -> Project:
    return rich_project()


@pytest.fixture
def full_disk(tmp_path: Path) -> Iterator[Path]:
    """A folder on a disk with no free byte (a filled tmpfs); skipped where none can be mounted."""
    from tests.full_disk import mount_full_disk

    yield from mount_full_disk(tmp_path / "full-disk")
