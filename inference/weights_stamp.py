"""What identifies a model's weights: a stamp of their content, the same on every machine.

Identity banks are keyed by the model they were made with, so a changed model never reads a
stale bank. A stamp made of a path and a modification time does that on one machine but not
across the nodes of a cluster: each node downloads the model into its own hub cache (another
home folder, another download time) or copies it without keeping times, so a bank written on one
node would never be found by the others. The stamp is therefore made of the files' content: each
weight file's size and :data:`BLOCKS` blocks of :data:`BLOCK` bytes read at evenly spaced
offsets (the first and the last included), hashed with SHA-256.

Why a sample and not the whole file: hashing 7 GB would add seconds to every model load. A
fine-tune changes weights throughout the file, and even one that trained only some layers (say a
quarter of the bytes) is missed by all 64 blocks with a probability of about 1e-8. The samples
are read once per file version in a process (:func:`file_stamp` is memoised by path, size and
modification time), 1 MiB per file.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path

BLOCKS = 64
BLOCK = 16 * 1024
WEIGHT_SUFFIXES = (".safetensors", ".bin", ".ckpt", ".pt", ".pth")


def weights_stamp(files: Iterable[Path]) -> str:
    """The stamp of a set of weight files, in the order given (hex, 32 characters)."""
    digest = hashlib.sha256()
    for path in files:
        stat = path.stat()
        digest.update(file_stamp(str(path.resolve()), stat.st_size, stat.st_mtime_ns).encode())
    return digest.hexdigest()[:32]


@lru_cache(maxsize=256)
def file_stamp(path: str, size: int, _modified_ns: int) -> str:
    """One file's size and sampled content, hashed (the time only keys the memo)."""
    digest = hashlib.sha256(str(size).encode())
    span = max(size - BLOCK, 0)
    offsets = sorted({span * i // (BLOCKS - 1) for i in range(BLOCKS)})
    with Path(path).open("rb") as handle:
        for offset in offsets:
            handle.seek(offset)
            digest.update(handle.read(BLOCK))
    return digest.hexdigest()


def folder_weights(folder: Path) -> list[Path]:
    """The weight files of a diffusers folder's components (``unet/``, ``vae/``, the text
    encoders...), sorted by their name inside the folder."""
    return sorted(
        (p for p in folder.glob("*/*") if p.name.endswith(WEIGHT_SUFFIXES) and p.is_file()),
        key=lambda p: p.relative_to(folder).as_posix(),
    )
