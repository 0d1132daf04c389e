"""Warming a project's saved identity banks into the operating system's file cache as it opens.

Regenerating one panel reads its characters' banks from their files while the panel is being
denoised (:mod:`inference.bank.stream`). From the file cache that read is cheap (about 0.5 s for
the 4.6 GiB bank of four SDXL identity panels at 1024 px). After a restart the file comes from
the disk instead (2.3 s at 2 GB/s), and that read runs beside the whole panel. On the H100
machine the panel then took 1.10-1.41x a plain one against 1.0-1.17x with the file cached
(``docs/benchmarks.md``, issue 5). A regenerate usually follows the project's opening by
seconds at least, so opening asks the system to read the files ahead, on a background thread.
Measured the same way, an evicted file read ahead like this took 2.5-3.0 s, and the regenerate
after it 1.05x a plain panel (session 7).

``main.py generate`` does not read ahead: there the model's files are usually evicted too, and a
read-ahead beside the model's load shares the disk with it. After a restart a new engine's load
and regenerate took 1.00x the load and a plain panel without a read-ahead, and 1.22x with one
(session 8).

Newest files first and no more than half of the memory that is available: a cache that throws
out what it just read helps nobody. The thread reads through a small buffer, which leaves the
files in the cache on every system and says when they are in (``posix_fadvise(WILLNEED)``, on
Linux only, returns once the reads are queued).
"""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path

import psutil

from storyboard.core.bundle_paths import inside

logger = logging.getLogger(__name__)

CHUNK = 8 * 1024 * 1024


def bank_files(cache_dir: Path) -> list[Path]:
    """The saved banks in ``cache_dir``, newest first (none when the folder does not exist).

    A file that is a link out of ``cache_dir`` is left out: it is not the project's to read.
    """
    found: list[tuple[float, Path]] = []
    for path in cache_dir.glob("*.safetensors"):  # nothing when the folder does not exist
        if path.is_symlink() and not inside(cache_dir, path):
            logger.warning("not warming %s: a link to a file outside %s", path, cache_dir)
            continue
        try:
            found.append((path.stat().st_mtime, path))
        except OSError:  # removed meanwhile (a bank being replaced)
            continue
    return [path for _, path in sorted(found, reverse=True)]


def memory_budget() -> int:
    """Bytes the warm-up may bring into the file cache: half of the available memory."""
    return int(psutil.virtual_memory().available) // 2


class BankWarmup:
    """Reads files ahead into the system's file cache on a daemon thread; :meth:`cancel` stops
    it between chunks (opening another project does)."""

    def __init__(self, paths: list[Path], *, budget: int | None = None) -> None:
        budget = memory_budget() if budget is None else budget
        self.paths: list[Path] = []
        total = 0
        for path in paths:
            try:
                size = path.stat().st_size
            except OSError:
                continue
            if total + size > budget:
                logger.info("not warming %s: over the memory budget of %d bytes", path, budget)
                continue
            self.paths.append(path)
            total += size
        self.bytes = total
        self.seconds = 0.0
        """How long the warm-up took (0 until it is done)."""
        self.finished = False
        """Whether every file was read (not cancelled)."""
        self._cancel = threading.Event()
        self._thread = threading.Thread(target=self._run, name="bank-warmup", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        started = time.perf_counter()
        for path in self.paths:
            if self._cancel.is_set():
                return
            try:
                _warm(path, self._cancel)
            except OSError as exc:  # a file removed or unreadable meanwhile: the read will say
                logger.info("could not warm %s: %s", path, exc)
        self.seconds = time.perf_counter() - started
        self.finished = True
        logger.info(
            "warmed %d bank file(s), %d bytes, in %.2f s", len(self.paths), self.bytes, self.seconds
        )

    def wait(self, timeout: float | None = None) -> bool:
        """True once the warm-up has ended (done or cancelled)."""
        self._thread.join(timeout)
        return not self._thread.is_alive()

    def cancel(self) -> None:
        self._cancel.set()

    @property
    def cancelled(self) -> bool:
        return self._cancel.is_set()


def _warm(path: Path, cancel: threading.Event) -> None:
    buffer = bytearray(CHUNK)
    with path.open("rb", buffering=0) as handle:
        while not cancel.is_set() and handle.readinto(buffer):
            pass


def warm_banks(cache_dir: Path, *, budget: int | None = None) -> BankWarmup | None:
    """Start warming the banks saved in ``cache_dir``; None when there are none."""
    files = bank_files(cache_dir)
    return BankWarmup(files, budget=budget) if files else None
