#!/usr/bin/env bash
# The wheel alone, as a user gets it: installed into a clean venv (and with pipx), run from a
# folder outside the source tree, so nothing can come from the checkout. CI runs this after the
# tests. Usage: tools/wheel_smoke.sh PYTHON TORCH_SPEC LOCK CONSTRAINTS   (after `make wheel`;
# CONSTRAINTS: the lock without hashes, which the Makefile writes into the venv)
set -euo pipefail
cd "$(dirname "$0")/.."
python="$1"; torch_spec="$2"; lock="$PWD/$3"; pins="$PWD/$4"
wheel="$(ls "$PWD"/dist/storyboard_editor-*.whl)"
scratch="$(mktemp -d "${TMPDIR:-/tmp}/storyboard-smoke.XXXXXX")"
trap 'rm -rf "$scratch"' EXIT
cp -r projects/sample.storyboard "$scratch/"
# pipx resolves the wheel's own requirements, held to the locked releases and the torch pin so a
# new release elsewhere cannot change this run.
{ echo "$torch_spec"; cat "$pins"; } > "$scratch/constraints.txt"
cd "$scratch"
export HOME="$scratch/home" XDG_CONFIG_HOME="$scratch/home/.config" XDG_DATA_HOME="$scratch/home/.local/share"
export XDG_CACHE_HOME="$scratch/home/.cache" XDG_STATE_HOME="$scratch/home/.local/state"
export QT_QPA_PLATFORM=offscreen PIP_DISABLE_PIP_VERSION_CHECK=1
mkdir -p "$HOME"

step() { echo "wheel smoke: $*"; }
step "a clean venv with the wheel and its locked dependencies"
"$python" -m venv venv
venv/bin/python -m pip install --quiet "$torch_spec"
venv/bin/python -m pip install --quiet --no-deps --require-hashes -r "$lock"
venv/bin/python -m pip install --quiet --no-deps "$wheel"
venv/bin/python -m pip check
sb=venv/bin/storyboard
version="$("$sb" --version)"; step "$version"
[[ "$version" =~ ^storyboard\ [0-9] ]] || { echo "wheel smoke: bad --version: $version"; exit 1; }
venv/bin/python -m storyboard --version >/dev/null

step "open the sample in the editor window (offscreen) and close it"
venv/bin/python - <<'PY'
import sys
from pathlib import Path

from PySide6.QtCore import QTimer

from storyboard.qt.app import application, open_window

app = application()
window = open_window(Path("sample.storyboard"))
assert window.windowIcon().availableSizes(), "the window has no icon"
panels = len(window.document.project.panels) if window.document else 0
assert panels == 12, f"the sample opened with {panels} panels"
QTimer.singleShot(200, app.quit)
app.exec()
window.close()
print("wheel smoke: the editor opened the sample with", panels, "panels")
PY

step "info"
"$sb" info sample.storyboard
step "export-pdf"
"$sb" export-pdf sample.storyboard -o sample.pdf --dpi 300
pdfinfo sample.pdf | grep -E '^Pages:'
step "export-video (a small MP4)"
"$sb" export-video sample.storyboard -o sample.mp4 --size 160x90 --captions none
ffprobe -v error -show_entries format=duration -of csv=p=0 sample.mp4
step "generate one panel with the built-in model"
"$sb" generate sample.storyboard --panels 1A --steps 4 --device cpu
"$sb" info sample.storyboard --json | venv/bin/python -c \
  'import json,sys; n=json.load(sys.stdin)["panels_with_image"]; assert n >= 1, n; print("wheel smoke: panels with an image:", n)'
step "install-desktop"
"$sb" install-desktop
grep -q '^Exec=.* -m storyboard %f$' "$XDG_DATA_HOME/applications/storyboard-editor.desktop"

step "pipx install of the wheel"
venv/bin/pipx --version >/dev/null
PIPX_HOME="$scratch/pipx" PIPX_BIN_DIR="$scratch/pipx-bin" venv/bin/pipx install --quiet \
  --pip-args="--constraint $scratch/constraints.txt" "$wheel"
"$scratch/pipx-bin/storyboard" --version
"$scratch/pipx-bin/storyboard" info sample.storyboard >/dev/null
step "passed"
