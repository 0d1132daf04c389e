"""Where the files shipped with the editor live (fonts, styles, model presets, scripts)."""

from __future__ import annotations

from pathlib import Path

RESOURCES = Path(__file__).resolve().parents[2] / "resources"
FONTS = RESOURCES / "fonts"
SCRIPTS = RESOURCES / "scripts"
MODELS = RESOURCES / "models.json"


def model_presets() -> dict[str, str]:
    """Preset key -> label of the models the engine knows by name (``resources/models.json``).

    Read here, without the engine, so a settings field can offer them without importing torch.
    """
    import json

    try:
        data = json.loads(MODELS.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return {key: str(entry.get("label", key)) for key, entry in data.items()}
