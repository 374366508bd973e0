#!/usr/bin/env bash
# thaw-cli end to end: exit statuses, messages, Keras's counts, and a short
# real fine-tune on Fashion-MNIST. Usage: test-cli-basic.sh PATH/TO/thaw-cli
set -u
cli=$1
presets=${THAW_PRESETS:-$(dirname "$0")/../../resources/presets}
fails=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

fail() { echo "FAIL: $*" >&2; fails=$((fails + 1)); }

# expect STATUS PATTERN -- ARGS: run thaw-cli, check the exit status and that
# stdout+stderr match the extended regex PATTERN.
expect() {
  local want=$1 pattern=$2
  shift 3
  "$cli" "$@" >"$tmp/out" 2>&1
  local got=$?
  [ "$got" -eq "$want" ] || fail "thaw-cli $*: exit $got, want $want: $(head -c 400 "$tmp/out")"
  grep -Eq -- "$pattern" "$tmp/out" || fail "thaw-cli $*: output lacks /$pattern/: $(head -c 400 "$tmp/out")"
}

expect 0 "Commands:" -- --help
expect 2 "Usage: thaw-cli" --
expect 2 "unknown command 'frobnicate'" -- frobnicate
expect 0 "Usage: thaw-cli finetune" -- finetune --help
expect 2 "--batch: 0 is not a batch size" -- finetune --batch 0
expect 2 "--lr: -1 is not a learning rate" -- finetune --lr -1
expect 2 "--lr: nan is not a learning rate" -- finetune --lr nan
expect 2 "unknown preset 'keras4'; did you mean keras3" -- finetune --preset keras4
expect 2 "--base_training: 'maybe' is not true, false or none" -- finetune --base_training maybe
expect 2 "unknown option 'bach'; did you mean batch" -- finetune --bach 3
expect 2 "no layer 'conv2_blok1_1_conv'; did you mean conv2_block1_1_conv" -- finetune --freeze conv2_blok1_1_conv --epochs 1
expect 2 "unknown option 'bogus'" -- finetune --bogus
expect 2 "unknown option or argument 'extra'" -- finetune extra
expect 1 "cannot open '/nonexistent/train-images-idx3-ubyte.gz'" -- pretrain --data /nonexistent --save x.thaw

# Keras's counts for ResNet50 without the top (SEMANTICS.md §4.1)
expect 0 "Total params: 23,587,712" -- summary --arch resnet50 --input 224x224x3 --classes 0 \
  --base false
grep -q "Non-trainable params: 53,120" "$tmp/out" || fail "resnet50 non-trainable count"
[ "$(grep -c BatchNormalization "$tmp/out")" -eq 53 ] || fail "resnet50 should list 53 BN layers"
expect 0 '"total": 23587712, "trainable": 23534592, "non_trainable": 53120' -- summary \
  --arch resnet50 --input 224x224x3 --classes 0 --base false --json
/usr/bin/env python3 -c 'import json,sys; d=json.loads(sys.stdin.read()); assert len(d["layers"]) == 175' \
  <"$tmp/out" || fail "summary --json: 175 layers"
# the shipped model under a frozen base: keras3 runs its BN on running stats,
# pytorch in batch mode; layers[:-N] via unfreeze_last
expect 0 "running stats, frozen" -- summary --preset keras3
expect 0 "batch stats, updating" -- summary --preset pytorch
expect 0 "^name,kind,output_shape,params,trainable,bn_in_training_step" -- summary --csv \
  --unfreeze_last 4
[ "$(grep -c ',yes,' "$tmp/out")" -eq 4 ] ||
  fail "unfreeze_last 4 on resnet20: conv4_block3_2_conv and _2_bn train, plus the 2 head Denses"
expect 2 "resnet7" -- summary --arch resnet7
# bench: a tiny sweep, its JSON rows carry the anchor's fields
expect 0 "train" -- bench --threads 1 --batches 4 --modes train,infer --reps 1 --min-rep-s 0.01 \
  --warm 0 --json "$tmp/bench.json"
/usr/bin/env python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); assert len(r) == 2 and all(x["ips_med"] > 0 for x in r)' \
  "$tmp/bench.json" || fail "bench --json rows"
"$cli" bench --threads 1 --batches 2 --modes infer --reps 1 --min-rep-s 0.01 --warm 0 --json - \
  2>/dev/null | /usr/bin/env python3 -c 'import json,sys; assert json.load(sys.stdin)[0]["mode"] == "infer"' ||
  fail "bench --json - is not one JSON document on stdout"
"$cli" bench --threads 1 --batches 2 --modes infer --reps 1 --min-rep-s 0.01 --warm 0 --csv \
  2>/dev/null | grep -Eq "^1,28,2,infer," || fail "bench --csv rows"
expect 2 "--modes" -- bench --modes fly

# export-code: both frameworks compile (the PyTorch export is run in the app suite)
for fw in keras pytorch; do
  expect 0 "wrote $tmp/train_$fw.py" -- export-code --framework $fw \
    --setup "$presets/keras-guide.ini" --output "$tmp/train_$fw.py"
  /usr/bin/env python3 -m py_compile "$tmp/train_$fw.py" || fail "export-code $fw: py_compile"
done
grep -q "base_model(x, training=False)" "$tmp/train_keras.py" ||
  fail "the Keras export of the guide's setup must call the base with training=False"
# demo: the list, usage errors, and one demo end to end (its claims are in tests/app/test-demos.c)
expect 0 "training-not-trainable" -- demo
expect 2 "no demo 'nope'" -- demo nope
expect 2 "--epochs: 0 is not" -- demo broken-bn --epochs 0
expect 2 "unknown option or argument 'extra'" -- demo requires-grad extra
expect 0 '"holds": true' -- demo requires-grad --k 20 --val_k 20 --json
expect 2 "--framework keras|pytorch is required" -- export-code
expect 2 "no layer 'conv9'" -- export-code --framework keras --freeze conv9

# Keras import: the old keras-applications names are detected
fixtures=$(dirname "$0")/../fixtures
expect 0 "keras-applications \(old names\)" -- import-keras "$fixtures/keras-resnet50-tiny-old.h5" \
  --input 32x32 --save "$tmp/old.thaw"
grep -q "BN epsilon 0.001, caffe preprocessing" "$tmp/out" || fail "import-keras details"
[ -s "$tmp/old.thaw" ] || fail "import-keras wrote no file"
expect 1 "keras-bad-shape.h5.*conv" -- import-keras "$fixtures/keras-bad-shape.h5" --save "$tmp/x.thaw"
expect 2 "needs FILE.h5 and --save" -- import-keras "$fixtures/keras-resnet8.h5"
expect 2 "--input: 'big' is not HxWxC" -- summary --input big

# Real runs on Fashion-MNIST: pretrain a small model and save it, fine-tune the
# shipped model (the loss printed for epoch 3 is below that of epoch 1), and
# fine-tune from the freshly saved one.
data=/usr/share/datasets/fashion-mnist
if [ -r "$data/train-images-idx3-ubyte.gz" ]; then
  expect 0 "saved $tmp/small.thaw" -- pretrain --arch resnet8 --k 40 --epochs 1 --batch 20 \
    --save "$tmp/small.thaw"
  expect 2 "--save FILE is required" -- pretrain --epochs 1
  expect 1 "cannot" -- pretrain --k 40 --epochs 1 --batch 20 --save /nonexistent/dir/x.thaw
  expect 0 "done in" -- finetune --epochs 3 --k 40 --val_k 50 --batch 20 --lr 0.05 \
    --log "$tmp/log.csv"
  l1=$(awk '$1 == "1" && NF == 6 {print $2}' "$tmp/out")
  l3=$(awk '$1 == "3" && NF == 6 {print $2}' "$tmp/out")
  awk -v a="$l1" -v b="$l3" 'BEGIN { exit !(a != "" && b != "" && b < a) }' ||
    fail "fine-tune loss did not fall: epoch 1 '$l1', epoch 3 '$l3'"
  [ "$(wc -l <"$tmp/log.csv")" -eq 4 ] || fail "the CSV log should have a header and 3 rows"
  head -1 "$tmp/log.csv" | grep -q "^epoch,phase_lr,loss," || fail "CSV log header"
  expect 0 "saved $tmp/tuned.thaw" -- finetune --model "$tmp/small.thaw" --epochs 1 --k 20 \
    --val_k 20 --batch 20 --shift invert --augment flip,shift:2 --preset pytorch \
    --save "$tmp/tuned.thaw"
  grep -q "shift invert; augment flip,shift:2" "$tmp/out" || fail "finetune did not echo the shift"
  # a shipped preset, shortened: the two-phase recipe unfreezes the base after epoch 1
  expect 0 "-- unfrozen base" -- finetune --setup "$presets/keras-guide.ini" --epochs 2 \
    --unfreeze_epoch 1 --k 20 --val_k 20 --batch 20
  expect 1 "cannot read '$tmp/none.thaw'" -- finetune --model "$tmp/none.thaw"
  expect 2 "--shift: 'flip' is augmentation" -- finetune --shift flip
  expect 2 "--augment: unknown transform 'bogus:3'" -- finetune --augment bogus:3
  expect 1 "larger than the 10 training images" -- finetune --k 2 --batch 32 --epochs 1
  # Preset truths end to end (SPEC.md §2), frozen base, same seed and data:
  # keras3 leaves every moving statistic unchanged, pytorch (requires_grad=False
  # does not freeze BN) moves all 21, keras-2.1.3 uses batch statistics without
  # updating them; the inference-mode accuracies of keras3 and pytorch differ.
  for p in keras3 pytorch keras-2.1.3; do
    "$cli" finetune --preset $p --epochs 2 --k 30 --val_k 40 --batch 25 --json \
      >"$tmp/$p.json" 2>"$tmp/$p.err" || fail "finetune --preset $p --json: $(tail -1 "$tmp/$p.err")"
  done
  /usr/bin/env python3 - "$tmp" <<'PY' || fail "preset truths through finetune --json"
import json, sys
d = {p: json.load(open(f"{sys.argv[1]}/{p}.json")) for p in ("keras3", "pytorch", "keras-2.1.3")}
assert d["keras3"]["bn_layers"] == 21 and d["keras3"]["bn_layers_changed"] == 0, d["keras3"]
assert d["pytorch"]["bn_layers_changed"] == 21, d["pytorch"]
assert d["pytorch"]["bn_mean_relative_change"] > 0.01, d["pytorch"]
assert d["keras-2.1.3"]["bn_layers_changed"] == 0, d["keras-2.1.3"]
last = {p: d[p]["epochs"][-1] for p in d}
assert last["keras3"]["val_acc_infer"] != last["pytorch"]["val_acc_infer"], last
# keras-2.1.3 trains the head on batch-normalised features, then predicts with
# moving statistics: its training-mode validation accuracy beats inference mode
assert last["keras-2.1.3"]["val_acc_train"] > last["keras-2.1.3"]["val_acc_infer"] + 0.05, last
PY

  # A non-finite loss stops the run with the step and the likely cause, and the
  # checkpoint saved before stays as it was.
  /usr/bin/env python3 "$(dirname "$0")/overflow-model.py" "$presets/../models/fashion-resnet20.thaw" \
    "$tmp/overflow.thaw"
  cp "$tmp/tuned.thaw" "$tmp/kept.thaw"
  expect 1 "loss is -?nan at step [0-9]+: the learning rate .* is probably too high" -- finetune \
    --model "$tmp/overflow.thaw" --epochs 1 --k 20 --val_k 10 --batch 20 --save "$tmp/kept.thaw"
  cmp -s "$tmp/tuned.thaw" "$tmp/kept.thaw" || fail "a failed run must not touch the saved checkpoint"

  # eval and compare on the shipped model (classes 0-4): frozen base under keras3
  # gives one answer in both modes; unfrozen, training mode at batch 1 collapses
  expect 0 '"accuracy": 0\.9' -- eval --classes source --val_k 50 --json
  /usr/bin/env python3 -c 'import json,sys; json.loads(sys.stdin.read())' <"$tmp/out" ||
    fail "eval --json is not one JSON document"
  expect 0 "top-1 differs on" -- compare --classes source --val_k 40 --base false \
    --batch-sweep 1,64 --flips 2
  b1=$(awk '$1 == "batch" && $2 == "1:" {print $3}' "$tmp/out" | tr -d '%')
  b64=$(awk '$1 == "batch" && $2 == "64:" {print $3}' "$tmp/out" | tr -d '%')
  awk -v a="$b1" -v b="$b64" 'BEGIN { exit !(a != "" && b != "" && a + 20 < b) }' ||
    fail "training-mode accuracy at batch 1 ($b1) should be far below batch 64 ($b64)"
  expect 0 '"batch_sweep": \[\{"batch": 2' -- compare --classes source --val_k 20 --json \
    --batch-sweep 2
  /usr/bin/env python3 -c 'import json,sys; d=json.loads(sys.stdin.read()); assert len(d["classes"]) == 5' \
    <"$tmp/out" || fail "compare --json"
  # --csv of eval, compare and finetune parse as CSV with the documented columns
  for cmd in "eval --classes source --val_k 5" "compare --classes source --val_k 5" \
    "finetune --epochs 1 --k 10 --val_k 5 --batch 10"; do
    # shellcheck disable=SC2086
    "$cli" $cmd --csv >"$tmp/c.csv" 2>/dev/null || fail "$cmd --csv failed"
    /usr/bin/env python3 -c 'import csv,sys; r=list(csv.DictReader(open(sys.argv[1]))); assert r and all(len(x) == len(r[0]) for x in r)' \
      "$tmp/c.csv" || fail "$cmd --csv does not parse"
  done

  # predict: dataset images as CSV, PNG files (any size, resized) as JSON
  expect 0 "^image,label,top1,p_top1,p0,p1,p2,p3,p4" -- predict --classes source --val_k 2 --csv
  [ "$(wc -l <"$tmp/out")" -eq 11 ] || fail "predict --csv: a header and 10 rows expected"
  /usr/bin/env python3 "$(dirname "$0")/make-png.py" "$tmp/a.png" 30 40 1
  /usr/bin/env python3 "$(dirname "$0")/make-png.py" "$tmp/b.png" 28 28 2
  expect 0 '"top1"' -- predict "$tmp/a.png" "$tmp/b.png" --json --mode train
  /usr/bin/env python3 -c 'import json,sys; d=json.loads(sys.stdin.read()); assert len(d["images"]) == 2 and abs(sum(d["images"][0]["probs"]) - 1) < 1e-4' \
    <"$tmp/out" || fail "predict --json"
  expect 1 "cannot open '$tmp/none.png'" -- predict "$tmp/none.png"
  expect 2 "exclude each other" -- predict --json --csv
  expect 2 "--mode: 'both' is not train or infer" -- eval --mode both
  mkdir "$tmp/empty"
  expect 1 "no class folders in" -- eval --dataset "$tmp/empty" --val_k 1
else
  echo "SKIP the real runs: $data not installed"
fi

if [ $fails -gt 0 ]; then
  echo "$fails failed"
  exit 1
fi
echo "all passed"
