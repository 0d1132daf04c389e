"""Story scripts: a new project from a StoryDiffusion story or a Fountain or Final Draft
screenplay.

Three formats turn into scenes, panels and characters:

* **StoryDiffusion** (:mod:`storyboard.core.script_storydiffusion`): a first paragraph of
  ``[Name] description`` lines defines the characters, then one panel per line, ``[Name]`` in a
  line names a character, ``[NC]`` marks a panel with no character, text after ``#`` is the
  caption; a blank line or a ``## Title`` line starts a new scene.

  .. code-block:: text

      [Bob] a man with red hair, wearing a black suit
      [Alice] a woman in a white shirt

      ## At home
      [Bob] at home, reading the newspaper #The paper says there is treasure in the forest.
      [Alice] makes a call at home # [Bob] invites [Alice] to join him.

      ## The forest
      [NC] a dark forest at night
      [Bob] and [Alice] running through the forest, at night

* **Fountain** (:mod:`storyboard.core.script_fountain`): one scene per scene heading, one panel
  per action paragraph with the dialogue after it, one character per cue name.

* **Final Draft** (:mod:`storyboard.core.script_fdx`, ``.fdx`` XML): the same, from its
  paragraphs; problems name the paragraph and the XML line it starts on.

Nothing here raises for bad text, except a Final Draft text that is not Final Draft XML at all
(or declares entities): that is an :class:`~storyboard.core.errors.ImportFailed` naming it.
Otherwise :func:`parse_script` always returns a :class:`ScriptResult`
whose ``problems`` (line number and what was expected) the editor's story script dialog shows
next to the result, and which the CLI refuses with :meth:`ScriptResult.raise_for_problems`. Each
panel's duration is Storyboarder's reading time for its dialogue (300 ms a word plus 300 ms, at
least 2 s) in frames at the project fps.
"""

from __future__ import annotations

import logging
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from storyboard.core.lettering import letter_new_project
from storyboard.core.model import Project
from storyboard.core.script_fdx import DEFAULT_SOURCE, parse_fdx
from storyboard.core.script_fountain import parse_fountain
from storyboard.core.script_storydiffusion import parse_storydiffusion, split_lines
from storyboard.core.text_repair import repair_surrogates

log = logging.getLogger(__name__)

ScriptKind = Literal["storydiffusion", "fountain", "fdx"]
KindChoice = Literal["auto", "storydiffusion", "fountain", "fdx"]
FOUNTAIN_SUFFIXES = frozenset({".fountain", ".spmd"})
FDX_SUFFIXES = frozenset({".fdx"})
_XML_STARTS = ("<?xml", "<FinalDraft")
DEFAULT_TITLE = "Untitled"

_SD_TAG_LINE = re.compile(r"\s*\[(?!\[)[^\[\]\n]+\]")
_TITLE_KEY = re.compile(r"(?:title|credit|authors?|source|draft date|contact)\s*:", re.IGNORECASE)
_HEADING = re.compile(r"(?:INT\./EXT|INT/EXT|I/E|INT|EXT|EST)[.\s]", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class ScriptProblem:
    """Something in the script that could not be read as written.

    ``line`` is 1-based; 0 means the whole file (it could not be read at all).
    """

    line: int
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}" if self.line > 0 else self.message


class ScriptError(ValueError):
    """A script with problems, for callers that refuse one (the CLI's ``new --from-script``)."""

    def __init__(self, problems: list[ScriptProblem], path: Path | None = None) -> None:
        self.problems = list(problems)
        self.path = path
        super().__init__("\n".join(str(problem) for problem in self.problems))


@dataclass(slots=True)
class ScriptResult:
    """The project built from a script, with every problem met on the way."""

    project: Project
    problems: list[ScriptProblem]
    kind: ScriptKind

    def raise_for_problems(self) -> None:
        """Raise :class:`ScriptError` listing the problems, if there are any."""
        if self.problems:
            raise ScriptError(self.problems)


def detect_kind(text: str) -> ScriptKind:
    """Final Draft, Fountain or StoryDiffusion, from what the text looks like.

    Text that starts as XML is Final Draft. A title page or more Fountain scene headings and
    transitions than lines starting with a ``[Name]`` tag means Fountain; a story with neither is
    read as StoryDiffusion, one panel per line, which is what plain lines of prompts are.
    """
    if text.removeprefix("\ufeff").lstrip().startswith(_XML_STARTS):
        return "fdx"
    lines = split_lines(text.removeprefix("\ufeff"))
    first = next((line.strip() for line in lines if line.strip()), "")
    if _TITLE_KEY.match(first):
        return "fountain"
    tags = sum(1 for line in lines if _SD_TAG_LINE.match(line))
    fountain = sum(
        1
        for previous, line in zip(["", *lines], lines, strict=False)
        if _is_fountain_marker(line.strip(), after_blank=not previous.strip())
    )
    kind: ScriptKind = "fountain" if fountain > tags else "storydiffusion"
    log.debug("script kind %s: %d headings/transitions, %d tagged lines", kind, fountain, tags)
    return kind


def _is_fountain_marker(text: str, *, after_blank: bool) -> bool:
    """A scene heading (plain or forced ``.HEADING``) or a ``CUT TO:`` transition."""
    if text.endswith("TO:") and text == text.upper():
        return True
    forced = len(text) > 1 and text[0] == "." and text[1].isalnum()
    return after_blank and (forced or _HEADING.match(text + " ") is not None)


def _check_fps(fps: float) -> None:
    if not (math.isfinite(fps) and fps > 0):
        raise ValueError(f"fps must be a positive number, not {fps!r}")


def parse_script(
    text: str,
    *,
    kind: KindChoice = "auto",
    fps: float = 24.0,
    title: str | None = None,
) -> ScriptResult:
    """A new project from a script's text; problems are collected, never raised (but a Final
    Draft text that is not Final Draft XML raises :class:`ImportFailed`).

    ``title`` names the project; without it the title page's title is used, else "Untitled".
    """
    return _parse(text, kind=kind, fps=fps, title=title, fallback_title=DEFAULT_TITLE)


def _parse(
    text: str,
    *,
    kind: KindChoice,
    fps: float,
    title: str | None,
    fallback_title: str,
    source: Path = DEFAULT_SOURCE,
) -> ScriptResult:
    _check_fps(fps)
    if kind not in ("auto", "storydiffusion", "fountain", "fdx"):
        raise ValueError(f"unknown script kind {kind!r}")
    # half an emoji pasted in would block saving
    text = str(repair_surrogates(text.removeprefix("\ufeff"))[0])
    chosen: ScriptKind = detect_kind(text) if kind == "auto" else kind
    if chosen == "fdx":
        project, found = parse_fdx(text, fps, source)
    elif chosen == "fountain":
        project, found = parse_fountain(text, fps)
    else:
        project, found = parse_storydiffusion(text, fps)
    project.settings.fps = fps
    project.settings.title = title or project.settings.title or fallback_title
    letter_new_project(project)  # its comic pages show the dialogue without a click
    problems = sorted(
        (ScriptProblem(line, message) for line, message in found), key=lambda p: p.line
    )
    log.info(
        "%s script: %d scenes, %d panels, %d characters, %d problems",
        chosen,
        len(project.scene_ids),
        len(project.panels),
        len(project.character_ids),
        len(problems),
    )
    return ScriptResult(project=project, problems=problems, kind=chosen)


def read_script(path: Path) -> str:
    """A script file's text (UTF-8, a BOM is fine); :class:`ScriptError` naming the path when
    it cannot be read or decoded."""
    path = Path(path)
    try:
        return path.read_bytes().decode("utf-8-sig")
    except OSError as exc:
        problem = ScriptProblem(0, f"cannot read the script {path}: {exc.strerror or exc}")
        raise ScriptError([problem], path) from exc
    except UnicodeDecodeError as exc:
        problem = ScriptProblem(
            0, f"the script {path} is not UTF-8 text (byte {exc.start}); save it as UTF-8"
        )
        raise ScriptError([problem], path) from exc


def kind_for_file(path: Path) -> Literal["auto", "fountain", "fdx"]:
    """``.fountain`` and ``.spmd`` files are Fountain, ``.fdx`` files Final Draft; others are told
    apart by their content."""
    suffix = Path(path).suffix.lower()
    if suffix in FDX_SUFFIXES:
        return "fdx"
    return "fountain" if suffix in FOUNTAIN_SUFFIXES else "auto"


def load_script(
    path: Path,
    *,
    kind: KindChoice = "auto",
    fps: float = 24.0,
    title: str | None = None,
    fallback_title: str | None = None,
) -> ScriptResult:
    """Read a script file (UTF-8, a BOM is fine) and parse it.

    ``.fountain`` and ``.spmd`` files are Fountain, ``.fdx`` files Final Draft; other files are
    told apart by their content. Without a title, a script that names none takes
    ``fallback_title`` (a new project's name), else the file's name. A file that cannot be read
    or decoded raises :class:`ScriptError` naming the path, a Final Draft file that is not Final
    Draft XML :class:`ImportFailed` naming it.
    """
    path = Path(path)
    text = read_script(path)
    if kind == "auto":
        kind = kind_for_file(path)
    fallback = fallback_title or path.stem or DEFAULT_TITLE
    return _parse(text, kind=kind, fps=fps, title=title, fallback_title=fallback, source=path)
