"""A bank file whose metadata has the wrong shape is treated as damaged: refused, then remade."""

from __future__ import annotations

import json
import struct
from pathlib import Path

import pytest
import torch

from inference.bank.cache import BankCache
from inference.bank.identity_bank import IdentityBank
from inference.bank.key import BankKey, BankMismatchError

KEY = BankKey("tiny", ("hero standing",), 5, 64, 64, 3, "ddim", "csa")


def rewrite_metadata(path: Path, **changes: str) -> None:
    """Change fields of a safetensors file's metadata, tensors untouched (their offsets count
    from the end of the header, so the header may change length)."""
    data = path.read_bytes()
    (length,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8 : 8 + length])
    header["__metadata__"].update(changes)
    new = json.dumps(header).encode()
    path.write_bytes(struct.pack("<Q", len(new)) + new + data[8 + length :])


def saved_bank(folder: Path) -> Path:
    bank = IdentityBank(
        "hero", num_images=1, num_steps=3, latent_size=(8, 8), cfg=False, csa="csa", key=KEY
    )
    bank.put("up.attn1", 1, torch.randn(1, 4, 8))
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"hero-{KEY.digest()}.safetensors"
    bank.save(path)
    return path


MALFORMED = {
    "latent-number": {"latent_size": "5"},
    "latent-short": {"latent_size": "[8]"},
    "latent-text": {"latent_size": '["a", "b"]'},
    "latent-not-json": {"latent_size": "8x8"},
    "steps": {"num_steps": "three"},
    "key-missing-fields": {"key": '{"model": "tiny"}'},
    "key-list": {"key": "[1, 2]"},
    "key-deep": {"key": "[" * 100_000 + "]" * 100_000},
}


@pytest.mark.parametrize("changes", MALFORMED.values(), ids=MALFORMED.keys())
def test_malformed_metadata_is_a_damaged_bank(tmp_path: Path, changes: dict[str, str]) -> None:
    path = saved_bank(tmp_path / "cache")
    rewrite_metadata(path, **changes)
    with pytest.raises(BankMismatchError, match="damaged or not an identity bank"):
        IdentityBank.load(path, expect=KEY)
    cache = BankCache()
    assert cache.get("hero", KEY, str(tmp_path / "cache"), offload=False, device="cpu") is None


def test_a_well_formed_bank_is_found(tmp_path: Path) -> None:
    saved_bank(tmp_path / "cache")
    bank = BankCache().get("hero", KEY, str(tmp_path / "cache"), offload=False, device="cpu")
    assert bank is not None and bank.latent_size == (8, 8) and bank.key == KEY
