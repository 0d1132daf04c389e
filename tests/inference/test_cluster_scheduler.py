"""The cluster's scheduler against fake workers (no Ray, no model): order, parallel identity
tasks, bank affinity, retries, duplicates, low-VRAM retry, retired workers, cancel."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

import pytest

from inference.cluster.scheduler import BankMade, Emit, Scheduler, Task, WorkerLost
from inference.errors import Cancelled, GenerationError, ModelUnavailable, OutOfMemory
from inference.results import GeneratedImage, Progress
from storyboard.core.jobs import CharacterJob, PanelJob, Sampling, StoryRequest
from storyboard.core.story_plan import plan_story


def panel(pid: str, *characters: str) -> PanelJob:
    return PanelJob(pid, pid.upper(), pid, "", 1, "none", characters)


HERO = CharacterJob("hero", "Hero", 1, (panel("h1", "hero"), panel("h2", "hero")))
ADA = CharacterJob("ada", "Ada", 2, (panel("a1", "ada"),))
READS = (panel("s1"), panel("r1", "hero"), panel("r2", "ada"), panel("r3", "hero"))
REQUEST = StoryRequest(
    "toyworld",
    Sampling(64, 64, 2, 5.0),
    (*HERO.identity_panels, *ADA.identity_panels, *READS),
    (HERO, ADA),
    batch_size=1,
)


def image(job: PanelJob) -> GeneratedImage:
    return GeneratedImage(job, b"png", 64, 64, "toy", None)


@dataclass
class FakeWorker:
    """Runs a task by 'drawing' its panels; ``fail`` maps a task's first panel (or character)
    to the exception its first attempt raises."""

    name: str
    node: str = "node-a"
    fail: dict[str, BaseException] = field(default_factory=dict)
    delay: float = 0.0
    ran: list[tuple[str, bool]] = field(default_factory=list)  # (what, low VRAM)
    cancelled: threading.Event = field(default_factory=threading.Event)
    retired: bool = False
    lost: bool = False

    def run(self, task: Task, emit: Emit) -> BankMade | None:
        what = task.identity.character_id if task.identity else task.request.panels[0].panel_id
        self.ran.append((what, task.low_vram))
        emit(Progress("panels", tuple(p.label for p in task.request.panels), 1, 2))
        end = time.monotonic() + self.delay
        while time.monotonic() < end:
            if self.cancelled.is_set():
                raise Cancelled(0)
            time.sleep(0.005)
        for job in task.request.panels:
            emit(image(job))  # a worker lost after this still made the image once
        if what in self.fail:
            exc = self.fail.pop(what)
            self.lost = isinstance(exc, WorkerLost)
            raise exc
        if task.identity is not None:
            return BankMade(what, f"digest-{what}", written=bool(task.request.panels))
        return None

    def cancel(self) -> None:
        self.cancelled.set()

    def healthy(self) -> bool:
        self.lost = False
        return True

    def retire(self) -> None:
        self.retired = True


def schedule(workers: list[FakeWorker], stop: threading.Event | None = None) -> list[str]:
    delivered: list[GeneratedImage] = []
    scheduler = Scheduler(
        plan_story(REQUEST),
        list(workers),
        lambda _p: None,
        delivered.append,
        (stop or threading.Event()).is_set,
        poll=0.01,
    )
    out = scheduler.run()
    assert out == delivered
    return [i.job.panel_id for i in out]


def test_every_panel_once_identity_tasks_in_parallel_then_reads() -> None:
    workers = [FakeWorker(f"w{n}", delay=0.05) for n in range(3)]
    made = schedule(workers)
    assert sorted(made) == sorted(p.panel_id for p in REQUEST.panels)
    # both identity tasks at once, and the plain panel, which needs no bank, beside them
    assert [w.ran[0][0] for w in workers] == ["hero", "ada", "s1"]
    assert made.index("s1") < made.index("r1")


def test_reads_prefer_the_worker_whose_node_holds_their_bank() -> None:
    workers = [FakeWorker("w1", node="a"), FakeWorker("w2", node="b", delay=0.05)]
    schedule(workers)
    first = {w.name: [what for what, _ in w.ran] for w in workers}
    assert first["w1"][0] == "hero" and "r1" in first["w1"] and "r3" in first["w1"]


def test_a_lost_worker_gives_its_batch_to_another_and_duplicates_are_dropped() -> None:
    lost = FakeWorker("w1", fail={"r1": WorkerLost("actor died")})
    made = schedule([lost, FakeWorker("w2", delay=0.02)])
    assert made.count("r1") == 1  # made before the loss, made again after: delivered once
    assert sorted(made) == sorted(p.panel_id for p in REQUEST.panels)


def test_out_of_memory_retries_once_in_low_vram_mode() -> None:
    worker = FakeWorker("w1", fail={"r2": OutOfMemory("cuda:0", "lower the size")})
    schedule([worker])
    assert ("r2", False) in worker.ran and ("r2", True) in worker.ran


def test_a_worker_without_the_model_is_retired_and_the_others_go_on() -> None:
    broken = FakeWorker("w1", fail={"hero": ModelUnavailable("toy", ["no folder"], "copy it")})
    good = FakeWorker("w2")
    made = schedule([broken, good])
    assert broken.retired and len(made) == len(REQUEST.panels)
    with pytest.raises(ModelUnavailable, match="copy it"):
        schedule([FakeWorker("w3", fail={"hero": ModelUnavailable("toy", ["x"], "copy it")})])


def test_another_error_ends_the_run_with_it() -> None:
    with pytest.raises(GenerationError, match="bad LoRA"):
        schedule([FakeWorker(w, fail={"r3": GenerationError("bad LoRA")}) for w in ("a", "b")])


def test_cancel_reaches_every_busy_worker() -> None:
    stop = threading.Event()
    workers = [FakeWorker("w1", delay=5), FakeWorker("w2", delay=5)]
    threading.Timer(0.1, stop.set).start()
    start = time.monotonic()
    with pytest.raises(Cancelled):
        schedule(workers, stop)
    assert time.monotonic() - start < 2 and all(w.cancelled.is_set() for w in workers)


def test_print_size_on_a_cluster_is_refused_with_what_to_do() -> None:
    from inference.cluster.engine import ClusterStoryEngine
    from storyboard.core.print_jobs import PrintJob, PrintSizeRequest

    job = PrintJob(panel("p1"), "/nowhere/panel.png", "orig", 128, 128, 300)
    request = PrintSizeRequest("toyworld", Sampling(64, 64, 2, 5.0), (job,))
    engine = ClusterStoryEngine("local")
    with pytest.raises(GenerationError, match="Settings > Cluster"):
        engine.generate(request)
    assert engine.workers == []  # nothing was started
