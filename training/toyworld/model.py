"""The built-in toy-world model: a small Stable Diffusion 1.5-shaped pipeline and its tokenizer.

It is a plain diffusers ``StableDiffusionPipeline`` folder (tokenizer, CLIP text encoder, UNet,
VAE, scheduler), so the engine loads, schedules, guides and applies Consistent Self-Attention to
it exactly as to any downloaded SD 1.5 model; only the sizes differ:

* 64x64 pictures; the VAE halves each side (4x32x32 latents);
* a UNet of about 12M parameters with attention at every level (so the decoder has
  self-attention at 8x8, 16x16 and 32x32 tokens for CSA to share), plus an attention-pooled text
  embedding added to the time embedding (``addition_embed_type="text"``), which gives every block
  the scene and the people's colours, not only the cross-attention layers;
* a 4-layer CLIP text encoder over a word-level vocabulary: the tokenizer is a real CLIP BPE
  tokenizer whose merges build each toy-world word into one token, while any other word falls back
  to the usual byte pieces (which training teaches the model to ignore).
"""

from __future__ import annotations

import itertools
import logging
import random
from pathlib import Path
from typing import Any

import torch

from storyboard.core.resources import RESOURCES
from training.toyworld.world import vocabulary

logger = logging.getLogger(__name__)

MODEL_DIR = RESOURCES / "models" / "toyworld"
IMAGE_SIZE = 64
MAX_TOKENS = 77
TEXT_WIDTH = 256
SHARD = "15MB"


def byte_chars() -> list[str]:
    """CLIP's printable stand-ins for the 256 byte values, in CLIP's order."""
    bs = list(range(33, 127)) + list(range(161, 173)) + list(range(174, 256))
    cs, extra = bs[:], 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + extra)
            extra += 1
    return [chr(c) for c in cs]


def _bpe(word: str, ranks: dict[tuple[str, str], int]) -> list[str]:
    """CLIP's BPE of one word with the given merge ranks (what the tokenizer will do)."""
    parts = [*word[:-1], word[-1] + "</w>"]
    while len(parts) > 1:
        pairs = [
            (ranks.get((a, b), 1 << 30), i) for i, (a, b) in enumerate(itertools.pairwise(parts))
        ]
        rank, _ = min(pairs)
        if rank == 1 << 30:
            break
        first, second = next(
            (a, b) for a, b in itertools.pairwise(parts) if ranks.get((a, b)) == rank
        )
        merged: list[str] = []
        i = 0
        while i < len(parts):
            if i + 1 < len(parts) and parts[i] == first and parts[i + 1] == second:
                merged.append(first + second)
                i += 2
            else:
                merged.append(parts[i])
                i += 1
        parts = merged
    return parts


def tokenizer_files() -> tuple[dict[str, int], list[str]]:
    """Vocabulary and merges: byte pieces, then one token per toy-world word.

    Merges are added word by word after simulating BPE with the merges so far, joining whatever
    pieces are left from the left; new merges rank after all earlier ones, so they never change
    how an earlier word is split (it already ends as one token).
    """
    chars = byte_chars()
    tokens = [*chars, *(c + "</w>" for c in chars)]
    ranks: dict[tuple[str, str], int] = {}
    merges: list[str] = []
    for word in vocabulary():
        parts = _bpe(word, ranks)
        while len(parts) > 1:
            pair = (parts[0], parts[1])
            ranks[pair] = len(merges)
            merges.append(f"{pair[0]} {pair[1]}")
            parts = [parts[0] + parts[1], *parts[2:]]
            if parts[0] not in tokens:
                tokens.append(parts[0])
    tokens += ["<|startoftext|>", "<|endoftext|>"]
    return {t: i for i, t in enumerate(tokens)}, merges


def build_tokenizer() -> Any:
    """The toy-world CLIP tokenizer (``save_pretrained`` writes it into a pipeline folder)."""
    from transformers import CLIPTokenizer

    vocab, merges = tokenizer_files()
    pairs: Any = [tuple(m.split(" ")) for m in merges]  # transformers 5 takes (a, b) pairs
    return CLIPTokenizer(vocab=vocab, merges=pairs, model_max_length=MAX_TOKENS)


def text_encoder(tokenizer: Any) -> Any:
    from transformers import CLIPTextConfig, CLIPTextModel

    config = CLIPTextConfig(
        vocab_size=len(tokenizer),
        hidden_size=TEXT_WIDTH,
        intermediate_size=4 * TEXT_WIDTH,
        num_attention_heads=4,
        num_hidden_layers=4,
        projection_dim=TEXT_WIDTH,
        max_position_embeddings=MAX_TOKENS,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
    )
    return CLIPTextModel(config)


def unet() -> Any:
    from diffusers import UNet2DConditionModel

    return UNet2DConditionModel(
        sample_size=IMAGE_SIZE // 2,
        in_channels=4,
        out_channels=4,
        block_out_channels=(64, 128, 192),
        layers_per_block=1,
        down_block_types=("CrossAttnDownBlock2D",) * 3,
        up_block_types=("CrossAttnUpBlock2D",) * 3,
        attention_head_dim=4,  # diffusers' name for the number of heads
        cross_attention_dim=TEXT_WIDTH,
        addition_embed_type="text",
        addition_embed_type_num_heads=4,
        norm_num_groups=32,
    )


def vae() -> Any:
    from diffusers import AutoencoderKL

    return AutoencoderKL(
        in_channels=3,
        out_channels=3,
        block_out_channels=(64, 128),
        down_block_types=("DownEncoderBlock2D",) * 2,
        up_block_types=("UpDecoderBlock2D",) * 2,
        latent_channels=4,
        layers_per_block=1,
        norm_num_groups=32,
        sample_size=IMAGE_SIZE,
    )


def scheduler() -> Any:
    """DDIM over a cosine noise schedule (better than SD's linear one for tiny images)."""
    from diffusers import DDIMScheduler

    return DDIMScheduler(
        beta_schedule="squaredcos_cap_v2",
        clip_sample=False,
        set_alpha_to_one=False,
        steps_offset=1,
        prediction_type="epsilon",
    )


def new_pipeline(seed: int = 0) -> Any:
    """An untrained toy-world pipeline (random weights from ``seed``)."""
    from diffusers import StableDiffusionPipeline

    torch.manual_seed(seed)
    random.seed(seed)
    tok = build_tokenizer()
    return StableDiffusionPipeline(
        vae=vae(),
        text_encoder=text_encoder(tok),
        tokenizer=tok,
        unet=unet(),
        scheduler=scheduler(),
        safety_checker=None,
        feature_extractor=None,
        requires_safety_checker=False,
    )


def save_pipeline(pipe: Any, folder: Path) -> None:
    """Write ``pipe`` as a diffusers folder in fp16, every file under 16 MB."""
    folder.mkdir(parents=True, exist_ok=True)
    dtypes = {m: next(m.parameters()).dtype for m in (pipe.unet, pipe.vae, pipe.text_encoder)}
    pipe.to(dtype=torch.float16)
    try:
        pipe.save_pretrained(folder, safe_serialization=True, max_shard_size=SHARD)
    finally:
        for module, dtype in dtypes.items():
            module.to(dtype=dtype)
    too_big = [p for p in folder.rglob("*") if p.is_file() and p.stat().st_size >= 16_000_000]
    if too_big:
        raise RuntimeError(f"files over 16 MB: {too_big}")


def load_pipeline(folder: Path = MODEL_DIR, dtype: torch.dtype = torch.float32) -> Any:
    """The trained toy-world pipeline from ``folder`` (the engine uses its own loader)."""
    from diffusers import StableDiffusionPipeline

    return StableDiffusionPipeline.from_pretrained(
        str(folder),
        torch_dtype=dtype,
        local_files_only=True,
        safety_checker=None,
        feature_extractor=None,
        requires_safety_checker=False,
    )
