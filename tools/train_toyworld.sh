#!/usr/bin/env bash
# Train the built-in toy-world model on a lent GPU machine, across several 10-minute calls.
#
#   tools/train_toyworld.sh start SECONDS [ARGS]  # start training in the background (setsid), watch
#                                           # (ARGS go to training.toyworld.train, e.g. --story-panels 4;
#                                           #  a model folder in resources/models/toyworld is continued)
#   tools/train_toyworld.sh watch           # watch the log until the call's time is nearly up
#   tools/train_toyworld.sh finish          # wait for the end, pack the model into $OUT
#                                           # (then the consistency bench, unless SKIP_BENCH=1)
#
# The trainer runs detached from the call, so it keeps going between calls while the machine is
# held; each call prints the log's tail. The model folder is packed as a tar split in 15 MB parts
# (the device tool brings back at most 8 files of 16 MB): `cat toyworld.tar.* | tar x`.
set -u
WORK=/tmp/toyworld
OUT=${OUT:-/tmp/toyworld-out}
cd "$(dirname "$0")/.."
if ls .whl/*.whl >/dev/null 2>&1 && [ ! -d /tmp/site ]; then
    python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
        --target /tmp/site .whl/*.whl || exit 1
fi
export PYTHONPATH=/tmp/site:$PWD PYTHONUNBUFFERED=1

running() { [ -f $WORK/pid ] && kill -0 "$(cat $WORK/pid)" 2>/dev/null; }
watch() {  # until the trainer ends or $1 seconds have passed
    local until=$(( $(date +%s) + $1 ))
    while running && [ "$(date +%s)" -lt "$until" ]; do sleep 5; done
    tail -n 25 $WORK/log
    cp $WORK/log "$OUT/train.log" 2>/dev/null
    cp $WORK/model/training.json "$OUT/" 2>/dev/null
    true
}

case "${1:-}" in
start)
    mkdir -p $WORK
    seconds=${2:-1200}
    shift $(( $# < 2 ? $# : 2 ))
    if [ -f resources/models/toyworld/training.json ] && [ ! -d $WORK/model ]; then
        cp -r resources/models/toyworld $WORK/model  # continue the shipped model
        cp resources/models/toyworld-reader.safetensors $WORK/
    fi
    # A continued model starts a new learning-rate plan where its training so far ended.
    prior=$(python3 -c "import json; print(json.load(open('$WORK/model/training.json'))['unet_seconds'])" 2>/dev/null || echo 0)
    nvidia-smi --query-gpu=name,memory.total --format=csv,noheader
    python3 -c "import torch, diffusers, transformers; print(torch.__version__, diffusers.__version__, transformers.__version__)"
    setsid nohup python3 -m training.toyworld.train --out $WORK/model \
        --reader $WORK/toyworld-reader.safetensors --state $WORK/state.pt \
        --seconds "$seconds" --plan-seconds "$(( seconds - 90 ))" --plan-start "$prior" \
        --snapshot-every 150 "$@" \
        >$WORK/log 2>&1 </dev/null &
    echo $! >$WORK/pid
    watch 560
    ;;
watch)
    watch 575
    ;;
finish)
    watch 560
    if running; then echo "still training"; exit 0; fi
    (cd $WORK && tar cf - model toyworld-reader.safetensors | split -b 15000000 - "$OUT/toyworld.tar.")
    ls -la "$OUT"
    if [ -x tools/after_training.sh ] && [ -z "${SKIP_BENCH:-}" ]; then tools/after_training.sh $WORK; fi
    ;;
*)
    echo "usage: $0 start SECONDS [TRAINER ARGS] | watch | finish" >&2
    exit 2
    ;;
esac
