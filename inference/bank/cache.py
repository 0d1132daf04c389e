"""Identity banks kept between jobs: in memory for the session, on disk in the project cache.

A bank is valid only for the exact identity images it was made from, so it is filed under the
digest of a :class:`BankKey` that covers everything those images depend on: the weights, the
identity panels' prompts, negative prompts and seeds, size, steps, sampler, guidance, FreeU and the
CSA settings. Regenerating one panel days later therefore reads the saved bank when nothing
changed, and silently re-runs the identity phase when anything did (a stale bank is never used).
Files: ``<cache_dir>/<character id>-<digest>.safetensors``; older files of the same character are
removed when a new bank is saved, so the cache holds one bank per character. Character ids come
from a project that may come from someone else: the loader renames unsafe ones, and here a bank is
only read, written or removed for an id that is a plain slug, at a path that stays inside
``cache_dir`` (links followed); removing an old bank matches its whole name, so character ``a``
never removes the banks of character ``a-b`` (:mod:`storyboard.core.bundle_paths`).

Saving runs on a background thread, started as soon as the bank is made, beside the next panels'
denoising; :meth:`BankCache.wait` is where a job waits for its saves before it is done (a
cancelled or failed job does not wait: :meth:`BankCache.start`). On the H100 machine, with the
encoded bank (4.6 GiB at 1024 px), a story of 4 identity panels and one more panel took 1.14x
the same story without a bank file when the save ran beside the panel, and 1.35x when it started
after the panel (medians of five, ``docs/benchmarks.md``). With the 9.1 GiB fp16 bank it had
been the other way round; ``overlap=False`` keeps that order, for the benchmark.
"""

from __future__ import annotations

import contextlib
import logging
import re
import threading
from collections.abc import Callable
from pathlib import Path

from inference.bank.identity_bank import IdentityBank
from inference.bank.key import BankKey, BankMismatchError
from storyboard.core.bundle_paths import OutsideBundle, readable_file, remove
from storyboard.core.jobs import CharacterJob, Sampling
from storyboard.core.project_ids import is_slug
from storyboard.core.temp_files import temp_path

logger = logging.getLogger(__name__)


def bank_key(
    character: CharacterJob,
    *,
    model: str,
    sampling: Sampling,
    size: tuple[int, int],
    csa: str,
    cfg: bool,
) -> BankKey:
    """The key of a character's bank under these settings.

    ``BankKey`` has no fields for negative prompts, panel seeds, regions, LoRAs, guidance or
    FreeU, so they are folded into ``identity_prompts`` and ``scheduler``; the digest covers them
    all the same. A LoRA counts by name, weight, size and modification time
    (``LoraFile.fingerprint``): another weight or a new version of the file makes a new bank.
    """
    width, height = size
    prompts = tuple(
        f"{job.prompt}\nnegative: {job.negative_prompt}\nseed: {job.seed}"
        + (f"\nregion: {dict(job.regions).get(character.character_id)}" if job.regions else "")
        + (f"\nloras: {'; '.join(f.fingerprint() for f in job.loras)}" if job.loras else "")
        for job in character.identity_panels
    )
    sampler = f"{sampling.scheduler};guidance={sampling.guidance:g};freeu={sampling.freeu}"
    return BankKey(
        model=model,
        identity_prompts=prompts,
        seed=character.seed,
        height=height,
        width=width,
        steps=sampling.steps,
        scheduler=sampler,
        csa=csa,
        cfg=cfg,
    )


class BankCache:
    """The last bank of each character, in memory and (with a cache folder) on disk."""

    def __init__(self, *, overlap: bool = True) -> None:
        self.overlap = overlap
        self._memory: dict[str, IdentityBank] = {}
        self._saves: list[threading.Thread] = []  # started or not yet, until joined

    def get(
        self, character_id: str, key: BankKey, cache_dir: str | None, *, offload: bool, device: str
    ) -> IdentityBank | None:
        """The bank made under ``key``, or None when it has to be made again."""
        bank = self._memory.get(character_id)
        if bank is not None and bank.key == key:
            return bank
        if cache_dir is None or not is_slug(character_id):
            return None
        path = readable_file(Path(cache_dir), bank_file_name(character_id, key))
        if path is None:
            return None
        try:
            bank = IdentityBank.load(path, expect=key, device=device, offload=offload)
        except (BankMismatchError, OSError, ValueError, KeyError) as exc:
            logger.warning("ignoring identity bank %s: %s", path, exc)
            return None
        self._memory[character_id] = bank
        return bank

    def put(self, character_id: str, bank: IdentityBank, cache_dir: str | None) -> None:
        """Keep ``bank`` for this session, and start saving it to ``cache_dir`` (best effort: a
        failed save is logged, never a failed job)."""
        self._memory[character_id] = bank
        if cache_dir is None or bank.key is None:
            return
        self.wait()  # one save at a time: each removes its character's older banks
        if not is_slug(character_id):
            logger.warning("identity bank of %r not saved: not a plain name", character_id[:80])
            return
        # a plain name: the save renames over whatever entry is there (a link too)
        target = Path(cache_dir) / bank_file_name(character_id, bank.key)
        temp = temp_path(target)  # names this process, so a killed save's file is swept
        write = bank.saver(temp)
        thread = threading.Thread(
            target=_save, args=(write, target, temp, character_id), name=f"save bank {character_id}"
        )
        self._saves.append(thread)
        if self.overlap:
            thread.start()

    def start(self) -> None:
        """Start the saves not started yet (they end on their own; :meth:`wait` joins them)."""
        for thread in self._saves:
            if thread.ident is None:
                thread.start()

    def wait(self) -> None:
        """Start the saves not started yet, and wait for every save to end."""
        self.start()
        while self._saves:
            self._saves.pop(0).join()

    def get_loaded(self, character_id: str) -> IdentityBank | None:
        """The bank of ``character_id`` kept in memory, whatever its key."""
        return self._memory.get(character_id)

    def clear(self) -> None:
        """Forget the in-memory banks (a new model was loaded), once their saves have ended."""
        self.wait()
        self._memory.clear()


def bank_file_name(character_id: str, key: BankKey) -> str:
    """``<character id>-<digest>.safetensors``: the file of a character's bank under ``key``."""
    return f"{character_id}-{key.digest()}.safetensors"


def _save(write: Callable[[], None], target: Path, temp: Path, character_id: str) -> None:
    """Write a bank file under a temporary name, put it in place, then remove the character's
    older banks. Runs on a background thread, so every error is caught and logged here."""
    folder = target.parent
    try:
        folder.mkdir(parents=True, exist_ok=True)
        write()  # to a fresh name of this process: never an entry that was there before
        temp.replace(target)
        old_bank = re.compile(re.escape(character_id) + r"-[0-9a-f]{32}\.safetensors")
        for old in folder.iterdir():
            if old.name != target.name and old_bank.fullmatch(old.name):
                remove(folder, old)  # a link is removed as a link, its target stays
    except Exception as exc:  # the cache is an optimisation: never fail a generation for it
        logger.warning("could not save the identity bank to %s: %s", target, exc)
        with contextlib.suppress(OSError, OutsideBundle):
            remove(folder, temp)
