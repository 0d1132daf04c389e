"""The driver's side of a cluster run, without Ray: which task goes to which worker, and what
reaches the artist's process.

A story's plan (:func:`storyboard.core.story_plan.plan_story`) becomes tasks: every character's
identity task at once (they run in parallel on different workers), then each read group's batches
as soon as the identity tasks it depends on have said whether they wrote their panels. A free
worker takes the ready read batch whose banks it already holds, else the oldest one.

Each worker runs one task at a time on a thread of the driver (the worker itself is remote: a Ray
actor, :mod:`inference.cluster.actors`; or a fake one in the tests), and sends progress and
images back through one queue in the order they were made. The scheduler forwards them to the
engine's callbacks on the calling thread, drops an image whose panel was already delivered (a
retried batch makes its panels again) and counts images across workers.

Failures: a worker that is lost (its actor died or is restarting) gives its task to another worker
and comes back once it answers again; out of memory retries the task once in low-VRAM mode; a
worker whose model is unavailable is retired with the reason, and the run fails only when no worker
is left; any other generation error cancels the other tasks and ends the run with it. Cancel asks
every busy worker to stop (within one denoising step) and ends the run with
:class:`~inference.errors.Cancelled`.
"""

from __future__ import annotations

import itertools
import logging
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Protocol

from inference.errors import Cancelled, GenerationError, ModelUnavailable, OutOfMemory
from inference.results import GeneratedImage, Progress
from storyboard.core.jobs import StoryRequest
from storyboard.core.story_plan import IdentityTask, Plan, ReadBatch, ReadGroup

logger = logging.getLogger(__name__)


class WorkerLost(Exception):
    """The worker stopped answering (its process died, or it is restarting); the task it ran
    goes to another worker."""


@dataclass(frozen=True)
class Task:
    """One pipeline call's worth of work for a worker."""

    task_id: str
    request: StoryRequest  # the sub-request the worker's engine runs
    identity: IdentityTask | None = None  # an identity task, else a read batch
    batch: ReadBatch | None = None
    banks: tuple[tuple[str, str], ...] = ()  # (character id, bank digest) a read needs
    low_vram: bool = False
    attempt: int = 0


@dataclass(frozen=True)
class BankMade:
    """An identity task's outcome: the bank's digest, and whether it made the identity panels
    (False: a saved bank with the same key stood in)."""

    character_id: str
    digest: str
    written: bool


Emit = Callable[[Progress | GeneratedImage], None]


class Worker(Protocol):
    """One engine somewhere (a Ray actor): runs a task, streaming what it makes to ``emit``."""

    name: str
    node: str  # workers of one node share its copies of the banks

    def run(self, task: Task, emit: Emit) -> BankMade | None:
        """Blocks until the task ends; raises WorkerLost or a GenerationError."""
        ...

    def cancel(self) -> None:
        """Ask the running task to stop after its current step."""
        ...

    def healthy(self) -> bool:
        """Whether the worker answers again (after a loss; may block a little)."""
        ...

    def retire(self) -> None:
        """Stop using this worker for good (its model cannot be loaded there)."""
        ...


@dataclass
class _Running:
    task: Task
    worker: Worker
    thread: threading.Thread


@dataclass
class _State:
    outcomes: dict[str, BankMade] = field(default_factory=dict)
    waiting: list[ReadGroup] = field(default_factory=list)
    ready: list[Task] = field(default_factory=list)
    held: dict[str, set[str]] = field(default_factory=dict)  # node -> bank digests


class Scheduler:
    """Runs one plan on a set of workers; :meth:`run` returns the delivered images."""

    def __init__(
        self,
        plan: Plan,
        workers: list[Worker],
        report: Callable[[Progress], None],
        deliver: Callable[[GeneratedImage], None],
        stop: Callable[[], bool],
        *,
        max_attempts: int = 3,
        poll: float = 0.05,
        wait_lost: float = 300.0,
    ) -> None:
        self.plan, self.report, self.deliver, self.stop = plan, report, deliver, stop
        self.workers = list(workers)
        self.max_attempts = max_attempts
        self.poll = poll
        self.wait_lost = wait_lost  # how long a run waits for lost workers to come back
        self.results: list[GeneratedImage] = []
        self.delivered: set[str] = set()
        self.retired: list[str] = []  # why each retired worker was retired
        self._events: queue.Queue[tuple[str, Task, Worker, object]] = queue.Queue()
        self._running: dict[str, _Running] = {}
        self._lost: set[str] = set()  # names of workers waiting to answer again
        self._asked: dict[str, float] = {}  # when each lost worker was last asked
        self._state = _State(waiting=list(plan.groups))
        self._ids = itertools.count()
        self._total = plan.images_total({t.character_id for t in plan.identity if not t.reusable})

    # ------------------------------------------------------------------------- the loop
    def run(self) -> list[GeneratedImage]:
        request = self.plan.request
        for identity in self.plan.identity:
            character = identity.character
            panels = () if identity.reusable else character.identity_panels
            sub = replace(request, panels=panels, characters=(character,))
            self._state.ready.append(Task(self._id("identity"), sub, identity=identity))
        self._release_groups()
        try:
            while self._state.ready or self._running or self._state.waiting:
                if self.stop():
                    self._cancel_all()
                    raise Cancelled(len(self.results))
                self._dispatch()
                if not self._running and self._state.ready and not self._usable():
                    self._wait_for_a_worker()
                try:
                    kind, task, worker, payload = self._events.get(timeout=self.poll)
                except queue.Empty:
                    continue
                self._handle(kind, task, worker, payload)
        except BaseException:
            self._cancel_all()
            raise
        return self.results

    def _id(self, kind: str) -> str:
        return f"{kind}-{next(self._ids)}"

    def _usable(self) -> list[Worker]:
        return [w for w in self.workers if w.name not in self._lost]

    def _wait_for_a_worker(self) -> None:
        """Every worker is lost (restarting): wait for one to answer, or give up."""
        if not self.workers:
            reasons = "; ".join(self.retired) or "no worker was started"
            raise GenerationError(f"no cluster worker can generate: {reasons}")
        deadline = time.monotonic() + self.wait_lost
        while not self._usable():
            if self.stop():
                raise Cancelled(len(self.results))
            if time.monotonic() > deadline:
                raise GenerationError(
                    f"every cluster worker was lost and none came back in {self.wait_lost:g} s"
                )
            time.sleep(self.poll)
            self._recover_lost()

    # ------------------------------------------------------------------------- dispatch
    def _dispatch(self) -> None:
        self._recover_lost()
        busy = {r.worker.name for r in self._running.values()}
        for worker in self._usable():
            if worker.name in busy or not self._state.ready:
                continue
            task = self._take(worker)
            thread = threading.Thread(
                target=self._work, args=(task, worker), name=f"{worker.name} {task.task_id}"
            )
            self._running[task.task_id] = _Running(task, worker, thread)
            busy.add(worker.name)
            thread.start()

    def _take(self, worker: Worker) -> Task:
        """The ready task this worker should run: an identity task first, then a read whose
        banks its node holds, else the oldest."""
        ready, held = self._state.ready, self._state.held.get(worker.node, set())
        for index, task in enumerate(ready):
            if task.identity is not None:
                return ready.pop(index)
        for index, task in enumerate(ready):
            if task.banks and all(digest in held for _, digest in task.banks):
                return ready.pop(index)
        return ready.pop(0)

    def _work(self, task: Task, worker: Worker) -> None:
        def emit(item: Progress | GeneratedImage) -> None:
            self._events.put(("item", task, worker, item))

        try:
            outcome: object = worker.run(task, emit)
        except BaseException as exc:  # handed to the loop, which decides
            self._events.put(("failed", task, worker, exc))
        else:
            self._events.put(("done", task, worker, outcome))

    def _recover_lost(self) -> None:
        """Ask each lost worker, at most once a second, whether it answers again."""
        now = time.monotonic()
        for worker in self.workers:
            if worker.name not in self._lost or now - self._asked.get(worker.name, 0.0) < 1.0:
                continue
            self._asked[worker.name] = now
            if worker.healthy():
                logger.info("cluster worker %s answers again", worker.name)
                self._lost.discard(worker.name)

    # ------------------------------------------------------------------------- events
    def _handle(self, kind: str, task: Task, worker: Worker, payload: object) -> None:
        if kind == "item":
            self._item(task, payload)
            return
        self._running.pop(task.task_id, None)
        if kind == "done":
            if isinstance(payload, BankMade):
                self._bank_made(payload, worker)
            for _, digest in task.banks:
                self._state.held.setdefault(worker.node, set()).add(digest)
            return
        assert isinstance(payload, BaseException)
        self._failed(task, worker, payload)

    def _item(self, task: Task, item: object) -> None:
        if isinstance(item, GeneratedImage):
            if item.job.panel_id in self.delivered:
                logger.info("dropped a second image of panel %s (a retried task)", item.job.label)
                return
            self.delivered.add(item.job.panel_id)
            self.results.append(item)
            self.deliver(item)
        elif isinstance(item, Progress):
            if item.phase == "loading":
                return  # each worker loads once; the run said "loading" at its start
            done, total = len(self.results), max(self._total, len(self.results))
            self.report(replace(item, images_done=done, images_total=total))

    def _bank_made(self, made: BankMade, worker: Worker) -> None:
        self._state.outcomes[made.character_id] = made
        self._state.held.setdefault(worker.node, set()).add(made.digest)
        written = {c for c, m in self._state.outcomes.items() if m.written}
        assumed = written | {
            t.character_id
            for t in self.plan.identity
            if not t.reusable and t.character_id not in self._state.outcomes
        }
        self._total = self.plan.images_total(assumed)
        self._release_groups()

    def _release_groups(self) -> None:
        """Queue the batches of every group whose identity tasks have all ended."""
        outcomes = self._state.outcomes
        written = {c for c, m in outcomes.items() if m.written}
        still: list[ReadGroup] = []
        for group in self._state.waiting:
            if not all(c in outcomes for c in group.depends):
                still.append(group)
                continue
            banks = tuple((c, outcomes[c].digest) for c in group.characters)
            characters = tuple(
                t.character for t in self.plan.identity if t.character_id in group.characters
            )
            for batch in group.batches(written):
                sub = replace(
                    self.plan.request,
                    panels=batch.panels,
                    characters=characters,
                    batch_size=len(batch.panels),
                    reuse_only=True,
                )
                self._state.ready.append(Task(self._id("read"), sub, batch=batch, banks=banks))
        self._state.waiting = still

    def _failed(self, task: Task, worker: Worker, exc: BaseException) -> None:
        if isinstance(exc, Cancelled) and self.stop():
            return  # the loop raises Cancelled for the whole run
        retry = replace(task, attempt=task.attempt + 1)
        if isinstance(exc, WorkerLost):
            logger.warning("cluster worker %s lost during %s: %s", worker.name, task.task_id, exc)
            self._lost.add(worker.name)
        elif isinstance(exc, OutOfMemory) and not task.low_vram:
            logger.warning("%s ran out of memory on %s; retrying in low-VRAM mode", task, worker)
            retry = replace(retry, low_vram=True)
        elif isinstance(exc, ModelUnavailable):
            reason = f"{worker.name}: {exc}"
            logger.error("cluster worker retired, %s", reason)
            self.retired.append(reason)
            self.workers = [w for w in self.workers if w is not worker]
            worker.retire()
            if not self.workers:
                raise exc
        else:
            raise exc
        if retry.attempt >= self.max_attempts:
            raise GenerationError(
                f"panels {', '.join(_labels(task))} failed {retry.attempt} times on the cluster; "
                f"last: {exc}"
            ) from exc
        self._state.ready.insert(0, retry)

    def _cancel_all(self, wait: float = 30.0) -> None:
        """Stop every running task and wait (a while) for their threads to end."""
        for running in list(self._running.values()):
            try:
                running.worker.cancel()
            except Exception as exc:  # a lost worker cannot be told; it stops anyway
                logger.info("could not cancel on %s: %s", running.worker.name, exc)
        deadline = time.monotonic() + wait
        for running in list(self._running.values()):
            running.thread.join(max(0.0, deadline - time.monotonic()))
        self._running.clear()


def _labels(task: Task) -> tuple[str, ...]:
    return tuple(p.label for p in task.request.panels) or (
        (task.identity.character.name,) if task.identity else ()
    )
