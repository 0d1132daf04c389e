"""Slow, obviously-right Consistent Self-Attention: loops, explicit concatenation, explicit softmax.

Given the same sampled token indices (write) or bank tokens (read), the fast processor must give the
same result. Semantics follow research/storydiffusion.md section 2.12, plus region boxes: a query
token attends to a character's reference tokens only if the character is in its panel and, when
the panel gives that character a box, the token's centre lies inside the box.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import torch


def attend(attn: Any, queries_in: torch.Tensor, context_in: torch.Tensor) -> torch.Tensor:
    """One image: softmax(Q K^T / sqrt(d)) V per head, then the output projection.

    ``queries_in`` (Nq, C) and ``context_in`` (Nk, C) are the layer's input hidden states.
    """
    q = attn.to_q(queries_in)
    k = attn.to_k(context_in)
    v = attn.to_v(context_in)
    heads = attn.heads
    d = q.shape[-1] // heads
    out_heads = []
    for h in range(heads):
        qh, kh, vh = (t[:, h * d : (h + 1) * d] for t in (q, k, v))
        weights = torch.softmax(qh @ kh.T / math.sqrt(d), dim=-1)
        out_heads.append(weights @ vh)
    return attn.to_out[0](torch.cat(out_heads, dim=-1))


def reference_write(
    attn: Any, x: torch.Tensor, indices: torch.Tensor, groups: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """Write phase. x: (G*n, N, C), indices: (n, k). Returns (output, bank tokens (G, n*k, C))."""
    n = x.shape[0] // groups
    outputs = []
    bank = []
    for g in range(groups):
        images = [x[g * n + i] for i in range(n)]
        sampled = [images[j][indices[j]] for j in range(n)]
        bank.append(torch.cat(sampled, dim=0))
        for i in range(n):
            others = [sampled[j] for j in range(n) if j != i]
            context = torch.cat([*others, images[i]], dim=0)
            outputs.append(attend(attn, images[i], context))
    return torch.stack(outputs), torch.stack(bank)


Box = tuple[float, float, float, float]


def _inside(box: Box, row: int, col: int, rows: int, cols: int) -> bool:
    x0, y0, x1, y1 = box
    cx, cy = (col + 0.5) / cols, (row + 0.5) / rows
    return x0 <= cx < x1 and y0 <= cy < y1


def reference_read(
    attn: Any,
    x: torch.Tensor,
    panels: Sequence[Any],
    bank_tokens: Mapping[str, torch.Tensor],
    groups: int,
    grid: tuple[int, int],
) -> torch.Tensor:
    """Read phase. x: (G*P, N, C); bank_tokens[c]: (G, M_c, C); grid: (rows, cols) of N tokens."""
    num_panels = len(panels)
    rows, cols = grid
    outputs = torch.zeros(x.shape[0], x.shape[1], attn.to_out[0].out_features)
    for g in range(groups):
        for p, panel in enumerate(panels):
            own = x[g * num_panels + p]
            for t in range(own.shape[0]):
                row, col = divmod(t, cols)
                visible = [
                    c
                    for c in panel.characters
                    if c not in panel.boxes or _inside(panel.boxes[c], row, col, rows, cols)
                ]
                context = torch.cat([*(bank_tokens[c][g] for c in visible), own], dim=0)
                outputs[g * num_panels + p, t] = attend(attn, own[t : t + 1], context)[0]
    return outputs
