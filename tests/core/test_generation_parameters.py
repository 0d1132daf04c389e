"""The ``parameters`` text chunk of generated PNGs, read back with Pillow as other tools read it."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from storyboard.core.generation_parameters import (
    PARAMETERS,
    model_name,
    parameters_text,
    parse_parameters,
    with_text,
)
from storyboard.core.jobs import PanelJob, generated_png

SETTINGS: dict[str, str | int | float | bool | None] = {
    "steps": 30,
    "guidance": 7.5,
    "scheduler": "dpmpp-2m-karras",
    "freeu": False,
    "width": 1024,
    "height": 576,
    "style": "comic-book",
    "identity_panel": True,
    "guidance_method": "img2img",
    "guidance_strength": 0.6,
    "csa_rate_low": 0.5,
    "csa_read_ahead": 0.3,
}


def png(size: tuple[int, int] = (8, 4)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (10, 120, 200)).save(out, format="PNG")
    return out.getvalue()


def read_back(data: bytes) -> tuple[dict[str, str], tuple[int, int], bytes]:
    with Image.open(io.BytesIO(data)) as image:
        image.load()
        return dict(image.text), image.size, image.tobytes()


def test_the_web_ui_form_with_our_settings_as_entries() -> None:
    text = parameters_text(
        "a girl, red hat", "blurry", 42, "/home/ana/models/dreamshaper_8.safetensors", SETTINGS
    )
    lines = text.split("\n")
    assert lines[0] == "a girl, red hat"
    assert lines[1] == "Negative prompt: blurry"
    assert lines[2].startswith(
        "Steps: 30, Sampler: DPM++ 2M Karras, CFG scale: 7.5, Seed: 42, Size: 1024x576, "
        "Model: dreamshaper_8, "
    )
    assert "/home/ana" not in text  # a shared picture does not give away the artist's folders
    prompt, negative, entries = parse_parameters(text)
    assert (prompt, negative) == ("a girl, red hat", "blurry")
    assert entries["Denoising strength"] == "0.6"  # img2img: the key other tools know
    assert entries["CSA rate low"] == "0.5" and entries["CSA read ahead"] == "0.3"
    assert entries["Style"] == "comic-book" and entries["Identity panel"] == "yes"
    assert "FreeU" not in entries  # off: left out, as the web UI leaves out what is off


def test_values_with_commas_colons_and_line_breaks_are_quoted() -> None:
    text = parameters_text(
        "line one\nline two", "", 1, "org/model", {"steps": 2, "note": 'x, y: "z"\nw'}
    )
    prompt, negative, entries = parse_parameters(text)
    assert prompt == "line one\nline two" and negative == ""
    assert entries["Note"] == 'x, y: "z"\nw'
    assert entries["Model"] == "org/model"  # a hub id stays as it is


@pytest.mark.parametrize(
    ("source", "name"),
    [
        ("toyworld", "toyworld"),
        ("stabilityai/stable-diffusion-xl-base-1.0", "stabilityai/stable-diffusion-xl-base-1.0"),
        ("/opt/models/my-sdxl", "my-sdxl"),
        ("C:\\Users\\ana\\juggernaut.safetensors", "juggernaut"),
        ("~/m/realvis.ckpt", "realvis"),
        ("models/x.safetensors", "x"),
    ],
)
def test_model_names_never_carry_a_path(source: str, name: str) -> None:
    assert model_name(source) == name


def test_latin1_text_is_a_text_chunk_any_other_an_itxt_chunk_and_pillow_reads_both() -> None:
    for prompt in ("café au lait", "猫と少女 🐈"):
        stamped = with_text(png(), PARAMETERS, f"{prompt}\nSteps: 1, Seed: 2, Size: 8x4")
        text, size, pixels = read_back(stamped)
        assert text[PARAMETERS].startswith(prompt) and size == (8, 4)
        assert pixels == read_back(png())[2]  # the pixels are untouched
        kind = b"tEXt" if prompt.isascii() or prompt == "café au lait" else b"iTXt"
        assert stamped[33 + 4 : 33 + 8] == kind  # right after the header chunk


def test_a_second_stamp_replaces_the_first() -> None:
    twice = with_text(with_text(png(), PARAMETERS, "first"), PARAMETERS, "second")
    assert read_back(twice)[0] == {PARAMETERS: "second"}
    assert twice.count(b"parameters\0") == 1


def test_not_a_png_or_cut_short_is_refused() -> None:
    with pytest.raises(ValueError, match="not a PNG"):
        with_text(b"GIF89a....", PARAMETERS, "x")
    with pytest.raises(ValueError, match="cut short"):
        with_text(png()[:40], PARAMETERS, "x")


def test_generated_png_writes_the_jobs_prompt_seed_and_settings() -> None:
    job = PanelJob("p1", "1A", "[Mia] waves", "dark", 7, "none", ("mia",))
    stamped = generated_png(png(), job, model="toyworld", settings={"steps": 4, "guidance": 5.0})
    prompt, negative, entries = parse_parameters(read_back(stamped)[0][PARAMETERS])
    assert (prompt, negative) == ("[Mia] waves", "dark")
    assert entries == {"Steps": "4", "CFG scale": "5", "Seed": "7", "Model": "toyworld"}
