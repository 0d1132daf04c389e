"""Script parsers run in linear time on any text, so a hostile script cannot freeze the editor.

Timing is compared across sizes (CPU time per KB at 4 KB and at 32 KB, best of three), never
against a fixed number of seconds: a linear parser keeps its time per KB, a quadratic one takes 8
times as long per KB at 8 times the size. A run that passes its share of the budget is stopped
there, so the old cubic parser fails in seconds instead of running for hours.

The scanners that replaced backtracking regexes must give what those regexes gave: they are
compared with the regexes on short generated text, where the regexes are still fast.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bench.parser_speed import PARSERS, cpu_seconds, make_input, ms_per_kb
from storyboard.core import fountain_markup
from storyboard.core.name_search import NameFinder
from storyboard.core.script import parse_script
from tests import linear_time
from tests.linear_time import GROWTH_LIMIT

SMALL_KB, LARGE_KB = 4, 32


def growth(measure: Callable[[float], float]) -> float:
    return linear_time.growth(measure, SMALL_KB, LARGE_KB)


CASES = [(parser, kind) for parser, (_, kinds) in PARSERS.items() for kind in kinds]


@pytest.mark.parametrize(("parser", "kind"), CASES, ids=[f"{p}: {k}" for p, k in CASES])
def test_time_per_kb_does_not_grow_with_the_input(parser: str, kind: str) -> None:
    ratio = growth(lambda kb: ms_per_kb(parser, kind, kb))
    assert ratio < GROWTH_LIMIT, f"{parser}, {kind}: {ratio:.1f}x the time per KB at 8x the size"


def test_the_adversarial_inputs_have_the_size_asked_for() -> None:
    for parser, kind in CASES:
        size = len(make_input(parser, kind, LARGE_KB).encode("utf-8"))
        assert LARGE_KB * 1024 * 0.8 <= size <= LARGE_KB * 1024 * 1.25, (parser, kind, size)


# A random unit of syntax repeated between a random head and tail builds the long runs that made
# the old regexes backtrack (``>`` + spaces + ``>``, a cue of ``(``, ``_a _a ...``).
SYNTAX = [*" \t\n>_*([])#:/=@!~.^<Aa1", "INT. ", "[[", "]]", "/*", "*/", "TO:", "BOB\n"]
HEADS = ["", ">", "\n\nBOB ", "Title", "[Bob] a", "\n\nINT. A", "Action.\n"]
TAILS = ["", ">", "<", "x", "\nHello.\n", "#1#", "_", ")"]


def repeated_ms_per_kb(head: str, unit: str, tail: str, kind: str, kb: float) -> float:
    text = head + unit * max(1, int(kb * 1024) // len(unit)) + tail
    return cpu_seconds(lambda: parse_script(text, kind=kind)) * 1000 / kb  # type: ignore[arg-type]


@pytest.mark.slow
@settings(max_examples=40, deadline=None, derandomize=True, database=None)
@given(
    st.sampled_from(HEADS),
    st.lists(st.sampled_from(SYNTAX), min_size=1, max_size=4).map("".join),
    st.sampled_from(TAILS),
    st.sampled_from(["fountain", "storydiffusion", "auto"]),
)
def test_any_repeated_syntax_parses_in_linear_time(
    head: str, unit: str, tail: str, kind: str
) -> None:
    ratio = growth(lambda kb: repeated_ms_per_kb(head, unit, tail, kind, kb))
    text = f"{head!r} + {unit!r} * n + {tail!r}"
    assert ratio < GROWTH_LIMIT, f"{text} ({kind}): {ratio:.1f}x the time per KB at 8x the size"


# -- the scanners give what the regexes gave --------------------------------------------------

_KEY = re.compile(r"([A-Za-z][A-Za-z ]*?)\s*:\s*(.*)")
_SCENE_NUMBER = re.compile(r"\s*#([^#]*)#\s*$")
_CENTERED = re.compile(r">\s*(.*?)\s*<")
_EXTENSION = re.compile(r"\(([^)]*)\)")
_EMPHASIS = (re.compile(r"(\*{1,3})(?=\S)(.+?)(?<=\S)\1"), re.compile(r"_(?=\S)(.+?)(?<=\S)_"))


def regex_plain(text: str) -> str:
    for pattern in _EMPHASIS:
        text = pattern.sub(lambda m: m.group(m.lastindex or 0), text)
    return text.replace("\\*", "*").replace("\\_", "_")


MARKUP = st.text(alphabet=st.sampled_from(list("*_ a\t\n\\()#:<>/[]Tx\x1f\u00a0\u2028")))


@settings(max_examples=3000, deadline=None)
@given(MARKUP)
def test_markup_scanners_match_the_regexes_they_replaced(text: str) -> None:
    assert fountain_markup.plain(text) == regex_plain(text)
    key = _KEY.fullmatch(text)
    assert fountain_markup.title_key(text) == (key.groups() if key else None)
    number = _SCENE_NUMBER.search(text)
    assert fountain_markup.scene_number(text) == (
        _SCENE_NUMBER.sub("", text),
        number.group(1) if number else None,
    )
    middle = _CENTERED.fullmatch(text)
    assert fountain_markup.centered(text) == (middle.group(1) if middle else None)
    assert fountain_markup.parenthetical_texts(text) == _EXTENSION.findall(text)
    assert fountain_markup.without_parentheticals(text) == _EXTENSION.sub(" ", text)
    for opener, closer, pattern in (("/*", "*/", r"/\*(.*?)\*/"), ("[[", "]]", r"\[\[(.*?)\]\]")):
        expected = [m.span() for m in re.finditer(pattern, text, re.DOTALL)]
        assert list(fountain_markup.spans(text, opener, closer)) == expected


def regex_mentions(text: str, names: dict[str, set[str]]) -> dict[str, int]:
    found = {}
    for key, forms in names.items():
        pattern = "|".join(re.escape(form) for form in sorted(forms, key=len, reverse=True))
        match = re.search(rf"(?<!\w)(?:{pattern})(?!\w)", text)
        if match:
            found[key] = match.start()
    return found


NAME_CHARS = st.sampled_from(list("ab B_'. -é1\n"))


@settings(max_examples=1000, deadline=None)
@given(
    st.text(alphabet=NAME_CHARS, max_size=30),
    st.lists(st.text(alphabet=NAME_CHARS, min_size=1, max_size=5), max_size=6),
)
def test_name_finder_matches_a_whole_word_regex(text: str, names: list[str]) -> None:
    forms = {f"c{index}": {name, name.upper()} for index, name in enumerate(names)}
    finder = NameFinder((form, key) for key, keyed in forms.items() for form in keyed)
    assert finder.first_mentions(text) == regex_mentions(text, forms)
