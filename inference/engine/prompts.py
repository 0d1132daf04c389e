"""Prompt embeddings without the 77-token limit: long prompts are encoded in chunks.

CLIP text encoders see at most 77 tokens (75 + begin/end), and diffusers silently truncates the
rest. A storyboard prompt (style template + two character descriptions + the action) is often
longer, and what gets cut is the action. So each text is split into 75-token chunks, every chunk
is encoded on its own as ``[BOS] chunk [EOS] pad...``, and the chunk embeddings are concatenated
along the sequence: the UNet's cross-attention takes any sequence length. Positive and negative
texts of a batch are padded with empty chunks to the same number of chunks. SDXL's pooled
embedding comes from the first chunk. For texts that fit in 77 tokens the result is exactly what
diffusers' own ``encode_prompt`` computes (tested), so short prompts lose nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch


@dataclass(frozen=True)
class Conditioning:
    """Text embeddings of a batch, ready to pass to the pipeline call."""

    prompt_embeds: torch.Tensor
    negative_prompt_embeds: torch.Tensor
    pooled: torch.Tensor | None = None
    negative_pooled: torch.Tensor | None = None

    def pipeline_kwargs(self) -> dict[str, torch.Tensor]:
        kwargs = {
            "prompt_embeds": self.prompt_embeds,
            "negative_prompt_embeds": self.negative_prompt_embeds,
        }
        if self.pooled is not None and self.negative_pooled is not None:
            kwargs["pooled_prompt_embeds"] = self.pooled
            kwargs["negative_pooled_prompt_embeds"] = self.negative_pooled
        return kwargs


def token_chunks(tokenizer: Any, text: str) -> list[list[int]]:
    """The text's token ids (without BOS/EOS) in chunks that fit the encoder; at least one."""
    size = int(tokenizer.model_max_length) - 2
    ids = list(tokenizer(text, add_special_tokens=False, truncation=False, verbose=False).input_ids)
    return [ids[i : i + size] for i in range(0, len(ids), size)] or [[]]


def _chunk_ids(tokenizer: Any, chunks: list[list[int]], count: int) -> torch.Tensor:
    length = int(tokenizer.model_max_length)
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
    rows = []
    for chunk in [*chunks, *([[]] * (count - len(chunks)))]:
        row = [tokenizer.bos_token_id, *chunk, tokenizer.eos_token_id]
        rows.append(row + [pad] * (length - len(row)))
    return torch.tensor(rows, dtype=torch.long)


def _encode(
    tokenizer: Any,
    encoder: Any,
    texts: list[str],
    count: int,
    device: torch.device,
    penultimate: bool,
) -> tuple[torch.Tensor, torch.Tensor]:
    """(B, count*77, C) hidden states and (B, ...) first-chunk ``output[0]`` of one encoder."""
    ids = torch.cat([_chunk_ids(tokenizer, token_chunks(tokenizer, t), count) for t in texts])
    out = encoder(ids.to(device), output_hidden_states=penultimate)
    states = out.hidden_states[-2] if penultimate else out[0]
    batch = len(texts)
    states = states.reshape(batch, count * states.shape[1], states.shape[-1])
    first = out[0].reshape(batch, count, *out[0].shape[1:])[:, 0]
    return states, first


def encode_prompts(
    pipe: Any, prompts: list[str], negatives: list[str], device: torch.device
) -> Conditioning:
    """Embeddings for ``prompts`` and their ``negatives`` with ``pipe``'s text encoder(s)."""
    if len(prompts) != len(negatives):
        raise ValueError("one negative prompt per prompt is needed")
    pairs = [(pipe.tokenizer, pipe.text_encoder)]
    sdxl = getattr(pipe, "text_encoder_2", None) is not None
    if sdxl:
        pairs = [p for p in [*pairs, (pipe.tokenizer_2, pipe.text_encoder_2)] if p[1] is not None]
    count = max(len(token_chunks(tok, t)) for tok, _ in pairs for t in [*prompts, *negatives])
    # SDXL conditions on the penultimate layer, SD 1.5 on the final (normalised) output
    with torch.no_grad():
        pos = [_encode(tok, enc, prompts, count, device, sdxl) for tok, enc in pairs]
        neg = [_encode(tok, enc, negatives, count, device, sdxl) for tok, enc in pairs]
    dtype = pairs[-1][1].dtype
    embeds = torch.cat([s for s, _ in pos], dim=-1).to(device, dtype)
    negative = torch.cat([s for s, _ in neg], dim=-1).to(device, dtype)
    if not sdxl:
        return Conditioning(embeds, negative)
    pooled, negative_pooled = pos[-1][1].to(device, dtype), neg[-1][1].to(device, dtype)
    if getattr(pipe.config, "force_zeros_for_empty_prompt", False):
        empty = torch.tensor([not n.strip() for n in negatives], device=device)
        negative = torch.where(empty[:, None, None], torch.zeros_like(negative), negative)
        negative_pooled = torch.where(
            empty[:, None], torch.zeros_like(negative_pooled), negative_pooled
        )
    return Conditioning(embeds, negative, pooled, negative_pooled)
