"""The state shared by every Consistent Self-Attention processor of one UNet during a pipeline call.

One :class:`StoryAttention` per UNet. The engine switches it between three modes around each
pipeline call:

* ``begin_write(bank, seed=...)``: the batch holds the identity panels of one character; each
  attends to sampled tokens of the others and the samples go into ``bank``;
* ``begin_read(panels, banks, ...)``: the batch holds any number of further panels; each attends to
  the banks of the characters it shows (optionally only inside a box per character);
* ``end()``: plain attention again.

The denoising step is counted by a forward pre-hook on the UNet (one UNet evaluation = one step, as
with DDIM/Euler and batched classifier-free guidance); ``step`` may also be set explicitly.
"""

from __future__ import annotations

import enum
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar, cast

import torch

from inference.bank.identity_bank import IdentityBank
from inference.bank.key import BankKey, BankMismatchError
from inference.csa.config import CSAConfig, sample_count, sample_token_indices, stable_seed

logger = logging.getLogger(__name__)
_T = TypeVar("_T")

DEFAULT_CUDA_BACKENDS: tuple[str, ...] = ()

Box = tuple[float, float, float, float]
"""A region of a panel in relative coordinates: (left, top, right, bottom), each in [0, 1]."""


class Mode(enum.Enum):
    """What the CSA processors do in the current pipeline call."""

    OFF = "off"
    WRITE = "write"
    READ = "read"


@dataclass(frozen=True)
class PanelSpec:
    """One panel of a read batch: the characters it shows and, optionally, where.

    A character without a box is used over the whole panel (the paper's behaviour); with a box,
    only query tokens whose centre lies inside the box attend to that character's bank.
    """

    characters: tuple[str, ...] = ()
    boxes: Mapping[str, Box] = field(default_factory=dict)

    def __post_init__(self) -> None:
        unknown = set(self.boxes) - set(self.characters)
        if unknown:
            raise ValueError(f"boxes given for characters not in the panel: {sorted(unknown)}")
        if len(set(self.characters)) != len(self.characters):
            raise ValueError(f"a character is listed twice: {self.characters}")
        for name, (x0, y0, x1, y1) in self.boxes.items():
            if not (0.0 <= x0 < x1 <= 1.0 and 0.0 <= y0 < y1 <= 1.0):
                raise ValueError(f"box of {name!r} must satisfy 0 <= left < right <= 1 etc.")


@dataclass
class ReadPlan:
    """What a read batch needs, worked out once per pipeline call."""

    panels: tuple[PanelSpec, ...]
    banks: dict[str, IdentityBank]
    union: tuple[str, ...]
    any_characters: bool
    homogeneous: bool
    """All panels show the same non-empty set of characters and none has a box: no flags."""
    blocked_cache: dict[tuple[int, torch.device], torch.Tensor] = field(default_factory=dict)


class StoryAttention:
    """Mode, step, gate and token sampling shared by the installed CSA processors."""

    def __init__(self, config: CSAConfig, layer_names: Sequence[str]) -> None:
        self.config = config
        self.layer_names = tuple(layer_names)
        self.mode = Mode.OFF
        self.step = 0
        self.num_steps = 0
        self.latent_size: tuple[int, int] = (0, 0)
        self.cfg = True
        self.write_bank: IdentityBank | None = None
        self.write_regions: tuple[Box | None, ...] | None = None
        self._inside: dict[int, torch.Tensor] = {}  # token count -> (n, N) inside the regions
        self.read_plan: ReadPlan | None = None
        self._gate = torch.zeros((0, len(self.layer_names)), dtype=torch.bool)
        self._sources = torch.zeros((0, len(self.layer_names)), dtype=torch.long)
        self._kept = self._gate
        self._calls = 0
        self._seed = 0
        self._generator: torch.Generator | None = None
        self._indices: dict[tuple[int, int], torch.Tensor] = {}
        self._step_cache: dict[object, Any] = {}
        self._indices_step = -1
        self._warned_overrun = False
        self.layer_shapes: dict[str, tuple[int, int, torch.dtype]] = {}
        self.cuda_backends: tuple[str, ...] = DEFAULT_CUDA_BACKENDS
        """SDPA kernels tried, in order, for the consistent calls on CUDA (names of
        ``torch.nn.attention.SDPBackend``); empty = PyTorch's own choice."""
        self.split_read = True
        """Read the shared bank tokens without copying them per panel where a kernel allows it
        (:mod:`inference.csa.split_read`); off, every read is one SDPA call over copied K/V."""
        self._pinning_planned = False
        self.hook_handle: Any = None
        self.previous_processors: dict[str, Any] = {}

    # ------------------------------------------------------------------ modes
    @property
    def groups(self) -> int:
        """CFG halves in the batch: 2 (``[uncond..., cond...]``) or 1."""
        return 2 if self.cfg else 1

    def new_bank(
        self,
        character: str,
        *,
        num_images: int,
        num_steps: int,
        latent_size: tuple[int, int],
        cfg: bool = True,
        key: BankKey | None = None,
        offload: bool = False,
    ) -> IdentityBank:
        """An empty bank for ``character`` made with this object's CSA settings."""
        return IdentityBank(
            character,
            num_images=num_images,
            num_steps=num_steps,
            latent_size=latent_size,
            cfg=cfg,
            csa=self.config.fingerprint(),
            key=key,
            offload=offload,
        )

    def begin_write(
        self, bank: IdentityBank, *, seed: int, regions: Sequence[Box | None] | None = None
    ) -> None:
        """Next pipeline call generates ``bank.num_images`` identity panels as one batch.

        ``regions`` (one box or None per identity panel) restricts the tokens that panel shares
        (with the others and into the bank) to where the character stands, so its background is
        not copied into every other panel; each panel then shares ``rate`` of the tokens of the
        smallest box.
        """
        if regions is not None and len(regions) != bank.num_images:
            raise ValueError(f"{len(regions)} regions for {bank.num_images} identity panels")
        bank.check_compatible(
            num_steps=bank.num_steps,
            latent_size=bank.latent_size,
            cfg=bank.cfg,
            csa=self.config.fingerprint(),
        )
        self._start(bank.num_steps, bank.latent_size, bank.cfg)
        self.mode = Mode.WRITE
        self.write_bank = bank
        self.write_regions = tuple(regions) if regions and any(regions) else None
        self._inside.clear()
        self._seed = stable_seed("csa-token-sample", seed)
        self._pinning_planned = False

    def begin_read(
        self,
        panels: Sequence[PanelSpec],
        banks: Mapping[str, IdentityBank],
        *,
        num_steps: int,
        latent_size: tuple[int, int],
        cfg: bool = True,
    ) -> None:
        """Next pipeline call generates ``len(panels)`` panels as one batch (prompt order)."""
        panels = tuple(panels)
        union: list[str] = []
        for panel in panels:
            union.extend(c for c in panel.characters if c not in union)
        missing = [c for c in union if c not in banks]
        if missing:
            raise BankMismatchError(f"no identity bank for characters {missing}")
        for name in union:
            banks[name].check_compatible(
                num_steps=num_steps, latent_size=latent_size, cfg=cfg, csa=self.config.fingerprint()
            )
        sets = {frozenset(p.characters) for p in panels}
        self._start(num_steps, latent_size, cfg)
        self.mode = Mode.READ
        self.read_plan = ReadPlan(
            panels=panels,
            banks={c: banks[c] for c in union},
            union=tuple(union),
            any_characters=bool(union),
            homogeneous=len(sets) == 1 and bool(union) and not any(p.boxes for p in panels),
        )

    def start_at(self, step: int) -> None:
        """The next UNet call is denoising step ``step``: img2img and inpainting skip the first
        steps, and each later step must read the bank tokens of its own noise level."""
        self._calls = step

    def end(self) -> IdentityBank | None:
        """Back to plain attention; returns the bank just written (if any), complete."""
        bank = self.write_bank
        if bank is not None:
            bank.finish()
            # With no UNet forwards counted, the caller drove ``step`` itself: trust it.
            bank.complete = self._calls == 0 or self._calls >= self.num_steps
        if self.read_plan is not None:
            for b in self.read_plan.banks.values():
                b.release()
        self.mode = Mode.OFF
        self.write_bank = None
        self.write_regions = None
        self.read_plan = None
        self._indices.clear()
        self._step_cache.clear()
        self._indices_step = -1
        self._generator = None
        return bank

    def _start(self, num_steps: int, latent_size: tuple[int, int], cfg: bool) -> None:
        self.end()
        self.num_steps = num_steps
        self.latent_size = (int(latent_size[0]), int(latent_size[1]))
        self.cfg = cfg
        self._gate = self.config.gate_table(num_steps, len(self.layer_names))
        self._sources = self.config.bank_steps(num_steps, len(self.layer_names))
        self._kept = torch.zeros_like(self._gate)
        for layer, column in enumerate(self._sources.T):
            self._kept[column[column >= 0], layer] = True
        self.step = 0
        self._calls = 0
        self._warned_overrun = False
        self.layer_shapes.clear()

    # ------------------------------------------------------------------ per step / per layer
    def on_unet_forward(self, sample: torch.Tensor | None) -> None:
        """UNet pre-hook: advance the step and start prefetching offloaded banks for it."""
        if self.mode is Mode.OFF:
            return
        self.step = self._calls
        self._calls += 1
        bank = self.write_bank
        if (
            bank is not None
            and bank.offload
            and not self._pinning_planned
            and len(self.layer_shapes) == len(self.layer_names)
        ):
            self._plan_offload(bank)
        if self.read_plan is not None and sample is not None and sample.is_cuda:
            wanted = self._read_now()
            for bank in self.read_plan.banks.values():
                if bank.offload:
                    bank.prefetch(wanted, sample.device)

    def _read_now(self) -> list[tuple[str, int]]:
        """The bank entries (layer, step) this denoising step reads, in layer call order."""
        if self.step >= len(self._sources):
            return []
        row = self._sources[self.step].tolist()
        return [(name, step) for name, step in zip(self.layer_names, row, strict=True) if step >= 0]

    def note_layer_input(self, layer: str, tokens: int, channels: int, dtype: torch.dtype) -> None:
        """Processors report their input size while writing, so that offloaded banks can pin
        their CPU buffers ahead of need (after step 0, which is never stored by default)."""
        if layer not in self.layer_shapes:
            self.layer_shapes[layer] = (tokens, channels, dtype)

    def _plan_offload(self, bank: IdentityBank) -> None:
        self._pinning_planned = True
        layout: dict[int, list[tuple[str, tuple[int, ...]]]] = {}
        dtype = torch.float32
        for i, name in enumerate(self.layer_names):
            tokens, channels, dtype = self.layer_shapes[name]
            shape = (self.groups, bank.num_images * self.write_count(tokens), channels)
            for step in range(self.step, self.num_steps):
                if bool(self._kept[step, i]):
                    layout.setdefault(step, []).append((name, shape))
        bank.plan_offload(layout, dtype)

    def gate(self, layer_index: int) -> bool:
        """Whether this layer uses consistent attention at the current step."""
        if self.step >= self._gate.shape[0]:
            if not self._warned_overrun:
                logger.warning(
                    "UNet called %d times but CSA was set up for %d steps; later calls are plain",
                    self.step + 1,
                    self.num_steps,
                )
                self._warned_overrun = True
            return False
        return bool(self._gate[self.step, layer_index])

    def bank_step(self, layer_index: int) -> int:
        """The bank step a read of this layer takes its tokens from now (``read_ahead``)."""
        return int(self._sources[self.step, layer_index])

    def keeps(self, layer_index: int) -> bool:
        """Whether a write stores this layer's tokens of the current step: only the steps some
        read takes (all consistent ones without ``read_ahead``)."""
        return bool(self._kept[self.step, layer_index])

    def step_cached(self, key: object, make: Callable[[], _T]) -> _T:
        """A value computed once per step and key (index tensors shared by same-size layers)."""
        self._sync_step()
        if key not in self._step_cache:
            self._step_cache[key] = make()
        return cast(_T, self._step_cache[key])

    def _sync_step(self) -> None:
        if self._indices_step != self.step:
            self._indices.clear()
            self._step_cache.clear()
            self._indices_step = self.step

    def write_count(self, num_tokens: int) -> int:
        """Tokens each identity panel shares at a layer of ``num_tokens`` tokens."""
        rate = self.config.rate_for(num_tokens, self.latent_size)
        if self.write_regions is None:
            return sample_count(rate, num_tokens)
        return min(sample_count(rate, int(k)) for k in self.inside_regions(num_tokens).sum(1))

    def inside_regions(self, num_tokens: int) -> torch.Tensor:
        """Bool ``(n, num_tokens)``: each identity panel's tokens inside its region (cached)."""
        assert self.write_regions is not None
        if num_tokens not in self._inside:
            masks = [self.region_mask(box, num_tokens) for box in self.write_regions]
            self._inside[num_tokens] = torch.stack(masks)
        return self._inside[num_tokens]

    def region_mask(self, box: Box | None, num_tokens: int) -> torch.Tensor:
        """Bool ``(num_tokens,)``: tokens whose centre lies in ``box`` (all when None)."""
        if box is None:
            return torch.ones(num_tokens, dtype=torch.bool)
        return region_mask(box, num_tokens, self.latent_size)

    def sampled_indices(
        self, num_images: int, num_tokens: int, count: int, device: torch.device
    ) -> torch.Tensor:
        """Token positions sampled from each identity image at this step, ``(n, count)``.

        Drawn once per step and token count (shared by all layers of that resolution, as in the
        official code) from a generator seeded by the write seed, so a seed reproduces the panels.
        """
        self._sync_step()
        key = (num_tokens, count)
        cached = self._indices.get(key)
        if cached is None:
            if self._generator is None or self._generator.device != device:
                self._generator = torch.Generator(device=device).manual_seed(self._seed)
            outside = None
            if self.write_regions is not None:
                outside = ~self.inside_regions(num_tokens).to(device)
            cached = sample_token_indices(
                num_images, num_tokens, count, self._generator, device, excluded=outside
            )
            self._indices[key] = cached
        return cached

    def blocked(self, plan: ReadPlan, num_tokens: int, device: torch.device) -> torch.Tensor:
        """Bool ``(P, N, len(union))``: True where a panel's query token must not see a character.

        A token is blocked for a character that is not in its panel, or that has a box in the panel
        which does not contain the token's centre. The token grid follows the latent's aspect ratio.
        """
        key = (num_tokens, device)
        cached = plan.blocked_cache.get(key)
        if cached is not None:
            return cached
        out = torch.ones((len(plan.panels), num_tokens, len(plan.union)), dtype=torch.bool)
        for p, panel in enumerate(plan.panels):
            for j, name in enumerate(plan.union):
                if name not in panel.characters:
                    continue
                out[p, :, j] = ~self.region_mask(panel.boxes.get(name), num_tokens)
        cached = out.to(device)
        plan.blocked_cache[key] = cached
        return cached


def token_grid(num_tokens: int, latent_size: tuple[int, int]) -> tuple[int, int]:
    """(rows, cols) of a layer's token map, from its token count and the latent's aspect ratio."""
    lat_h, lat_w = latent_size
    for level in range(8):  # each UNet level halves the map, rounding up (stride-2 convs)
        rows, cols = -(-lat_h // 2**level), -(-lat_w // 2**level)
        if rows * cols == num_tokens:
            return rows, cols
    raise ValueError(f"{num_tokens} tokens do not tile a {lat_h}x{lat_w} latent")


def region_mask(box: Box, num_tokens: int, latent_size: tuple[int, int]) -> torch.Tensor:
    """Bool ``(num_tokens,)``: a layer's tokens whose centre lies in ``box`` (x0, y0, x1, y1)."""
    rows, cols = token_grid(num_tokens, latent_size)
    ys = (torch.arange(rows, dtype=torch.float64) + 0.5) / rows
    xs = (torch.arange(cols, dtype=torch.float64) + 0.5) / cols
    cy = ys[:, None].expand(rows, cols).reshape(-1)
    cx = xs[None, :].expand(rows, cols).reshape(-1)
    x0, y0, x1, y1 = box
    return (cx >= x0) & (cx < x1) & (cy >= y0) & (cy < y1)
