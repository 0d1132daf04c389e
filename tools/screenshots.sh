#!/usr/bin/env bash
# Screenshots of the real editor window under Xvfb for docs/ (needs Debian xvfb, xauth, imagemagick).
# Usage: bash tools/screenshots.sh [PROJECT]
set -euo pipefail
cd "$(dirname "$0")/.."
project=${1:-projects/sample.storyboard}
export STORYBOARD_CONFIG_DIR=$(mktemp -d)
# a screen a title bar and borders larger than the window, which the first window leaves free
QT_QPA_PLATFORM=xcb xvfb-run -a -s "-screen 0 1416x900x24" bash -c "
  .venv/bin/python main.py '$project' & pid=\$!
  sleep 4
  import -window root -crop 1400x860+0+0 +repage docs/editor.png
  kill \$pid
"
echo "wrote docs/editor.png"
# the default layout at laptop and desktop sizes, and the start page of a new project
QT_QPA_PLATFORM=xcb xvfb-run -a -s "-screen 0 1920x1080x24" .venv/bin/python tools/layout_screenshot.py
