#!/usr/bin/env bash
# The GPU checks in one device call (results into $OUT): CUDA tests, the CSA benchmark, the
# engine benchmark with op profiles (issues 4 and 5); print size with what its resident memory
# is, then with VAE tiling and in low-VRAM mode (issue 29); the story benchmark (issue 25).
#
#   tools/gpu_checks.sh [RES ...]               # default 1024
#   CHECKS="tests engine" tools/gpu_checks.sh   # a subset of: tests csa engine print story
#   STORY_ARGS="--repeat 1" CHECKS=story tools/gpu_checks.sh   # more arguments for bench.ml.story
#   ENGINE_ARGS="--compare-fp16-bank" tools/gpu_checks.sh   # more arguments for the engine bench
#   PROFILE=0 tools/gpu_checks.sh               # no op profiles (about 60 s less)
#
# The device machine has torch but not diffusers: carry .whl (diffusers, pydantic, torchao as
# cp312 wheels; see /work/.library/device/README.md for the pip download line).
set -u
OUT=${OUT:-/tmp/gpu-checks}
mkdir -p "$OUT"
cd "$(dirname "$0")/.."
res=${*:-1024}
CHECKS=${CHECKS:-tests csa engine}
if ls .whl/*.whl >/dev/null 2>&1 && [ ! -d /tmp/site ]; then
    python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
        --target /tmp/site .whl/*.whl || exit 1
fi
export PYTHONPATH=/tmp/site:$PWD PYTHONUNBUFFERED=1
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader | tee "$OUT/card.txt"
if [[ $CHECKS == *tests* ]]; then
    python3 -m pytest -q -p no:cacheprovider --confcutdir=tests/inference \
        tests/inference/test_gpu.py >"$OUT/gpu_tests.txt" 2>&1
    tail -n 3 "$OUT/gpu_tests.txt"
fi
if [[ $CHECKS == *csa* ]]; then
    # shellcheck disable=SC2086 # one argument per resolution
    python3 -m bench.ml.csa --res $res --json "$OUT/bench.json" >"$OUT/bench.txt" 2>&1
    grep '^|' "$OUT/bench.txt"
fi
if [[ $CHECKS == *engine* ]]; then
    # shellcheck disable=SC2086
    profile=(--profile "$OUT/profile")
    [ "${PROFILE:-1}" = 0 ] && profile=()
    python3 -m bench.ml.engine --res $res --json "$OUT/engine.json" \
        "${profile[@]}" ${ENGINE_ARGS:-} >"$OUT/engine.txt" 2>&1
    grep '^|' "$OUT/engine.txt"
    head -n 1 "$OUT"/profile/*.txt 2>/dev/null || true
fi
if [[ $CHECKS == *print* ]]; then
    # without and with VAE tiles on one engine, then low-VRAM mode; each run prints its rows and
    # what stays resident (the census)
    for lever in "--vae-tiling both" --low-vram; do
        name=print-${lever#--}; name=${name// /-}
        timeout "${PRINT_SECONDS:-300}" python3 -m bench.ml.print_size $lever \
            --json "$OUT/$name.json" >"$OUT/$name.txt" 2>&1 || echo "$name did not finish"
        grep -E "px:|resident" "$OUT/$name.txt" | cut -c1-400
    done
fi
if [[ $CHECKS == *story* ]]; then
    # shellcheck disable=SC2086
    timeout "${STORY_SECONDS:-560}" python3 -m bench.ml.story --json "$OUT/story.json" \
        ${STORY_ARGS:-} >"$OUT/story.txt" 2>&1 || echo "the story benchmark did not finish"
    grep '^|' "$OUT/story.txt"
fi
