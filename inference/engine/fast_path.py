"""Faster generation on the GPU: the UNet's repeated blocks compiled, fp8 matmuls, fused QKV.

Applied by :class:`~inference.engine.story_engine.StoryEngine` when it loads a model, after the
Consistent Self-Attention and regional-prompt processors are installed (Settings, "Faster
generation": on by default on CUDA, off on the CPU and in low-VRAM mode, where CPU offload moves
the weights under the compiled code).

* Regional compilation. Compiling the whole UNet took 297 s on an H100 (issue 25), so only the
  blocks the UNet repeats are compiled, each class once and reused for every instance of it:
  diffusers' ``compile_repeated_blocks`` over ``BasicTransformerBlock`` and ``ResnetBlock2D``.
  The inductor's caches live in the user cache folder, so a later start reads the compiled code
  instead of compiling again.
* The CSA and regional-prompt processors keep per-step Python state (the step, the gate table,
  the bank being written or read), which ``torch.compile`` would turn into guards that fail at
  every step. By default (``processors="eager"``) the attention layers that hold them run eagerly
  between the compiled regions: the rest of each transformer block (norms, cross-attention of the
  other layers, feed-forward) is still compiled. ``processors="compiled"`` lets dynamo trace them
  too, so the benchmark can measure both.
* fp8 (``torchao``'s float8 dynamic-activation recipe) for the UNet's linear layers on cards with
  compute capability 8.9 or newer (Ada, Hopper, Blackwell) when torchao is installed; attention
  itself stays in fp16/bf16. It trades a little precision (the latents move slightly; the
  benchmark reports how far) for speed and memory.
* Fused QKV projections on the self-attention layers that keep diffusers' plain processor (never
  CSA's, which projects its own tokens and the bank's): one matmul instead of three. A LoRA wraps
  ``to_q``/``to_k``/``to_v``, which a fused layer does not call, so loading one unfuses them.

Compilation happens at the first UNet pass, not here; if it fails (no compiler, an inductor
error), the blocks go back to eager for good with the reason logged, and the pass is run again
eagerly, so the artist still gets the picture.
"""

from __future__ import annotations

import dataclasses
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

import torch

logger = logging.getLogger(__name__)

PREPARING = "Preparing the model for this GPU, first time only"
REPEATED_BLOCKS = ("BasicTransformerBlock", "ResnetBlock2D")
FP8_CAPABILITY = (8, 9)
RECOMPILE_LIMIT = 64  # block variants (channels, skip connections, batch sizes) of SDXL's UNet


@dataclass(frozen=True)
class FastOptions:
    """What the fast path does; the defaults are the editor's."""

    compile: bool = True
    processors: Literal["eager", "compiled"] = "eager"  # the CSA / regional-prompt layers
    fp8: bool | None = None  # None: where the card supports it and torchao is installed
    fuse_qkv: bool = True
    channels_last: bool = True
    # torch.compile's: None makes a size dynamic once it has changed (True from the start was
    # no faster to compile on the tiny test UNet: channel counts still specialise on weights)
    dynamic: bool | None = None
    blocks: tuple[str, ...] = REPEATED_BLOCKS  # the block classes compiled
    mode: str | None = None  # torch.compile's mode ("max-autotune-no-cudagraphs", ...)
    backend: str | Callable[..., Any] = "inductor"
    coordinate_descent_tuning: bool = False  # faster kernels, much longer first compile


def fast_wanted(setting: bool | None, device: torch.device, low_vram: bool) -> bool:
    """Whether the fast path runs: the artist's choice, and by default only on CUDA without
    low-VRAM mode (compiling costs more than it saves on the CPU; offload fights compiled code)."""
    if setting is not None:
        return setting
    return device.type == "cuda" and not low_vram


def compile_cache_dir() -> str:
    """The inductor's cache folder: ``$TORCHINDUCTOR_CACHE_DIR`` when the user set one, else
    ``torch-compile`` in the user cache folder (``storyboard.core.settings.cache_dir``)."""
    from torch._inductor.runtime.cache_dir_utils import default_cache_dir

    from storyboard.core.settings import cache_dir

    chosen = os.environ.get("TORCHINDUCTOR_CACHE_DIR")
    if chosen and chosen != default_cache_dir():  # the inductor writes its default there too
        return chosen
    return str(cache_dir() / "torch-compile")


def use_disk_cache() -> str:
    """Keep compiled code on disk, so a later process reads it instead of compiling (before any
    compile: the inductor reads the folder from the environment each time it looks)."""
    import torch._functorch.config as functorch_config
    import torch._inductor.config as inductor_config

    folder = compile_cache_dir()
    os.environ["TORCHINDUCTOR_CACHE_DIR"] = folder
    inductor_config.fx_graph_cache = True
    inductor_config.autotune_local_cache = True
    functorch_config.enable_autograd_cache = True
    return folder


def compile_errors() -> tuple[type[BaseException], ...]:
    """What a failed compilation raises (dynamo wraps backend failures; the inductor's own)."""
    from torch._dynamo.exc import TorchDynamoException

    return (TorchDynamoException,)


@dataclass
class FastPath:
    """What the fast path did to one loaded model, and what it declined (with the reasons)."""

    options: FastOptions
    compiled: bool = False
    fp8: bool = False
    fused: list[Any] = field(default_factory=list)  # attention modules with fused QKV
    notes: list[str] = field(default_factory=list)  # what was not applied, and why
    cache_dir: str = ""
    _ready: set[str] = field(default_factory=set)
    _unet: Any = None

    @property
    def active(self) -> bool:
        return self.compiled or self.fp8 or bool(self.fused)

    def preparing(self, phase: str, step: int) -> bool:
        """Whether a progress report at ``step`` of ``phase`` comes before its first compiled
        pass (the artist then waits for the compiler, not the sampler)."""
        if not self.compiled:
            return False
        if step > 0:
            self._ready.add(phase)
            return False
        return phase not in self._ready

    def note(self, reason: str) -> None:
        self.notes.append(reason)
        logger.warning("faster generation: %s", reason)

    # ------------------------------------------------------------------ fused projections
    def fuse(self, unet: Any) -> None:
        """Fuse QKV of the self-attention layers that keep diffusers' plain processor."""
        from diffusers.models.attention_processor import (
            Attention,
            AttnProcessor2_0,
            FusedAttnProcessor2_0,
        )

        with torch.no_grad():
            for module in unet.modules():
                if (
                    isinstance(module, Attention)
                    and not module.is_cross_attention
                    and type(module.processor) is AttnProcessor2_0
                ):
                    module.fuse_projections()
                    module.set_processor(FusedAttnProcessor2_0())
                    self.fused.append(module)

    def unfuse(self) -> None:
        """Back to separate projections (a LoRA wraps ``to_q``/``to_k``/``to_v``)."""
        from diffusers.models.attention_processor import AttnProcessor2_0

        for module in self.fused:
            module.set_processor(AttnProcessor2_0())
            module.fused_projections = False
            if hasattr(module, "to_qkv"):
                del module.to_qkv
        if self.fused:
            logger.info("fused QKV projections undone on %d layers for a LoRA", len(self.fused))
        self.fused.clear()

    # ------------------------------------------------------------------ fp8
    def quantize_fp8(self, unet: Any, device: torch.device) -> None:
        """fp8 weights and activations for the UNet's linear layers (attention stays as is)."""
        reason = fp8_unavailable(device)
        if reason is not None:
            if self.options.fp8:
                self.note(f"fp8 not used: {reason}")
            else:
                logger.info("faster generation without fp8: %s", reason)
            return
        from torchao.quantization import (
            Float8DynamicActivationFloat8WeightConfig,
            PerRow,
            PerTensor,
            quantize_,
        )

        dtype = unet.dtype
        granularity = PerRow() if dtype == torch.bfloat16 else PerTensor()  # rows need bf16
        try:
            quantize_(
                unet,
                Float8DynamicActivationFloat8WeightConfig(granularity=granularity),
                filter_fn=_fp8_linear,
            )
        except (RuntimeError, ValueError, AssertionError, TypeError) as exc:
            self.note(f"fp8 not used: torchao could not quantize the UNet ({exc})")
            return
        self.fp8 = True
        logger.info("fp8 matmuls on the UNet's linear layers (%s)", type(granularity).__name__)

    # ------------------------------------------------------------------ compilation
    def compile(self, unet: Any) -> None:
        """Compile the UNet's repeated blocks; the processors' layers eager unless asked."""
        import torch._dynamo.config as dynamo_config
        import torch._inductor.config as inductor_config

        options = self.options
        self.cache_dir = use_disk_cache()
        dynamo_config.recompile_limit = max(dynamo_config.recompile_limit, RECOMPILE_LIMIT)
        inductor_config.conv_1x1_as_mm = True
        inductor_config.coordinate_descent_tuning = options.coordinate_descent_tuning
        if options.processors == "eager":
            leave_processors_eager(unet)
        kwargs: dict[str, Any] = {"backend": options.backend, "dynamic": options.dynamic}
        if options.mode is not None:
            kwargs["mode"] = options.mode
        unet._repeated_blocks = list(options.blocks)  # diffusers lists only the transformer's
        try:
            unet.compile_repeated_blocks(**kwargs)
        except (RuntimeError, ValueError, TypeError) as exc:  # dynamo's errors are RuntimeErrors
            self.to_eager(unet, f"compilation could not start ({exc})")
            return
        self.compiled = True
        self._unet = unet
        catch_compile_failures(unet, self)
        logger.info(
            "UNet blocks compiled at their first pass (%s, processors %s, cache %s)",
            ", ".join(options.blocks),
            options.processors,
            self.cache_dir,
        )

    def to_eager(self, unet: Any, reason: str) -> None:
        """Every compiled block back to eager, for good, with the reason logged."""
        for module in unet.modules():
            if getattr(module, "_compiled_call_impl", None) is not None:
                module._compiled_call_impl = None
        self.compiled = False
        self.note(f"compilation failed, running eagerly: {reason}")


def _fp8_linear(module: torch.nn.Module, _name: str) -> bool:
    """Linear layers whose shapes fp8 matmuls take (both sides multiples of 16)."""
    return (
        isinstance(module, torch.nn.Linear)
        and module.in_features % 16 == 0
        and module.out_features % 16 == 0
    )


def fp8_unavailable(device: torch.device) -> str | None:
    """Why fp8 matmuls cannot run here, or None when they can."""
    if device.type != "cuda":
        return f"fp8 matmuls need an NVIDIA GPU (this is {device.type})"
    capability = torch.cuda.get_device_capability(device)
    if capability < FP8_CAPABILITY:
        name = torch.cuda.get_device_name(device)
        return f"{name} (compute capability {capability[0]}.{capability[1]}) has no fp8 matmuls"
    try:
        import torchao  # noqa: F401
    except ImportError:
        return "torchao is not installed"
    return None


def leave_processors_eager(unet: Any) -> None:
    """Attention layers whose processor keeps Python state (CSA, regional prompts, IP-Adapter)
    run eagerly: dynamo breaks the graph around them instead of guarding on their state."""
    from diffusers.models.attention_processor import (
        Attention,
        AttnProcessor2_0,
        FusedAttnProcessor2_0,
    )

    plain = (AttnProcessor2_0, FusedAttnProcessor2_0)
    for module in unet.modules():
        if isinstance(module, Attention) and type(module.processor) not in plain:
            module.forward = torch.compiler.disable(module.forward, recursive=True)  # type: ignore[method-assign]


def catch_compile_failures(unet: Any, fast: FastPath) -> None:
    """A UNet pass whose compilation fails runs again eagerly (the blocks stay eager after)."""
    forward = unet.forward

    def guarded(*args: Any, **kwargs: Any) -> Any:
        if not fast.compiled:
            return forward(*args, **kwargs)
        try:
            return forward(*args, **kwargs)
        except compile_errors() as exc:
            fast.to_eager(unet, failure_reason(exc))
            return forward(*args, **kwargs)

    unet.forward = guarded


def failure_reason(exc: BaseException) -> str:
    """The first line of what made the compiler fail (dynamo wraps a backend's own error)."""
    inner = getattr(exc, "inner_exception", None) or exc.__cause__ or exc
    lines = str(inner).strip().splitlines()
    return f"{type(inner).__name__}: {lines[0] if lines else ''}"


def apply_fast_path(pipe: Any, options: FastOptions, device: torch.device) -> FastPath:
    """Make ``pipe``'s UNet faster; the processors already installed stay on their layers."""
    fast = FastPath(options)
    unet = pipe.unet
    if options.fuse_qkv:
        fast.fuse(unet)
    if options.fp8 is not False:
        fast.quantize_fp8(unet, device)
    if options.channels_last:
        unet.to(memory_format=torch.channels_last)
    if options.compile:
        fast.compile(unet)
    logger.info(
        "faster generation: compiled %s, fp8 %s, fused QKV on %d layers",
        fast.compiled,
        fast.fp8,
        len(fast.fused),
    )
    return fast


def options_for(setting: bool | FastOptions | None) -> FastOptions | None:
    """The options an engine argument stands for (None: not asked for explicitly)."""
    if isinstance(setting, FastOptions):
        return setting
    return FastOptions() if setting else None


def describe(fast: FastPath | None) -> dict[str, Any]:
    """What was applied, for logs and the benchmark's record."""
    if fast is None:
        return {"fast_path": False}
    return {
        "fast_path": True,
        "compiled": fast.compiled,
        "fp8": fast.fp8,
        "fused_qkv_layers": len(fast.fused),
        "notes": list(fast.notes),
        **{f"option_{k}": str(v) for k, v in dataclasses.asdict(fast.options).items()},
    }
