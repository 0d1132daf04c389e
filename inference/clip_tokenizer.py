"""CLIP's tokenizer built from the BPE merges shipped with the editor: no download, no hub cache.

Every SD 1.5 and SDXL checkpoint uses OpenAI CLIP's byte-level BPE (MIT licence): 256 byte
symbols, the same with the end-of-word mark, 48,894 merges and the two special tokens, 49,408 ids
in all. The vocabulary follows from the merges, as OpenAI's ``SimpleTokenizer`` builds it, so one
gzipped merges file (about 200 KB, ``resources/single_file/clip_merges.txt.gz``) replaces the
``vocab.json`` and ``merges.txt`` a diffusers folder carries for each of its tokenizers. SDXL's
second tokenizer is the same vocabulary padded with ``!`` (id 0), as in stable-diffusion-xl-base.
"""

from __future__ import annotations

import functools
import gzip
from pathlib import Path
from typing import Any

from storyboard.core.resources import SINGLE_FILE

MERGES = SINGLE_FILE / "clip_merges.txt.gz"
MERGE_COUNT = 49152 - 256 - 2  # what OpenAI's SimpleTokenizer reads of its BPE file
BOS, EOS = "<|startoftext|>", "<|endoftext|>"


def bytes_to_unicode() -> dict[int, str]:
    """OpenAI CLIP's reversible byte → printable character table (GPT-2's)."""
    visible = [*range(ord("!"), ord("~") + 1), *range(ord("¡"), ord("¬") + 1)]
    visible += range(ord("®"), ord("ÿ") + 1)
    codes = list(visible)
    extra = 0
    for byte in range(256):
        if byte not in visible:
            visible.append(byte)
            codes.append(256 + extra)
            extra += 1
    return dict(zip(visible, (chr(c) for c in codes), strict=True))


@functools.cache
def vocabulary(path: Path = MERGES) -> tuple[dict[str, int], tuple[str, ...]]:
    """The token → id table and the merges (``"a b"`` lines), as CLIP builds them."""
    lines = gzip.decompress(path.read_bytes()).decode("utf-8").split("\n")
    merges = tuple(line for line in lines[1 : MERGE_COUNT + 1] if line)
    if len(merges) != MERGE_COUNT:
        raise ValueError(f"{path} holds {len(merges)} merges, CLIP has {MERGE_COUNT}")
    symbols = list(bytes_to_unicode().values())
    tokens = [*symbols, *(s + "</w>" for s in symbols), *(m.replace(" ", "") for m in merges)]
    tokens += [BOS, EOS]
    return {token: index for index, token in enumerate(tokens)}, merges


def _pair(merge: str) -> tuple[str, str]:
    first, second = merge.split(" ")
    return first, second


def clip_tokenizer(pad_token: str = EOS) -> Any:
    """A transformers ``CLIPTokenizer`` of CLIP ViT-L/14 (SDXL's second one: ``pad_token="!"``)."""
    from transformers import CLIPTokenizer

    vocab, merges = vocabulary()
    pairs: Any = [_pair(m) for m in merges]  # the tokenizers backend wants pairs (typed: str)
    return CLIPTokenizer(
        vocab=dict(vocab),
        merges=pairs,
        unk_token=EOS,
        bos_token=BOS,
        eos_token=EOS,
        pad_token=pad_token,
        model_max_length=77,
    )
