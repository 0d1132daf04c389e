#!/usr/bin/env bash
# Rewrites requirements/lock.txt: every dependency of the app and its dev tools, with hashes, for
# every platform on Python 3.11. torch is resolved as its CPU build (no CUDA-only packages) and then
# left out: the Makefile installs it first (TORCH_SPEC). Usage: tools/lock.sh [path/to/uv]
set -euo pipefail
cd "$(dirname "$0")/.."
uv="${1:-uv}"
links=()
# The CPU build of torch: PyTorch's own index, or a folder of wheels where this machine keeps one.
if [ -d /opt/wheels ]; then links=(--find-links /opt/wheels)
else links=(--extra-index-url https://download.pytorch.org/whl/cpu --index-strategy unsafe-best-match)
fi
"$uv" pip compile pyproject.toml requirements/tools.in --extra dev --extra cluster --extra fp8 \
  --universal --python-version 3.11 --generate-hashes \
  --overrides requirements/torch.txt --no-emit-package torch \
  "${links[@]}" -o requirements/lock.txt --quiet
echo "requirements/lock.txt written; run 'make clean test' to try it"
