"""CUDA-only checks: offload with side-stream copies, and the exclusion channels in fp16 kernels.

These use the bare tiny UNet (no tokenizer or text encoder) so they run on a machine with only
torch + diffusers. Skipped without CUDA.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
import torch
from conftest import requires_cuda
from diffusers import UNet2DConditionModel
from diffusers.models.attention_processor import Attention
from torch.testing import assert_close

from bench.ml.csa import TINY_UNET, Bench
from inference.csa.config import CSAConfig
from inference.csa.processor import ConsistentAttnProcessor, install_consistent_attention
from inference.csa.state import PanelSpec, StoryAttention, token_grid
from tests.fixtures.csa_reference import reference_read

pytestmark = [pytest.mark.gpu, requires_cuda]
CONFIG = CSAConfig(p_early=1.0, p_late=1.0)
RES, STEPS = 256, 5  # latent 32x32: decoder attention at 8x8 and 16x16
LATENT = (RES // 8, RES // 8)


def cuda_bench() -> Bench:
    torch.manual_seed(0)
    unet = UNet2DConditionModel(**TINY_UNET).to("cuda").eval()
    return Bench(unet, torch.device("cuda"), torch.float32, STEPS)


@pytest.mark.parametrize("read_ahead", [0.0, 0.4], ids=["own-step", "read-ahead"])
def test_offloaded_bank_gives_the_same_panels_as_a_gpu_bank(read_ahead: float) -> None:
    """Prefetching an offloaded bank copies the entries each step reads, also ahead."""
    bench = cuda_bench()
    story = install_consistent_attention(bench.unet, replace(CONFIG, read_ahead=read_ahead))
    results: dict[bool, Any] = {}
    for offload in (False, True):
        bank = story.new_bank(
            "a", num_images=3, num_steps=STEPS, latent_size=LATENT, offload=offload
        )
        story.begin_write(bank, seed=4)
        ids = bench.denoise(3, RES, STEPS, seed=4)
        story.end()
        panels = [PanelSpec(("a",)), PanelSpec(()), PanelSpec(("a",), {"a": (0.0, 0.0, 0.5, 1.0)})]
        story.begin_read(panels, {"a": bank}, num_steps=STEPS, latent_size=LATENT)
        out = bench.denoise(3, RES, STEPS, seed=5)
        story.end()
        results[offload] = (ids, out, bank)
    (ids_g, out_g, bank_g), (ids_c, out_c, bank_c) = results[False], results[True]
    assert all(bank_c.stored(*e, torch.device("cpu")).is_pinned() for e in bank_c.entries())
    for e in bank_g.entries():
        assert torch.equal(
            bank_g.stored(*e, torch.device("cpu")), bank_c.stored(*e, torch.device("cpu"))
        )
    assert torch.equal(ids_g, ids_c)
    assert torch.equal(out_g, out_c)
    if read_ahead:  # 2 of 5 steps ahead, from step 1 on: steps 1 and 2 are not kept
        assert min(step for _, step in bank_g.entries()) == 3


@pytest.mark.parametrize("backends", [(), ("cudnn", "flash", "efficient", "math")])
@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
def test_exclusion_channels_in_half_precision_kernels(
    dtype: torch.dtype, backends: tuple[str, ...]
) -> None:
    """fp16/bf16 CUDA kernels (head dim 64 padded to 72) against the fp32 loop reference."""
    torch.manual_seed(0)
    layer = "up_blocks.0.attentions.0.transformer_blocks.0.attn1"
    attn = Attention(query_dim=128, heads=2, dim_head=64).eval()
    story = StoryAttention(CSAConfig(start_step=0, p_early=1.0), [layer])
    story.cuda_backends = backends
    proc = ConsistentAttnProcessor(story, layer, 0)
    latent, tokens = (16, 16), 64
    refs = {"a": torch.randn(2, 2 * 32, 128), "b": torch.randn(2, 3 * 32, 128)}
    banks = {}
    for name, tokens_ref in refs.items():
        bank = story.new_bank(name, num_images=1, num_steps=2, latent_size=latent)
        bank.put(layer, 1, tokens_ref.to("cuda", dtype))
        banks[name] = bank
    panels = [PanelSpec(("a", "b"), {"a": (0.0, 0.0, 0.5, 1.0)}), PanelSpec(("b",)), PanelSpec(())]
    x = torch.randn(6, tokens, 128)
    story.begin_read(panels, banks, num_steps=2, latent_size=latent)
    story.step = 1
    with torch.no_grad():
        slow = reference_read(attn, x, panels, refs, 2, token_grid(tokens, latent))
        fast = proc(attn.to("cuda", dtype), x.to("cuda", dtype))
    assert_close(fast.float().cpu(), slow, atol=2e-2, rtol=2e-2)


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16, torch.float32])
def test_split_read_uses_a_fused_kernel_and_equals_the_reference(dtype: torch.dtype) -> None:
    """The read that merges own and shared attention by log-sum-exp (SDXL's head size 64), on a
    kernel found on this card, against the fp32 loop reference and the copying path."""
    from inference.csa.split_read import lse_attention

    assert lse_attention(torch.device("cuda"), dtype) is not None
    torch.manual_seed(0)
    layer = "up_blocks.0.attentions.0.transformer_blocks.0.attn1"
    attn = Attention(query_dim=128, heads=2, dim_head=64).eval()
    story = StoryAttention(CSAConfig(start_step=0, p_early=1.0), [layer])
    proc = ConsistentAttnProcessor(story, layer, 0)
    latent, tokens = (16, 16), 256
    refs = {"a": torch.randn(2, 4 * 128, 128)}
    bank = story.new_bank("a", num_images=4, num_steps=2, latent_size=latent)
    bank.put(layer, 1, refs["a"].to("cuda", dtype))
    panels = [PanelSpec(("a",))] * 3
    x = torch.randn(6, tokens, 128)
    outs = []
    for split in (True, False):
        story.split_read = split
        story.begin_read(panels, {"a": bank}, num_steps=2, latent_size=latent)
        story.step = 1
        with torch.no_grad():
            outs.append(proc(attn.to("cuda", dtype), x.to("cuda", dtype)).float().cpu())
    with torch.no_grad():
        slow = reference_read(attn.float().cpu(), x, panels, refs, 2, token_grid(tokens, latent))
    assert_close(outs[0], slow, atol=2e-2, rtol=2e-2)
    assert_close(outs[0], outs[1], atol=1e-2, rtol=1e-2)


def test_a_bank_loaded_onto_the_gpu_streams_in_and_equals_the_saved_one(tmp_path: Any) -> None:
    from inference.bank.codec import decode, encode
    from inference.bank.identity_bank import IdentityBank

    story = StoryAttention(CONFIG, ["up_blocks.0.attentions.0.transformer_blocks.0.attn1"])
    bank = story.new_bank("a", num_images=2, num_steps=6, latent_size=(16, 16))
    for step in range(1, 6):
        for layer in ("up_blocks.0.attentions.0.transformer_blocks.0.attn1", "up_blocks.1.x"):
            tokens = torch.randn(2, 64 * step, 32, dtype=torch.float16, device="cuda")
            bank.put(layer, step, tokens)
            assert bank.stored(layer, step, tokens.device).dtype == torch.uint8  # encoded
            # encoded on the GPU as on the CPU, but for a scale's last bit or a value rounded the
            # other way here and there (1.3% of the bytes differed on an H100)
            on_gpu, on_cpu = bank.stored(layer, step, tokens.device).cpu(), encode(tokens.cpu())
            assert_close(
                decode(on_gpu, torch.float32), decode(on_cpu, torch.float32), rtol=0.13, atol=1e-4
            )
    path = tmp_path / "a.safetensors"
    bank.save(path)
    loaded = IdentityBank.load(path, device="cuda")
    assert loaded._stream is not None  # streamed, not read whole
    for layer, step in bank.entries():
        got = loaded.get(layer, step, torch.device("cuda"), torch.float16)
        assert got.is_cuda and torch.equal(got, bank.get(layer, step, got.device, torch.float16))


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
def test_a_gpu_bank_saved_on_another_thread_equals_what_was_written(
    tmp_path: Any, dtype: torch.dtype, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The background save copies the entries from the GPU through pinned buffers on a side
    stream, here with entries larger than its buffers and kernels still queued when it starts."""
    import threading

    from safetensors.torch import load_file

    from inference.bank.identity_bank import IdentityBank

    monkeypatch.setattr(IdentityBank, "encode_on", frozenset())  # (entries in the dtype, larger)
    bank = IdentityBank("a", num_images=2, num_steps=4, latent_size=(64, 64), cfg=True, csa="c")
    source = torch.randn(2, 4096, 1280, device="cuda").to(dtype)  # 20 MiB per entry
    for step in range(1, 4):
        for n, layer in enumerate(("up.0", "up.1", "up.2")):
            tokens = torch.empty_like(source)
            for _ in range(20):  # queued work the save must wait for
                tokens.copy_(source * (step + n))
            bank.put(layer, step, tokens)
    write = bank.saver(tmp_path / "a.safetensors")
    thread = threading.Thread(target=write)
    thread.start()
    busy = torch.randn(4096, 4096, device="cuda")
    for _ in range(20):  # the main thread keeps the GPU busy meanwhile
        busy = busy @ busy / 64
    thread.join()
    saved = load_file(tmp_path / "a.safetensors")
    assert len(saved) == 9
    for (layer, step), tensor in bank._entries.items():
        assert torch.equal(saved[f"{step:04d}@{layer}"], tensor.cpu())


def test_regional_cross_attention_in_fp16_on_cuda_matches_fp32() -> None:
    """A box's region prompt gives the same output through the fp16 CUDA kernels."""
    from inference.engine.regional_prompt import Region, RegionalCrossAttention, RegionPlan

    torch.manual_seed(0)
    layer = Attention(query_dim=64, cross_attention_dim=48, heads=4, dim_head=16).eval()
    pixels, prompt, mine = torch.randn(2, 256, 64), torch.randn(2, 77, 48), torch.randn(77, 48)
    outs = []
    for device, dtype in (
        (torch.device("cpu"), torch.float32),
        (torch.device("cuda"), torch.float16),
    ):
        processor = RegionalCrossAttention()
        region = Region((0.0, 0.0, 0.5, 1.0), mine.to(device, dtype))
        processor.plan = RegionPlan([[region]], (16, 16), cfg=True)
        with torch.no_grad():
            moved = layer.to(device, dtype)
            outs.append(processor(moved, pixels.to(device, dtype), prompt.to(device, dtype)))
    assert_close(outs[1].float().cpu(), outs[0], atol=2e-2, rtol=2e-2)
