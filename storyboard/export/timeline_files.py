"""Timeline files for picture editors: ``.otio``, FCP7 ``.xml``, CMX3600 ``.edl`` (and ``.fcpxml``).

The format follows the file name, as for the MP4: ``.otio`` (OpenTimelineIO's JSON; DaVinci
Resolve imports it natively), ``.xml`` (Final Cut Pro 7 XML through OTIO's ``fcp_xml`` adapter:
Premiere Pro, Resolve, Avid through its importer), ``.edl`` (CMX3600 through ``cmx_3600``: Avid,
Storyboard Pro, any conform tool) and ``.fcpxml`` (our own FCPXML 1.9 writer). All but
``.fcpxml`` are one OTIO timeline (:mod:`storyboard.export.otio_timeline`) written by OTIO's
adapters, with a ``NAME_media`` folder beside the file (:mod:`storyboard.export.timeline_media`).

What each format drops is said in :data:`DROPPED`, returned with the result so the CLI and the
editor can tell the user. FCP7 XML keeps the tracks, dissolves and markers (not the full marker
text beyond its name, nor panel ids and gains, which live in OTIO metadata). A CMX3600 EDL has one
video track and the adapter writes no audio events: it keeps the panels, their dissolves and the
markers (as ``* LOC`` comments, upper-cased) and drops the rest.

Like every export, the file appears only when all is written: a failure or cancel removes the
media written so far and leaves no file.
"""

from __future__ import annotations

import copy
import logging
from dataclasses import dataclass
from pathlib import Path

import opentimelineio as otio  # type: ignore[import-untyped]  # (no stubs)

from storyboard.core.model import Project
from storyboard.export.animatic import AnimaticPlan, plan_animatic
from storyboard.export.animatic_options import AnimaticOptions
from storyboard.export.media import BundleMedia
from storyboard.export.otio_timeline import GENERATED_TRACK, build_timeline
from storyboard.export.output import Cancelled, ExportError, Progress, staged_file
from storyboard.export.timeline_media import media_folder_for, write_media

log = logging.getLogger(__name__)

ADAPTERS = {".otio": "otio_json", ".xml": "fcp_xml", ".edl": "cmx_3600"}
TIMELINE_SUFFIXES = (*ADAPTERS, ".fcpxml")
FILTERS = (
    "OpenTimelineIO (*.otio)",
    "Premiere / Final Cut Pro 7 XML (*.xml)",
    "CMX3600 EDL (*.edl)",
    "Final Cut XML (*.fcpxml)",
)


def is_timeline(path: Path) -> bool:
    return Path(path).suffix.lower() in TIMELINE_SUFFIXES


@dataclass(frozen=True, slots=True)
class TimelineResult:
    path: Path
    clips: int
    media: Path | None  # the media folder (None: .fcpxml with every panel's image in the bundle)
    dropped: tuple[str, ...] = ()  # what this format could not hold, in words


def export_timeline(
    source: AnimaticPlan | Project,
    bundle: Path | None,
    out_path: Path,
    options: AnimaticOptions | None = None,
    progress: Progress | None = None,
    cancelled: Cancelled | None = None,
) -> TimelineResult:
    """Write the edit of ``source`` to ``out_path``, its format from the suffix, with its media.

    The same call shape as the video export, so the editor's worker and the CLI share it.
    """
    out_path = Path(out_path)
    suffix = out_path.suffix.lower()
    if suffix not in TIMELINE_SUFFIXES:
        raise ExportError(
            out_path, f"is not a timeline format ({suffix or 'no suffix'})", _use_suffix()
        )
    if isinstance(source, AnimaticPlan):
        plan = source
    else:
        media = BundleMedia(bundle) if bundle is not None else None
        plan = plan_animatic(source, options, media)
    if suffix == ".fcpxml":
        from storyboard.export.fcpxml import export_fcpxml

        export_fcpxml(plan, bundle, out_path)
        folder = media_folder_for(out_path)
        return TimelineResult(out_path, len(plan.clips), folder if folder.is_dir() else None)
    adapter = ADAPTERS[suffix]
    folder = media_folder_for(out_path)
    created = not folder.exists() and not folder.is_symlink()
    written = None
    try:
        with staged_file(out_path) as temp:  # refuses a missing folder before media is written
            written = write_media(plan, bundle, folder, progress, cancelled)
            timeline = build_timeline(plan, written)
            text, dropped = _serialise(timeline, adapter, plan)
            temp.write_text(text, encoding="utf-8")
    except BaseException:  # (write_media removes its own files when it fails)
        if written is not None:
            written.discard(created)
        raise
    log.info("wrote %s (%d clips, media in %s)", out_path, len(plan.clips), folder)
    return TimelineResult(out_path, len(plan.clips), folder, dropped)


def _use_suffix() -> str:
    return "Name the file .otio, .xml (Premiere / FCP7), .edl or .fcpxml"


def _serialise(
    timeline: otio.schema.Timeline, adapter: str, plan: AnimaticPlan
) -> tuple[str, tuple[str, ...]]:
    if adapter != "cmx_3600":
        return otio.adapters.write_to_string(timeline, adapter), ()
    edl, dropped = edl_timeline(timeline)
    # the adapter shortens and lengthens clips around dissolves in place: give it a copy
    text = otio.adapters.write_to_string(edl, adapter, rate=float(plan.fps), style="avid")
    return text, dropped


def edl_timeline(timeline: otio.schema.Timeline) -> tuple[otio.schema.Timeline, tuple[str, ...]]:
    """The part of ``timeline`` a CMX3600 EDL holds (the panels track), and what was left out."""
    edl = copy.deepcopy(timeline)
    dropped: list[str] = []
    generated = 0
    sounds = 0
    while len(edl.tracks) > 1:
        track = edl.tracks[1]
        clips = sum(1 for item in track if isinstance(item, otio.schema.Clip))
        if track.name == GENERATED_TRACK:
            generated += clips
        else:
            sounds += clips
        del edl.tracks[1]
    if generated:
        dropped.append(f"{generated} generated transition clip(s) (the EDL cuts there)")
    if sounds:
        dropped.append(f"{sounds} sound(s): the EDL has no audio events")
    return edl, tuple(dropped)
