#!/usr/bin/env bash
# Screenshots of the real editor window under Xvfb for docs/ (needs Debian xvfb, xauth, imagemagick).
# Usage: bash tools/screenshots.sh [PROJECT]
set -euo pipefail
cd "$(dirname "$0")/.."
project=${1:-projects/sample.storyboard}
export STORYBOARD_CONFIG_DIR=$(mktemp -d)
QT_QPA_PLATFORM=xcb xvfb-run -a -s "-screen 0 1400x860x24" bash -c "
  .venv/bin/python main.py '$project' & pid=\$!
  sleep 4
  import -window root docs/editor.png
  kill \$pid
"
echo "wrote docs/editor.png"
