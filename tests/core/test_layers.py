"""storyboard.core must import with PySide6 and the ML stack absent (the window opens fast and
the core runs anywhere); import-linter checks the same statically in `make lint`."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

BLOCKER = """
import importlib.abc, pkgutil, sys
BANNED = ("PySide6", "torch", "diffusers", "transformers", "accelerate", "cv2", "av", "numpy",
          "opentimelineio")
class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in BANNED:
            raise ImportError(f"{name} is blocked in this test")
sys.meta_path.insert(0, Block())
import storyboard.core
for module in pkgutil.walk_packages(storyboard.core.__path__, "storyboard.core."):
    __import__(module.name)
loaded = sorted(n for n in sys.modules if n.split(".")[0] in BANNED)
assert not loaded, loaded
print("ok", len([m for m in sys.modules if m.startswith("storyboard.core.")]))
"""


def test_core_imports_without_qt_or_torch() -> None:
    result = subprocess.run(
        [sys.executable, "-c", BLOCKER], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("ok")
    assert int(result.stdout.split()[1]) >= 10  # every core module was really imported


def test_exports_never_use_widgets() -> None:
    """Exports run off the GUI thread and in the CLI: QtGui painting only, never QtWidgets."""
    offenders = [
        str(path.relative_to(ROOT))
        for path in (ROOT / "storyboard" / "export").rglob("*.py")
        if "QtWidgets" in path.read_text(encoding="utf-8")
    ]
    assert offenders == []


def test_the_inference_worker_uses_qtcore_only() -> None:
    """The worker thread needs signals, never GUI classes (ARCHITECTURE.md, layers)."""
    source = (ROOT / "inference" / "worker.py").read_text(encoding="utf-8")
    qt_imports = [line for line in source.splitlines() if "PySide6" in line and "import" in line]
    assert qt_imports and all("PySide6.QtCore" in line for line in qt_imports)
