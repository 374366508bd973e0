#!/usr/bin/env bash
# thaw-cli end to end: exit statuses, messages, Keras's counts, and a short
# real fine-tune on Fashion-MNIST. Usage: test-cli-basic.sh PATH/TO/thaw-cli
set -u
cli=$1
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
expect 2 "--batch: '0' is not a number" -- finetune --batch 0
expect 2 "--lr: '-1' is not a number" -- finetune --lr -1
expect 2 "--lr: 'nan' is not a number" -- finetune --lr nan
expect 2 "unknown preset 'keras4'" -- finetune --preset keras4
expect 2 "--base-training: 'maybe'" -- finetune --base-training maybe
expect 2 "unknown or incomplete option '--bogus'" -- finetune --bogus
expect 2 "unexpected argument 'extra'" -- finetune extra
expect 1 "cannot open '/nonexistent/train-images-idx3-ubyte.gz'" -- finetune --data /nonexistent

# Keras's counts for ResNet50 without the top (SEMANTICS.md §4.1)
expect 0 "Total params: 23,587,712" -- summary --arch resnet50 --input 224x224x3 --classes 0
grep -q "Non-trainable params: 53,120" "$tmp/out" || fail "resnet50 non-trainable count"
[ "$(grep -c BatchNormalization "$tmp/out")" -eq 53 ] || fail "resnet50 should list 53 BN layers"
# a frozen base under keras3: running stats, frozen; under pytorch: batch stats, updating
expect 0 "running stats, frozen" -- summary --freeze-base --preset keras3
expect 0 "batch stats, updating" -- summary --freeze-base --preset pytorch
expect 1 "unknown architecture 'resnet7'" -- summary --arch resnet7
expect 2 "--input: 'big' is not HxWxC" -- summary --input big

# a short real run: the loss printed for epoch 3 is below that of epoch 1. (50
# pretraining steps leave Keras-momentum moving statistics far from the data,
# so this run trains the whole network with PyTorch semantics.)
data=/usr/share/datasets/fashion-mnist
if [ -r "$data/train-images-idx3-ubyte.gz" ]; then
  expect 0 "done in" -- finetune --pretrain-k 200 --pretrain-epochs 1 --epochs 3 --k 40 \
    --val-k 50 --batch 20 --lr 0.02 --preset pytorch --unfreeze
  l1=$(awk '$1 == "1" && NF == 6 {print $2}' "$tmp/out")
  l3=$(awk '$1 == "3" && NF == 6 {print $2}' "$tmp/out")
  awk -v a="$l1" -v b="$l3" 'BEGIN { exit !(a != "" && b != "" && b < a) }' ||
    fail "fine-tune loss did not fall: epoch 1 '$l1', epoch 3 '$l3'"
else
  echo "SKIP the real fine-tune: $data not installed"
fi

if [ $fails -gt 0 ]; then
  echo "$fails failed"
  exit 1
fi
echo "all passed"
