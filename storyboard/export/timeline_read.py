"""An edited timeline file (``.otio``, FCP7 ``.xml``, ``.edl``) read for a conform, as plain data.

OpenTimelineIO and its adapters read the file; this turns the result into
:class:`~storyboard.core.conform.EditedTimeline` (names, durations, panel ids, media file names
of the video tracks' clips), so :mod:`storyboard.core.conform` matches and applies it without
knowing OTIO.

The file may come from anyone, so reading it must neither crash, hang nor touch another file:

- only the named file is read, at most 32 MiB of it; OTIO's media linker is off (it could run
  a plugin that looks for media), and media URLs are only taken apart, never opened;
- ``.otio`` is first parsed by Python's JSON reader (a clear message for a file that is not
  JSON) and its nesting limited to 64 levels: OTIO's own reader recurses in C++, where a
  deeply nested file would overflow the stack and kill the process;
- XML with entity declarations is refused (a timeline never needs them; they are how an XML
  file expands to gigabytes), and its nesting is limited the same way;
- any exception an adapter raises on a malformed file becomes a :class:`ConformError` naming the
  file, never a traceback.

EDLs have no frame rate of their own: they are read at the project's. An EDL's dissolve starts at
the cut it records, so the clips around it are shifted back by half the dissolve, the centred
dissolve our export (and most editors) made.
"""

from __future__ import annotations

import json
import logging
import math
import xml.etree.ElementTree as ET
from fractions import Fraction
from io import BytesIO
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import unquote, urlparse

import opentimelineio as otio  # type: ignore[import-untyped]  # (no stubs)

from storyboard.core.conform import (
    METADATA_KEY,
    ConformError,
    EditedClip,
    EditedTimeline,
    EditedTrack,
)
from storyboard.core.timeline import exact_fps

log = logging.getLogger(__name__)

READ_ADAPTERS = {".otio": "otio_json", ".xml": "fcp_xml", ".edl": "cmx_3600"}
MAX_BYTES = 32 * 1024 * 1024
MAX_DEPTH = 64
NAME_CHARS = 1000
_ADVICE = "Export the timeline again from the editing program as .otio, FCP7 .xml or CMX3600 .edl"


def read_timeline(path: Path, fps: float) -> EditedTimeline:
    """The video tracks of the timeline in ``path``; EDLs are read at ``fps``."""
    path = Path(path)
    adapter = READ_ADAPTERS.get(path.suffix.lower())
    if adapter is None:
        raise ConformError(path, "is not a timeline this program reads", _ADVICE)
    text = _text(path)
    options: dict[str, Any] = {}
    if adapter == "otio_json":
        _check_json(path, text)
    elif adapter == "fcp_xml":
        _check_xml(path, text)
    else:
        options = {"rate": float(exact_fps(fps))}
    notes: list[str] = []
    result = _adapter_read(path, text, adapter, options)
    if result is None and adapter == "cmx_3600":  # record timecodes that overlap: common in EDLs
        result = _adapter_read(path, text, adapter, {**options, "ignore_timecode_mismatch": True})
        notes.append("the EDL's record timecodes overlap; durations were read from its sources")
    if result is None:
        raise ConformError(path, f"could not be read as {_format(adapter)}", _ADVICE)
    timeline = _timeline(path, result, notes)
    return _edited(timeline, adapter, notes, path)


def _format(adapter: str) -> str:
    return {"otio_json": "OpenTimelineIO", "fcp_xml": "FCP7 XML", "cmx_3600": "a CMX3600 EDL"}[
        adapter
    ]


def _text(path: Path) -> str:
    try:
        with path.open("rb") as file:
            raw = file.read(MAX_BYTES + 1)
    except OSError as exc:
        raise ConformError(path, f"could not be read ({exc.strerror or exc})", _ADVICE) from exc
    if len(raw) > MAX_BYTES:
        raise ConformError(path, "is larger than a timeline can be (over 32 MiB)", _ADVICE)
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        if path.suffix.lower() == ".edl":  # older EDLs are Latin-1
            return raw.decode("latin-1")
        raise ConformError(path, "is not UTF-8 text", _ADVICE) from None


def _check_json(path: Path, text: str) -> None:
    try:
        data = json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise ConformError(path, f"is not OpenTimelineIO JSON ({exc})", _ADVICE) from None
    stack: list[tuple[Any, int]] = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise ConformError(path, f"is nested more than {MAX_DEPTH} levels deep", _ADVICE)
        if isinstance(value, dict):
            stack.extend((child, depth + 1) for child in value.values())
        elif isinstance(value, list):
            stack.extend((child, depth + 1) for child in value)
    if not isinstance(data, dict) or "OTIO_SCHEMA" not in data:
        raise ConformError(path, "is JSON but not an OpenTimelineIO file", _ADVICE)


def _check_xml(path: Path, text: str) -> None:
    if "<!entity" in text.casefold():
        raise ConformError(path, "declares XML entities, which no timeline needs", _ADVICE)
    depth = 0
    try:
        for event, _element in ET.iterparse(BytesIO(text.encode("utf-8")), ("start", "end")):
            depth += 1 if event == "start" else -1
            if depth > MAX_DEPTH:
                raise ConformError(path, f"is nested more than {MAX_DEPTH} levels deep", _ADVICE)
    except ET.ParseError as exc:
        raise ConformError(path, f"is not XML ({exc})", _ADVICE) from None


def _adapter_read(path: Path, text: str, adapter: str, options: dict[str, Any]) -> Any:
    """What the adapter made of ``text``; None when it failed (logged)."""
    try:
        return otio.adapters.read_from_string(
            text,
            adapter,
            media_linker_name=otio.media_linker.MediaLinkingPolicy.DoNotLinkMedia,
            **options,
        )
    except Exception as exc:  # any adapter error on a malformed file (RecursionError too)
        log.info("%s: %s could not read it: %s: %s", path, adapter, type(exc).__name__, exc)
        return None


def _timeline(path: Path, result: Any, notes: list[str]) -> otio.schema.Timeline:
    if isinstance(result, otio.schema.Timeline):
        return result
    if isinstance(result, otio.schema.SerializableCollection):
        timelines = [item for item in result if isinstance(item, otio.schema.Timeline)]
        if timelines:
            if len(timelines) > 1:
                notes.append(
                    f"the file holds {len(timelines)} sequences; the first, "
                    f"{_name(timelines[0])!r}, was conformed"
                )
            return timelines[0]
    raise ConformError(path, "holds no timeline", _ADVICE)


def _name(item: Any) -> str:
    name = item.name if isinstance(item.name, str) else ""
    return name[:NAME_CHARS]


def _seconds(clip: otio.schema.Clip) -> Fraction | None:
    try:
        span = clip.source_range if clip.source_range is not None else clip.trimmed_range()
        value, rate = span.duration.value, span.duration.rate
    except Exception:  # no range at all, or a broken one: the duration is unknown
        return None
    if not (math.isfinite(value) and math.isfinite(rate) and rate > 0):
        return None
    return Fraction(value) / _exact_rate(rate)


def _exact_rate(rate: float) -> Fraction:
    """A rate as the fraction it stands for (23.976023976... is 24000/1001), so whole frames stay
    whole; other rates as they are."""
    exact = Fraction(rate)
    near = exact.limit_denominator(1001)
    return near if near > 0 and abs(near - exact) < exact * 1e-9 else exact


def _panel_id(clip: otio.schema.Clip) -> str | None:
    try:
        ours = clip.metadata.get(METADATA_KEY)
        value = ours.get("panel_id") if hasattr(ours, "get") else None
    except Exception:
        return None
    return value if isinstance(value, str) and 0 < len(value) <= 100 else None


def _media(clip: otio.schema.Clip) -> str | None:
    """The file name a clip's media URL ends in (the URL is only parsed, never opened)."""
    reference = clip.media_reference
    if not isinstance(reference, otio.schema.ExternalReference):
        return None
    url = reference.target_url
    if not isinstance(url, str) or not url:
        return None
    try:
        path = unquote(urlparse(url).path if "://" in url else url)
    except ValueError:
        return None
    name = PurePosixPath(path.replace("\\", "/")).name
    return name[:NAME_CHARS] or None


def _edited(
    timeline: otio.schema.Timeline, adapter: str, notes: list[str], path: Path
) -> EditedTimeline:
    tracks = []
    nested = 0
    for index, track in enumerate(timeline.tracks):
        if not isinstance(track, otio.schema.Track) or track.kind != otio.schema.TrackKind.Video:
            continue
        items = list(track)
        durations: list[Fraction | None] = [
            _seconds(item) if isinstance(item, otio.schema.Clip) else None for item in items
        ]
        if adapter == "cmx_3600":
            _centre_dissolves(items, durations)
        clips = []
        for i, (item, duration) in enumerate(zip(items, durations, strict=True)):
            if isinstance(item, otio.schema.Clip):
                # the EDL adapter gives a dissolve's incoming clip the outgoing clip's file
                after_dissolve = i > 0 and isinstance(items[i - 1], otio.schema.Transition)
                media = None if adapter == "cmx_3600" and after_dissolve else _media(item)
                clips.append(EditedClip(_name(item), duration, _panel_id(item), media))
            elif isinstance(item, otio.schema.Stack | otio.schema.Track):
                nested += 1
        tracks.append(EditedTrack(_name(track) or f"V{index + 1}", tuple(clips)))
    if nested:
        notes.append(f"{nested} nested sequence(s) were skipped: conform their clips on the top")
    name = _name(timeline) or path.name
    return EditedTimeline(name, tuple(tracks), tuple(notes), str(path))


def _centre_dissolves(items: list[Any], durations: list[Fraction | None]) -> None:
    """An EDL dissolve begins at its recorded cut: give the outgoing clip back the first half."""
    for i, item in enumerate(items):
        if not isinstance(item, otio.schema.Transition) or not 0 < i < len(items) - 1:
            continue
        before, after = durations[i - 1], durations[i + 1]
        if before is None or after is None:
            continue
        try:
            length = item.in_offset + item.out_offset
            half = Fraction(math.floor(length.value) // 2) / _exact_rate(length.rate)
        except (ValueError, OverflowError, ZeroDivisionError, TypeError):
            continue
        if item.in_offset.value == 0 and 0 < half < after:
            durations[i - 1], durations[i + 1] = before + half, after - half
