"""The ``export-video`` command: an animatic as MP4, GIF or PNG frames, or its edit as a timeline
(``.otio``, FCP7 ``.xml``, CMX3600 ``.edl``, ``.fcpxml``) with its media folder."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from storyboard.core.model import FPS_CHOICES
from storyboard.core.persistence import load_project
from storyboard.export.animatic_options import (
    SIZE_PRESETS,
    AnimaticOptions,
    AudioClip,
    CaptionMode,
    Direction,
    Fit,
)
from storyboard.export.headless import gui_application


def parse_size(text: str) -> tuple[int, int]:
    """A preset name (720p, 1080p, 4k, vertical, square) or WIDTHxHEIGHT."""
    preset = SIZE_PRESETS.get(text.lower())
    if preset is not None:
        return preset
    width, _, height = text.lower().partition("x")
    if not (width.isdigit() and height.isdigit()):
        names = ", ".join(SIZE_PRESETS)
        raise ValueError(f"--size wants one of {names} or WIDTHxHEIGHT, not {text!r}")
    return int(width), int(height)


def add_arguments(video: argparse.ArgumentParser) -> None:
    video.add_argument("project", type=Path)
    video.add_argument(
        "-o",
        "--output",
        type=Path,
        required=True,
        metavar="FILE",
        help="NAME.mp4, NAME.gif, a new folder for PNG frames, or a timeline for editors: "
        "NAME.otio, NAME.xml (Premiere / FCP7), NAME.edl (CMX3600), NAME.fcpxml",
    )
    video.add_argument("--fps", type=float, choices=FPS_CHOICES, help="default: the project's")
    video.add_argument("--size", default="1080p", help="720p, 1080p, 4k, vertical, square or WxH")
    video.add_argument("--fit", choices=[f.value for f in Fit], default=Fit.FIT.value)
    video.add_argument(
        "--captions",
        choices=[c.value for c in CaptionMode],
        default=CaptionMode.BURN.value,
        help="dialogue drawn into the picture, as a subtitle track + .srt, both, or none",
    )
    video.add_argument("--shot-numbers", action="store_true", help="burn in panel numbers")
    video.add_argument("--timecode", action="store_true", help="burn in the timecode")
    video.add_argument(
        "--soundtrack",
        type=Path,
        metavar="FILE",
        help="audio for the whole film instead of the project's soundtrack",
    )
    video.add_argument("--soundtrack-gain", type=float, default=0.0, metavar="DB")
    video.add_argument(
        "--wipe-direction",
        choices=[d.value for d in Direction],
        help="one direction for every wipe and push (default: each transition's own)",
    )


def run_export_video(args: argparse.Namespace) -> int:
    """Run ``export-video``; errors propagate as typed exceptions for the CLI to report."""
    from storyboard.export.animatic import plan_animatic
    from storyboard.export.media import BundleMedia
    from storyboard.export.timeline_files import export_timeline, is_timeline
    from storyboard.export.video import export_video

    loaded = load_project(args.project)
    soundtrack: tuple[AudioClip, ...] | None = None  # None: the project's
    if args.soundtrack is not None:
        if not args.soundtrack.is_file():
            raise ValueError(f"--soundtrack {args.soundtrack}: no such file")
        soundtrack = (AudioClip(args.soundtrack, 0, args.soundtrack_gain),)
    direction = Direction(args.wipe_direction) if args.wipe_direction else None
    options = AnimaticOptions(
        fps=args.fps,
        size=parse_size(args.size),
        fit=Fit(args.fit),
        captions=CaptionMode(args.captions),
        shot_numbers=args.shot_numbers,
        timecode=args.timecode,
        wipe_direction=direction,
        push_direction=direction,
        soundtrack=soundtrack,
    )
    gui_application()
    plan = plan_animatic(loaded.project, options, BundleMedia(loaded.path))
    if is_timeline(args.output):
        timeline = export_timeline(plan, loaded.path, args.output)
        line = f"wrote {timeline.path} ({timeline.clips} clips"
        line += f", media in {timeline.media})" if timeline.media else ")"
        sys.stdout.write(line + "\n")
        for dropped in timeline.dropped:
            sys.stdout.write(f"  left out (the format cannot hold it): {dropped}\n")
        return 0
    show = sys.stderr.isatty()

    def progress(done: int, total: int) -> None:
        if show and (done % 24 == 0 or done == total):
            sys.stderr.write(f"\r{100 * done // total:3d}% ({done}/{total} frames)")

    result = export_video(plan, loaded.path, args.output, progress=progress)
    if show:
        sys.stderr.write("\n")
    line = f"wrote {result.path} ({result.frames} frames, {result.seconds:.2f} s)"
    if result.subtitles is not None:
        line += f" and {result.subtitles}"
    sys.stdout.write(line + "\n")
    return 0
