#!/usr/bin/env bash
# Installs the Debian libraries Qt needs (offscreen and under Xvfb) and the tools the tests use to
# read exports back (pdftoppm/pdfinfo, ffprobe). Only acts when something is missing; needs root or sudo.
set -euo pipefail
packages=(libglib2.0-0 libgl1 libegl1 libxkbcommon0 libfontconfig1 libfreetype6 libx11-6 libdbus-1-3
          libxkbcommon-x11-0 libxcb-cursor0 libxcb-icccm4 libxcb-image0 libxcb-keysyms1 libxcb-randr0
          libxcb-render-util0 libxcb-shape0 libxcb-xfixes0 libxcb-xkb1 libx11-xcb1
          libportaudio2 poppler-utils ffmpeg)
command -v dpkg-query >/dev/null || { echo "system-deps: not a Debian/Ubuntu system; install the Qt 6 runtime libraries, poppler-utils and ffmpeg yourself"; exit 0; }
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "system-deps: installing ${missing[*]}"
sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
