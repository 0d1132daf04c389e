#!/usr/bin/env bash
# Run by tools/train_toyworld.sh finish on the GPU machine: the consistency benchmark on the
# freshly trained model (results and one picture grid per setting into $OUT); also run on its
# own after `SKIP_BENCH=1 tools/train_toyworld.sh finish`.
set -u
WORK=${1:-/tmp/toyworld}
cd "$(dirname "$0")/.."
export PYTHONPATH=/tmp/site:$PWD PYTHONUNBUFFERED=1  # the wheels train_toyworld.sh installed
mkdir -p $WORK/grids
timeout 420 python3 -m bench.ml.consistency --model $WORK/model \
    --reader $WORK/toyworld-reader.safetensors --stories 32 --adherence 300 --two-people 300 \
    --device cuda \
    --save-images $WORK/grids --json >"$OUT/bench.json" 2>"$OUT/bench.log"
tail -n 12 "$OUT/bench.log"
(cd $WORK && tar cf "$OUT/grids.tar" grids)
python3 -c "
import json,sys
sys.path.insert(0,'.')
from bench.ml.consistency import format_table
print(format_table(json.load(open('$OUT/bench.json'))))" || true
