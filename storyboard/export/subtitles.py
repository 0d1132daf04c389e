"""Soft captions: an ``.srt`` file beside the video and a ``mov_text`` track inside the MP4.

Burned-in captions are drawn by the frame renderer; these are the ones a player can switch off
and an editor can import. Both come from the plan's captions, so their timing matches the
burned ones frame for frame.
"""

from __future__ import annotations

import struct
from fractions import Fraction
from typing import Any

import av

from storyboard.export.animatic import AnimaticPlan

# FFmpeg's mov_text encoder refuses to open without an ASS header describing a default style.
_ASS_HEADER = (
    b"[Script Info]\nScriptType: v4.00+\nPlayResX: 384\nPlayResY: 288\n\n"
    b"[V4+ Styles]\nFormat: Name, Fontname, Fontsize, PrimaryColour, SecondaryColour, "
    b"OutlineColour, BackColour, Bold, Italic, Underline, StrikeOut, ScaleX, ScaleY, Spacing, "
    b"Angle, BorderStyle, Outline, Shadow, Alignment, MarginL, MarginR, MarginV, Encoding\n"
    b"Style: Default,Arial,16,&Hffffff,&Hffffff,&H0,&H0,0,0,0,0,100,100,0,0,1,1,0,2,10,10,10,0\n\n"
    b"[Events]\nFormat: Layer, Start, End, Style, Name, MarginL, MarginR, MarginV, Effect, Text\n"
)


def srt_time(seconds: Fraction) -> str:
    millis = round(seconds * 1000)
    hours, rest = divmod(millis, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    secs, millis = divmod(rest, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d},{millis:03d}"


def srt(plan: AnimaticPlan) -> str:
    """The plan's captions as SubRip text (numbered cues, blank line between them)."""
    cues = []
    for number, caption in enumerate(plan.captions, start=1):
        start = srt_time(Fraction(caption.start) / plan.fps)
        end = srt_time(Fraction(caption.end) / plan.fps)
        cues.append(f"{number}\n{start} --> {end}\n{caption.text}\n")
    return "\n".join(cues)


def add_caption_stream(container: Any) -> Any:
    """A mov_text subtitle stream in ``container`` (an open ``av`` output)."""
    stream = container.add_stream("mov_text")
    stream.codec_context.subtitle_header = _ASS_HEADER
    stream.metadata["language"] = "eng"
    return stream


def mux_captions(container: Any, stream: Any, plan: AnimaticPlan) -> None:
    """Write every caption as a mov_text sample: a 16-bit length and the UTF-8 text.

    The MP4 muxer fills the gaps between cues with empty samples itself.
    """
    time_base = stream.time_base
    for caption in plan.captions:
        text = caption.text.encode("utf-8")
        packet = av.Packet(struct.pack(">H", len(text)) + text)
        packet.stream = stream  # timestamps below are in the stream's time base
        packet.pts = packet.dts = round(Fraction(caption.start) / plan.fps / time_base)
        packet.duration = round(Fraction(caption.end - caption.start) / plan.fps / time_base)
        container.mux(packet)
