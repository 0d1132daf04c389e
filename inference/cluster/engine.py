"""``ClusterStoryEngine``: a story generated on a Ray cluster, behind the same ``generate`` as the
in-process :class:`~inference.engine.story_engine.StoryEngine` (the ``Engine`` protocol of
:mod:`inference.worker`), so the CLI and the editor's worker use it unchanged and the artist's
process records every image as it arrives, the only writer of the project.

The driver plans the story without torch (:func:`storyboard.core.story_plan.plan_story`) and the
:class:`~inference.cluster.scheduler.Scheduler` hands its tasks to one actor per GPU
(:mod:`inference.cluster.actors`; ``num_gpus=1``, restarted by Ray when its process dies), or on
a cluster without GPUs to actors of ``threads`` CPU cores each, with torch limited to as many
threads.

Banks travel through the shared folder when every actor sees the driver's files (a cluster on
this one machine: the project's ``cache/identity``, the record), else through Ray's object store:
the identity task sends the bank's bytes back, the driver keeps the reference, writes the bank
into the project's cache (the record, for a later regenerate on this machine) and passes the
reference to each read task, whose node copies it once.
"""

from __future__ import annotations

import logging
import os
import shutil
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from inference.cluster.actors import EngineActor
from inference.cluster.connect import ClusterUnavailable, connect, import_ray
from inference.cluster.scheduler import BankMade, Emit, Scheduler, Task, WorkerLost
from inference.errors import Cancelled, GenerationError
from inference.results import GeneratedImage, Progress
from storyboard.core.jobs import PanelRequest, StoryRequest
from storyboard.core.print_jobs import PrintSizeRequest
from storyboard.core.story_plan import PlanError, plan_story
from storyboard.core.temp_files import temp_path

__all__ = ["ClusterStoryEngine"]

logger = logging.getLogger(__name__)

BANKS = ("auto", "shared", "object_store")


class _Banks:
    """Where the run's banks travel (the shared folder or the object store) and, for the object
    store, the references the driver holds."""

    def __init__(self, mode: str, record: str | None) -> None:
        self.mode = mode
        self.record = record  # the project's cache/identity (None: no project folder)
        self.refs: dict[str, Any] = {}
        self.seconds = 0.0  # time spent putting banks in place on the driver
        self._saves: list[threading.Thread] = []

    def folder(self) -> str | None:
        """The folder every actor reads banks from (None: each node's own)."""
        return self.record if self.mode == "shared" else None

    def keep(self, made: BankMade, ref: Any) -> None:
        """Hold a bank's object-store reference; write it into the project's cache meanwhile."""
        self.refs[made.digest] = ref
        if self.record is not None:
            thread = threading.Thread(target=self._record, args=(made, ref), daemon=True)
            self._saves.append(thread)
            thread.start()

    def _record(self, made: BankMade, ref: Any) -> None:
        ray = import_ray()
        start = time.perf_counter()
        target = Path(str(self.record)) / f"{made.character_id}-{made.digest}.safetensors"
        temp = temp_path(target)
        try:
            data = ray.get(ref)
            target.parent.mkdir(parents=True, exist_ok=True)
            temp.write_bytes(data)
            temp.replace(target)
        except Exception as exc:  # the cache is an optimisation: never fail a generation for it
            logger.warning("could not record the identity bank %s: %s", target, exc)
        finally:
            temp.unlink(missing_ok=True)
            self.seconds += time.perf_counter() - start

    def wait(self) -> None:
        for thread in self._saves:
            thread.join()


class _RayWorker:
    """The scheduler's handle on one actor."""

    def __init__(self, ray: Any, actor: Any, name: str, node: str, banks: _Banks) -> None:
        self.ray, self.actor, self.name, self.node, self.banks = ray, actor, name, node, banks
        self.current: str | None = None

    def run(self, task: Task, emit: Emit) -> BankMade | None:
        ray, banks = self.ray, self.banks
        self.current = task.task_id
        send = banks.mode == "object_store"
        if task.identity is not None:
            stream = self.actor.identity.remote(
                task.task_id,
                task.request,
                task.identity.reusable,
                banks.folder(),
                send,
                task.low_vram,
            )
        else:
            refs = [(c, d, banks.refs.get(d) if send else None) for c, d in task.banks]
            stream = self.actor.read.remote(
                task.task_id, task.request, refs, banks.folder(), task.low_vram
            )
        made: BankMade | None = None
        try:
            for ref in stream:
                item = ray.get(ref)
                if isinstance(item, BankMade):
                    made = item
                    if send:
                        banks.keep(made, next(stream))  # the bytes stay in the object store
                else:
                    emit(item)
        except ray.exceptions.RayActorError as exc:  # died, or restarting (ActorUnavailable)
            raise WorkerLost(str(exc).splitlines()[0]) from exc
        except ray.exceptions.RayTaskError as exc:  # the engine's own error, as raised there
            cause = exc.cause if isinstance(exc.cause, BaseException) else exc
            raise cause from None
        finally:
            self.current = None
        return made

    def cancel(self) -> None:
        if self.current is not None:
            self.actor.cancel.remote(self.current)

    def healthy(self) -> bool:
        try:
            self.node = self.ray.get(self.actor.ping.remote(), timeout=1.0)
        except Exception:
            return False
        return True

    def retire(self) -> None:
        self.ray.kill(self.actor, no_restart=True)


class ClusterStoryEngine:
    """Generates story requests on a Ray cluster; one actor per GPU.

    ``address``: ``local`` (a private cluster on this machine), ``auto`` (the running one) or a
    cluster's address. ``actors``: how many (default: one per GPU, else one). ``threads``: torch
    threads per actor (default: 2 beside a GPU, else the CPU cores shared out among the actors).
    ``banks``: ``auto``, ``shared`` or ``object_store``.
    """

    def __init__(
        self,
        address: str = "auto",
        *,
        actors: int | None = None,
        threads: int | None = None,
        banks: str = "auto",
        device: str | None = None,
        low_vram: bool = False,
        model_config: str | None = None,
        preview_every: int = 5,
        num_cpus: int | None = None,
        start_timeout: float = 120.0,
    ) -> None:
        if banks not in BANKS:
            raise ValueError(f"banks must be one of {', '.join(BANKS)}, not {banks!r}")
        self.address = address
        self.actors_wanted = actors
        self.threads_wanted = threads
        self.threads = 1  # torch threads per actor, once started
        self.banks_mode = banks
        self.device, self.low_vram, self.model_config = device, low_vram, model_config
        self.preview_every = preview_every
        self.num_cpus = num_cpus  # of a local cluster (default: the machine's)
        self.start_timeout = start_timeout  # for every actor to be placed and answer
        self.workers: list[_RayWorker] = []
        self.last_banks: _Banks | None = None  # the last run's bank transport (benchmarks)
        self._ray: Any = None
        self._owns_ray = False  # this engine connected (and so disconnects at the end)
        self._bank_folder: str | None = None  # shared banks of requests without a project

    # ------------------------------------------------------------------------- actors
    def start(self) -> None:
        """Connect and start the actors (the first ``generate`` does it when not done)."""
        if self._ray is not None:
            return
        self._owns_ray = not import_ray().is_initialized()
        ray = connect(self.address, num_cpus=self.num_cpus)
        gpus = int(ray.cluster_resources().get("GPU", 0))
        cpus = int(ray.available_resources().get("CPU", 1))  # other drivers' actors hold some
        on_gpu = gpus > 0 and self.device in (None, "cuda")
        count = self.actors_wanted or (gpus if on_gpu else 1)
        self.threads = self.threads_wanted or (2 if on_gpu else max(1, cpus // count))
        env = {str(k): str(self.threads) for k in ("OMP_NUM_THREADS", "MKL_NUM_THREADS")}
        if self.address == "local":  # this machine's actors run the code the driver runs
            env["PYTHONPATH"] = os.pathsep.join(
                p for p in (_code_root(), os.environ.get("PYTHONPATH", "")) if p
            )
        options: dict[str, Any] = {
            "num_cpus": self.threads,
            "num_gpus": 1 if on_gpu else 0,
            "max_restarts": -1,  # Ray restarts a dead actor; its task goes elsewhere
            "max_task_retries": 0,  # the scheduler retries, on another actor
            "max_concurrency": 4,  # cancel and ping answer while a task runs
            "runtime_env": {"env_vars": env},
        }
        remote = ray.remote(EngineActor)
        device = self.device or ("cuda" if on_gpu else "cpu")
        handles = [
            remote.options(**options).remote(
                self.threads, device, self.low_vram, self.model_config, self.preview_every
            )
            for _ in range(count)
        ]
        pings = [h.ping.remote() for h in handles]
        ready, _ = ray.wait(pings, num_returns=len(pings), timeout=self.start_timeout)
        if len(ready) < len(pings):
            for handle in handles:
                ray.kill(handle, no_restart=True)
            need = "one GPU" if on_gpu else f"{self.threads} CPU core(s)"
            raise ClusterUnavailable(
                f"the Ray cluster found room for {len(ready)} of {count} engines (each needs "
                f"{need}; free: {ray.available_resources()}); ask for fewer with --ray-actors"
            )
        nodes = ray.get(pings)
        self.workers = [
            _RayWorker(ray, h, f"actor {n + 1}", node, _Banks("shared", None))
            for n, (h, node) in enumerate(zip(handles, nodes, strict=True))
        ]
        self._ray = ray
        logger.info("%d cluster actor(s) on %d node(s)", count, len(set(nodes)))

    @property
    def ray(self) -> Any:
        """The connected Ray module (None before :meth:`start`)."""
        return self._ray

    def shutdown(self) -> None:
        """Stop the actors (and a local cluster this engine started); remove the banks folder
        of requests without a project."""
        if self._bank_folder is not None:
            shutil.rmtree(self._bank_folder, ignore_errors=True)
            self._bank_folder = None
        if self._ray is None:
            return
        for worker in self.workers:
            self._ray.kill(worker.actor, no_restart=True)
        self.workers = []
        if self._owns_ray:
            self._ray.shutdown()
        self._ray = None

    def _bank_mode(self) -> str:
        if self.banks_mode != "auto":
            return self.banks_mode
        ray = self._ray
        here = ray.get_runtime_context().get_node_id()
        alive = {n["NodeID"] for n in ray.nodes() if n.get("Alive")}
        return "shared" if alive == {here} else "object_store"

    # ------------------------------------------------------------------------- generating
    def generate(
        self,
        request: StoryRequest | PanelRequest | PrintSizeRequest,
        progress: Callable[[Progress], None] | None = None,
        cancelled: Callable[[], bool] | threading.Event | None = None,
        on_image: Callable[[GeneratedImage], None] | None = None,
    ) -> list[GeneratedImage]:
        """Every requested panel's image, delivered as it arrives; raises what ``StoryEngine``
        raises (``Cancelled`` within a denoising step of the cancel). Print size is not spread
        over a cluster: its request is refused with what to do."""
        if isinstance(request, PrintSizeRequest):
            raise GenerationError(
                "Print size runs on this computer only, not on a cluster: clear File > Settings "
                "> Cluster and run it again"
            )
        story = request.as_story() if isinstance(request, PanelRequest) else request
        report = progress or (lambda _p: None)
        stop = cancelled.is_set if isinstance(cancelled, threading.Event) else cancelled
        report(Progress("loading"))
        try:
            plan = plan_story(story)
        except PlanError as exc:
            raise GenerationError(str(exc)) from exc
        if stop is not None and stop():
            raise Cancelled(0)
        self.start()
        banks = _Banks(self._bank_mode(), story.cache_dir)
        if banks.mode == "shared" and banks.record is None:
            banks.record = str(Path(self._temp_banks()))
        for worker in self.workers:
            worker.banks = banks
        self.last_banks = banks
        scheduler = Scheduler(
            plan,
            list(self.workers),
            report,
            on_image or (lambda _i: None),
            stop or (lambda: False),
        )
        try:
            return scheduler.run()
        finally:
            self.workers = [w for w in self.workers if w in scheduler.workers]
            banks.wait()

    def _temp_banks(self) -> str:
        """The shared folder for the banks of requests without a project folder: one per engine
        (bank files are named by their key, so later requests reuse what earlier ones wrote),
        removed at :meth:`shutdown`."""
        if self._bank_folder is None:
            import tempfile

            self._bank_folder = tempfile.mkdtemp(prefix="storyboard-banks-")
        return self._bank_folder


def _code_root() -> str:
    """The folder that holds the ``inference`` package the driver imported."""
    import inference

    return str(Path(inference.__file__).resolve().parents[1])
