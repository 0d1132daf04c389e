"""Attention over a panel's own tokens plus bank tokens shared by every panel, without copying them.

In a CSA read every panel attends to ``[own N tokens; the batch's M bank tokens]``. One SDPA call
needs those keys and values laid out per panel, so the M shared tokens are copied once per panel
and CFG half: at SDXL's 64x64 layers with 4 identity panels M = 2N, so each layer call writes
three times the panel's own K/V. Those copies cost 1.5 points of the read's 11% at 1024 px.

Softmax attention over a union of key sets splits exactly: with ``o1, l1`` the output and
log-sum-exp of the scores over the own keys and ``o2, l2`` over the shared keys,

    out = o1 * w + o2 * (1 - w),   w = exp(l1) / (exp(l1) + exp(l2)) = sigmoid(l1 - l2).

So a read makes two fused-attention calls instead of one: the panels against their own tokens
(a plain batched call), and every panel of a CFG half against the shared tokens at once (queries
of all the half's panels as one long sequence, keys the bank tokens once). Nothing is copied but
the merge. PyTorch returns the log-sum-exp only from its private kernel ops, so each kernel is
checked once per device and dtype against the plain concatenated call; when none agrees (or
none exists), the read keeps the copying path.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import torch
from torch.nn import functional as F  # noqa: N812 - the usual name

logger = logging.getLogger(__name__)

LseAttention = Callable[
    [torch.Tensor, torch.Tensor, torch.Tensor], tuple[torch.Tensor, torch.Tensor]
]
"""(q, k, v) as (B, H, L, D) -> (output (B, H, Lq, D), natural-log log-sum-exp (B, H, Lq))."""


def _cudnn(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    out = torch.ops.aten._scaled_dot_product_cudnn_attention(q, k, v, None, True)
    return out[0], out[1]


def _flash(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    out = torch.ops.aten._scaled_dot_product_flash_attention(q, k, v)
    return out[0], out[1]


def _efficient(
    q: torch.Tensor, k: torch.Tensor, v: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    out = torch.ops.aten._scaled_dot_product_efficient_attention(q, k, v, None, True)
    return out[0], out[1]


def _cpu(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    out, lse = torch.ops.aten._scaled_dot_product_flash_attention_for_cpu(q, k, v)
    return out, lse


# Per device type, in order of preference: on CUDA cuDNN first, as PyTorch's own choice on Hopper;
# the memory-efficient kernel also takes fp32 (the others are fp16/bf16 only).
_CANDIDATES: dict[str, tuple[tuple[str, LseAttention], ...]] = {
    "cuda": (("cudnn", _cudnn), ("flash", _flash), ("efficient", _efficient)),
    "cpu": (("cpu-flash", _cpu),),
}
_chosen: dict[tuple[str, torch.dtype], LseAttention | None] = {}


def lse_attention(device: torch.device, dtype: torch.dtype) -> LseAttention | None:
    """The fused attention that also gives its log-sum-exp here, or None when none checks out."""
    key = (device.type, dtype)
    if key not in _chosen:
        _chosen[key] = _pick(device, dtype)
    return _chosen[key]


def _pick(device: torch.device, dtype: torch.dtype) -> LseAttention | None:
    generator = torch.Generator(device="cpu").manual_seed(0)

    def rand(*shape: int) -> torch.Tensor:
        return torch.randn(shape, generator=generator).to(device, dtype)

    q, k_own, v_own = rand(2, 2, 64, 64), rand(2, 2, 64, 64), rand(2, 2, 64, 64)
    k_ref, v_ref = rand(1, 2, 96, 64), rand(1, 2, 96, 64)
    expected = F.scaled_dot_product_attention(
        q,
        torch.cat([k_own, k_ref.expand(2, -1, -1, -1)], 2),
        torch.cat([v_own, v_ref.expand(2, -1, -1, -1)], 2),
    )
    tolerance = 1e-4 if dtype == torch.float32 else 2e-2
    for name, fn in _CANDIDATES.get(device.type, ()):
        try:
            got = shared_key_attention(fn, q, k_own, v_own, k_ref, v_ref, groups=1)
        except (RuntimeError, NotImplementedError) as exc:
            logger.info("split attention: %s kernel unavailable on %s: %s", name, device, exc)
            continue
        error = float((got.float() - expected.float()).abs().max())
        if error <= tolerance:
            logger.info("split attention uses the %s kernel on %s (%s)", name, device, dtype)
            return fn
        logger.warning(
            "split attention: %s kernel off by %.3g on %s; not used", name, error, device
        )
    return None


def shared_key_attention(
    fn: LseAttention,
    q: torch.Tensor,
    k_own: torch.Tensor,
    v_own: torch.Tensor,
    k_ref: torch.Tensor,
    v_ref: torch.Tensor,
    groups: int,
) -> torch.Tensor:
    """Attention of ``q`` over its own keys plus the keys shared by its group, merged exactly.

    ``q``, ``k_own``, ``v_own``: (G*P, H, N, D), group-major (the P panels of a CFG half are
    consecutive); ``k_ref``, ``v_ref``: (G, H, M, D). Returns (G*P, H, N, D).
    """
    batch, heads, tokens, dim = q.shape
    panels = batch // groups
    out_own, lse_own = fn(q, k_own, v_own)
    # All P panels of a half as one query sequence against the half's shared keys.
    q_all = q.reshape(groups, panels, heads, tokens, dim).transpose(1, 2)
    q_all = q_all.reshape(groups, heads, panels * tokens, dim)
    out_ref, lse_ref = fn(q_all, k_ref, v_ref)
    out_ref = out_ref.reshape(groups, heads, panels, tokens, dim).transpose(1, 2)
    out_ref = out_ref.reshape(batch, heads, tokens, dim)
    lse_ref = lse_ref.reshape(groups, heads, -1)[..., : panels * tokens]
    lse_ref = lse_ref.reshape(groups, heads, panels, tokens).transpose(1, 2)
    lse_own = lse_own.reshape(batch, heads, -1)[..., :tokens]
    weight = torch.sigmoid(lse_own - lse_ref.reshape(batch, heads, tokens))
    return torch.lerp(out_ref, out_own, weight[..., None].to(out_own.dtype))
