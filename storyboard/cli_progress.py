"""The headless commands' progress line and project lock, shared by ``generate`` and
``transitions``.

On a terminal the line is redrawn in place; in a log (not a TTY) only each finished step is
written, so a long run does not fill the file with every step.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import TextIO

from storyboard.core.ownership import Program, ProjectLock
from storyboard.core.persistence import LoadedProject, load_project

BAR_WIDTH = 24


class ProgressLine:
    """``[#####.....] text`` on ``out``; :meth:`loading` says once that a model is loading."""

    def __init__(self, out: TextIO, loading: str) -> None:
        self.out = out
        self.tty = out.isatty()
        self._loading, self._loading_said = loading, False

    def loading(self) -> None:
        if not self._loading_said:
            self.out.write(self._loading + "\n")
            self._loading_said = True

    def show(self, step: int, total: int, text: str) -> None:
        if not self.tty and step != total:
            return
        filled = BAR_WIDTH * step // max(total, 1)
        line = f"[{'#' * filled}{'.' * (BAR_WIDTH - filled)}] {text}"
        self.out.write(("\r" + line + "\x1b[K") if self.tty else line + "\n")
        self.out.flush()

    def finish(self) -> None:
        if self.tty:
            self.out.write("\n")


def run_locked(
    args: argparse.Namespace,
    program: Program,
    advice: str,
    body: Callable[[argparse.Namespace, LoadedProject, ProjectLock], int],
) -> int:
    """Load ``args.project``, own it for the command's run (``advice`` says what to do when an
    editor has it open), run ``body`` and always give the lock back."""
    loaded = load_project(args.project)
    lock = ProjectLock.for_command(loaded.path, program, advice)
    try:
        return body(args, loaded, lock)
    finally:
        lock.release()
