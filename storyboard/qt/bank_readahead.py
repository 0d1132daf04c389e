"""Keeping an open project's saved identity banks in the file cache, out of a running job's way.

Opening a project reads its banks ahead (:mod:`inference.bank.warmup`), so that regenerating a
panel after a restart reads them from memory. A read-ahead still running when a job starts
shares the disk with that job, though: after a restart the job loads the model's files first,
and on the H100 machine a regenerate that loaded the model beside a read-ahead took 1.22x the
same load and a plain panel, against 1.00x with no read-ahead (``docs/benchmarks.md``, session
8). So the read-ahead stops when a job starts, and, if it had not finished, starts again once the
queue is idle (the files it had read come from memory the second time).
"""

from __future__ import annotations

from pathlib import Path

from inference.bank.warmup import BankWarmup, warm_banks
from storyboard.core.jobs import identity_cache
from storyboard.qt.controller import GenerationController


class BankReadahead:
    """The read-ahead of the open project's banks, paused while the controller is busy."""

    def __init__(self, controller: GenerationController) -> None:
        self.warmup: BankWarmup | None = None
        self._cache: Path | None = None
        self._busy = False
        self._pending = False  # the open project's banks are not all read yet
        controller.busy.connect(self._set_busy)

    def open(self, bundle: Path) -> None:
        """Read the banks of the project saved at ``bundle`` (now, or once the queue is idle)."""
        if self.warmup is not None:  # the previous project's
            self.warmup.cancel()
        self.warmup, self._cache = None, identity_cache(bundle)
        self._pending = self._cache is not None  # no cache folder (one leading out): nothing
        if self._pending and not self._busy:
            self._start()

    def _start(self) -> None:
        assert self._cache is not None
        self._pending = False
        self.warmup = warm_banks(self._cache)

    def _set_busy(self, busy: bool) -> None:
        self._busy = busy
        if busy and self.warmup is not None:
            self.warmup.cancel()  # it stops before its next 8 MB
            # (one that ends just after this check is only read again, from memory)
            self._pending = self._pending or not self.warmup.finished
        elif not busy and self._pending:
            self._start()
