"""Story scripts as a user writes them: StoryDiffusion stories and Fountain screenplays."""

from __future__ import annotations

from pathlib import Path

import pytest

from storyboard.core.model import Panel, Project, TransitionKind
from storyboard.core.script import (
    ScriptError,
    ScriptProblem,
    ScriptResult,
    detect_kind,
    load_script,
    parse_script,
)

SCRIPTS = Path(__file__).resolve().parents[2] / "resources" / "scripts"
STORY = SCRIPTS / "treasure_hunt.txt"
SCREENPLAY = SCRIPTS / "the_last_train.fountain"


def names(project: Project, panel: Panel) -> list[str]:
    return [project.characters[cid].name for cid in panel.character_ids]


def panels_of(result: ScriptResult) -> list[Panel]:
    return result.project.ordered_panels()


# -- StoryDiffusion ----------------------------------------------------------------------------


def test_story_with_two_characters_becomes_scenes_panels_and_captions() -> None:
    result = load_script(STORY)
    project = result.project
    assert result.kind == "storydiffusion"
    assert result.problems == []
    assert [(c.name, c.description) for c in project.ordered_characters()] == [
        ("Bob", "a man with short red hair, wearing a black suit"),
        ("Alice", "a woman with long dark hair, wearing a white shirt"),
    ]
    assert [s.title for s in project.ordered_scenes()] == [
        "At home",
        "Into the forest",
        "The treasure",
    ]
    assert [len(s.panel_ids) for s in project.ordered_scenes()] == [3, 5, 2]
    first, _, call = panels_of(result)[:3]
    assert first.prompt == "[Bob] at home, reading the newspaper"  # the engine substitutes
    assert first.dialogue == "The newspaper says there is a treasure house in the forest."
    assert names(project, first) == ["Bob"]
    assert call.dialogue == "Bob invites Alice to join him on an adventure."
    assert names(project, call) == ["Alice"]
    running = panels_of(result)[7]
    assert running.prompt.startswith("[Bob] and [Alice] running")
    assert names(project, running) == ["Bob", "Alice"]
    assert project.settings.title == "treasure_hunt"  # no title in the script: the file's name


def test_nc_panel_has_no_character_and_no_tag_in_its_prompt() -> None:
    result = parse_script("[Bob] a man\n\n[NC] a tiger in the forest #Night falls.\n")
    (panel,) = panels_of(result)
    assert result.problems == []
    assert panel.character_ids == []
    assert panel.prompt == "a tiger in the forest"
    assert panel.dialogue == "Night falls."


def test_unknown_character_is_reported_with_its_line_and_the_names_expected() -> None:
    text = "[Bob] a man\n[Alice] a woman\n\n[Bob] at home\n[Carol] and [Bob] on the road\n"
    result = parse_script(text)
    (problem,) = result.problems
    assert problem.line == 5
    assert "[Carol]" in problem.message
    assert "[Bob], [Alice]" in problem.message
    # the panel is still there, with the characters that do exist
    assert names(result.project, panels_of(result)[1]) == ["Bob"]
    with pytest.raises(ScriptError, match=r"line 5: unknown character \[Carol\]"):
        result.raise_for_problems()


def test_story_without_a_character_block_says_how_to_define_one() -> None:
    result = parse_script("[Bob] at home #Hello.\n[Bob] on the road\n")
    assert [p.line for p in result.problems] == [1, 2]
    assert "start the script with '[Bob] description'" in result.problems[0].message
    assert result.project.characters == {}


def test_duplicate_character_definition_is_a_problem() -> None:
    result = parse_script("[Bob] a man\n[bob] a tall man\n\n[Bob] waves\n")
    assert result.problems == [
        ScriptProblem(2, "character [bob] is already defined on line 1; expected each name once")
    ]
    assert [c.description for c in result.project.ordered_characters()] == ["a man"]


def test_blank_lines_and_headings_start_scenes() -> None:
    text = "[NC] one\n[NC] two\n\n\n[NC] three\n## Night\n[NC] four\n\n## Empty\n"
    project = parse_script(text).project
    scenes = project.ordered_scenes()
    assert [(s.title, len(s.panel_ids)) for s in scenes] == [
        ("Scene 1", 2),
        ("Scene 2", 1),
        ("Night", 1),
        ("Empty", 0),
    ]


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("[NC] [Bob] at home", "[NC] means no character"),
        ("[NC] #just a caption", "expected a prompt"),
        ("# a comment?", "use '## Title' for a scene heading"),
        ("[] at home", "expected a character name"),
        ("[Bob steers the boat", "'[' at column 1 ('[Bob steers the boat…') is never closed"),
        ("[Bob] rows [fast", "'[' at column 12 ('[fast…') is never closed"),
        ("[Bob] waves] at gulls", "']' at column 12 closes no '['"),
        ("(Bob) mends a net", "(Bob) names a character in the wrong brackets; write [Bob]"),
        ("{bob} sleeps", "write [Bob] to put Bob in the panel"),
    ],
)
def test_malformed_panel_lines_are_problems(line: str, expected: str) -> None:
    result = parse_script(f"[Bob] a man\n\n{line}\n")
    assert [p.line for p in result.problems] == [3]
    assert expected in result.problems[0].message


def test_round_brackets_around_other_words_are_only_words() -> None:
    result = parse_script("[Bob] a man\n\n[Bob] (at night) rows (slowly)\n")
    assert result.problems == []
    assert panels_of(result)[0].prompt == "[Bob] (at night) rows (slowly)"


def test_a_script_of_only_characters_has_no_panels_and_says_so() -> None:
    result = parse_script("[Bob] a man\n[Alice] a woman\n")
    assert [p.line for p in result.problems] == [2]
    assert "at least one panel" in result.problems[0].message


def test_durations_are_reading_time_at_the_project_fps() -> None:
    words = " ".join(["word"] * 10)  # 10 words: 3.3 s
    text = f"[NC] silent\n[NC] talking #{words}\n"
    at_24 = [p.duration for p in panels_of(parse_script(text))]
    at_30 = [p.duration for p in panels_of(parse_script(text, fps=30))]
    assert at_24 == [48, 79]  # at least 2 s; 3.3 s
    assert at_30 == [60, 99]
    assert parse_script(text, fps=30).project.settings.fps == 30


def test_crlf_line_endings_keep_line_numbers() -> None:
    result = parse_script("[Bob] a man\r\n\r\n[Eve] waves\r\n")
    assert [p.line for p in result.problems] == [3]


# -- Fountain ----------------------------------------------------------------------------------


def test_screenplay_becomes_scenes_panels_and_dialogue() -> None:
    result = load_script(SCREENPLAY)
    project = result.project
    assert result.kind == "fountain"
    assert result.problems == []
    assert project.settings.title == "THE LAST TRAIN"  # emphasis markup dropped
    assert [c.name for c in project.ordered_characters()] == ["Mara", "Stranger", "McCLANE"]
    assert [s.title for s in project.ordered_scenes()] == [
        "EXT. TRAIN STATION - NIGHT",
        "INT. ALL-NIGHT DINER - LATER",  # the boneyard's TAXI RANK scene is gone
        "FLASHBACK - THE SAME PLATFORM, 1985",  # forced heading
    ]
    station = project.ordered_scenes()[0]
    assert "Section: ACT ONE" in station.notes
    assert "Mara misses the last train" in station.notes  # synopsis
    assert "Scene number 1" in station.notes
    platform, train, bench, diner, call, sprint, end = panels_of(result)
    assert platform.action.startswith("Rain hammers the empty platform. MARA (30s")
    assert platform.prompt == platform.action
    assert names(project, platform) == ["Mara"]
    assert train.notes == "Wide shot: the tail lights vanish."
    assert train.dialogue == (
        "Mara: (breathless) No, no, no...\nStranger (O.S.): There's always another one."
    )
    assert names(project, train) == ["Mara"]  # the off-screen voice is not in the picture
    assert bench.dialogue == (
        "Stranger: Not tonight, though.\nMara: Then what am I supposed to do?\n"
        "Stranger: Walk with me."  # dual dialogue, caret dropped
    )
    assert names(project, bench) == ["Mara", "Stranger"]
    assert bench.notes == "Transition: CUT TO:"
    assert bench.transition.kind is TransitionKind.CUT
    assert diner.dialogue.endswith("Stranger: Someone who missed the same train. Forty years ago.")
    assert diner.transition.kind is TransitionKind.CROSSFADE
    assert diner.transition.frames == 12
    assert call.dialogue == "McCLANE: Last call!"
    assert call.prompt == "McCLANE speaking"
    assert names(project, sprint) == ["Stranger"]
    assert end.action == "THE END"  # centered text
    assert all("taxi" not in p.action.casefold() for p in project.panels.values())


def test_dialogue_after_a_heading_starts_its_own_panel() -> None:
    text = "INT. ROOM - DAY\n\nBOB\nHi.\n\nALICE\nHello.\n\nBob sits.\n\nBOB\nSo.\n"
    result = parse_script(text)
    talk, sits = panels_of(result)
    assert talk.action == ""
    assert talk.dialogue == "Bob: Hi.\nAlice: Hello."
    assert talk.prompt == "Bob and Alice speaking"
    assert sits.action == "Bob sits."
    assert sits.dialogue == "Bob: So."


def test_cue_extensions_name_one_character() -> None:
    text = (
        "EXT. PARK - DAY\n\nA bench.\n\nMARY JANE\nOne.\n\nMARY JANE (CONT'D)\nTwo.\n\n"
        "MARY JANE (V.O.)\nThree.\n"
    )
    result = parse_script(text)
    assert [c.name for c in result.project.ordered_characters()] == ["Mary Jane"]
    (panel,) = panels_of(result)
    assert panel.dialogue == "Mary Jane: One.\nMary Jane: Two.\nMary Jane (V.O.): Three."
    assert panel.duration == 48


def test_a_note_on_its_own_line_does_not_split_an_action_paragraph() -> None:
    text = "INT. ROOM - DAY\n\nBob enters.\n[[check the light]]\nHe sits.\n"
    (panel,) = panels_of(parse_script(text))
    assert panel.action == "Bob enters.\nHe sits."
    assert panel.notes == "check the light"


@pytest.mark.parametrize(
    ("text", "line", "expected"),
    [
        ("INT. ROOM - DAY\n\nBob enters.\n\n/* cut\nthis\n", 5, "expected */"),
        ("INT. ROOM - DAY\n\nBob [[enters.\n", 3, "expected ]]"),
        ("Title: Nothing\n\n", 1, "at least one action paragraph"),
    ],
)
def test_fountain_problems_name_the_line(text: str, line: int, expected: str) -> None:
    result = parse_script(text, kind="fountain")
    assert [p.line for p in result.problems] == [line]
    assert expected in result.problems[0].message


# -- choosing the kind, files, errors ----------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("Title: X\nAuthor: Y\n\nSome action.\n", "fountain"),
        ("INT. HOUSE - DAY\n\nBob waits.\n", "fountain"),
        ("Bob waits.\n\nCUT TO:\n\nBob leaves.\n", "fountain"),
        ("[Bob] a man\n\n[Bob] at home\n", "storydiffusion"),
        ("a castle on a hill\na dragon in the sky\n", "storydiffusion"),
        ("", "storydiffusion"),
    ],
)
def test_auto_detection(text: str, kind: str) -> None:
    assert detect_kind(text) == kind
    assert parse_script(text).kind == kind


def test_fountain_extension_wins_over_content(tmp_path: Path) -> None:
    path = tmp_path / "plain.fountain"
    path.write_text("A castle on a hill.\n\nA dragon in the sky.\n", encoding="utf-8")
    result = load_script(path)
    assert result.kind == "fountain"
    assert len(result.project.panels) == 2


def test_load_tolerates_a_bom_and_titles_come_from_the_caller_first(tmp_path: Path) -> None:
    path = tmp_path / "story.txt"
    path.write_bytes(b"\xef\xbb\xbf[Bob] a man\n\n[Bob] waves\n")
    result = load_script(path, title="My Story")
    assert result.problems == []
    assert result.project.settings.title == "My Story"
    assert result.project.ordered_characters()[0].name == "Bob"
    assert parse_script("Title: Given\n\nAction.\n", title="Mine").project.settings.title == "Mine"
    assert parse_script("[NC] x\n").project.settings.title == "Untitled"


def test_unreadable_or_undecodable_file_is_a_script_error_naming_the_path(tmp_path: Path) -> None:
    missing = tmp_path / "missing.txt"
    with pytest.raises(ScriptError, match=r"missing\.txt") as caught:
        load_script(missing)
    assert caught.value.path == missing
    assert caught.value.problems[0].line == 0
    latin = tmp_path / "latin.txt"
    latin.write_bytes("[NC] caf\xe9\n".encode("latin-1"))
    with pytest.raises(ScriptError, match="not UTF-8"):
        load_script(latin)


def test_script_error_lists_every_problem() -> None:
    error = ScriptError([ScriptProblem(3, "first"), ScriptProblem(9, "second")])
    assert str(error) == "line 3: first\nline 9: second"
    assert isinstance(error, ValueError)


def test_bad_arguments_are_programming_errors() -> None:
    with pytest.raises(ValueError, match="fps"):
        parse_script("[NC] x", fps=0)
    with pytest.raises(ValueError, match="kind"):
        parse_script("[NC] x", kind="markdown")  # type: ignore[arg-type]


def test_a_lone_surrogate_in_a_script_is_repaired() -> None:
    """Half an emoji pasted into the script dialog would make the project impossible to save."""
    result = parse_script("[Ann] a painter\n\n[Ann] paints \ud83d #ANN: done \udc00")
    (panel,) = result.project.ordered_panels()
    assert panel.prompt == "[Ann] paints \ufffd"
    assert panel.dialogue == "ANN: done \ufffd"
    panel.prompt.encode("utf-8")  # what saving does
