"""The editor's version, read from the installed package's metadata (``pyproject.toml``)."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

DISTRIBUTION = "storyboard-editor"


def app_version() -> str:
    """``0.1.0`` for an install (also an editable one); a plain source tree has no metadata."""
    try:
        return version(DISTRIBUTION)
    except PackageNotFoundError:
        return "unknown (a source tree that was never installed)"
