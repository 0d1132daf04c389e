"""Saved identity banks are read into the file cache when their project opens."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from inference.bank.warmup import BankWarmup, bank_files, warm_banks

MB = 1024 * 1024


def resident_bytes(path: Path) -> int:
    """Bytes of ``path`` in the page cache, as util-linux's ``fincore`` counts them."""
    if shutil.which("fincore") is None:
        pytest.skip("fincore (util-linux) is needed to see the page cache")
    out = subprocess.run(
        ["fincore", "--bytes", "--noheadings", "--output", "RES", str(path)],
        capture_output=True,
        text=True,
        check=True,
    )
    return int(out.stdout.strip())


def evicted_file(path: Path, size: int, mtime: float = 0.0) -> Path:
    """A file of ``size`` random-ish bytes, written to disk and dropped from the page cache."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as handle:
        handle.write(os.urandom(MB) * (size // MB))
        handle.flush()
        os.fsync(handle.fileno())
        os.posix_fadvise(handle.fileno(), 0, 0, os.POSIX_FADV_DONTNEED)
    if mtime:
        os.utime(path, (mtime, mtime))
    return path


def test_opening_reads_the_banks_into_the_file_cache(tmp_path: Path) -> None:
    cache = tmp_path / "cache" / "identity"
    bank = evicted_file(cache / "c1-abc.safetensors", 24 * MB)
    if resident_bytes(bank) > 4 * MB:
        pytest.skip("this file system keeps files in memory; nothing to warm")
    warmup = warm_banks(cache)
    assert warmup is not None and warmup.wait(30)
    assert warmup.paths == [bank] and warmup.bytes == 24 * MB
    assert resident_bytes(bank) == 24 * MB


def test_newest_banks_first_and_no_more_than_the_budget(tmp_path: Path) -> None:
    now = time.time()
    old = evicted_file(tmp_path / "old.safetensors", 4 * MB, now - 100)
    new = evicted_file(tmp_path / "new.safetensors", 4 * MB, now)
    (tmp_path / "notes.txt").write_text("not a bank")
    assert bank_files(tmp_path) == [new, old]
    warmup = BankWarmup(bank_files(tmp_path), budget=6 * MB)
    assert warmup.wait(30)
    assert warmup.paths == [new] and warmup.bytes == 4 * MB


def test_no_banks_no_warmup(tmp_path: Path) -> None:
    assert warm_banks(tmp_path / "missing") is None
    assert warm_banks(tmp_path) is None


def test_a_cancelled_warmup_stops_between_chunks(tmp_path: Path) -> None:
    bank = evicted_file(tmp_path / "big.safetensors", 64 * MB)
    warmup = BankWarmup([bank], budget=1 << 40)
    warmup.cancel()
    assert warmup.wait(30)
    assert resident_bytes(bank) < 32 * MB  # a chunk or two, and the kernel's read-ahead
    bank.unlink()  # a bank replaced while warming is no error either
    assert BankWarmup([bank], budget=1 << 40).wait(30)
