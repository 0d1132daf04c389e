"""Any text at all gives a consistent project or a ScriptError, never a crash."""

from __future__ import annotations

from typing import Literal

from hypothesis import given, settings
from hypothesis import strategies as st

from storyboard.core.errors import ImportFailed
from storyboard.core.script import ScriptError, ScriptResult, parse_script
from storyboard.core.script_storydiffusion import split_lines

Kind = Literal["auto", "storydiffusion", "fountain", "fdx"]
KINDS: list[Kind] = ["auto", "storydiffusion", "fountain"]

# Pieces of both syntaxes, so that the generated text hits the parsers' branches.
PIECES = [
    "",
    "  ",
    "[Bob] a man",
    "[Alice] a woman",
    "[bob] again",
    "[NC]",
    "[NC] a forest",
    "[]",
    "[Bob] and [Alice] run #They run.",
    "[Carol] waves",
    "# a caption",
    "## Scene",
    "##",
    "#",
    "Title: T",
    "Author: A",
    "    continued",
    "INT. HOUSE - DAY #1A#",
    "EXT. PARK",
    ".FORCED",
    "BOB",
    "BOB (V.O.)",
    "ALICE ^",
    "@McCLANE",
    "(quietly)",
    "Hello there.",
    "Bob enters.",
    "CUT TO:",
    "> FADE OUT.",
    "FADE IN:",
    ">THE END<",
    "[[a note]]",
    "[[open note",
    "]]",
    "/* bone",
    "yard */",
    "===",
    "= synopsis",
    "~lyric",
    "!FORCED ACTION",
    "*bold* _under_",
    "\r",
    "\ufeff",
    "\x1f",
]


def check(text: str, kind: Kind) -> None:
    try:
        result = parse_script(text, kind=kind)
    except ScriptError:
        return
    assert isinstance(result, ScriptResult)
    project = result.project
    assert list(project.characters) == project.character_ids
    assert set(project.scenes) == set(project.scene_ids)
    placed = [pid for scene in project.ordered_scenes() for pid in scene.panel_ids]
    assert sorted(placed) == sorted(project.panels)  # every panel in exactly one scene
    for panel in project.panels.values():
        assert set(panel.character_ids) <= set(project.characters)
        assert len(set(panel.character_ids)) == len(panel.character_ids)
        assert panel.duration >= 1
    last_line = max(1, len(split_lines(text)))
    assert all(1 <= problem.line <= last_line for problem in result.problems)


@settings(max_examples=300, deadline=None)
@given(st.text(), st.sampled_from(KINDS))
def test_arbitrary_text(text: str, kind: Kind) -> None:
    check(text, kind)


@settings(max_examples=500, deadline=None)
@given(
    st.lists(st.one_of(st.sampled_from(PIECES), st.text(max_size=12)), max_size=30),
    st.sampled_from(["\n", "\r\n", "\n\n"]),
    st.sampled_from(KINDS),
)
def test_text_built_from_the_syntax(pieces: list[str], joiner: str, kind: Kind) -> None:
    check(joiner.join(pieces), kind)


# Pieces of Final Draft XML: well-formed or not, in any order, the reader gives a consistent
# project, problems on lines of the file, or an ImportFailed naming it (never another error).
FDX_PIECES = [
    '<Paragraph Type="Scene Heading" Number="1"><Text>INT. A</Text></Paragraph>',
    '<Paragraph Type="Action"><Text>Bob enters.</Text></Paragraph>',
    '<Paragraph Type="Character"><Text>BOB (V.O.)</Text></Paragraph>',
    '<Paragraph Type="Character"><Text></Text></Paragraph>',
    '<Paragraph Type="Parenthetical"><Text>(quietly)</Text></Paragraph>',
    '<Paragraph Type="Dialogue"><Text>Hello</Text><Text Style="Bold"> there.</Text></Paragraph>',
    '<Paragraph Type="Transition"><Text>CUT TO:</Text></Paragraph>',
    '<Paragraph Type="Odd Custom"><Text>?</Text></Paragraph>',
    '<Paragraph Type="Outline 1"><Text>Act</Text></Paragraph>',
    "<Paragraph><DualDialogue>",
    "</DualDialogue></Paragraph>",
    "<Paragraph>",
    "</Paragraph>",
    "<Text>",
    "</Text>",
    "&amp;",
    "&lt;",
    "&nope;",
    "<!-- a comment -->",
    "<![CDATA[ <raw> ]]>",
    "\n",
    "\r\n",
]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(st.sampled_from(FDX_PIECES), st.text(max_size=8)), max_size=25))
def test_final_draft_text_built_from_its_syntax(pieces: list[str]) -> None:
    text = (
        "<?xml version='1.0'?>\n<FinalDraft><Content>" + "".join(pieces) + "</Content></FinalDraft>"
    )
    try:
        check(text, "fdx")
    except ImportFailed as exc:
        assert str(exc).startswith("the Final Draft script: ")
