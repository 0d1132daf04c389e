"""The training batches of the toy model: what each step trains on, made ahead on threads.

Three kinds (:func:`batch_kind`): plain pictures of one or two people with random captions;
*stories* of one person over several panels (:mod:`training.toyworld.story_batches`); and
*position sets*, one figure at the three positions (``docs/toyworld-position.md``). Captions are
tokenised on a thread per kind, so the GPU never waits for the renderer's CPU side.
"""

from __future__ import annotations

import argparse
import contextlib
import queue
import threading
from typing import Any

import torch

from training.toyworld.junk import add_junk
from training.toyworld.model import MAX_TOKENS
from training.toyworld.story_batches import story_world
from training.toyworld.world import position_sets, random_captions, sample_world

TWO_PEOPLE = 0.3
"""Share of the plain batches' pictures that show two people (``--two-people``)."""
LOOK_ALIKE = 0.4
"""Share of those whose second person looks like the first (``--look-alike``)."""


class Batches:
    """Captions and token ids of the next batches, made on a thread while the GPU trains.

    Plain batches by default; ``story_panels``: stories of that many panels; ``positions``: sets
    of one picture at the three positions (:func:`~training.toyworld.world.position_sets`).
    ``position_rate``, ``swap`` and ``bare`` go to
    :func:`~training.toyworld.world.random_captions` (``bare`` to the position sets as well);
    ``two_people`` and ``look_alike`` to :func:`~training.toyworld.world.sample_world` for the
    plain batches.
    """

    def __init__(
        self,
        tokenizer: Any,
        batch: int,
        seed: int,
        story_panels: int = 0,
        *,
        positions: bool = False,
        position_rate: float | None = None,
        swap: float = 0.0,
        bare: float = 0.0,
        two_people: float = TWO_PEOPLE,
        look_alike: float = LOOK_ALIKE,
    ) -> None:
        self.tokenizer, self.batch, self.story_panels = tokenizer, batch, story_panels
        self.positions, self.position_rate, self.swap = positions, position_rate, swap
        self.bare, self.two_people, self.look_alike = bare, two_people, look_alike
        self.generator = torch.Generator().manual_seed(seed)
        self.queue: queue.Queue[tuple[Any, torch.Tensor]] = queue.Queue(maxsize=6)
        self.running = True
        self.thread = threading.Thread(target=self._fill, daemon=True)
        self.thread.start()

    def make(self) -> tuple[Any, list[str]]:
        """The next batch's pictures and captions (before unknown words are mixed in)."""
        rate, bare = self.position_rate, self.bare
        if self.positions:
            return position_sets(self.batch // 3, self.generator, bare=bare)
        if self.story_panels:
            panels = self.story_panels
            world = story_world(self.batch // panels, panels, self.generator)
            captions = random_captions(
                world, self.generator, drop=0.6, empty=0.0, position=rate, bare=bare
            )
            return world, captions
        world = sample_world(
            self.batch, self.generator, two_people=self.two_people, look_alike=self.look_alike
        )
        return world, random_captions(
            world, self.generator, position=rate, swap=self.swap, bare=bare
        )

    def _fill(self) -> None:
        while self.running:
            world, captions = self.make()
            if not self.positions:  # a set's captions stay alike but for the position
                captions = add_junk(captions, self.generator)
            ids = self.tokenizer(
                captions,
                padding="max_length",
                max_length=MAX_TOKENS,
                truncation=True,
                return_tensors="pt",
            ).input_ids
            self.queue.put((world, ids))

    def next(self) -> tuple[Any, torch.Tensor]:
        return self.queue.get()

    def stop(self) -> None:
        self.running = False
        with contextlib.suppress(queue.Empty):
            self.queue.get_nowait()


def batch_sources(tokenizer: Any, args: argparse.Namespace, steps: int) -> dict[str, Batches]:
    """The batch makers a run draws from: ``plain``, and ``story`` and ``sets`` when asked for."""
    options: dict[str, Any] = {
        "position_rate": args.position_rate,
        "swap": args.swap_people,
        "bare": args.bare_captions,
        "two_people": args.two_people,
        "look_alike": args.look_alike,
    }
    sources = {"plain": Batches(tokenizer, args.batch, args.seed + steps, **options)}
    if args.story_panels:
        seed = args.seed + 1 + steps
        sources["story"] = Batches(tokenizer, args.batch, seed, args.story_panels, **options)
    if args.position_share > 0:
        seed = args.seed + 2 + steps
        sources["sets"] = Batches(
            tokenizer, args.batch, seed, positions=True, bare=args.bare_captions
        )
    return sources


def batch_kind(step: int, story_steps: int, args: argparse.Namespace) -> str:
    """What training step ``step`` trains on: ``story`` in ``--story-share`` of the steps (when
    there are stories), ``sets`` in ``--position-share`` of the others, else ``plain``; each
    spread evenly (``story_steps``: the story steps before this one)."""
    share = args.story_share
    if args.story_panels and int((step + 1) * share) > int(step * share):
        return "story"
    other, share = step - story_steps, args.position_share
    return "sets" if int((other + 1) * share) > int(other * share) else "plain"
