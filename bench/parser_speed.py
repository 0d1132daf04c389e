"""Benchmark: parser time per KB on adversarial input (goal: flat, whatever the size).

A script or a Storyboarder file may come from anyone, so every parser must run in time linear in
its input. For each parser (Fountain, Final Draft XML, StoryDiffusion story, plain lines of
prompts, Storyboarder JSON) and each kind of hostile input (the shapes that once made a regex
backtrack, or a loop scan everything per line), this times the parse at two sizes and prints ms
per KB at both and their ratio: about 1 when linear, about the size ratio (8 by default) when
quadratic.

Run with ``python -m bench.parser_speed [--small 8] [--large 64]``. From code:
``parser_speed(size_kb)`` gives ``{parser: {kind: ms per KB}}`` and ``growth(small_kb,
large_kb)`` the ratio of the two; ``tests/core/test_script_speed.py`` checks the ratio.
"""

from __future__ import annotations

import argparse
import gc
import json
import logging
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from storyboard.core.assets import AssetStore
from storyboard.core.errors import ImportFailed
from storyboard.core.script import parse_script
from storyboard.core.storyboarder import import_storyboarder

ROOT = Path(__file__).resolve().parents[1]
Make = Callable[[int], str]  # size in bytes -> an input of about that size


def _repeat(unit: str, size: int, head: str = "", tail: str = "") -> str:
    return head + unit * max(1, (size - len(head) - len(tail)) // len(unit)) + tail


def _numbered(template: str, size: int) -> str:
    """``template.format(i=...)`` for i = 0, 1, ... up to ``size`` characters."""
    parts, total, index = [], 0, 0
    while total < size:
        part = template.format(i=index, j=max(0, index - 1))
        parts.append(part)
        total += len(part)
        index += 1
    return "".join(parts)


def _sample(name: str) -> str:
    return (ROOT / "resources" / "scripts" / name).read_text(encoding="utf-8")


FOUNTAIN: dict[str, Make] = {
    "screenplay": lambda n: _repeat(_sample("the_last_train.fountain") + "\n\n", n),
    "> and spaces": lambda n: _repeat(" ", n, ">", ">"),
    "> and spaces, many lines": lambda n: _repeat(">" + " " * 60 + ">\n", n),
    "cue with (": lambda n: _repeat("(", n, "\n\nBOB ", "\nHello.\n"),
    "_a ": lambda n: _repeat("_a ", n),
    "*a ": lambda n: _repeat("**a *", n),
    "title key and spaces": lambda n: _repeat(" ", n, "Title", "x\n\nINT. A\n\nB.\n"),
    "scene number and spaces": lambda n: _repeat(" ", n, "\n\nINT. HOUSE", "x\n\nAction.\n"),
    "unclosed boneyards": lambda n: _repeat("/*", n),
    "unclosed notes": lambda n: _repeat("[[", n),
    "many notes": lambda n: _repeat("[[a note]]\n", n, "Action.\n"),
    "many speakers": lambda n: _numbered("\n\nNAME{i}\nHi.\n\nNAME{j} and Name{i} wave.\n", n),
    "one panel's dialogue": lambda n: _numbered("\nNAME{i}\nHello there.\n", n),
}


def _fdx(body: str) -> str:
    return f"<?xml version='1.0'?><FinalDraft><Content>{body}</Content></FinalDraft>"


def _fdx_body(name: str) -> str:
    """The paragraphs of a sample .fdx (what is between ``<Content>`` and ``</Content>``)."""
    text = _sample(name)
    return text[text.index("<Content>") + len("<Content>") : text.index("</Content>")]


def _fdx_repeat(unit: str, size: int) -> str:
    return _fdx(_repeat(unit, size - len(_fdx(""))))


FDX: dict[str, Make] = {
    "screenplay": lambda n: _fdx_repeat(_fdx_body("the_last_train.fdx"), n),
    "deep nesting": lambda n: _fdx(
        '<Paragraph Type="Action"><Text>A door.</Text>'
        + "<x>" * (n // 7)
        + "</x>" * (n // 7)
        + "</Paragraph>"
    ),
    "many speakers": lambda n: _fdx(
        _numbered(
            '<Paragraph Type="Character"><Text>NAME{i}</Text></Paragraph>'
            '<Paragraph Type="Dialogue"><Text>Hi NAME{j}.</Text></Paragraph>',
            n,
        )
    ),
    "many text runs": lambda n: _fdx(
        '<Paragraph Type="Action">' + _repeat("<Text>a </Text>", n - 80) + "</Paragraph>"
    ),
    "cue with (": lambda n: _fdx(
        '<Paragraph Type="Character"><Text>BOB '
        + "(" * (n - 160)
        + '</Text></Paragraph><Paragraph Type="Dialogue"><Text>Hi.</Text></Paragraph>'
    ),
    "many paragraphs": lambda n: _fdx_repeat(
        '<Paragraph Type="Action"><Text>x</Text></Paragraph>', n
    ),
}

STORYDIFFUSION: dict[str, Make] = {
    "story": lambda n: _repeat(_sample("lighthouse.txt") + "\n", n),
    "definition and spaces": lambda n: _repeat(" ", n, "[Bob] a", "b\n\n[Bob] runs\n"),
    "many characters": lambda n: (
        _numbered("[C{i}] person {i}\n", n // 2)
        + "\n"
        + _numbered("[C{i}] walks #[C{i}] waves\n", n // 2)
    ),
    "unknown names": lambda n: (
        _numbered("[C{i}] person {i}\n", n // 2) + "\n" + _numbered("[X{i}] walks\n", n // 2)
    ),
    "many tags on a line": lambda n: _repeat("[Bob] ", n, "[Bob] a man\n\n"),
    "brackets": lambda n: _repeat("[[]", n),
}

PLAIN: dict[str, Make] = {
    "prompt lines": lambda n: _repeat("a lighthouse keeper climbs the stairs at night\n", n),
    "one long line": lambda n: _repeat("word ", n),
    "spaces": lambda n: _repeat(" ", n),
    "headings and tags": lambda n: _repeat("\nINT. A\n[Bob] x\n", n),
}


def _board(index: int) -> dict[str, object]:
    return {
        "uid": f"B{index:05d}",
        "url": f"board-{index}.png",
        "dialogue": "MIRA: We should not be here.",
        "action": "They walk in silence.",
        "duration": 2000 + index,
    }


STORYBOARDER: dict[str, Make] = {
    "boards": lambda n: json.dumps({"boards": [_board(i) for i in range(max(1, n // 160))]}),
    "long text": lambda n: json.dumps({"boards": [{"dialogue": "word " * (n // 5)}]}),
    "deep nesting": lambda n: '{"boards": [' + "[" * (n // 2) + "]" * (n // 2) + "]}",
    "many layers": lambda n: json.dumps(
        {"boards": [{"url": "b.png", "layers": {f"l{i}": {"url": "x"} for i in range(n // 24)}}]}
    ),
}


def _parse_text(kind: str) -> Callable[[str], object]:
    def parse(text: str) -> object:
        return parse_script(text, kind=kind)  # type: ignore[arg-type]

    return parse


def _parse_fdx(text: str) -> object:
    try:
        return parse_script(text, kind="fdx")
    except ImportFailed as exc:  # a typed error is a fine answer to a hostile file
        return exc


def _import_storyboarder(text: str) -> object:
    with tempfile.TemporaryDirectory() as tmp:
        file = Path(tmp) / "hostile.storyboarder"
        file.write_text(text, encoding="utf-8")
        try:
            return import_storyboarder(file, AssetStore(Path(tmp) / "out.storyboard"))
        except ImportFailed as exc:  # a typed error is a fine answer to a hostile file
            return exc


PARSERS: dict[str, tuple[Callable[[str], object], dict[str, Make]]] = {
    "fountain": (_parse_text("fountain"), FOUNTAIN),
    "fdx": (_parse_fdx, FDX),
    "storydiffusion": (_parse_text("storydiffusion"), STORYDIFFUSION),
    "plain": (_parse_text("auto"), PLAIN),
    "storyboarder": (_import_storyboarder, STORYBOARDER),
}


def make_input(parser: str, kind: str, size_kb: float) -> str:
    return PARSERS[parser][1][kind](int(size_kb * 1024))


def cpu_seconds(action: Callable[[], object], repeats: int = 3, at_least: float = 0.01) -> float:
    """CPU seconds of one call of ``action``: the best of ``repeats`` rounds, each repeating it
    for at least ``at_least`` seconds (so a fast call is not lost in the clock's grain).

    CPU time of this thread, with the garbage collector held off: on a shared machine, wall
    time mostly measures the neighbours, and a collection's cost depends on everything else
    alive in the process (a test runner holds a lot). Not the process's CPU time: while a CPU
    timer is armed (the tests' budget), Linux counts it only at each scheduler tick (4 ms).
    """
    best = float("inf")
    for _ in range(repeats):
        gc.disable()
        try:
            calls, start = 0, time.thread_time()
            while (elapsed := time.thread_time() - start) < at_least or not calls:
                action()
                calls += 1
            best = min(best, elapsed / calls)
        finally:
            gc.enable()
    return best


def ms_per_kb(parser: str, kind: str, size_kb: float, repeats: int = 3) -> float:
    """CPU ms per KB to parse a ``size_kb`` input (the best of ``repeats`` rounds)."""
    parse = PARSERS[parser][0]
    text = make_input(parser, kind, size_kb)
    seconds = cpu_seconds(lambda: parse(text), repeats)
    return seconds * 1000 / (len(text.encode("utf-8")) / 1024)


def parser_speed(size_kb: float = 64, repeats: int = 3) -> dict[str, dict[str, float]]:
    """``{parser: {input kind: ms per KB}}`` on adversarial inputs of ``size_kb``."""
    return {
        parser: {kind: ms_per_kb(parser, kind, size_kb, repeats) for kind in kinds}
        for parser, (_, kinds) in PARSERS.items()
    }


def growth(
    small_kb: float = 8, large_kb: float = 64, repeats: int = 3
) -> dict[str, dict[str, float]]:
    """``{parser: {input kind: ms/KB at large_kb / ms/KB at small_kb}}``: ~1 when linear."""
    small, large = parser_speed(small_kb, repeats), parser_speed(large_kb, repeats)
    return {
        parser: {kind: large[parser][kind] / kinds[kind] for kind in kinds}
        for parser, kinds in small.items()
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--small", type=float, default=8, help="small input, KB")
    parser.add_argument("--large", type=float, default=64, help="large input, KB")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    logging.disable(logging.WARNING)  # hostile inputs are meant to give warnings
    small = parser_speed(args.small, args.repeats)
    large = parser_speed(args.large, args.repeats)
    print(f"{'parser':15} {'input':28} {args.small:>6g} KB {args.large:>6g} KB  growth")
    worst = 0.0
    for name, kinds in large.items():
        for kind, per_kb in kinds.items():
            ratio = per_kb / small[name][kind]
            worst = max(worst, ratio)
            print(f"{name:15} {kind:28} {small[name][kind]:6.3f}    {per_kb:6.3f}     {ratio:.2f}x")
    print(f"ms per KB; worst growth {worst:.2f}x for {args.large / args.small:g}x the input")


if __name__ == "__main__":
    main()
