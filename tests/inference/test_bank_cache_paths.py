"""The identity bank cache reads, writes and removes only its own files in its own folder.

Character ids come from a project that may come from someone else: an id such as
``../../models/v1`` once made a bank save write beside another folder's weights and its clean-up
delete their ``*.safetensors``.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from inference.bank.cache import BankCache, bank_file_name
from inference.bank.identity_bank import IdentityBank
from inference.bank.key import BankKey
from inference.bank.warmup import bank_files

LAYER = "up_blocks.0.attentions.0.transformer_blocks.0.attn1"


def key(seed: int = 0) -> BankKey:
    return BankKey("m", ("a prompt",), seed, 32, 32, 1, "ddim", "c", cfg=False)


def bank(character: str, seed: int = 0) -> IdentityBank:
    made = IdentityBank(
        character, num_images=1, num_steps=1, latent_size=(4, 4), cfg=False, csa="c", key=key(seed)
    )
    made.put(LAYER, 0, torch.zeros(1, 16, 8))
    return made


def tree(folder: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()
    }


@pytest.fixture
def victim(tmp_path: Path) -> Path:
    models = tmp_path / "models"
    models.mkdir()
    (models / "v1.safetensors").write_bytes(b"weights")
    (models / f"v1-{'0' * 32}.safetensors").write_bytes(b"someone's bank")
    return models


@pytest.mark.parametrize("character", ["../../models/v1", "/abs/models/v1", "..", "a\x00b", ""])
def test_a_path_like_character_id_touches_nothing_outside_the_cache(
    tmp_path: Path, victim: Path, character: str
) -> None:
    cache_dir = tmp_path / "project" / "cache" / "identity"
    before = tree(tmp_path)
    cache = BankCache()
    cache.put(character, bank(character), str(cache_dir))
    cache.wait()
    assert tree(tmp_path) == before  # not saved: nothing written, nothing removed
    assert cache.get(character, key(), str(cache_dir), offload=False, device="cpu") is not None
    # from memory only; a new session finds nothing and reads nothing outside
    fresh = BankCache()
    assert fresh.get(character, key(), str(cache_dir), offload=False, device="cpu") is None


def test_saving_a_bank_removes_only_that_characters_older_banks(tmp_path: Path) -> None:
    cache_dir = tmp_path / "identity"
    cache = BankCache()
    cache.put("a-b", bank("a-b"), str(cache_dir))
    cache.put("a", bank("a", seed=1), str(cache_dir))
    cache.put("a", bank("a", seed=2), str(cache_dir))
    cache.wait()
    assert sorted(p.name for p in cache_dir.iterdir()) == sorted(
        [bank_file_name("a-b", key(0)), bank_file_name("a", key(2))]
    )


def test_a_bank_file_linked_out_of_the_cache_is_neither_read_nor_followed(
    tmp_path: Path, victim: Path
) -> None:
    cache_dir = tmp_path / "identity"
    first = BankCache()
    first.put("hero", bank("hero"), str(cache_dir))
    first.wait()
    saved = cache_dir / bank_file_name("hero", key())
    outside = victim / "stolen.safetensors"
    saved.replace(outside)  # a valid bank, but outside: the link must not bring it in
    saved.symlink_to(outside)
    assert BankCache().get("hero", key(), str(cache_dir), offload=False, device="cpu") is None
    assert bank_files(cache_dir) == []
    # a new save replaces the link; the file it pointed at is left alone
    before = outside.read_bytes()
    again = BankCache()
    again.put("hero", bank("hero"), str(cache_dir))
    again.wait()
    assert not saved.is_symlink() and outside.read_bytes() == before
