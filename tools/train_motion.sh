#!/usr/bin/env bash
# Train the built-in toy world's video model on one lent GPU, in one call: first the image
# encoder (stage 1, ENCODER_SECONDS), then the Semantic Motion Predictor model (motion module +
# predictor) and the temporal-only
# baseline (the same motion module, trained with the tokens always dropped) side by side on the
# same GPU for the same time, then export both (the first as a whole video model folder, the
# second as its motion adapter) and pack them into $OUT as motion.tar.* (15 MB parts: the
# device tool brings back at most 8 files of 16 MB): `cat motion.tar.* | tar x`.
#
#   tools/train_motion.sh ENCODER_SECONDS SECONDS [STEPS]
#
# Environment: BATCH (clips per step), ENCODER_BATCH, READER_STEPS (0: keep the shipped reader),
# BENCH_SECONDS (then run bench.motion.quality on the device), BENCH_PAIRS, BENCH_STEPS, BENCH_ROWS.
#
# The encoder's linear-probe check (x and pose, training/motion/image_encoder.py) is printed and
# packed with the rest; a failed check does not stop the run (a lent GPU's minutes are few), it
# is for whoever ships the result to read. Wheels the GPU machine lacks (diffusers, pydantic)
# travel in .whl/.
set -euo pipefail
cd "$(dirname "$0")/.."
encoder_seconds=$1; seconds=$2; steps=${3:-100000}
out=${OUT:-/tmp/motion-out}; work=${WORK:-/tmp/motion}
device=${DEVICE:-cuda}; batch=${BATCH:-8}; precision=${PRECISION:-bf16}
mkdir -p "$out" "$work"
if [ -z "${SKIP_WHEELS:-}" ] && ls .whl/*.whl >/dev/null 2>&1; then
    python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
        --target /tmp/site .whl/*.whl
    export PYTHONPATH=/tmp/site:$PWD
fi
export PYTHONUNBUFFERED=1
python3 -c "import torch; print(torch.__version__, torch.cuda.get_device_name() if torch.cuda.is_available() else 'cpu')"
mkdir -p "$work/export"
# the motion benchmark's x and pose reader, beside everything else (a small CNN); READER_STEPS=0
# keeps the shipped one (bench/motion/weights, trained with VAE round trips)
reader=""
if [ "${READER_STEPS:-4000}" != 0 ]; then
    timeout "${READER_SECONDS:-240}" python3 -m training.toyworld.motion_reader --device "$device" \
        --steps "${READER_STEPS:-4000}" --batch "${READER_BATCH:-256}" \
        --out "$work/export/motion-reader.safetensors" >"$out/reader.log" 2>&1 &
    reader=$!
fi
encoder=$work/encoder
python3 -m training.motion.image_encoder --out "$encoder" --seconds "$encoder_seconds" \
    --steps "$steps" --batch "${ENCODER_BATCH:-512}" --device "$device" >"$out/encoder.log" 2>&1 \
    || echo "the image encoder's check failed: see encoder.log"
tail -n 2 "$out/encoder.log"
common=(--toyworld --base toyworld --adapter new --base-schedule --train-motion-module
    --image-encoder "$encoder" --layers 3 --width 192 --heads 8 --tokens-per-frame 4
    --frames 16 --batch-size "$batch" --lr 3e-4 --mixed-precision "$precision"
    --save-every 1000000 --log-every 50 --seconds "$seconds" --steps "$steps" --device "$device")
python3 -m training.motion.train "${common[@]}" --out "$work/smp" >"$out/smp.log" 2>&1 &
smp=$!
python3 -m training.motion.train "${common[@]}" --no-tokens --out "$work/temporal" \
    >"$out/temporal.log" 2>&1 &
temporal=$!
status=0
wait $smp || status=$?
wait $temporal || status=$?
[ -z "$reader" ] || wait "$reader" || echo "the motion reader did not finish: see reader.log"
tail -n 4 "$out/smp.log" "$out/temporal.log"
[ $status -eq 0 ] || exit $status
last() { ls -d "$1"/checkpoint-* | sort | tail -n 1; }
python3 -m training.motion.export --checkpoint "$(last "$work/smp")" --image-encoder "$encoder" \
    --out "$work/export/toyworld-motion"
python3 -m training.motion.export --checkpoint "$(last "$work/temporal")" --adapter-only \
    --out "$work/export/temporal-only"
du -sh "$work"/export/*
cp "$encoder/probe.json" "$work/export/"
tar cf - -C "$work/export" . | split -b 15M - "$out/motion.tar."
# BENCH_SECONDS > 0: put the new weights where the benchmark looks for them (in this copy of the
# repository) and run it here, on the device, for at most that long (BENCH_ROWS: the flow morph
# needs PyAV, which GPU machines may lack: its row is model-free, run it anywhere)
if [ "${BENCH_SECONDS:-0}" != 0 ]; then
    rm -rf resources/models/toyworld-motion bench/motion/weights/temporal-only
    cp -r "$work/export/toyworld-motion" resources/models/
    cp -r "$work/export/temporal-only" bench/motion/weights/
    timeout "$BENCH_SECONDS" python3 -m bench.motion.quality --device "$device" \
        --pairs "${BENCH_PAIRS:-24}" --steps "${BENCH_STEPS:-25}" --json "$out/motion-quality.json" \
        --rows ${BENCH_ROWS:-smp temporal-only interpolation-only crossfade renderer} \
        >"$out/bench.log" 2>&1 || echo "the benchmark did not finish: see bench.log"
    tail -n 16 "$out/bench.log"
fi
