#!/usr/bin/env bash
# Every screenshot in docs/ from the real editor window under Xvfb (needs Debian xvfb, xauth,
# imagemagick; optipng makes the PNGs smaller if it is there). The repository's sample ships
# without pictures, so a copy of it is generated first with the built-in model on the CPU
# (about two minutes), and the window shots show that copy.
# Usage: bash tools/screenshots.sh [PROJECT]   (PYTHON: the interpreter, default .venv/bin/python)
set -euo pipefail
cd "$(dirname "$0")/.."
python=${PYTHON:-.venv/bin/python}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export STORYBOARD_CONFIG_DIR=$work/config
if [ $# -ge 1 ]; then
  project=$1
else
  cp -r projects/sample.storyboard "$work/sample.storyboard"
  project=$work/sample.storyboard
  "$python" main.py generate --device cpu "$project"
fi
export SAMPLE_PROJECT=$project
export QT_QPA_PLATFORM=xcb
# a screen a title bar and borders larger than the window, which the first window leaves free
xvfb-run -a -s "-screen 0 1416x900x24" bash -c "
  '$python' main.py '$project' & pid=\$!
  sleep 6
  import -window root -crop 1400x860+0+0 +repage docs/editor.png
  kill \$pid
"
echo "wrote docs/editor.png"
run() { xvfb-run -a -s "-screen 0 $1x24" "$python" "${@:2}"; }
# the default layout at laptop and desktop sizes, and the start page of a new project
run 1920x1080 tools/layout_screenshot.py
run 1400x860 tools/player_screenshot.py
run 1400x860 tools/queue_screenshot.py
blank() { env -u SAMPLE_PROJECT xvfb-run -a -s "-screen 0 1400x860x24" "$python" "$@"; }  # on the sample as shipped
blank tools/sketch_screenshot.py
blank tools/sketch_screenshot.py mask
blank tools/guided_screenshot.py
if command -v optipng >/dev/null; then
  optipng -quiet -o2 docs/*.png
fi
ls -l docs/*.png
