#!/usr/bin/env bash
# The model card's figures for one checkpoint: every test split in written and spoken form, with
# unrelated random photos, and the visual check with the grounding check. Each condition is scored
# once; outputs go to OUT/<condition>.txt.
#   usage: scripts/evaluate_model.sh MODEL_DIR OUT_DIR
set -euo pipefail
model=${1:?usage: scripts/evaluate_model.sh MODEL_DIR OUT_DIR}
out=${2:?usage: scripts/evaluate_model.sh MODEL_DIR OUT_DIR}
root=$(cd "$(dirname "$0")/.." && pwd)
data=$root/../shared/data
python=${PYTHON:-$root/.venv/bin/python}
run() { "$python" -m training --threads "${THREADS:-1}" "$@"; }
mkdir -p "$out"
for name in twitter2015 twitter2017; do
  for form in written spoken; do
    run evaluate --model "$model" --data "$data/$name/test.txt" --form "$form" > "$out/${name}_$form.txt"
  done
  run evaluate --model "$model" --data "$data/$name/test.txt" --random-images 1 > "$out/${name}_random_photos.txt"
done
for form in written spoken; do
  run evaluate --model "$model" --data "$root/training/data/robot_commands/test.txt" --form "$form" \
    > "$out/commands_$form.txt"
done
run visual-check --model "$model" --size 400 --scenes 100 > "$out/visual_check.json"
