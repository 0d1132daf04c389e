"""The animatic's timeline as FCPXML 1.9, for picture editors (Final Cut Pro, DaVinci Resolve).

Every panel becomes a still clip of its duration on one spine, every transition other than a
cut becomes a Cross Dissolve centred on the cut (the plan's timing; editors have no wipe or
morph to map onto), and each panel carries a marker with its number and dialogue. Panels
without a usable image get their placeholder card rendered as a PNG in a ``<name>_media``
folder beside the file, so the editor never meets offline media.
"""

from __future__ import annotations

import contextlib
import logging
import xml.etree.ElementTree as ET
from fractions import Fraction
from pathlib import Path

from storyboard.core.assets import AssetStore
from storyboard.export.animatic import AnimaticPlan
from storyboard.export.frames import FrameRenderer
from storyboard.export.output import encode_png, export_error, staged_file, write_file
from storyboard.export.timeline_media import card_plan, still_name

log = logging.getLogger(__name__)

VERSION = "1.9"
CROSS_DISSOLVE_UID = "FxPlug:4731E73A-8DAC-4113-9A30-AE85B1761265"


def rational(frames: int, fps: Fraction) -> str:
    """Frames as FCPXML's rational seconds ("1001/24000s", "2s")."""
    value = Fraction(frames) / fps
    return f"{value.numerator}s" if value.denominator == 1 else f"{value}s"


def _stills(
    plan: AnimaticPlan, bundle: Path | None, folder: Path, written: list[Path]
) -> list[Path]:
    """The image of each clip: the panel's own file, else its card rendered into ``folder``
    (each card file made is added to ``written``, for the clean-up of a failed export)."""
    store = AssetStore(bundle) if bundle is not None else None
    renderer: FrameRenderer | None = None
    stills = []
    for clip in plan.clips:
        image = store.file(clip.image) if clip.image and store is not None else None
        if image is not None:  # only a file of the bundle's own: never one a link leads to
            stills.append(image.resolve())
            continue
        renderer = renderer or FrameRenderer(card_plan(plan), None)
        try:
            folder.mkdir(exist_ok=True)
        except OSError as exc:
            raise export_error(folder, exc) from exc
        target = folder / still_name(clip.index, clip.number)
        written.append(target)
        write_file(target, encode_png(renderer.render(clip.start), target))
        stills.append(target.resolve())
    return stills


def fcpxml(plan: AnimaticPlan, stills: list[Path]) -> ET.Element:
    """The FCPXML document for ``plan`` whose clip ``i`` shows the image ``stills[i]``."""
    root = ET.Element("fcpxml", version=VERSION)
    resources = ET.SubElement(root, "resources")
    frame = rational(1, plan.fps)
    ET.SubElement(
        resources,
        "format",
        id="r1",
        frameDuration=frame,
        width=str(plan.width),
        height=str(plan.height),
    )
    ET.SubElement(resources, "effect", id="r2", name="Cross Dissolve", uid=CROSS_DISSOLVE_UID)
    for clip, still in zip(plan.clips, stills, strict=True):
        asset = ET.SubElement(
            resources,
            "asset",
            id=f"a{clip.index + 1}",
            name=clip.number,
            start="0s",
            duration="0s",
            hasVideo="1",
            format="r1",
        )
        ET.SubElement(asset, "media-rep", kind="original-media", src=still.as_uri())
    event = ET.SubElement(ET.SubElement(root, "library"), "event", name=plan.title)
    project = ET.SubElement(event, "project", name=f"{plan.title} animatic")
    sequence = ET.SubElement(
        project,
        "sequence",
        format="r1",
        duration=rational(plan.frames, plan.fps),
        tcStart="0s",
        tcFormat="NDF",
    )
    spine = ET.SubElement(sequence, "spine")
    transitions = {t.index: t for t in plan.transitions}
    for clip in plan.clips:
        video = ET.SubElement(
            spine,
            "video",
            ref=f"a{clip.index + 1}",
            name=clip.number,
            offset=rational(clip.start, plan.fps),
            start="0s",
            duration=rational(clip.end - clip.start, plan.fps),
        )
        ET.SubElement(
            video, "marker", start="0s", duration=frame, value=clip.number, note=clip.dialogue
        )
        transition = transitions.get(clip.index)
        if transition is not None:
            element = ET.SubElement(
                spine,
                "transition",
                name="Cross Dissolve",
                offset=rational(transition.start, plan.fps),
                duration=rational(transition.end - transition.start, plan.fps),
            )
            ET.SubElement(element, "filter-video", ref="r2", name="Cross Dissolve")
    return root


def export_fcpxml(plan: AnimaticPlan, bundle: Path | None, out_path: Path) -> Path:
    """Write ``out_path`` (.fcpxml) and, for panels without an image, its media folder."""
    out_path = Path(out_path)
    media = out_path.with_name(f"{out_path.stem}_media")
    had_media = media.exists()
    written: list[Path] = []
    try:
        with staged_file(out_path) as temp:
            stills = _stills(plan, bundle, media, written)
            tree = ET.ElementTree(fcpxml(plan, stills))
            ET.indent(tree)
            with temp.open("wb") as file:
                file.write(b'<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE fcpxml>\n')
                tree.write(file, encoding="utf-8", xml_declaration=False)
    except BaseException:  # a failed export leaves nothing, its cards included
        for still in written:
            still.unlink(missing_ok=True)
        if not had_media:
            with contextlib.suppress(OSError):
                media.rmdir()
        raise
    log.info("wrote %s (%d clips)", out_path, len(plan.clips))
    return out_path
