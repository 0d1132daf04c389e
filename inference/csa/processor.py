"""Consistent Self-Attention (CSA) as a diffusers attention processor.

Installed on the self-attention layers of the UNet decoder (``up_blocks.*.attn1``), chosen by module
path, for SDXL and SD1.5-family UNets; every other layer keeps its processor. Each call makes
**one** ``scaled_dot_product_attention`` call with gathered tokens: no loop over images and no
attention mask, so the flash / memory-efficient kernels apply.

Write (identity panels of one character, batch ``[uncond x n, cond x n]`` or ``[cond x n]``):
K/V of image i = its own N tokens + the k sampled tokens of every other identity image of the same
CFG half, gathered with one index tensor per step: every image has the same K/V length
``N + (n-1)k``. Keys and values are projected once for all tokens and then gathered (projection is
per token, so gathering projected tokens equals projecting gathered ones). The sampled *input*
tokens go into the identity bank.

Read (any number of panels): K/V of panel p = own tokens + bank tokens of its characters. The bank
tokens are projected once per layer call and shared by all panels of the batch.

* A single panel (a regenerate) whose characters have no box: its input tokens and the bank's are
  one sequence, projected together; the same calls as plain attention.
* If every panel shows the same characters and no panel has a box (the common case), all K/V have
  the same length. Where a fused kernel that returns its log-sum-exp checks out, the panels attend
  to their own tokens and, all at once, to the shared bank tokens, and the two are merged exactly
  (:mod:`inference.csa.split_read`): two calls, no per-panel copy of the bank. Otherwise the bank
  tokens are copied after each panel's own and it is a plain batched call.
* Otherwise (panels with different characters, panels without any, region boxes), every panel gets
  the bank tokens of the *union* of the batch's characters, and an exact key-exclusion is folded
  into the dot product instead of a mask: each character j gets one extra head channel, 1 in the
  query of every token that must not see j (character absent from the panel, or token outside its
  box) and ``-BIG`` in j's bank keys (0 elsewhere). Excluded scores become ``q.k - BIG`` whose
  softmax weight underflows to exactly 0, so the result equals attention over the allowed keys
  only. The head dimension is padded to a multiple of 8 (64 -> 72 for SDXL) so flash kernels still
  apply; the cost is the extra channels plus the excluded keys' FLOPs in that batch.
"""

from __future__ import annotations

import logging
import math
from typing import Any

import torch
from torch.nn import functional as F  # noqa: N812 - the usual name

from inference.csa.config import CSAConfig
from inference.csa.split_read import LseAttention, lse_attention, shared_key_attention
from inference.csa.state import Mode, ReadPlan, StoryAttention

logger = logging.getLogger(__name__)


def is_decoder_self_attention(processor_name: str) -> bool:
    """Whether a UNet processor path is a decoder self-attention layer (``up_blocks.*.attn1``)."""
    return processor_name.startswith("up_blocks.") and processor_name.endswith(".attn1.processor")


class ConsistentAttnProcessor:
    """diffusers processor for one decoder self-attention layer; state lives in ``story``."""

    def __init__(self, story: StoryAttention, layer_name: str, layer_index: int) -> None:
        from diffusers.models.attention_processor import AttnProcessor2_0

        self.story = story
        self.layer_name = layer_name
        self.layer_index = layer_index
        self._plain = AttnProcessor2_0()

    def __call__(
        self,
        attn: Any,
        hidden_states: torch.Tensor,
        encoder_hidden_states: torch.Tensor | None = None,
        attention_mask: torch.Tensor | None = None,
        temb: torch.Tensor | None = None,
        *args: Any,
        **kwargs: Any,
    ) -> torch.Tensor:
        story = self.story
        if story.mode is Mode.WRITE and hidden_states.ndim == 3:
            story.note_layer_input(
                self.layer_name, hidden_states.shape[1], hidden_states.shape[2], hidden_states.dtype
            )
        if (
            story.mode is Mode.OFF
            or encoder_hidden_states is not None
            or attention_mask is not None
            or not story.gate(self.layer_index)
        ):
            return self._plain(attn, hidden_states, encoder_hidden_states, attention_mask, temb)
        if story.mode is Mode.READ:
            plan = story.read_plan
            assert plan is not None
            if not plan.any_characters:
                return self._plain(attn, hidden_states, None, None, temb)
        return self._consistent(attn, hidden_states, temb)

    # ------------------------------------------------------------------ shared scaffolding
    def _consistent(
        self, attn: Any, hidden_states: torch.Tensor, temb: torch.Tensor | None
    ) -> torch.Tensor:
        residual = hidden_states
        if attn.spatial_norm is not None:
            hidden_states = attn.spatial_norm(hidden_states, temb)
        input_ndim = hidden_states.ndim
        if input_ndim == 4:
            batch, channel, height, width = hidden_states.shape
            hidden_states = hidden_states.view(batch, channel, height * width).transpose(1, 2)
        if attn.group_norm is not None:
            hidden_states = attn.group_norm(hidden_states.transpose(1, 2)).transpose(1, 2)

        if self.story.mode is Mode.WRITE:
            out = self._write(attn, hidden_states)
        else:
            plan = self.story.read_plan
            assert plan is not None
            out = self._read(attn, hidden_states, plan)

        out = attn.to_out[1](attn.to_out[0](out))
        if input_ndim == 4:
            out = out.transpose(-1, -2).reshape(batch, channel, height, width)
        if attn.residual_connection:
            out = out + residual
        return out / attn.rescale_output_factor

    # ------------------------------------------------------------------ write
    def _write(self, attn: Any, x: torch.Tensor) -> torch.Tensor:
        story = self.story
        bank = story.write_bank
        assert bank is not None
        groups, n = story.groups, bank.num_images
        batch, tokens, channels = x.shape
        if batch != groups * n:
            raise ValueError(
                f"CSA write expects a batch of {groups} x {n} identity images, got {batch}"
            )
        count = story.write_count(tokens)
        idx = story.sampled_indices(n, tokens, count, x.device)  # (n, count)
        flat, kv_index = story.step_cached(
            ("write-index", tokens, count), lambda: _write_indices(idx, tokens)
        )
        if story.keeps(self.layer_index):
            bank.put(self.layer_name, story.step, x.reshape(groups, n * tokens, channels)[:, flat])

        q, k, v = attn.to_q(x), attn.to_k(x), attn.to_v(x)
        if n > 1 and count > 0:
            k = _gather_per_image(k, groups, n, kv_index)
            v = _gather_per_image(v, groups, n, kv_index)
        return _attention(attn, q, k, v, story.cuda_backends)

    # ------------------------------------------------------------------ read
    def _read(self, attn: Any, x: torch.Tensor, plan: ReadPlan) -> torch.Tensor:
        story = self.story
        groups, panels = story.groups, len(plan.panels)
        batch, tokens, _ = x.shape
        if batch != groups * panels:
            raise ValueError(f"CSA read expects a batch of {groups} x {panels} panels, got {batch}")
        source = story.bank_step(self.layer_index)  # the step whose identity tokens are read
        parts = [plan.banks[c].get(self.layer_name, source, x.device, x.dtype) for c in plan.union]
        # (G, M, C): bank tokens of every character of the batch, character-major (one character,
        # the usual case, needs no copy)
        refs = parts[0] if len(parts) == 1 else torch.cat(parts, dim=1)
        q = attn.to_q(x)
        if plan.homogeneous and panels == 1:
            # One panel (a regenerate): its tokens and the bank's as one sequence, so the layer
            # makes no more calls than plain attention; a single panel is bound by the thread
            # that launches them.
            both = torch.cat([x, refs], dim=1)
            return _attention(attn, q, attn.to_k(both), attn.to_v(both), story.cuda_backends)
        k_ref, v_ref = attn.to_k(refs), attn.to_v(refs)
        if plan.homogeneous:
            split = _split_kernel(attn, x) if story.split_read else None
            if split is not None:
                hk, hv = _heads(attn, attn.to_k(x)), _heads(attn, attn.to_v(x))
                out = shared_key_attention(
                    split, _heads(attn, q), hk, hv, _heads(attn, k_ref), _heads(attn, v_ref), groups
                )
                return _merge_heads(out, q.dtype)
        k = _append_shared(attn.to_k(x), k_ref, panels)
        v = _append_shared(attn.to_v(x), v_ref, panels)
        if plan.homogeneous:
            return _attention(attn, q, k, v, story.cuda_backends)
        lengths = [plan.banks[c].entry_length(self.layer_name, source) for c in plan.union]
        blocked = story.blocked(plan, tokens, x.device)  # (P, N, F)
        return _attention_excluding(
            attn, q, k, v, blocked.repeat(groups, 1, 1), tokens, lengths, story.cuda_backends
        )


# ---------------------------------------------------------------------- tensor helpers
def _split_kernel(attn: Any, x: torch.Tensor) -> LseAttention | None:
    """The kernel for :func:`shared_key_attention`, when this layer and device can use one."""
    if attn.norm_q is not None or attn.norm_k is not None:
        return None
    return lse_attention(x.device, x.dtype)


def _write_indices(idx: torch.Tensor, tokens: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Positions within one CFG half's ``n*N`` tokens: the bank's samples ``(n*k,)``, and per
    identity image its K/V rows ``(n, N + (n-1)*k)``: own tokens, then the others' samples."""
    n, count = idx.shape
    device = idx.device
    offsets = torch.arange(n, device=device)[:, None] * tokens
    sampled = idx + offsets  # (n, count)
    others = torch.arange(n, device=device)[None, :].expand(n, n)
    keep = ~torch.eye(n, dtype=torch.bool, device=device)
    others = others[keep].view(n, n - 1)  # image i -> [j for j != i]
    own = offsets + torch.arange(tokens, device=device)[None, :]
    kv_index = torch.cat([own, sampled[others].reshape(n, (n - 1) * count)], dim=1)
    return sampled.reshape(-1), kv_index


def _gather_per_image(t: torch.Tensor, groups: int, n: int, kv_index: torch.Tensor) -> torch.Tensor:
    """``t`` (G*n, N, D) -> (G*n, L, D) with rows ``kv_index[i]`` of its own CFG half."""
    _, tokens, dim = t.shape
    gathered = t.reshape(groups, n * tokens, dim)[:, kv_index]  # (G, n, L, D)
    return gathered.reshape(groups * n, kv_index.shape[1], dim)


def _append_shared(own: torch.Tensor, shared: torch.Tensor, panels: int) -> torch.Tensor:
    """own (G*P, N, D) + shared (G, M, D) -> (G*P, N+M, D): each panel's tokens followed by its
    CFG half's bank tokens, built with a single copy."""
    batch, tokens, dim = own.shape
    groups, length, _ = shared.shape
    # Two broadcasting copies into one buffer: torch.cat with a stride-0 (expanded) input takes
    # a slow path that cost ~25 ms per step at 1024 px (profiled on an H200).
    out = own.new_empty((groups, panels, tokens + length, dim))
    out[:, :, :tokens].copy_(own.view(groups, panels, tokens, dim))
    out[:, :, tokens:].copy_(shared[:, None].expand(groups, panels, length, dim))
    return out.view(batch, tokens + length, dim)


def _heads(attn: Any, t: torch.Tensor) -> torch.Tensor:
    batch, length, inner = t.shape
    return t.view(batch, length, attn.heads, inner // attn.heads).transpose(1, 2)


def _merge_heads(out: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
    batch, heads, length, dim = out.shape
    return out.transpose(1, 2).reshape(batch, length, heads * dim).to(dtype)


def _sdpa(
    backends: tuple[str, ...],
    q: torch.Tensor,
    k: torch.Tensor,
    v: torch.Tensor,
    scale: float | None,
) -> torch.Tensor:
    """One SDPA call, restricted to ``backends`` (in priority order) on CUDA when given."""
    if not backends or not q.is_cuda:
        return F.scaled_dot_product_attention(q, k, v, dropout_p=0.0, is_causal=False, scale=scale)
    from torch.nn.attention import SDPBackend, sdpa_kernel

    names = {
        "cudnn": SDPBackend.CUDNN_ATTENTION,
        "flash": SDPBackend.FLASH_ATTENTION,
        "efficient": SDPBackend.EFFICIENT_ATTENTION,
        "math": SDPBackend.MATH,
    }
    order = [names[name] for name in backends]
    with sdpa_kernel(order, set_priority=True):
        return F.scaled_dot_product_attention(q, k, v, dropout_p=0.0, is_causal=False, scale=scale)


def _attention(
    attn: Any, q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, backends: tuple[str, ...] = ()
) -> torch.Tensor:
    """Multi-head SDPA exactly as diffusers' AttnProcessor2_0 does it, on (B, L, H*D) inputs."""
    qh, kh, vh = _heads(attn, q), _heads(attn, k), _heads(attn, v)
    if attn.norm_q is not None:
        qh = attn.norm_q(qh)
    if attn.norm_k is not None:
        kh = attn.norm_k(kh)
    out = _sdpa(backends, qh, kh, vh, None)
    return _merge_heads(out, q.dtype)


def exclusion_value(dtype: torch.dtype, scale: float) -> float:
    """Key-channel value that pushes an excluded score far below any real one (after scaling)."""
    return -min(torch.finfo(dtype).max / 4, 1.0e4 / scale)


def _attention_excluding(
    attn: Any,
    q: torch.Tensor,
    k: torch.Tensor,
    v: torch.Tensor,
    blocked: torch.Tensor,
    own_tokens: int,
    ref_lengths: list[int],
    backends: tuple[str, ...] = (),
) -> torch.Tensor:
    """SDPA where query token t of item b ignores the keys of reference segment j if blocked[b,t,j].

    K/V are laid out as ``[own (own_tokens), segment 0, segment 1, ...]``. See the module docstring.
    """
    qh, kh, vh = _heads(attn, q), _heads(attn, k), _heads(attn, v)
    if attn.norm_q is not None:
        qh = attn.norm_q(qh)
    if attn.norm_k is not None:
        kh = attn.norm_k(kh)
    batch, heads, _, dim = qh.shape
    flags = len(ref_lengths)
    padded = -(-(dim + flags) // 8) * 8
    scale = 1.0 / math.sqrt(dim)
    dtype = qh.dtype
    q_flag = blocked.to(dtype)[:, None].expand(batch, heads, -1, flags)
    k_flag = torch.zeros((k.shape[1], flags), dtype=dtype, device=k.device)
    start = own_tokens
    for j, length in enumerate(ref_lengths):
        k_flag[start : start + length, j] = exclusion_value(dtype, scale)
        start += length
    k_flag = k_flag[None, None].expand(batch, heads, -1, flags)
    extra = padded - dim - flags
    qh = F.pad(torch.cat([qh, q_flag], dim=-1), (0, extra))
    kh = F.pad(torch.cat([kh, k_flag], dim=-1), (0, extra))
    vh = F.pad(vh, (0, padded - dim))
    out = _sdpa(backends, qh, kh, vh, scale)
    return _merge_heads(out[..., :dim], q.dtype)


# ---------------------------------------------------------------------- installation
def decoder_layers(unet: Any) -> list[str]:
    """Module paths of ``unet``'s decoder self-attention layers, in processor order."""
    names = [n for n in unet.attn_processors if is_decoder_self_attention(n)]
    return [n.removesuffix(".processor") for n in names]


def put_consistent_processors(unet: Any, story: StoryAttention) -> None:
    """A CSA processor driven by ``story`` on each of its layers; other layers keep theirs."""
    procs: dict[str, Any] = dict(unet.attn_processors)
    for i, layer in enumerate(story.layer_names):
        procs[f"{layer}.processor"] = ConsistentAttnProcessor(story, layer, i)
    unet.set_attn_processor(procs)


def install_consistent_attention(unet: Any, config: CSAConfig | None = None) -> StoryAttention:
    """Put CSA processors on ``unet``'s decoder self-attention layers; returns their shared state.

    Other layers keep their current processors. A forward pre-hook on the UNet counts steps.
    Undo with :func:`uninstall_consistent_attention`.
    """
    current = dict(unet.attn_processors)
    names = decoder_layers(unet)
    if not names:
        raise ValueError("this model has no UNet decoder self-attention layers (up_blocks.*.attn1)")
    story = StoryAttention(config or CSAConfig(), names)
    put_consistent_processors(unet, story)

    def _pre_hook(_module: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        sample = args[0] if args else kwargs.get("sample")
        story.on_unet_forward(sample if isinstance(sample, torch.Tensor) else None)

    story.hook_handle = unet.register_forward_pre_hook(_pre_hook, with_kwargs=True)
    story.previous_processors = current
    logger.info("consistent self-attention installed on %d decoder layers", len(names))
    return story


def uninstall_consistent_attention(unet: Any, story: StoryAttention) -> None:
    """Restore the processors that were there before :func:`install_consistent_attention`."""
    story.end()
    if story.hook_handle is not None:
        story.hook_handle.remove()
        story.hook_handle = None
    if story.previous_processors:
        unet.set_attn_processor(dict(story.previous_processors))
