"""Final Draft (.fdx) screenplays become projects the way Fountain ones do; a hostile .fdx (entity
bombs, external entities, broken or absurdly deep XML) is refused or read without harm."""

from __future__ import annotations

from pathlib import Path

import pytest

from storyboard.cli import main
from storyboard.core.errors import ImportFailed
from storyboard.core.model import Project, TransitionKind
from storyboard.core.persistence import load_project
from storyboard.core.script import detect_kind, kind_for_file, load_script, parse_script

ROOT = Path(__file__).resolve().parents[2]
SCRIPTS = ROOT / "resources" / "scripts"


def fdx(*paragraphs: str, head: str = '<?xml version="1.0" encoding="UTF-8"?>\n') -> str:
    body = "\n".join(paragraphs)
    root = '<FinalDraft DocumentType="Script" Version="5">'
    return f"{head}{root}\n<Content>\n{body}\n</Content>\n</FinalDraft>\n"


def para(kind: str, *texts: str, number: str | None = None) -> str:
    runs = "".join(f"<Text>{text}</Text>" for text in texts)
    numbered = f' Number="{number}"' if number else ""
    return f'<Paragraph{numbered} Type="{kind}">{runs}</Paragraph>'


def outline(project: Project) -> list[tuple[str, list[tuple[str, str, TransitionKind, list[str]]]]]:
    """What a reader of the storyboard sees: scenes, and each panel's action, dialogue,
    transition and characters."""
    names = {c.id: c.name for c in project.characters.values()}
    return [
        (
            scene.title,
            [
                (
                    (panel := project.panels[pid]).action,
                    panel.dialogue,
                    panel.transition.kind,
                    [names[cid] for cid in panel.character_ids],
                )
                for pid in scene.panel_ids
            ],
        )
        for scene in project.ordered_scenes()
    ]


def test_the_sample_screenplay_reads_the_same_as_its_fountain_twin() -> None:
    """The same screenplay written in Final Draft and in Fountain gives the same storyboard:
    both readers hand their elements to one project builder."""
    from_fdx = load_script(SCRIPTS / "the_last_train.fdx")
    from_fountain = load_script(SCRIPTS / "the_last_train.fountain")
    assert from_fdx.kind == "fdx" and from_fdx.problems == []
    assert outline(from_fdx.project) == outline(from_fountain.project)
    assert from_fdx.project.settings.title == "THE LAST TRAIN"
    first = from_fdx.project.ordered_scenes()[0]
    assert "Scene number 1" in first.notes and "Section: ACT ONE" in first.notes
    assert [p.duration for p in from_fdx.project.ordered_panels()] == [
        p.duration for p in from_fountain.project.ordered_panels()
    ]


def test_paragraphs_become_scenes_panels_speeches_and_transitions() -> None:
    text = fdx(
        para("Scene Heading", "INT. KITCHEN - NIGHT", number="12A"),
        para("Action", "Ann ", "opens", " the fridge."),
        para("Character", "ANN (V.O.)"),
        para("Parenthetical", "(whispering)"),
        para("Dialogue", "Nothing here."),
        para("Character", "Bob"),  # mixed case: a cue all the same, kept as written
        para("Dialogue", "Told you."),
        para("Transition", "DISSOLVE TO:"),
        para("Shot", "CLOSE ON the empty shelf."),
    )
    result = parse_script(text)
    assert result.kind == "fdx" and result.problems == []
    (scene,) = result.project.ordered_scenes()
    assert scene.title == "INT. KITCHEN - NIGHT" and scene.notes == "Scene number 12A"
    fridge, shelf = result.project.ordered_panels()
    assert fridge.action == "Ann opens the fridge."
    assert fridge.dialogue == "Ann (V.O.): (whispering) Nothing here.\nBob: Told you."
    assert fridge.transition.kind is TransitionKind.CROSSFADE
    assert "Transition: DISSOLVE TO:" in fridge.notes
    assert shelf.action == "CLOSE ON the empty shelf."
    assert [c.name for c in result.project.ordered_characters()] == ["Ann", "Bob"]
    names = {c.id: c.name for c in result.project.characters.values()}
    assert [names[c] for c in fridge.character_ids] == ["Ann", "Bob"]  # Ann named in the action


def test_problems_name_the_paragraph_and_its_line() -> None:
    text = fdx(
        para("Scene Heading", "EXT. ROOF - DAY"),
        para("Action", "Wind."),
        para("Dialogue", "Who said that?"),  # paragraph 3: no cue before it
    )
    result = parse_script(text)
    (problem,) = result.problems
    line = text.splitlines().index(para("Dialogue", "Who said that?")) + 1
    assert problem.line == line
    assert str(problem) == (
        f"line {line}: paragraph 3: Dialogue without a character's name before it; read as action"
    )
    assert result.project.ordered_panels()[-1].action == "Who said that?"  # nothing is lost


def test_a_script_without_a_panel_is_a_problem() -> None:
    result = parse_script(fdx(para("Scene Heading", "INT. VOID")))
    assert [p.message for p in result.problems] == [
        "expected at least one Action paragraph or a Character with Dialogue"
    ]


def test_fdx_is_picked_by_extension_and_by_content(tmp_path: Path) -> None:
    assert kind_for_file(Path("Pilot.FDX")) == "fdx"
    assert detect_kind("\ufeff  " + fdx(para("Action", "x"))) == "fdx"
    assert detect_kind("<FinalDraft><Content/></FinalDraft>") == "fdx"
    file = tmp_path / "pilot.txt"  # a .fdx saved under another name is still recognised
    file.write_text(fdx(para("Action", "A door opens.")), encoding="utf-8")
    result = load_script(file)
    assert result.kind == "fdx" and result.project.settings.title == "pilot"


# -- hostile files -----------------------------------------------------------------------------

BILLION_LAUGHS = (
    '<?xml version="1.0"?>\n<!DOCTYPE FinalDraft [\n<!ENTITY a "lol">\n'
    + "".join(f'<!ENTITY {chr(98 + i)} "{("&" + chr(97 + i) + ";") * 10}">\n' for i in range(9))
    + ']>\n<FinalDraft><Content><Paragraph Type="Action"><Text>&j;</Text></Paragraph>'
    "</Content></FinalDraft>"
)


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        (BILLION_LAUGHS, "declares a DOCTYPE (line 2)"),
        (
            '<!DOCTYPE x [<!ENTITY s SYSTEM "file:///etc/passwd">]>\n'
            '<FinalDraft><Content><Paragraph Type="Action"><Text>&s;</Text></Paragraph>'
            "</Content></FinalDraft>",
            "declares a DOCTYPE (line 1)",
        ),
        (
            fdx(para("Action", "&undefined;")),
            "is not a Final Draft file: undefined entity at line 4",
        ),
        (fdx(para("Action", "<b>unclosed")), "is not a Final Draft file: mismatched tag"),
        ("<?xml version='1.0'?><FinalDraft><Content>", "is not a Final Draft file: no element"),
        ("<?xml version='1.0'?><html><body/></html>", "is XML but not a Final Draft script"),
        ("<?xml version='1.0'?><FinalDraft/>", "without a script (no <Content>)"),
    ],
)
def test_a_hostile_or_broken_fdx_is_refused_naming_the_file(
    tmp_path: Path, text: str, problem: str
) -> None:
    file = tmp_path / "hostile.fdx"
    file.write_text(text, encoding="utf-8")
    with pytest.raises(ImportFailed) as raised:
        load_script(file)
    assert str(raised.value).startswith(f"{file}: ")
    assert problem in str(raised.value)
    assert "Final Draft" in raised.value.advice


def test_absurd_nesting_and_many_speakers_are_read() -> None:
    """Deep elements inside a paragraph are read without recursion (no crash); thousands of
    speakers in one panel come over (time per KB: ``bench/parser_speed.py``, checked by
    ``test_script_speed.py``)."""
    depth = 200_000
    deep = fdx(
        '<Paragraph Type="Action"><Text>A door.</Text>'
        + "<x>" * depth
        + "</x>" * depth
        + "</Paragraph>"
    )
    assert [p.action for p in parse_script(deep).project.ordered_panels()] == ["A door."]
    many = fdx(*[para("Character", f"NAME{i}") + para("Dialogue", "Hi.") for i in range(20_000)])
    result = parse_script(many)
    (panel,) = result.project.ordered_panels()  # no action: the speeches share one panel
    assert len(result.project.characters) == 20_000 == len(panel.dialogue.splitlines())


def test_cli_new_from_an_fdx(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert (
        main(["new", str(tmp_path / "Train"), "--from-script", str(SCRIPTS / "the_last_train.fdx")])
        == 0
    )
    project = load_project(tmp_path / "Train.storyboard").project
    assert len(project.scenes) == 3 and len(project.panels) == 7
    assert project.settings.title == "THE LAST TRAIN"


def test_cli_refuses_a_hostile_fdx_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    script = tmp_path / "bomb.fdx"
    script.write_text(BILLION_LAUGHS, encoding="utf-8")
    assert main(["new", str(tmp_path / "B"), "--from-script", str(script)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: {script}: declares a DOCTYPE") and err.count("\n") == 1
    assert not (tmp_path / "B.storyboard").exists()
