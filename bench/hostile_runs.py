"""Every command on every hostile project, and what each run touched outside its bundle.

For each run a fresh copy of a hostile variant (``bench/hostile_projects.py``) is made, the whole
sandbox root (victim folder, other bundles, everything but the run's bundle and output folder) is
snapshot (names, kinds, sizes, modification times, link targets), the command runs in this
process through ``storyboard.cli.main``, and then:

- ``touched``: what changed in that snapshot: must be empty;
- ``leaks``: outputs that show the victim's secret (magenta pixels in PNGs, PDF images or MP4
  frames, the secret tone in an MP4's sound or a WAV, the secret text in a file), FCPXML links to
  files outside the bundle and output folder, and bundle files carrying the secret: must be empty;
- ``crashed``: an exit status other than 0 or 2, or an "unexpected"/Traceback line: must be False;
- ``as_expected``: 0 for a variant that must still open, 2 (a typed error) for one that is refused.

``python -m bench.hostile_runs [--generate]`` runs them all and prints the tally (``--generate``
adds ``generate`` with the built-in model on the CPU: about a minute per run).

API for the reliability benchmark::

    sandbox = make_sandbox(root)
    outcomes = run_all(sandbox, generate=False)       # list[Outcome]
    tally(outcomes)                                   # Tally(runs, touched, leaks, crashed, ...)
"""

from __future__ import annotations

import argparse
import io
import os
import shutil
import stat
import sys
import tempfile
import time
import traceback
import wave
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterable
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlparse

from bench.hostile_projects import (
    SECRET_RGB,
    SECRET_TEXT,
    STORYBOARDER,
    Sandbox,
    StoryboarderVariant,
    Variant,
    make_sandbox,
    variants,
)

Entry = tuple[str, int, int, str]  # kind (f, d, l, other), size, mtime_ns, link target


@dataclass(frozen=True, slots=True)
class Command:
    name: str
    argv: Callable[[Path, Path], list[str]]  # (bundle, output folder) -> the command line
    slow: bool = False


SIZE = ["--size", "128x72"]


def _pages(out: Path) -> str:
    (out / "pages").mkdir(exist_ok=True)
    return str(out / "pages")


COMMANDS: tuple[Command, ...] = (
    Command("info", lambda b, o: ["info", str(b)]),
    Command("info --json", lambda b, o: ["info", "--json", str(b)]),
    Command("clean-up --dry-run", lambda b, o: ["clean-up", "--dry-run", str(b)]),
    Command("clean-up", lambda b, o: ["clean-up", str(b)]),
    Command("clean-up --caches", lambda b, o: ["clean-up", "--caches", str(b)]),
    Command(
        "export-pdf comic + PNG pages",
        lambda b, o: ["export-pdf", str(b), "-o", str(o / "comic.pdf"), "--png-dir", _pages(o)],
    ),
    Command(
        "export-pdf sheets",
        lambda b, o: ["export-pdf", str(b), "--kind", "sheets", "-o", str(o / "sheets.pdf")],
    ),
    Command(
        "export-video mp4", lambda b, o: ["export-video", str(b), "-o", str(o / "a.mp4"), *SIZE]
    ),
    Command(
        "export-video fcpxml",
        lambda b, o: ["export-video", str(b), "-o", str(o / "a.fcpxml"), *SIZE],
    ),
    Command(
        "export-video otio (media folder)",
        lambda b, o: ["export-video", str(b), "-o", str(o / "a.otio"), *SIZE],
    ),
    Command(
        "export-storyboarder",
        lambda b, o: ["export-storyboarder", str(b), "-o", str(o / "storyboarder")],
    ),
    Command(
        "export-video png frames",
        lambda b, o: ["export-video", str(b), "-o", str(o / "frames"), *SIZE],
    ),
    Command("export-ora", lambda b, o: ["export-ora", str(b), "-o", str(o / "ora")]),
    Command("print-size --dry-run", lambda b, o: ["print-size", str(b), "--dry-run"]),
    Command(
        "generate",
        lambda b, o: ["generate", str(b), "--size", "64x64", "--steps", "1", "--device", "cpu"],
        slow=True,
    ),
)


def generate_command(model: str) -> Command:
    """``generate`` with another model (a tiny test model folder, say) instead of the built-in."""
    size = ["--size", "64x64", "--steps", "1", "--device", "cpu"]
    return Command("generate", lambda b, o: ["generate", str(b), "--model", model, *size], True)


@dataclass(slots=True)
class Outcome:
    variant: str
    command: str
    rc: int
    opens: bool
    stdout: str
    stderr: str
    seconds: float
    touched: list[str] = field(default_factory=list)
    leaks: list[str] = field(default_factory=list)
    bundle_after: list[str] = field(default_factory=list)  # the bundle's entries after the run

    @property
    def crashed(self) -> bool:
        """A traceback or an unexpected error: never for any input."""
        text = self.stderr + self.stdout
        return self.rc not in (0, 2) or "Traceback" in text or "unexpected" in text

    @property
    def as_expected(self) -> bool:
        return self.rc == (0 if self.opens else 2)

    @property
    def ok(self) -> bool:
        return not self.touched and not self.leaks and not self.crashed and self.as_expected

    def describe(self) -> str:
        lines = [f"{self.variant} x {self.command}: exit {self.rc} ({self.seconds:.1f} s)"]
        lines += [f"  touched outside: {t}" for t in self.touched]
        lines += [f"  leak: {leak}" for leak in self.leaks]
        if not self.as_expected:
            lines.append(f"  expected exit {0 if self.opens else 2}")
        if self.stderr.strip():
            lines.append("  stderr: " + self.stderr.strip().replace("\n", "\n          "))
        return "\n".join(lines)


# -- snapshots ----------------------------------------------------------------------------------


def snapshot(root: Path, skip: Iterable[Path] = ()) -> dict[str, Entry]:
    """Every entry under ``root`` (links not followed) but those in ``skip`` and below them.

    Folders are recorded without their times: entries appearing or going show by name.
    """
    root = Path(root).absolute()
    skipped = {Path(p).absolute() for p in skip}
    found: dict[str, Entry] = {}
    for folder, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if Path(folder) / d not in skipped]
        for name in (*dirs, *files):
            path = Path(folder) / name
            if path in skipped:
                continue
            info = path.lstat()
            rel = str(path.relative_to(root))
            if stat.S_ISLNK(info.st_mode):
                found[rel] = ("l", 0, info.st_mtime_ns, str(path.readlink()))
            elif stat.S_ISDIR(info.st_mode):
                found[rel] = ("d", 0, 0, "")
            elif stat.S_ISREG(info.st_mode):
                found[rel] = ("f", info.st_size, info.st_mtime_ns, "")
            else:
                found[rel] = ("other", 0, info.st_mtime_ns, "")
    return found


def changes(before: dict[str, Entry], after: dict[str, Entry]) -> list[str]:
    """What was created, deleted or changed between two snapshots, one line each."""
    lines = [f"created {p}" for p in sorted(after.keys() - before.keys())]
    lines += [f"deleted {p}" for p in sorted(before.keys() - after.keys())]
    lines += [f"changed {p}" for p in sorted(before.keys() & after.keys()) if before[p] != after[p]]
    return lines


# -- leaks --------------------------------------------------------------------------------------


def _secret_pixels(rgb: object) -> int:
    import numpy as np

    pixels = np.asarray(rgb)
    if pixels.ndim != 3:
        return 0
    r, g, b = (pixels[..., i].astype(int) for i in range(3))
    red, green, blue = SECRET_RGB
    near = (abs(r - red) < 60) & (abs(g - green) < 70) & (abs(b - blue) < 60)
    return int(near.sum())


def _image_shows_secret(image: object) -> bool:
    from PIL import Image

    assert isinstance(image, Image.Image)
    return _secret_pixels(image.convert("RGB")) >= 16


def _png_leak(path: Path) -> bool:
    from PIL import Image

    with Image.open(path) as image:
        return _image_shows_secret(image)


def _pdf_leak(path: Path) -> bool:
    from pypdf import PdfReader

    for page in PdfReader(path).pages:
        for picture in page.images:
            if _image_shows_secret(picture.image):
                return True
    return False


def _mp4_leak(path: Path) -> str | None:
    import av
    import numpy as np

    with av.open(str(path)) as container:
        for frame in container.decode(video=0):
            if _secret_pixels(frame.to_ndarray(format="rgb24")) >= 16:
                return "shows the secret image"
    with av.open(str(path)) as container:
        if not container.streams.audio:
            return None
        for sound in container.decode(audio=0):
            if float(np.abs(sound.to_ndarray()).max()) > 0.05:  # the base project is silent
                return "plays the secret sound"
    return None


def _wav_leak(path: Path) -> bool:
    """Whether a WAV file plays the victim's tone (every sound of the base project is silent)."""
    with wave.open(str(path)) as reader:
        samples = reader.readframes(reader.getnframes())
    return any(sample != 0 for sample in samples)


def _fcpxml_leak(path: Path, allowed: tuple[Path, ...]) -> list[str]:
    found = []
    for element in ET.parse(path).iter():
        src = element.get("src")
        if src is None:
            continue
        linked = Path(unquote(urlparse(src).path)).resolve()
        if not any(linked.is_relative_to(folder.resolve()) for folder in allowed):
            found.append(f"{path.name} links {linked}")
    return found


def _regular_files(folder: Path) -> list[Path]:
    if not folder.is_dir() or folder.is_symlink():
        return []
    files = []
    for parent, _dirs, names in os.walk(folder):  # links to folders are not followed
        for name in names:
            path = Path(parent) / name
            if stat.S_ISREG(os.lstat(path).st_mode):
                files.append(path)
    return files


def leaks(out: Path, bundle: Path) -> list[str]:
    """Outputs in ``out`` and files of ``bundle`` that carry the victim's secret (links are not
    followed: only what was written counts)."""
    found: list[str] = []
    for path in _regular_files(out) + _regular_files(bundle):
        suffix = path.suffix.lower()
        try:
            if (suffix == ".png" and _png_leak(path)) or (suffix == ".pdf" and _pdf_leak(path)):
                found.append(f"{path} shows the secret image")
            elif suffix == ".mp4" and path.parent == out and (why := _mp4_leak(path)):
                found.append(f"{path} {why}")
            elif suffix == ".wav" and _wav_leak(path):
                found.append(f"{path} plays the secret sound")
            elif suffix == ".fcpxml":
                found += _fcpxml_leak(path, (bundle, out))
            elif suffix in (".json", ".srt", ".txt", ".fcpxml", ".lock") and (
                SECRET_TEXT in path.read_text(encoding="utf-8", errors="replace")
            ):
                found.append(f"{path} holds the victim's text")
        except Exception as exc:  # an output we cannot read back is a failure too
            found.append(f"{path} could not be checked: {type(exc).__name__}: {exc}")
    return found


# -- runs ---------------------------------------------------------------------------------------


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


@dataclass(frozen=True, slots=True)
class Tally:
    runs: int
    touched: int  # files created, changed or deleted outside the bundles: must be 0
    leaks: int  # outputs showing what was outside: must be 0
    crashed: int  # tracebacks and unexpected errors: must be 0
    unexpected_exit: int  # opened when it should be refused, or the other way round
    seconds: float

    def __str__(self) -> str:
        return (
            f"hostile project runs: {self.runs}; files touched outside: {self.touched}; "
            f"leaks: {self.leaks}; tracebacks: {self.crashed}; unexpected exit status: "
            f"{self.unexpected_exit}; {self.seconds:.0f} s"
        )


def tally(outcomes: list[Outcome]) -> Tally:
    return Tally(
        runs=len(outcomes),
        touched=sum(len(o.touched) for o in outcomes),
        leaks=sum(len(o.leaks) for o in outcomes),
        crashed=sum(o.crashed for o in outcomes),
        unexpected_exit=sum(not o.as_expected for o in outcomes),
        seconds=sum(o.seconds for o in outcomes),
    )


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
