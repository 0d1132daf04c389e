"""Finding the video model's parts on disk: a hub id (read from the cache only), or a folder.

The base SD 1.5 model goes through :mod:`inference.model_loading` like every other model; this
module is for the parts that are a single diffusers or transformers model (the motion adapter, the
CLIP image encoder) or a whole pipeline of another family (LTX-Video, Wan). A hub id may name a
folder inside the repository (``h94/IP-Adapter/models/image_encoder``), as IP-Adapter's encoder
lives in one. Nothing is downloaded: a missing part is :class:`ModelUnavailable` with the command to
get it.
"""

from __future__ import annotations

import logging
from pathlib import Path

from inference.errors import ModelUnavailable
from inference.model_loading import download_command

logger = logging.getLogger(__name__)


def resolve_folder(source: str, *, marker: str, what: str) -> Path:
    """The folder holding ``marker`` (``config.json``, ``model_index.json``) for ``source``."""
    text = source.strip()
    if not text:
        raise ModelUnavailable(source, [f"no {what} was given"], f"Pick a {what} in Settings")
    path = Path(text).expanduser()
    if path.exists() or text.startswith(("/", ".", "~", "\\")):
        return _local(source, path, marker, what)
    parts = text.split("/")
    if len(parts) < 2 or not all(parts):
        raise ModelUnavailable(
            source,
            [f"no file or folder {path} exists, and it is not a hub id (owner/name)"],
            f"Pick a local {what} folder or give its Hugging Face id",
        )
    return _hub(source, "/".join(parts[:2]), "/".join(parts[2:]), marker, what)


def _local(source: str, path: Path, marker: str, what: str) -> Path:
    if not path.is_dir():
        raise ModelUnavailable(
            source, [f"no folder {path} exists"], f"Pick the folder of the {what} (with {marker})"
        )
    if not (path / marker).is_file():
        raise ModelUnavailable(
            source,
            [f"{path} has no {marker}, so it is not a {what} folder"],
            f"Pick the folder of the {what} that holds {marker}",
        )
    return path


def _hub(source: str, repo: str, subfolder: str, marker: str, what: str) -> Path:
    from huggingface_hub import constants, snapshot_download

    tried = f"looked for {repo} in the Hugging Face cache ({constants.HF_HUB_CACHE})"
    fix = f"Download it once with: {download_command(repo)}, or pick a local {what} folder"
    try:
        root = Path(snapshot_download(repo, local_files_only=True))
    except Exception as exc:
        logger.debug("hub cache lookup of %s failed", repo, exc_info=True)
        raise ModelUnavailable(source, [f"{tried}: not downloaded"], fix) from exc
    folder = root / subfolder if subfolder else root
    if not (folder / marker).is_file():
        where = f"{subfolder}/{marker}" if subfolder else marker
        raise ModelUnavailable(source, [f"{tried}: it has no {where}"], fix)
    return folder
