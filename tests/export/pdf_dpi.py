"""The effective resolution of each image drawn in a PDF, read back with pypdf."""

from __future__ import annotations

from pathlib import Path

from pypdf import PdfReader
from pypdf.generic import ContentStream


def placed_dpi(pdf: Path) -> list[list[float]]:
    """Per page, each drawn image's pixels over the points it is drawn across, in dpi: the
    transformation matrix followed through q/Q/cm to each image's Do."""
    reader = PdfReader(pdf)
    pages = []
    for page in reader.pages:
        xobjects = page["/Resources"].get("/XObject", {})
        stack, ctm, found = [], [1.0, 0.0, 0.0, 1.0, 0.0, 0.0], []
        for operands, operator in ContentStream(page.get_contents(), reader).operations:
            if operator == b"q":
                stack.append(ctm)
            elif operator == b"Q":
                ctm = stack.pop()
            elif operator == b"cm":
                a, b, c, d, e, f = (float(x) for x in operands)
                m = ctm
                ctm = [
                    a * m[0] + b * m[2], a * m[1] + b * m[3],
                    c * m[0] + d * m[2], c * m[1] + d * m[3],
                    e * m[0] + f * m[2] + m[4], e * m[1] + f * m[3] + m[5],
                ]  # fmt: skip
            elif operator == b"Do":
                image = xobjects[operands[0]].get_object()
                if image.get("/Subtype") == "/Image":
                    found.append(float(image["/Width"]) / (abs(ctm[0]) / 72.0))
        pages.append(found)
    return pages
