"""Typed errors for everything that reads or writes an artist's files.

Each message says which file, what is wrong and what to do, so the editor and the CLI can show it
as is: no stack trace ever reaches the user for a bad file.
"""

from __future__ import annotations

from pathlib import Path


class ProjectError(Exception):
    """A project file or folder could not be read or written."""

    def __init__(self, path: Path | str, problem: str, advice: str = "") -> None:
        self.path = Path(path)
        self.problem = problem
        self.advice = advice
        text = f"{self.path}: {problem}"
        super().__init__(f"{text}. {advice}" if advice else text)


class ProjectNotFound(ProjectError):
    pass


class ProjectUnreadable(ProjectError):
    """Permissions or I/O errors while reading."""


class ProjectCorrupt(ProjectError):
    """Invalid JSON, missing fields, wrong types."""


class ProjectTooNew(ProjectError):
    """Written by a newer version of the editor."""


class ProjectSaveError(ProjectError):
    """Read-only folder, disk full, ...: the previous save is still intact."""


class ImportFailed(ProjectError):
    """A foreign format (Storyboarder, a script) could not be imported."""
