"""How an image was generated, written into the PNG itself in the form other tools read.

AUTOMATIC1111's web UI put the settings of each image in a PNG text chunk named ``parameters``,
and most Stable Diffusion tools (ComfyUI's loaders, InvokeAI, Civitai, prompt readers) read that
form: the prompt, a ``Negative prompt:`` line, then one line of ``Key: value`` entries separated
by commas (a value holding a comma, colon or line break is a JSON string). So a panel dragged
out of the project into another program says how to make it again. Our own settings (the
Consistent Self-Attention rates, the guidance, the style) follow as further entries.

The chunk is added to the PNG bytes before they reach the content-addressed store, so the
asset id is the hash of the bytes on disk, chunk included. Adding it only walks the chunk list
(no decoding): a tEXt chunk when the text is Latin-1 (what the PNG standard allows there), an
uncompressed iTXt chunk (UTF-8) otherwise; Pillow reads both into ``Image.text``.
"""

from __future__ import annotations

import json
import re
import struct
import zlib
from collections.abc import Mapping
from pathlib import PurePosixPath, PureWindowsPath

PARAMETERS = "parameters"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"

SAMPLER_NAMES = {"ddim": "DDIM", "euler-a": "Euler a", "dpmpp-2m-karras": "DPM++ 2M Karras"}
_LABELS = {
    "style": "Style",
    "freeu": "FreeU",
    "identity_panel": "Identity panel",
    "guidance_method": "Guidance",
}
_TAKEN = {"steps", "guidance", "scheduler", "width", "height"}  # in the fixed entries
_MODEL_FILE = re.compile(r"\.(safetensors|ckpt|bin|pt)$", re.IGNORECASE)
# one entry of the last line, as the web UI reads it (key: value, the value maybe a JSON string)
_ENTRY = re.compile(r'\s*(\w[\w \-/]+):\s*("(?:\\.|[^\\"])+"|[^,]*)(?:,|$)')

Setting = str | int | float | bool | None


def _quote(value: object) -> str:
    text = _plain(value)
    if "," not in text and ":" not in text and "\n" not in text and not text.startswith('"'):
        return text
    return json.dumps(text, ensure_ascii=False)


def _plain(value: object) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def model_name(source: str) -> str:
    """A model's name as other tools show it: a file or folder's own name, never its path
    (an image shared elsewhere should not carry the artist's folders); presets and hub ids as
    they are."""
    windows = "\\" in source or re.match(r"^[A-Za-z]:", source)
    path = PureWindowsPath(source) if windows else PurePosixPath(source)
    if path.is_absolute() or windows or source.startswith(("~", ".")) or _MODEL_FILE.search(source):
        return _MODEL_FILE.sub("", path.name) or source
    return source


def _label(key: str) -> str:
    if key in _LABELS:
        return _LABELS[key]
    if key.startswith("csa_"):
        return "CSA " + key[4:].replace("_", " ")
    return key.replace("_", " ").capitalize()


def parameters_text(
    prompt: str, negative: str, seed: int | None, model: str, settings: Mapping[str, Setting]
) -> str:
    """The ``parameters`` text of one image: prompt, negative prompt, then the entries."""
    entries: list[tuple[str, object]] = []
    if "steps" in settings:
        entries.append(("Steps", settings["steps"]))
    scheduler = settings.get("scheduler")
    if scheduler is not None:
        entries.append(("Sampler", SAMPLER_NAMES.get(str(scheduler), scheduler)))
    if "guidance" in settings:
        entries.append(("CFG scale", settings["guidance"]))
    if seed is not None:
        entries.append(("Seed", seed))
    if settings.get("width") is not None and settings.get("height") is not None:
        entries.append(("Size", f"{settings['width']}x{settings['height']}"))
    if model:
        entries.append(("Model", model_name(model)))
    method = str(settings.get("guidance_method") or "")
    for key, value in settings.items():
        if key in _TAKEN or value is None or value is False:
            continue
        if key == "guidance_strength":
            noising = method in ("img2img", "inpaint")
            entries.append(("Denoising strength" if noising else "Guidance strength", value))
        else:
            entries.append((_label(key), value))
    lines = [prompt.strip()]
    if negative.strip():
        lines.append(f"Negative prompt: {negative.strip()}")
    lines.append(", ".join(f"{key}: {_quote(value)}" for key, value in entries))
    return "\n".join(lines)


def parse_parameters(text: str) -> tuple[str, str, dict[str, str]]:
    """``(prompt, negative prompt, entries)`` of a ``parameters`` text, read the way the web UI
    reads it (the last line holds the entries when it has at least three)."""
    *lines, last = text.strip().split("\n")
    entries = {
        key.strip(): json.loads(value) if value.startswith('"') else value.strip()
        for key, value in _ENTRY.findall(last)
    }
    if len(entries) < 3:
        lines.append(last)
        entries = {}
    prompt: list[str] = []
    negative: list[str] = []
    for line in lines:
        if line.startswith("Negative prompt:") or negative:
            negative.append(line.removeprefix("Negative prompt:").strip() if not negative else line)
        else:
            prompt.append(line)
    return "\n".join(prompt).strip(), "\n".join(negative).strip(), entries


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def text_chunk(keyword: str, text: str) -> bytes:
    """A tEXt chunk (Latin-1 text), or an uncompressed iTXt chunk for any other text."""
    key = keyword.encode("latin-1")
    try:
        return _chunk(b"tEXt", key + b"\0" + text.encode("latin-1"))
    except UnicodeEncodeError:
        # keyword, 0, compression flag 0, method 0, no language tag, no translated keyword
        return _chunk(b"iTXt", key + b"\0\0\0\0\0" + text.encode("utf-8"))


def with_text(png: bytes, keyword: str, text: str) -> bytes:
    """``png`` with ``text`` under ``keyword`` right after the header chunk (before the pixels,
    where streaming readers find it), replacing a chunk with that keyword already there."""
    if not png.startswith(PNG_SIGNATURE):
        raise ValueError("not a PNG image")
    key = keyword.encode("latin-1") + b"\0"
    out = [PNG_SIGNATURE]
    at = len(PNG_SIGNATURE)
    while at + 8 <= len(png):
        (length,) = struct.unpack(">I", png[at : at + 4])
        kind = png[at + 4 : at + 8]
        end = at + 12 + length
        if end > len(png):
            raise ValueError("the PNG is cut short")
        if not (kind in (b"tEXt", b"iTXt", b"zTXt") and png[at + 8 : end - 4].startswith(key)):
            out.append(png[at:end])
        if kind == b"IHDR":
            out.append(text_chunk(keyword, text))
        at = end
    if at != len(png):
        raise ValueError("the PNG is cut short")
    return b"".join(out)
