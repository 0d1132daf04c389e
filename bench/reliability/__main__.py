"""The reliability benchmark: kills survived, hostile projects contained, parsers linear.

``python -m bench.reliability`` prints, and with ``--json FILE`` writes:

- kills survived / tried: SIGKILLs at random or aimed moments of a save, the autosave, Save As
  and ``generate`` writing images (``kills.py``); a kill is survived when the next open finds
  one whole version of the project, whole images, no temporary file and a free lock;
- hostile projects x commands: every variant of ``bench/hostile_projects.py`` (traversal,
  absolute paths and links in every id field, links in the bundle) under every command
  (``bench/hostile_runs.py``), with the files touched outside the sandbox's bundles, the
  victim's secrets shown in an output, tracebacks, and exit statuses other than expected;
- parser time per KB on adversarial inputs (``bench/parser_speed.py``) at two sizes: flat when
  linear.

The numbers go in ``docs/reliability.md``. Exit status 1 when any must-be-zero count is not.
"""

from __future__ import annotations

import argparse
import json
import logging
import random
import sys
import tempfile
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

from bench.hostile_outcomes import tally
from bench.hostile_runs import run_all
from bench.hostile_sandbox import make_sandbox
from bench.parser_speed import parser_speed
from bench.reliability.kills import WRITERS, Tally

# kills per writer: at least 200 in all (generate's cost a model load each)
KILLS = {"save": 80, "autosave": 50, "save as": 40, "generate": 40}


def _say(text: str) -> None:
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def kills(scale: float, seed: int) -> list[Tally]:
    rng = random.Random(seed)
    tallies = []
    with tempfile.TemporaryDirectory(prefix="kills-") as folder:
        for writer, count in KILLS.items():
            work = Path(folder) / writer.replace(" ", "-")
            work.mkdir()
            started = time.perf_counter()
            result = WRITERS[writer](work, max(1, round(count * scale)), rng)
            _say(
                f"  {writer:9} {result.survived}/{result.tried} survived, "
                f"{result.mid_write} inside a write ({time.perf_counter() - started:.0f} s)"
            )
            for failure in result.failures[:3]:
                _say(f"    lost: {failure}")
            tallies.append(result)
    return tallies


def hostile(generate: bool) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="hostile-") as folder:
        outcomes = run_all(make_sandbox(Path(folder)), generate=generate)
    for outcome in outcomes:
        if not outcome.ok:
            _say(outcome.describe())
    result = tally(outcomes)
    _say(f"  {result}")
    return asdict(result)


def parsers(small_kb: float, large_kb: float) -> dict[str, Any]:
    small, large = parser_speed(small_kb), parser_speed(large_kb)
    rows = {}
    for parser, kinds in large.items():
        worst = max(kinds, key=kinds.__getitem__)
        growth = max(kinds[k] / small[parser][k] for k in kinds)
        rows[parser] = {"worst_input": worst, "ms_per_kb": kinds[worst], "growth": growth}
        _say(
            f"  {parser:14} slowest input {worst!r}: {kinds[worst]:.3f} ms/KB at "
            f"{large_kb:g} KB; worst growth {small_kb:g} -> {large_kb:g} KB: {growth:.2f}x"
        )
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0, help="share of the kills to try")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--generate", action="store_true", help="hostile runs of generate too")
    parser.add_argument("--json", type=Path, help="write the numbers here")
    args = parser.parse_args(argv)
    logging.disable(logging.WARNING)  # hostile inputs are meant to give warnings
    _say("kills (SIGKILL at random and aimed moments, then open the project):")
    killed = kills(args.scale, args.seed)
    tried, survived = sum(t.tried for t in killed), sum(t.survived for t in killed)
    _say(f"kills survived / tried: {survived} / {tried}")
    _say("hostile projects x commands:")
    contained = hostile(args.generate)
    _say("parser time per KB on adversarial input:")
    speeds = parsers(8, 64)
    if args.json:
        report = {
            "kills": [asdict(t) for t in killed],
            "hostile": contained,
            "parsers": speeds,
        }
        args.json.write_text(json.dumps(report, indent=1), encoding="utf-8")
    bad = tried - survived + sum(contained[k] for k in ("touched", "leaks", "crashed"))
    return 1 if bad or contained["unexpected_exit"] else 0


if __name__ == "__main__":
    raise SystemExit(main())
