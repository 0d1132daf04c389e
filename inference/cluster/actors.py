"""The engine on a cluster node: one Ray actor per GPU (or per few CPU cores), each holding a
:class:`~inference.engine.story_engine.StoryEngine` with its model loaded once from the node's own
storage (a preset, the hub cache or a folder there).

The actor runs one task at a time and streams what the engine makes (progress, then each image
the moment it is decoded) as a Ray streaming generator, so the driver forwards it as it comes.
Its other methods answer while a task runs (a threaded actor): ``cancel`` sets the flag the
engine checks at every denoising step, ``ping`` says which node it is on.

Banks: an identity task saves its character's bank in the task's bank folder, the cluster's
shared folder when it has one (the project's ``cache/identity``), else the node's own folder
(:func:`node_bank_folder`), from where its bytes go back to the driver through Ray's object store.
A read task then finds each bank by its key digest: in memory when this actor made or read it,
else in the folder, else copied once into the node's folder from the object store (under a
unique temp name, so two actors of a node never write the same file), and runs in reuse-only
mode: a bank still missing is :class:`~inference.errors.BankMissing`, never an identity run.

Nothing here imports torch or Ray at module level: the driver (the artist's machine) imports this
module to create the actors, and needs neither torch nor a GPU.
"""

from __future__ import annotations

import logging
import os
import queue
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

from inference.cluster.scheduler import BankMade
from inference.errors import BankMissing, ModelUnavailable
from storyboard.core.jobs import StoryRequest
from storyboard.core.temp_files import temp_path

logger = logging.getLogger(__name__)

_END = object()


def node_bank_folder() -> Path:
    """The node's own folder of banks copied from the object store (a temp folder per user)."""
    return Path(tempfile.gettempdir()) / f"storyboard-banks-{os.getuid()}"


def bank_path(folder: Path, character_id: str, digest: str) -> Path:
    """A bank's file by its key digest (the name :func:`inference.bank.cache.bank_file_name`
    gives it)."""
    return folder / f"{character_id}-{digest}.safetensors"


class EngineActor:
    """One engine on one device of a node (made a Ray actor by :mod:`inference.cluster.engine`)."""

    def __init__(
        self,
        threads: int,
        device: str | None,
        low_vram: bool,
        model_config: str | None,
        preview_every: int = 5,
    ) -> None:
        import torch

        torch.set_num_threads(max(1, threads))  # the actor's share of the node's cores
        self._settings = (device, model_config, preview_every)
        self._engine: Any = None
        self._low_vram = low_vram
        self._cancelled: set[str] = set()
        self._busy = threading.Lock()

    # ------------------------------------------------------------------------- control
    def ping(self) -> str:
        """The node this actor runs on (the driver waits for this after a restart)."""
        import ray

        return str(ray.get_runtime_context().get_node_id())

    def cancel(self, task_id: str) -> None:
        """Stop ``task_id`` after its current denoising step (or before it starts)."""
        self._cancelled.add(task_id)

    # ------------------------------------------------------------------------- tasks
    def identity(
        self,
        task_id: str,
        request: StoryRequest,
        reusable: bool,
        bank_dir: str | None,
        send_bank: bool,
        low_vram: bool,
    ) -> Iterator[Any]:
        """Make (or, when ``reusable``, find) the bank of the request's one character; yields
        progress and images, then a :class:`BankMade`, then (``send_bank``) the bank's bytes."""
        (character,) = request.characters
        folder = Path(bank_dir) if bank_dir else node_bank_folder()
        request = replace(request, cache_dir=str(folder))
        written = True
        if reusable or request.reuse_only:
            look_up = replace(request, panels=(), reuse_only=True)  # no panels: only the bank
            try:
                yield from self._run(task_id, look_up, low_vram)
                written = False
            except BankMissing:
                if request.reuse_only:  # the request may only read banks
                    raise
        if written:
            panels = character.identity_panels
            yield from self._run(task_id, replace(request, panels=panels), low_vram)
        bank = self._engine.banks.get_loaded(character.character_id)
        digest = bank.key.digest()
        yield BankMade(character.character_id, digest, written)
        if send_bank:
            yield bank_path(folder, character.character_id, digest).read_bytes()

    def read(
        self,
        task_id: str,
        request: StoryRequest,
        banks: list[tuple[str, str, Any]],
        bank_dir: str | None,
        low_vram: bool,
    ) -> Iterator[Any]:
        """Draw the request's panels from their characters' banks ``(character id, digest,
        object ref or None)``; yields progress and images."""
        folder = Path(bank_dir) if bank_dir else node_bank_folder()
        for character_id, digest, ref in banks:
            path = bank_path(folder, character_id, digest)
            if ref is not None and not path.exists() and not self._in_memory(character_id, digest):
                _copy_in(path, ref)
        try:
            yield from self._run(task_id, replace(request, cache_dir=str(folder)), low_vram)
        except BankMissing as exc:
            made = [bank_path(folder, c, d) for c, d, _ in banks]
            if not all(path.is_file() for path in made):
                raise
            # the banks are here, under the keys the node that wrote them computed; this node
            # computes others: its model (or the editor's version) is not the writer's
            raise ModelUnavailable(
                request.model,
                [f"this node's copy differs from the one its identity banks were made with: {exc}"],
                "Put the same model files and the same version of the editor on every node, or "
                "leave this node out of the cluster",
            ) from exc

    # ------------------------------------------------------------------------- the engine
    def _in_memory(self, character_id: str, digest: str) -> bool:
        if self._engine is None:
            return False
        bank = self._engine.banks.get_loaded(character_id)
        return bank is not None and bank.key is not None and bank.key.digest() == digest

    def _engine_for(self, low_vram: bool) -> Any:
        from inference.engine.story_engine import StoryEngine

        low_vram = low_vram or self._low_vram
        if self._engine is None or self._engine.low_vram != low_vram:
            device, model_config, preview_every = self._settings
            self._engine = None  # free the old pipeline first
            self._engine = StoryEngine(
                device=device,
                low_vram=low_vram,
                model_config=model_config,
                preview_every=preview_every,
            )
        return self._engine

    def _run(self, task_id: str, request: StoryRequest, low_vram: bool) -> Iterator[Any]:
        """``engine.generate`` on a thread of its own, its callbacks streamed as they come."""
        with self._busy:
            engine = self._engine_for(low_vram)
            items: queue.Queue[Any] = queue.Queue()
            failure: list[BaseException] = []

            def target() -> None:
                try:
                    engine.generate(
                        request,
                        progress=items.put,
                        cancelled=lambda: task_id in self._cancelled,
                        on_image=items.put,
                    )
                except BaseException as exc:  # raised to the driver below
                    failure.append(exc)
                finally:
                    items.put(_END)

            thread = threading.Thread(target=target, name=f"generate {task_id}")
            thread.start()
            while (item := items.get()) is not _END:
                yield item
            thread.join()
            if failure:
                raise failure[0]


def _copy_in(path: Path, ref: Any) -> None:
    """Write a bank from the object store into this node's folder, once: under a unique temp
    name, renamed into place (an actor beside this one may be doing the same)."""
    import ray

    data = ray.get(ref)
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = temp_path(path)
    try:
        temp.write_bytes(data)
        temp.replace(path)
    finally:
        temp.unlink(missing_ok=True)
    logger.info("copied bank %s into %s (%d bytes)", path.name, path.parent, len(data))
