"""LoRA files on the story engine: both formats load, CSA stays on its layers, the weight
changes the picture, banks follow the LoRA, and panels with different LoRAs never share a call."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file, save_file

from inference.csa.processor import ConsistentAttnProcessor, install_consistent_attention
from inference.engine.loras import LoraAdapters
from inference.engine.regional_prompt import RegionalPrompting
from inference.engine.story_engine import StoryEngine
from inference.errors import GenerationError
from inference.results import Progress
from storyboard.core.jobs import CharacterJob, PanelJob, Sampling, StoryRequest
from storyboard.core.lora_files import LoraFile
from tests.fixtures.engine_helpers import differ, save_tiny
from tests.fixtures.tiny_pipelines import tiny_sd15


def _lora_file(path: Path, weight: float = 1.0) -> LoraFile:
    stat = path.stat()
    return LoraFile(path.name, str(path), weight, stat.st_size, stat.st_mtime_ns)


@pytest.fixture(scope="module")
def made(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A tiny SD1.5 folder and one random LoRA for it, saved in the diffusers/peft layout (by
    diffusers' ``save_lora_weights``) and in kohya's (the same weights, keys converted)."""
    from diffusers import StableDiffusionPipeline
    from diffusers.utils import convert_state_dict_to_kohya
    from peft import LoraConfig
    from peft.utils import get_peft_model_state_dict

    root = tmp_path_factory.mktemp("loras")
    pipe = tiny_sd15()
    torch.manual_seed(5)
    targets = ["to_q", "to_k", "to_v", "to_out.0"]
    pipe.unet.add_adapter(
        LoraConfig(r=4, lora_alpha=4, target_modules=targets, init_lora_weights=False)
    )
    StableDiffusionPipeline.save_lora_weights(
        root / "peft", unet_lora_layers=get_peft_model_state_dict(pipe.unet)
    )
    peft_file = root / "peft" / "pytorch_lora_weights.safetensors"
    kohya = convert_state_dict_to_kohya(load_file(str(peft_file)))
    assert all(key.startswith("lora_unet_") for key in kohya)
    save_file(kohya, str(root / "kohya.safetensors"))
    save_file(
        {"lora_unet_nowhere.lora_down.weight": torch.ones(2, 2)}, str(root / "odd.safetensors")
    )
    return {
        "model": save_tiny("sd15", root / "model"),
        "peft": peft_file,
        "kohya": root / "kohya.safetensors",
        "odd": root / "odd.safetensors",
    }


def test_loading_and_fusing_leave_the_csa_and_regional_processors_in_place(
    made: dict[str, Path],
) -> None:
    pipe = tiny_sd15()
    install_consistent_attention(pipe.unet)
    RegionalPrompting(pipe.unet)
    before = dict(pipe.unet.attn_processors)
    assert any(isinstance(p, ConsistentAttnProcessor) for p in before.values())
    adapters = LoraAdapters(pipe)
    adapters.use([_lora_file(made["peft"], 0.7), _lora_file(made["kohya"], 0.3)])
    assert sorted(pipe.get_list_adapters()["unet"]) == sorted(adapters.loaded)
    layer = pipe.unet.up_blocks[1].attentions[0].transformer_blocks[0].attn1
    assert type(layer.to_q).__module__.startswith("peft.")  # the LoRA wraps the projections
    assert {n: p for n, p in pipe.unet.attn_processors.items()} == before  # the same objects
    pipe.fuse_lora()
    assert dict(pipe.unet.attn_processors) == before


def _request(model: Path, loras: tuple[LoraFile, ...], cache: Path | None = None) -> StoryRequest:
    identity = PanelJob("i", "1A", "a red cat", "", 1, "none", ("c",), loras=loras)
    panel = PanelJob("p", "1B", "a red cat on a roof", "", 2, "none", ("c",), loras=loras)
    return StoryRequest(
        model=str(model),
        sampling=Sampling(32, 32, 2, 5.0, fit_to_model=False),
        panels=(identity, panel),
        characters=(CharacterJob("c", "Cat", 3, (identity,)),),
        cache_dir=str(cache) if cache else None,
    )


def test_the_weight_changes_the_panels_and_each_lora_makes_its_own_bank(
    made: dict[str, Path], tmp_path: Path
) -> None:
    engine = StoryEngine(str(made["model"]), device="cpu", dtype=torch.float32)

    def images(*loras: LoraFile) -> dict[str, bytes]:
        request = _request(made["model"], loras, tmp_path / "cache")
        return {i.job.label: i.png for i in engine.generate(request)}

    plain = images()
    half = images(_lora_file(made["peft"], 0.5))
    full = images(_lora_file(made["peft"], 1.0))
    assert differ(plain["1B"], half["1B"]) > 0 and differ(half["1B"], full["1B"]) > 0
    assert images(_lora_file(made["peft"], 0.0)) == plain  # weight 0 is the plain model
    assert images() == plain  # detaching it gives the plain model back
    banks = sorted(p.name for p in (tmp_path / "cache").iterdir())
    assert len(banks) == 1  # one bank per character: the last one made
    assert engine.pipe.unet.attn_processors  # still CSA's after every switch
    procs = engine.pipe.unet.attn_processors.values()
    assert any(isinstance(p, ConsistentAttnProcessor) for p in procs)
    # the same weights in kohya's key names draw the same panels
    kohya = images(_lora_file(made["kohya"], 1.0))
    assert differ(kohya["1B"], full["1B"]) <= 1


def test_a_changed_lora_never_reads_a_stale_bank(made: dict[str, Path], tmp_path: Path) -> None:
    engine = StoryEngine(str(made["model"]), device="cpu", dtype=torch.float32)
    cache = tmp_path / "cache"
    story = _request(made["model"], (_lora_file(made["peft"], 1.0),), cache)
    engine.generate(story)

    def regenerate(weight: float) -> list[str]:
        phases: list[str] = []
        lora = (_lora_file(made["peft"], weight),)
        identity = dataclasses.replace(story.characters[0].identity_panels[0], loras=lora)
        panel = dataclasses.replace(story.panels[1], loras=lora)
        character = dataclasses.replace(story.characters[0], identity_panels=(identity,))
        request = dataclasses.replace(story, panels=(panel,), characters=(character,))
        engine.generate(request, progress=lambda p: phases.append(p.phase))
        return sorted(set(phases) - {"loading"})

    assert regenerate(1.0) == ["panels"]  # the saved bank matches: no identity phase
    assert regenerate(0.6) == ["identity", "panels"]  # another weight: the bank is made again


def test_panels_with_different_loras_are_never_denoised_together(made: dict[str, Path]) -> None:
    engine = StoryEngine(str(made["model"]), device="cpu", dtype=torch.float32)
    lora = (_lora_file(made["peft"]),)
    panels = (
        PanelJob("a", "1A", "a cat", "", 1, "none"),
        PanelJob("b", "1B", "a dog", "", 2, "none", loras=lora),
        PanelJob("c", "1C", "a cow", "", 3, "none", loras=lora),
    )
    request = StoryRequest(str(made["model"]), Sampling(32, 32, 1, 5.0, fit_to_model=False), panels)
    batches: set[tuple[str, ...]] = set()

    def seen(progress: Progress) -> None:
        if progress.phase == "panels":
            batches.add(progress.labels)

    results = engine.generate(request, progress=seen)
    assert batches == {("1A",), ("1B", "1C")}
    assert results[0].settings.get("loras") is None
    assert results[1].settings["loras"] == "pytorch_lora_weights:1"


def test_a_lora_that_does_not_fit_is_a_message(made: dict[str, Path]) -> None:
    engine = StoryEngine(str(made["model"]), device="cpu", dtype=torch.float32)
    bad = PanelJob("a", "1A", "a cat", "", 1, "none", loras=(_lora_file(made["odd"]),))
    request = StoryRequest(str(made["model"]), Sampling(32, 32, 1, 5.0, fit_to_model=False), (bad,))
    with pytest.raises(GenerationError, match=r"odd\.safetensors"):
        engine.generate(request)
    plain = dataclasses.replace(bad, loras=())
    assert len(engine.generate(dataclasses.replace(request, panels=(plain,)))) == 1


def test_the_text_encoder_part_of_a_kohya_lora_changes_the_prompt_encoding(
    tmp_path: Path,
) -> None:
    from diffusers import StableDiffusionPipeline
    from diffusers.utils import convert_state_dict_to_kohya
    from peft import LoraConfig
    from peft.utils import get_peft_model_state_dict

    source = tiny_sd15()
    torch.manual_seed(6)
    config = LoraConfig(
        r=4,
        lora_alpha=4,
        target_modules=["q_proj", "k_proj", "v_proj", "out_proj"],
        init_lora_weights=False,
    )
    source.text_encoder.add_adapter(config)
    unet_config = LoraConfig(r=4, lora_alpha=4, target_modules=["to_q"], init_lora_weights=False)
    source.unet.add_adapter(unet_config)
    StableDiffusionPipeline.save_lora_weights(  # kohya files carry both parts
        tmp_path,
        unet_lora_layers=get_peft_model_state_dict(source.unet),
        text_encoder_lora_layers=get_peft_model_state_dict(source.text_encoder),
    )
    converted = convert_state_dict_to_kohya(
        load_file(str(tmp_path / "pytorch_lora_weights.safetensors"))
    )
    # diffusers writes lora_te1_encoder_...; SD 1.5 kohya files say lora_te_text_model_encoder_...
    kohya = {key.replace("lora_te1_", "lora_te_text_model_"): v for key, v in converted.items()}
    assert {key.split("_")[1] for key in kohya} == {"unet", "te"}
    save_file(kohya, str(tmp_path / "te.safetensors"))

    pipe = tiny_sd15()
    ids = pipe.tokenizer(["a red cat"], return_tensors="pt").input_ids
    plain = pipe.text_encoder(ids)[0]
    adapters = LoraAdapters(pipe)
    adapters.use([_lora_file(tmp_path / "te.safetensors")])
    assert not torch.allclose(pipe.text_encoder(ids)[0], plain)
    adapters.use([])
    assert torch.equal(pipe.text_encoder(ids)[0], plain)


def test_print_size_refines_a_panel_with_its_loras_and_never_with_anothers(
    made: dict[str, Path], tmp_path: Path
) -> None:
    """The enlarged panel is refined by the model the panel was drawn with: its LoRAs on, and
    no LoRA left on from an earlier job for a panel that has none."""
    from PIL import Image

    from storyboard.core.print_jobs import PrintJob, PrintSizeRequest

    source = tmp_path / "panel.png"
    Image.new("RGB", (32, 32), (120, 60, 30)).save(source)
    engine = StoryEngine(str(made["model"]), device="cpu", dtype=torch.float32)
    lora = (_lora_file(made["peft"], 1.0),)

    def enlarged(*loras: LoraFile) -> bytes:
        base = _request(made["model"], loras)
        panel = base.panels[1]
        job = PrintJob(panel, str(source), "orig", 48, 48, 300)
        request = PrintSizeRequest(
            str(made["model"]), base.sampling, (job,), base.characters, strength=0.5
        )
        return engine.generate(request)[0].png

    plain = enlarged()
    with_lora = enlarged(*lora)
    assert differ(plain, with_lora) > 0
    engine.generate(_request(made["model"], lora))  # a story job leaves its LoRA loaded
    assert enlarged() == plain


def test_an_sdxl_lora_loads_and_its_weight_changes_the_panels(tmp_path: Path) -> None:
    """SDXL LoRAs (two text encoders, another UNet) go through the same path as SD 1.5's."""
    from diffusers import StableDiffusionXLPipeline
    from peft import LoraConfig
    from peft.utils import get_peft_model_state_dict

    from tests.fixtures.tiny_pipelines import tiny_sdxl

    pipe = tiny_sdxl()
    torch.manual_seed(7)
    config = LoraConfig(
        r=4, lora_alpha=4, target_modules=["to_q", "to_k", "to_v"], init_lora_weights=False
    )
    pipe.unet.add_adapter(config)
    StableDiffusionXLPipeline.save_lora_weights(
        tmp_path / "lora", unet_lora_layers=get_peft_model_state_dict(pipe.unet)
    )
    lora = tmp_path / "lora" / "pytorch_lora_weights.safetensors"
    model = save_tiny("sdxl", tmp_path / "model")
    engine = StoryEngine(str(model), device="cpu", dtype=torch.float32)

    def images(*loras: LoraFile) -> dict[str, bytes]:
        return {i.job.label: i.png for i in engine.generate(_request(model, loras))}

    plain = images()
    full = images(_lora_file(lora, 1.0))
    assert differ(plain["1B"], full["1B"]) > 0
    assert images(_lora_file(lora, 0.0)) == plain
