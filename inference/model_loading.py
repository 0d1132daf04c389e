"""Where a model's weights come from, and loading them without ever reaching for the network.

A model source is what the artist typed or picked:

* a preset key from ``resources/models.json`` (``sdxl-base``) or a Hugging Face hub id
  (``stabilityai/stable-diffusion-xl-base-1.0``): read from the standard hub cache only, so it
  works offline once downloaded and never starts a multi-gigabyte download behind the artist's back;
* a local diffusers folder (``model_index.json`` inside);
* one checkpoint file (civitai style, ``.safetensors``, or ``.ckpt`` through the weights-only
  unpickler), in the original or diffusers' key names. Its family is read from its tensor names
  without loading it (``storyboard.core.model_family``); the configs and tokenizers of SD 1.5 and
  SDXL ship with the editor (:mod:`inference.single_file`), or a diffusers folder of the same
  family given as ``config`` replaces them.

Anything missing becomes :class:`ModelUnavailable` saying what was tried and the exact fix.
"""

from __future__ import annotations

import json
import logging
import math
import warnings
from dataclasses import dataclass, field, replace
from enum import StrEnum
from pathlib import Path
from typing import Any

import torch

from inference.csa.config import CSAConfig
from inference.errors import ModelUnavailable
from inference.single_file import load_single_file, shipped_config
from inference.weights_stamp import folder_weights, weights_stamp
from storyboard.core.checkpoint_files import UnreadableCheckpoint, read_index
from storyboard.core.model_family import Layout, detect
from storyboard.core.resources import MODELS, RESOURCES

logger = logging.getLogger(__name__)

MODELS_FILE = MODELS
DEFAULT_MODEL = "toyworld"
"""The built-in toy-world model (``resources/models/toyworld``): works offline on any machine."""
SDXL_BUCKETS = (
    (1024, 1024),
    (1152, 896),
    (1216, 832),
    (1344, 768),
    (1536, 640),
    (896, 1152),
    (832, 1216),
    (768, 1344),
    (640, 1536),
)
_PICK = "Pick a local diffusers folder or a .safetensors file (--model PATH)"


class ModelKind(StrEnum):
    SDXL = "sdxl"
    SD15 = "sd15"


@dataclass(frozen=True, slots=True)
class Preset:
    key: str
    label: str
    repo: str  # hub id, or for a built-in model its folder under the shipped resources
    kind: ModelKind
    notes: str
    builtin: bool = False  # shipped with the editor (``repo`` is a folder under RESOURCES)
    csa: CSAConfig = field(default_factory=CSAConfig)
    """The Consistent Self-Attention settings this model is used with (the character's sampling
    rates replace the ones here)."""

    @property
    def folder(self) -> Path | None:
        return RESOURCES / self.repo if self.builtin else None


@dataclass(frozen=True, slots=True)
class ResolvedModel:
    """A source turned into files on disk, ready for :func:`load_pipeline`."""

    source: str
    kind: ModelKind
    location: Path  # diffusers folder, or the checkpoint file
    single_file: bool
    config: Path | None  # diffusers folder with the configs a single file needs
    fingerprint: str  # the weights by content, alike on every machine (identity-bank keys)
    csa: CSAConfig = field(default_factory=CSAConfig)  # the preset's (:class:`Preset`)
    layout: Layout = Layout.ORIGINAL  # a single file's tensor names


def presets(path: Path = MODELS_FILE) -> dict[str, Preset]:
    """The known models, by key."""
    data = json.loads(path.read_text(encoding="utf-8"))
    return {
        key: Preset(
            key,
            e["label"],
            e["repo"],
            ModelKind(e["kind"]),
            e.get("notes", ""),
            bool(e.get("builtin", False)),
            _csa_settings(key, e.get("csa", {})),
        )
        for key, e in data.items()
    }


def _csa_settings(key: str, settings: dict[str, Any]) -> CSAConfig:
    """A preset's CSA settings (a wrong name or value in ``models.json`` fails when the file is
    read, not in the middle of a job)."""
    try:
        return CSAConfig(**settings)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"models.json: preset {key!r} has bad csa settings: {exc}") from exc


def download_command(repo: str) -> str:
    """The command that puts ``repo`` into the hub cache (shown to the user, never run)."""
    return f"hf download {repo}"


# ---------------------------------------------------------------------------------- resolving
def resolve(source: str, *, config: str | Path | None = None) -> ResolvedModel:
    """Find the files of ``source``; raises :class:`ModelUnavailable` with a fix."""
    text = source.strip()
    if not text:
        raise ModelUnavailable(source, ["no model was given"], _PICK)
    known = presets()
    if text in known:
        preset = known[text]
        if preset.folder is not None:
            if not (preset.folder / "model_index.json").is_file():
                raise ModelUnavailable(
                    source,
                    [f"the built-in model's folder {preset.folder} is missing or incomplete"],
                    "Reinstall the editor (pipx reinstall storyboard-editor); in a source "
                    "checkout, restore the folder with git checkout resources/models",
                )
            return replace(_folder(text, preset.folder), csa=preset.csa)
        return replace(_hub(text, preset.repo), csa=preset.csa)
    path = Path(text).expanduser()
    if path.exists():
        if path.is_dir():
            # a built-in model named by its folder is used as its preset is
            here = path.resolve()
            own = [p.csa for p in known.values() if p.folder and p.folder.resolve() == here]
            return replace(_folder(text, path), csa=own[0] if own else CSAConfig())
        return _single_file(text, path, Path(config).expanduser() if config else None)
    if _looks_like_path(text):
        what = f"no file or folder {path} exists"
        if "/" not in text and "\\" not in text:
            what += f", and it is not a preset ({', '.join(known)}) or a hub id (owner/name)"
        raise ModelUnavailable(source, [what], _PICK)
    return _hub(text, text)


def _looks_like_path(text: str) -> bool:
    return (
        text.endswith((".safetensors", ".ckpt"))
        or text.startswith(("/", ".", "~", "\\"))
        or (text.count("/") != 1 and "\\" not in text)
    )


def _hub(source: str, repo: str) -> ResolvedModel:
    from huggingface_hub import constants, snapshot_download

    tried = f"looked for {repo} in the Hugging Face cache ({constants.HF_HUB_CACHE})"
    try:
        folder = Path(snapshot_download(repo, local_files_only=True))
    except Exception as exc:
        logger.debug("hub cache lookup of %s failed", repo, exc_info=True)
        raise ModelUnavailable(
            source,
            [f"{tried}: not downloaded"],
            f"{_PICK}, or download it once with: {download_command(repo)}",
        ) from exc
    if not (folder / "model_index.json").is_file():
        raise ModelUnavailable(
            source,
            [f"{tried}: only part of it is there"],
            f"{_PICK}, or finish the download with: {download_command(repo)}",
        )
    return _folder(source, folder)


def _folder(source: str, folder: Path) -> ResolvedModel:
    index = folder / "model_index.json"
    if not index.is_file():
        raise ModelUnavailable(
            source,
            [f"{folder} has no model_index.json, so it is not a diffusers model folder"],
            f"{_PICK}; a diffusers folder holds model_index.json, unet/, vae/, text_encoder/",
        )
    try:
        class_name = str(json.loads(index.read_text(encoding="utf-8")).get("_class_name", ""))
    except (OSError, ValueError) as exc:
        raise ModelUnavailable(source, [f"{index} is unreadable ({exc})"], _PICK) from exc
    kind = _kind_of_class(class_name)
    if kind is None:
        raise ModelUnavailable(
            source,
            [f"{folder} holds a {class_name or 'unknown'} model"],
            "This editor runs SDXL and Stable Diffusion 1.5 family models; pick one of those",
        )
    stamp = weights_stamp(folder_weights(folder))
    return ResolvedModel(source, kind, folder, False, None, f"{kind}:{stamp}")


def _kind_of_class(class_name: str) -> ModelKind | None:
    if class_name.startswith("StableDiffusionXL"):
        return ModelKind.SDXL
    if class_name in ("StableDiffusionPipeline", "StableDiffusionImg2ImgPipeline"):
        return ModelKind.SD15
    return None


def checkpoint_kind(path: Path) -> ModelKind:
    """SDXL or SD 1.5, from the tensor names of a checkpoint (reads only its header)."""
    return _checkpoint(path)[0]


def _checkpoint(path: Path) -> tuple[ModelKind, Layout]:
    source = str(path)
    try:
        detection = detect(read_index(path))
    except UnreadableCheckpoint as exc:
        raise ModelUnavailable(source, [str(exc)], _PICK) from exc
    if detection.kind is None or detection.layout is None:
        raise ModelUnavailable(
            source,
            [f"{path.name} is a {detection.label} file: {detection.reason}"],
            "Pick an SDXL or SD 1.5 family checkpoint (.safetensors)",
        )
    return ModelKind(detection.kind), detection.layout


def _single_file(source: str, path: Path, config: Path | None) -> ResolvedModel:
    kind, layout = _checkpoint(path)
    fingerprint = f"{kind}:{weights_stamp([path])}"
    if config is not None and not (config / "model_index.json").is_file():
        raise ModelUnavailable(
            source,
            [f"the config folder {config} has no model_index.json"],
            f"Give a diffusers folder of the {kind.upper()} family as the config",
        )
    folder = config if config is not None else shipped_config(kind)
    if not (folder / "model_index.json").is_file():
        raise ModelUnavailable(
            source,
            [f"the shipped {kind.upper()} configs are missing from {folder}"],
            "Reinstall the editor (pipx reinstall storyboard-editor); in a source checkout, "
            "restore the folder with git checkout resources/single_file",
        )
    return ResolvedModel(source, kind, path, True, folder, fingerprint, layout=layout)


# ---------------------------------------------------------------------------------- loading
def pipeline_class(kind: ModelKind) -> Any:
    from diffusers import StableDiffusionPipeline, StableDiffusionXLPipeline

    return StableDiffusionXLPipeline if kind is ModelKind.SDXL else StableDiffusionPipeline


def quiet_libraries() -> None:
    """diffusers' and transformers' own messages go to the app's logging, not the terminal.

    Both libraries print through a handler of their own ("[transformers] `CLIPImageProcessor`
    requires torchvision...", deprecations), and Python warnings print too: a user of the CLI or
    the editor sees them as noise, with no way to act. They are routed into ``logging`` (the CLI
    shows them with -v), and the libraries' progress bars are off (the app shows its own). torch
    prints its own notices through a handler of its own too (importing torchao, which diffusers
    does when it is installed, logs deprecations through it): those go the same way, before
    diffusers is imported.
    """
    torch_logger = logging.getLogger("torch")
    for handler in list(torch_logger.handlers):
        torch_logger.removeHandler(handler)
    torch_logger.propagate = True
    torch_logger.setLevel(logging.NOTSET)  # the app's level decides, as below
    from diffusers.utils import logging as diffusers_logging
    from transformers.utils import logging as transformers_logging

    for library in (diffusers_logging, transformers_logging):
        library.disable_default_handler()
        library.enable_propagation()
        library.set_verbosity(logging.NOTSET)  # the app's level decides, not the library's
        library.disable_progress_bar()
    logging.captureWarnings(True)


def load_pipeline(model: ResolvedModel, dtype: torch.dtype) -> Any:
    """The diffusers pipeline of ``model`` on the CPU in ``dtype`` (the engine moves it)."""
    quiet_libraries()
    cls = pipeline_class(model.kind)
    extra: dict[str, Any] = {}
    if model.kind is ModelKind.SD15:
        extra = {
            "safety_checker": None,
            "feature_extractor": None,
            "requires_safety_checker": False,
        }
    try:
        with warnings.catch_warnings():
            # diffusers 0.42 renamed torch_dtype to dtype; the old name works in every version
            warnings.filterwarnings("ignore", message=".*torch_dtype.*", category=FutureWarning)
            return _from_files(cls, model, dtype, extra)
    except (torch.OutOfMemoryError, MemoryError):
        raise
    except Exception as exc:
        logger.debug("loading %s failed", model.location, exc_info=True)
        raise ModelUnavailable(
            model.source,
            [f"{model.location} could not be loaded: {type(exc).__name__}: {_first_line(exc)}"],
            "The files may be incomplete or of another model family; re-download them or pick "
            "another model",
        ) from exc


def _from_files(cls: Any, model: ResolvedModel, dtype: torch.dtype, extra: dict[str, Any]) -> Any:
    if model.single_file:
        assert model.config is not None  # resolve() always gives a single file its configs
        return load_single_file(cls, model.location, model.layout, model.config, dtype, extra)
    fp16 = (model.location / "unet" / "diffusion_pytorch_model.fp16.safetensors").is_file()
    return cls.from_pretrained(
        str(model.location),
        torch_dtype=dtype,
        local_files_only=True,
        variant="fp16" if fp16 and dtype == torch.float16 else None,
        **extra,
    )


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:300] if text else ""


# ---------------------------------------------------------------------------------- sizes
def native_size(kind: ModelKind, width: int, height: int, edge: int = 512) -> tuple[int, int]:
    """The model's native size with the aspect ratio closest to width x height.

    SDXL was trained on fixed buckets of about one megapixel; SD 1.5 on 512 px, so its sizes keep
    about 512 x 512 pixels in multiples of 64. Off-native sizes give doubled limbs and heads.
    ``edge`` is the SD 1.5-family model's trained size (UNet sample size x VAE factor); a tiny
    model (under 256 px, like the built-in 64 px one) was trained on that square alone.
    """
    ratio = width / height
    if kind is ModelKind.SDXL:
        return min(SDXL_BUCKETS, key=lambda wh: abs(math.log(wh[0] / wh[1] / ratio)))
    if edge < 256:
        return (edge, edge)
    scale = (512 * 512 / (width * height)) ** 0.5
    return (max(64, round(width * scale / 64) * 64), max(64, round(height * scale / 64) * 64))


def round_size(width: int, height: int, multiple: int) -> tuple[int, int]:
    """An exact size the model can take: each side rounded to a multiple of ``multiple``."""
    return (
        max(multiple, round(width / multiple) * multiple),
        max(multiple, round(height / multiple) * multiple),
    )
