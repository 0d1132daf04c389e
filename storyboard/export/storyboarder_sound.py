"""A board's sound in a Storyboarder export: the panel's sound file copied into ``images/`` as
``UID-audio.EXT`` (Storyboarder keeps its sounds beside the layers) and the board's ``audio``
entry, with the sound's duration in ms when it can be measured (Storyboarder measures its sounds
again when it opens the scene).

The file's name comes from the board's checked uid and the extension of a checked media id
(``<sha256>.<ext>``): nothing from the project can name a file outside the scene's folder.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from storyboard.core.assets import AssetStore
from storyboard.core.model import Panel
from storyboard.export.output import ExportError
from storyboard.export.target_folder import TargetFolder

log = logging.getLogger(__name__)

SoundSeconds = Callable[[Path], float | None]


@dataclass(frozen=True, slots=True)
class BoardSounds:
    """Copies panels' sounds from ``store`` into ``folder``; ``sound_seconds`` measures one (by
    default decoded with PyAV); what it cannot copy goes to ``warnings``."""

    store: AssetStore
    folder: TargetFolder
    sound_seconds: SoundSeconds | None
    warnings: list[str]

    def audio(
        self, panel: Panel, uid: str, images: tuple[str, ...], label: str
    ) -> dict[str, Any] | None:
        """The board's ``audio`` entry, its file written in ``images``; None when silent."""
        if panel.audio is None:
            return None
        source = self.store.file(panel.audio)
        if source is None:
            self.warnings.append(f"panel {label}: its sound file is missing; the board is silent")
            return None
        extension = panel.audio.rsplit(".", 1)[-1]  # a checked media id: <sha256>.<ext>
        name = f"{uid}-audio.{extension}"
        try:
            data = source.read_bytes()
        except OSError as exc:
            self.warnings.append(f"panel {label}: its sound could not be read ({exc.strerror})")
            return None
        written = self.folder.file(data, *images, name)
        audio: dict[str, Any] = {"filename": name}
        seconds = self._sound_seconds(written)
        if seconds is not None:
            audio["duration"] = round(seconds * 1000)
        return audio

    def _sound_seconds(self, path: Path) -> float | None:
        measure = self.sound_seconds
        if measure is None:
            from storyboard.export.audio import audio_seconds  # PyAV, only when there is sound

            def measure(file: Path) -> float | None:
                try:
                    return audio_seconds(file)
                except ExportError as exc:
                    log.warning("%s; its board gets no sound duration", exc)
                    return None

        return measure(path)
