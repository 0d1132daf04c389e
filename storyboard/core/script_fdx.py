"""Final Draft screenplays (``.fdx``, XML) as scenes and panels.

A ``.fdx`` file is ``<FinalDraft><Content>`` holding one ``<Paragraph Type="...">`` per screenplay
element, its words in ``<Text>`` runs (one per change of style). The paragraphs become the
elements :mod:`storyboard.core.screenplay` builds a project from, as the Fountain reader's do:

* ``Scene Heading`` starts a scene (its ``Number`` attribute, when there is one, is the scene
  number); ``Action``, ``General`` and ``Shot`` paragraphs are panels;
* ``Character`` is a cue; the ``Parenthetical``, ``Dialogue`` and ``Lyrics`` paragraphs after it
  are its speech (``(quietly) Hello.``); the two speeches of a ``DualDialogue`` are read in turn;
* ``Transition`` sets the previous panel's transition; ``New Act``, ``End of Act``, ``Cast List``
  and the ``Outline`` levels are section notes for the next scene, ``Outline Body`` a synopsis;
  a paragraph of a type Final Draft templates may add is read as action, so nothing is lost;
* the first paragraph of the ``TitlePage`` is the project's title.

Problems are ``(line, "paragraph N: ...")`` pairs: the XML line where the paragraph starts, and
its place among the script's paragraphs (1-based).

The file may come from anyone. XML can declare entities that expand to gigabytes (the "billion
laughs") or read other files (external entities); a screenplay needs neither, so a ``DOCTYPE`` or
``ENTITY`` declaration refuses the file before anything is expanded. The parse is expat's, which
is linear in the input, and the walk over the tree visits each paragraph's own children only, so
an absurdly deep file costs no more than its size. A file that is not Final Draft XML at all is an
:class:`~storyboard.core.errors.ImportFailed` naming it; everything else is a problem or a panel.
"""

from __future__ import annotations

import logging
import xml.etree.ElementTree as ET
from pathlib import Path
from xml.parsers import expat

from storyboard.core.errors import ImportFailed
from storyboard.core.model import Project
from storyboard.core.screenplay import Cue, Element, ElementKind, build_project, parse_cue

log = logging.getLogger(__name__)

Problems = list[tuple[int, str]]
DEFAULT_SOURCE = Path("the Final Draft script")
_ADVICE = "Open it in Final Draft and save it again as a Final Draft document (.fdx)"

_ACTION = frozenset({"Action", "General", "Shot"})
_SPEECH = frozenset({"Parenthetical", "Dialogue", "Lyrics"})
_SECTION = frozenset({"New Act", "End of Act", "Cast List"})


class _Refused(Exception):
    """A declaration a screenplay never needs (and an attacker would)."""


def _refuse_doctype(*_args: object) -> None:
    raise _Refused("declares a DOCTYPE")


def _refuse_entity(*_args: object) -> int:
    raise _Refused("declares an ENTITY")


def _tree(text: str, source: Path) -> tuple[ET.Element, dict[int, int]]:
    """The document's root element and the line of each ``Paragraph`` (by ``id``), read by expat
    with every declaration that could expand or fetch something refused."""
    builder = ET.TreeBuilder()
    lines: dict[int, int] = {}
    parser = expat.ParserCreate(encoding="UTF-8")  # the text is decoded already: ignore the
    # declaration's encoding, which could only disagree

    def start(tag: str, attributes: dict[str, str]) -> None:
        element = builder.start(tag, attributes)
        if tag == "Paragraph":
            lines[id(element)] = parser.CurrentLineNumber

    parser.StartDoctypeDeclHandler = _refuse_doctype
    parser.EntityDeclHandler = _refuse_entity
    parser.UnparsedEntityDeclHandler = _refuse_entity
    parser.ExternalEntityRefHandler = _refuse_entity
    parser.StartElementHandler = start
    parser.EndElementHandler = builder.end
    parser.CharacterDataHandler = builder.data
    parser.buffer_text = True
    try:
        parser.Parse(text.encode("utf-8", "surrogatepass"), True)
    except _Refused as exc:
        raise ImportFailed(
            source,
            f"{exc} (line {parser.CurrentLineNumber}); Final Draft files have none, and "
            "declarations could make a file expand without limit, so it was not read",
            _ADVICE,
        ) from exc
    except expat.ExpatError as exc:
        message = expat.errors.messages.get(exc.code, str(exc))
        raise ImportFailed(
            source,
            f"is not a Final Draft file: {message} at line {exc.lineno}, column {exc.offset + 1}",
            _ADVICE,
        ) from exc
    root = builder.close()
    if root.tag != "FinalDraft":
        raise ImportFailed(
            source, f"is XML but not a Final Draft script (it holds <{root.tag[:40]}>)", _ADVICE
        )
    return root, lines


def _text(paragraph: ET.Element) -> str:
    """The paragraph's words: its ``<Text>`` runs joined (Final Draft starts a new run at each
    change of style)."""
    return "".join(run.text or "" for run in paragraph.findall("Text")).strip()


def _title(root: ET.Element) -> str:
    for paragraph in root.findall("TitlePage/Content/Paragraph"):
        if text := " ".join(_text(paragraph).split()):
            return text
    return ""


def _paragraphs(content: ET.Element) -> list[ET.Element]:
    """The script's paragraphs in order, the two sides of a dual dialogue in turn."""
    found: list[ET.Element] = []
    for paragraph in content.findall("Paragraph"):
        dual = paragraph.find("DualDialogue")
        if dual is not None:
            found.extend(dual.findall("Paragraph"))
        else:
            found.append(paragraph)
    return found


class _Reader:
    """Paragraphs in, elements out: a speech is gathered until a paragraph that is not one."""

    def __init__(self) -> None:
        self.elements: list[Element] = []
        self.problems: Problems = []
        self.cue: Cue | None = None
        self.speech: list[str] = []
        self.speech_lines = (0, 0)

    def flush(self) -> None:
        if self.cue is not None:
            first, last = self.speech_lines
            self.elements.append(Element("dialogue", first, last, " ".join(self.speech), self.cue))
        self.cue, self.speech = None, []

    def add(self, kind: ElementKind, line: int, text: str, number: str | None = None) -> None:
        self.flush()
        self.elements.append(Element(kind, line, line, text, number=number))

    def read(self, index: int, line: int, paragraph: ET.Element) -> None:
        kind = paragraph.get("Type", "Action")
        text = _text(paragraph)
        if kind == "Character":
            self.flush()
            self.cue = parse_cue(text) or parse_cue(text, forced=True)  # None: no name
            self.speech_lines = (line, line)
        elif kind in _SPEECH:
            if self.cue is not None:
                if text:
                    self.speech.append(text)
                self.speech_lines = (self.speech_lines[0], line)
            elif text:
                problem = f"{kind} without a character's name before it; read as action"
                self.problems.append((line, f"paragraph {index}: {problem}"))
                self.add("action", line, text)
        elif kind == "Scene Heading":
            self.add("heading", line, text, paragraph.get("Number") or None)
        elif kind == "Transition":
            self.add("transition", line, text)
        elif kind == "Outline Body":
            self.add("synopsis", line, text)
        elif kind in _SECTION or kind.startswith("Outline"):
            self.add("section", line, text)
        else:
            if kind not in _ACTION:
                log.debug("fdx paragraph %d of type %r read as action", index, kind[:40])
            self.add("action", line, text)


def parse_fdx(text: str, fps: float, source: Path = DEFAULT_SOURCE) -> tuple[Project, Problems]:
    """Build a project from a Final Draft document's text.

    Raises :class:`ImportFailed` naming ``source`` when the text is not Final Draft XML (or
    declares a DOCTYPE or entities); every other oddity is a problem with its line.
    """
    root, lines = _tree(text, source)
    content = root.find("Content")
    if content is None:
        raise ImportFailed(source, "is a Final Draft file without a script (no <Content>)", _ADVICE)
    reader = _Reader()
    for index, paragraph in enumerate(_paragraphs(content), start=1):
        reader.read(index, lines.get(id(paragraph), 0), paragraph)
    reader.flush()
    project = build_project(reader.elements, fps, title=_title(root))
    if not project.panels:
        expected = "expected at least one Action paragraph or a Character with Dialogue"
        reader.problems.append((1, expected))
    log.info("fdx: %d paragraphs, %d problems", len(lines), len(reader.problems))
    return project, reader.problems
