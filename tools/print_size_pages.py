"""docs/print-size.png: a comic page before and after Print size, with the built-in model.

    .venv/bin/python tools/print_size_pages.py [--dpi 50] [--strength 0.15] [--keep DIR]

On a copy of the sample project it generates the panels on page 1 (the built-in 64 px model, on
the CPU), exports the comic PDF, runs ``print-size`` for page 1, exports again, renders the same
part of page 1 of both PDFs with ``pdftoppm`` and puts them side by side, downscaled, with the
effective resolution each PDF reports. Everything goes through the command line a user has.

The built-in model learnt whole 64 px pictures: a tile of an enlarged panel (a zoomed-in part)
is new to it, and at the default strength (0.3) or a 4x enlargement it paints scenery into sky
and grass tiles. So the page is made at 2.4x and strength 0.15; a full-size model is run at 0.3.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "projects" / "sample.storyboard"
OUT = ROOT / "docs" / "print-size.png"


def storyboard(*args: str) -> str:
    """Run ``main.py`` and return what it printed (stdout); any failure stops the script."""
    done = subprocess.run(
        [sys.executable, str(ROOT / "main.py"), *args],
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
    )
    if done.returncode:
        raise SystemExit(f"main.py {' '.join(args)} failed:\n{done.stderr}")
    return done.stdout


def page_panels(bundle: Path) -> str:
    """The numbers of the panels on the project's first page, comma-separated."""
    sys.path.insert(0, str(ROOT))
    from storyboard.core.numbering import panel_numbers
    from storyboard.core.persistence import load_project

    project = load_project(bundle).project
    numbers = panel_numbers(project)
    first = project.pages[project.page_ids[0]]
    return ",".join(numbers[f.panel_id] for f in first.frames)


def render(pdf: Path, work: Path, name: str) -> Path:
    """Page 1 at 150 dpi, as poppler draws it."""
    prefix = work / name
    command = ["pdftoppm", "-r", "150", "-f", "1", "-l", "1", "-png", "-singlefile"]
    subprocess.run([*command, str(pdf), str(prefix)], check=True)
    return prefix.with_suffix(".png")


def sheet(before: Path, after: Path, labels: tuple[str, str], out: Path) -> None:
    """The top of both pages side by side, each downscaled to 420 px wide, labelled."""
    from PIL import Image, ImageDraw

    crops = []
    for path in (before, after):
        with Image.open(path) as page:
            w, h = page.size
            part = page.convert("RGB").crop((0, 0, w, h * 9 // 20))  # the first rows of frames
            crops.append(part.resize((420, round(420 * part.height / part.width)), Image.LANCZOS))
    band = 22
    width = sum(c.width for c in crops) + 12
    image = Image.new("RGB", (width, crops[0].height + band), "white")
    draw = ImageDraw.Draw(image)
    x = 0
    for crop, label in zip(crops, labels, strict=True):
        image.paste(crop, (x, band))
        draw.text((x + 4, 5), label, fill=(0, 0, 0))
        x += crop.width + 12
    # 256 colours: a third of the bytes, no difference at this size
    image.quantize(256, method=Image.Quantize.MEDIANCUT).save(out, optimize=True)


def lowest_dpi(report: str) -> str:
    found = re.search(r"effective dpi per panel: (.*)", report)
    if found is None:
        raise SystemExit(f"export-pdf reported no per-panel dpi:\n{report}")
    values = sorted({int(part.split()[-1]) for part in found.group(1).split(", ")})
    return f"{values[0]} dpi" if len(values) == 1 else f"{values[0]}-{values[-1]} dpi"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dpi", type=int, default=50)
    parser.add_argument("--strength", type=float, default=0.15)
    parser.add_argument("--keep", type=Path, help="keep the project and PDFs in this folder")
    args = parser.parse_args(argv)
    work = Path(args.keep or tempfile.mkdtemp(prefix="print-size-"))
    work.mkdir(parents=True, exist_ok=True)
    bundle = work / "lost-hat.storyboard"
    shutil.rmtree(bundle, ignore_errors=True)
    shutil.copytree(SAMPLE, bundle)
    panels = page_panels(bundle)
    storyboard("generate", str(bundle), "--panels", panels, "--device", "cpu")
    before = work / "before.pdf"
    report_before = storyboard("export-pdf", str(bundle), "-o", str(before), "--placed-only")
    enlarge = ["--dpi", str(args.dpi), "--strength", str(args.strength), "--pages", "1"]
    print(storyboard("print-size", str(bundle), *enlarge, "--placed-only", "--device", "cpu"))
    after = work / "after.pdf"
    report_after = storyboard("export-pdf", str(bundle), "-o", str(after), "--placed-only")
    print(report_before, report_after, sep="\n")
    labels = (
        f"before: 64 px panels, {lowest_dpi(report_before)}",
        f"after print-size --dpi {args.dpi} --strength {args.strength:g}: "
        f"{lowest_dpi(report_after)}",
    )
    sheet(render(before, work, "before"), render(after, work, "after"), labels, OUT)
    print(f"wrote {OUT} ({OUT.stat().st_size // 1024} KiB); work in {work}")
    if args.keep is None:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
