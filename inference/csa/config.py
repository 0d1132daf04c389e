"""Settings and randomness of Consistent Self-Attention (CSA): rates, gate and token sampling.

Everything random in CSA is derived from explicit seeds here, so that one seed reproduces an image
exactly and so that a saved identity bank can be checked against the settings it was made with.

Two deliberate departures from the official code (see ``docs/benchmarks.md`` and
``../shared/research/storydiffusion.md`` section 2.4):

* **Fixed-size token samples.** The official code draws a Bernoulli(rate) subset per image, so each
  image's key/value length differs and it must loop over images. We draw exactly
  ``round(rate * N)`` tokens per image (uniformly, without replacement): the same expected size, but
  every image gets the same K/V length and one batched attention call serves them all.
* **The gate is a table, not a stream.** Whether a (step, layer) call uses CSA is drawn once from
  ``gate_seed`` for the whole run (probability ``p_early`` before ``switch_step``, ``p_late`` after,
  never before ``start_step``). The write and read phases therefore agree on which calls are
  consistent, so the bank only needs the entries that a read can ever use, and regenerating one
  panel does not depend on the other panels in its batch.

And one addition: **reading ahead** (``read_ahead``). The official read phase gives a panel at
step ``s`` the identity panels' tokens of step ``s``, as noisy as its own. With ``read_ahead`` it
gets those of a later step instead, where the identity panels' look has settled, so the panel
can copy a character it can already see while its own colours are still being decided. On the
toy model this raises the agreement of unstated colours from 0.66 to 0.88 (24 stories on the
CPU; 0.71 to 0.90 on a GPU, ``docs/benchmarks.md``).
The bank then keeps only the steps a read takes, so it is smaller too.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import asdict, dataclass

import torch


@dataclass(frozen=True)
class CSAConfig:
    """User-facing knobs of Consistent Self-Attention; defaults follow the official app.

    ``rate_low`` applies to decoder layers whose feature map is at least ``low_res_factor`` times
    smaller (per side) than the latent (SDXL ``up_blocks.0``: 32x32 tokens at 1024 px),
    ``rate_high`` to the finer ones. Choosing by token count keeps it model-agnostic (SD1.5 has
    three decoder resolutions, SDXL two).
    """

    rate_low: float = 0.5
    rate_high: float = 0.5
    low_res_factor: int = 4
    start_step: int = 1
    switch_step: int = 20
    p_early: float = 0.7
    p_late: float = 0.9
    gate_seed: int = 0
    read_ahead: float = 0.0
    """How far ahead in the bank a read panel looks, as a share of the steps (0: the official
    read, the identity panels' tokens of the panel's own step)."""

    def __post_init__(self) -> None:
        for name in ("rate_low", "rate_high", "p_early", "p_late", "read_ahead"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"CSAConfig.{name} must be within [0, 1], got {value}")
        if self.low_res_factor < 1:
            raise ValueError("CSAConfig.low_res_factor must be >= 1")

    def fingerprint(self) -> str:
        """A stable text form of the settings, used in identity-bank keys (without a zero
        ``read_ahead``, so that banks saved before it existed still match)."""
        fields = asdict(self)
        if not self.read_ahead:
            del fields["read_ahead"]
        return json.dumps(fields, sort_keys=True)

    def as_settings(self) -> dict[str, float | int]:
        """The settings as a generated image records them (``csa_rate_low``, ...): in its
        candidate and its PNG's ``parameters`` text, so the image can be made again."""
        return {f"csa_{name}": value for name, value in asdict(self).items()}

    def rate_for(self, num_tokens: int, latent_size: tuple[int, int]) -> float:
        """Sampling rate of a layer, from its token count relative to the latent's."""
        latent_tokens = latent_size[0] * latent_size[1]
        factor = math.sqrt(latent_tokens / max(num_tokens, 1))
        return self.rate_low if factor >= self.low_res_factor - 1e-6 else self.rate_high

    def gate_probability(self, step: int) -> float:
        """Probability that a layer call at ``step`` uses consistent attention."""
        if step < self.start_step:
            return 0.0
        return self.p_early if step < self.switch_step else self.p_late

    def gate_table(self, num_steps: int, num_layers: int) -> torch.Tensor:
        """Bool table ``[step, layer]``: True where that layer call uses consistent attention.

        Drawn on the CPU from ``gate_seed`` alone, so it is identical for every image, device and
        batch composition made with these settings.
        """
        generator = torch.Generator(device="cpu").manual_seed(self.gate_seed)
        draws = torch.rand((num_steps, num_layers), generator=generator)
        probs = torch.tensor([self.gate_probability(s) for s in range(num_steps)])
        return draws < probs[:, None]

    def bank_steps(self, num_steps: int, num_layers: int) -> torch.Tensor:
        """Int table ``[step, layer]``: the bank step whose tokens a read at (step, layer) takes,
        -1 where the gate is off.

        Without ``read_ahead`` that is the step itself. With it, the first consistent step of
        the layer at least ``round(read_ahead * num_steps)`` steps later, or its last one.
        """
        gate = self.gate_table(num_steps, num_layers)
        ahead = round(self.read_ahead * num_steps)
        out = torch.full((num_steps, num_layers), -1, dtype=torch.long)
        for layer in range(num_layers):
            steps = gate[:, layer].nonzero().flatten()
            if not len(steps):
                continue
            later = torch.searchsorted(steps, steps + ahead).clamp(max=len(steps) - 1)
            out[steps, layer] = steps[later]
        return out


def sample_count(rate: float, num_tokens: int) -> int:
    """How many tokens of each reference image a layer samples."""
    return min(num_tokens, round(rate * num_tokens))


def sample_token_indices(
    num_images: int,
    num_tokens: int,
    count: int,
    generator: torch.Generator,
    device: torch.device,
    excluded: torch.Tensor | None = None,
) -> torch.Tensor:
    """``count`` distinct token positions per image, shape ``(num_images, count)``, sorted.

    Uniform without replacement via the order of random keys: one kernel for all images, on the
    device the attention runs on (no host round trip). ``excluded`` (bool ``(num_images,
    num_tokens)``) tokens are only taken once an image has no other left.
    """
    keys = torch.rand((num_images, num_tokens), generator=generator, device=device)
    if excluded is not None:
        keys = keys + excluded.to(keys.dtype)
    chosen = keys.argsort(dim=-1)[:, :count]
    return chosen.sort(dim=-1).values


def stable_seed(*parts: object) -> int:
    """A 63-bit seed derived from several values, identical across processes and platforms."""
    text = "\x1f".join(str(p) for p in parts).encode()
    return int.from_bytes(hashlib.sha256(text).digest()[:8], "little") >> 1
