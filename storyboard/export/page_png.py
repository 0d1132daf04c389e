"""One PNG per comic page, painted by the same renderer as the PDF (for the web, or proofs)."""

from __future__ import annotations

from pathlib import Path

from storyboard.core.assets import AssetStore
from storyboard.core.disk_errors import describe
from storyboard.core.model import Project
from storyboard.export.comic_pdf import ComicOptions, comic_layouts
from storyboard.export.output import (
    Cancelled,
    ExportError,
    Progress,
    check_cancelled,
    encode_png,
    staged_file,
    write_file,
)
from storyboard.export.painter import PaintOptions, print_loader, render_page_image


def export_page_pngs(
    project: Project,
    bundle: Path,
    out_dir: Path,
    options: ComicOptions | None = None,
    dpi: float = 150,
    progress: Progress | None = None,
    cancelled: Cancelled | None = None,
) -> list[Path]:
    """Write ``page-001.png``... (``cover.png`` first when asked for) into ``out_dir``."""
    options = options or ComicOptions()
    try:  # a folder named on the command line is made, as an output file's would be
        Path(out_dir).mkdir(parents=True, exist_ok=True)
    except FileExistsError as exc:
        raise ExportError(out_dir, "is a file, not a folder", "Choose another folder") from exc
    except OSError as exc:
        cause, advice = describe(exc)
        raise ExportError(out_dir, f"could not be made: {cause}", advice) from exc
    layouts = comic_layouts(project, options)
    images = print_loader(project, AssetStore(bundle))
    written: list[Path] = []
    for index, layout in enumerate(layouts):
        check_cancelled(cancelled)
        numbered = layout.number > 0  # the cover has no number and shows the art alone
        paint = PaintOptions(dpi, options.page_numbers and numbered, balloons=numbered)
        image = render_page_image(layout, project, images, dpi, paint)
        name = f"page-{layout.number:03d}.png" if layout.number else "cover.png"
        target = Path(out_dir) / name
        with staged_file(target) as temp:  # encoded in memory: Qt reports no write error
            write_file(temp, encode_png(image, target), shown=target)
        written.append(target)
        if progress is not None:
            progress(index + 1, len(layouts))
    return written
