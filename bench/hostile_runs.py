"""Every command on every hostile project, and what each run touched outside its bundle.

For each run a fresh copy of a hostile variant (``bench/hostile_projects.py``) is made, the whole
sandbox root (victim folder, other bundles, everything but the run's bundle and output folder) is
snapshot (``bench/hostile_snapshot.py``: names, kinds, sizes, modification times, link targets),
the command (``bench/hostile_commands.py``) runs in this process through ``storyboard.cli.main``,
and its :class:`~bench.hostile_outcomes.Outcome` records:

- ``touched``: what changed in that snapshot: must be empty;
- ``leaks``: outputs that show the victim's secret (magenta pixels in PNGs, PDF images or MP4
  frames, the secret tone in an MP4's sound or a WAV, the secret text in a file), FCPXML links to
  files outside the bundle and output folder, and bundle files carrying the secret
  (``bench/hostile_leaks.py``): must be empty;
- ``crashed``: an exit status other than 0 or 2, or an "unexpected"/Traceback line: must be False;
- ``as_expected``: 0 for a variant that must still open, 2 (a typed error) for one that is refused.

``python -m bench.hostile_runs [--generate]`` runs them all and prints the tally (``--generate``
adds ``generate`` with the built-in model on the CPU: about a minute per run).

API for the reliability benchmark::

    sandbox = make_sandbox(root)                      # bench.hostile_sandbox
    outcomes = run_all(sandbox, generate=False)       # list[Outcome]
    tally(outcomes)                                   # bench.hostile_outcomes: Tally(runs, ...)
"""

from __future__ import annotations

import argparse
import io
import os
import shutil
import sys
import tempfile
import time
import traceback
from collections.abc import Callable, Iterable
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass
from pathlib import Path

from bench.hostile_commands import COMMANDS, Command
from bench.hostile_leaks import leaks
from bench.hostile_outcomes import Outcome, tally
from bench.hostile_projects import variants
from bench.hostile_sandbox import Sandbox, Variant, make_sandbox
from bench.hostile_snapshot import changes, snapshot
from bench.hostile_storyboarder import STORYBOARDER, StoryboarderVariant


@dataclass(frozen=True, slots=True)
class CliResult:
    rc: int
    stdout: str
    stderr: str


def run_cli(argv: list[str]) -> CliResult:
    """``main.py ARGV`` in this process, its output captured; a traceback that escapes ``main``
    is caught here and reported as exit status 99."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from storyboard.cli import main

    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        try:
            rc = main(argv)
        except SystemExit as exc:
            rc = exc.code if isinstance(exc.code, int) else 1
        except BaseException:
            err.write(traceback.format_exc())
            rc = 99
    return CliResult(rc, out.getvalue(), err.getvalue())


def _fresh(folder: Path) -> Path:
    if folder.exists() or folder.is_symlink():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    return folder


def _observe(
    sandbox: Sandbox, argv: list[str], names: tuple[str, str, bool], bundle: Path, out: Path
) -> Outcome:
    """Runs ``argv`` and compares the sandbox root, less ``bundle`` and ``out``, before and after.
    ``names``: the variant's and the command's, and whether the variant must open."""
    before = snapshot(sandbox.root, skip=(bundle, out))
    started = time.perf_counter()
    result = run_cli(argv)
    seconds = time.perf_counter() - started
    touched = changes(before, snapshot(sandbox.root, skip=(bundle, out)))
    variant, command, opens = names
    return Outcome(
        variant,
        command,
        result.rc,
        opens,
        result.stdout,
        result.stderr,
        seconds,
        touched,
        leaks(out, bundle),
        sorted(snapshot(bundle)),
    )


def run(sandbox: Sandbox, variant: Variant, command: Command) -> Outcome:
    """``command`` on a fresh copy of ``variant``; the copy and the outputs are removed after."""
    bundle = variant.build(sandbox, name="run")
    out = _fresh(sandbox.sandbox / "out")
    try:
        names = (variant.name, command.name, variant.opens)
        return _observe(sandbox, command.argv(bundle, out), names, bundle, out)
    finally:
        shutil.rmtree(bundle, ignore_errors=True)
        shutil.rmtree(out, ignore_errors=True)


def run_storyboarder(sandbox: Sandbox, variant: StoryboarderVariant) -> Outcome:
    """``import-storyboarder`` of a hostile Storyboarder folder into a new bundle."""
    source = variant.build(sandbox)
    target = sandbox.sandbox / "imported.storyboard"
    if target.exists():
        shutil.rmtree(target)
    try:
        argv = ["import-storyboarder", str(source), str(target)]
        return _observe(sandbox, argv, (variant.name, argv[0], True), target, target)
    finally:
        shutil.rmtree(target, ignore_errors=True)
        shutil.rmtree(source, ignore_errors=True)


def run_all(
    sandbox: Sandbox,
    *,
    generate: bool = False,
    chosen: Iterable[Variant] | None = None,
    on_outcome: Callable[[Outcome], None] | None = None,
) -> list[Outcome]:
    """Every command (``generate`` only when asked) on every variant, then every Storyboarder
    variant imported."""
    outcomes = []
    commands = [c for c in COMMANDS if generate or not c.slow]
    for variant in chosen if chosen is not None else variants():
        for command in commands:
            outcomes.append(run(sandbox, variant, command))
            if on_outcome:
                on_outcome(outcomes[-1])
    if chosen is None:
        for storyboarder in STORYBOARDER:
            outcomes.append(run_storyboarder(sandbox, storyboarder))
            if on_outcome:
                on_outcome(outcomes[-1])
    return outcomes


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--generate", action="store_true", help="also run generate (slow)")
    parser.add_argument("--verbose", action="store_true", help="describe every failed run")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="hostile-") as folder:
        sandbox = make_sandbox(Path(folder))

        def report(outcome: Outcome) -> None:
            if not outcome.ok and args.verbose:
                sys.stdout.write(outcome.describe() + "\n")

        outcomes = run_all(sandbox, generate=args.generate, on_outcome=report)
    result = tally(outcomes)
    sys.stdout.write(f"{result}\n")
    failed = result.touched + result.leaks + result.crashed + result.unexpected_exit
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
