"""What the headless commands that run an engine share (``generate``, ``transitions``,
``print-size``): the progress line, the project lock, Ctrl-C, and how a run that stops early says
what it kept.

On a terminal the line is redrawn in place; in a log (not a TTY) only each finished step is
written, so a long run does not fill the file with every step.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from storyboard.core.errors import ProjectError
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


def install_interrupt(stop: threading.Event) -> Any:
    """First Ctrl-C: stop cleanly after the current step. Second: the default (kill).

    A run started with SIGINT ignored (``nohup``, a background job of a script) keeps it
    ignored: whoever started it asked for that.
    """
    if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
        return signal.SIG_IGN

    def handler(_signum: int, _frame: object) -> None:
        if stop.is_set():
            raise KeyboardInterrupt
        stop.set()
        sys.stderr.write("\nstopping after this step (Ctrl-C again to kill)...\n")

    return signal.signal(signal.SIGINT, handler)


@dataclass(frozen=True, slots=True)
class RunWords:
    """How a command names what it makes, for the lines of a run that stops early."""

    command: str  # "generate"
    noun: str  # "image(s)": what ``kept`` counts
    bundle: Path
    after_cancel: str = ""  # added to the cancelled line ("; run again to make the rest")
    kept_on_error: bool = False  # an engine error says how many were kept
    # after "free some space, then " when the folder takes no more; None: the error goes up
    rerun: Callable[[], str] | None = None


def run_interruptible(
    work: Callable[[threading.Event], None], bar: ProgressLine, words: RunWords, kept: list[str]
) -> int | None:
    """Run ``work(stop)`` with Ctrl-C setting ``stop``; None when it ends, else the exit status
    after saying on stderr why it stopped and how many of ``kept`` (saved as they came) stay."""
    from inference.errors import Cancelled, GenerationError

    stop = threading.Event()
    previous = install_interrupt(stop)
    try:
        work(stop)
    except Cancelled:
        bar.finish()
        sys.stderr.write(
            f"cancelled: kept {len(kept)} {words.noun} in {words.bundle}{words.after_cancel}\n"
        )
        return 130
    except GenerationError as exc:
        bar.finish()
        note = (
            f" (kept {len(kept)} {words.noun} made before)" if words.kept_on_error and kept else ""
        )
        sys.stderr.write(f"error: {exc}{note}\n")
        return 2
    except ProjectError as exc:  # the project changed or was taken over: stop, write nothing
        bar.finish()
        sys.stderr.write(
            f"error: {exc}. {words.command} stopped without saving over it; kept {len(kept)} "
            f"{words.noun} saved before\n"
        )
        return 2
    except OSError as exc:  # the project folder takes no more (a full disk): the rest stays
        if words.rerun is None:
            raise
        bar.finish()
        where = Path(exc.filename).parent if exc.filename else words.bundle
        sys.stderr.write(
            f"error: could not write to {where}: {exc.strerror or exc}. Kept {len(kept)} "
            f"{words.noun}; free some space, then {words.rerun()}\n"
        )
        return 2
    finally:
        signal.signal(signal.SIGINT, previous)
    bar.finish()
    return None
