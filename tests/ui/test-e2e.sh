#!/usr/bin/env bash
# The real `thaw` window end to end, driven only from outside through its
# exported GActions over D-Bus (the window's org.gtk.Actions, the
# application's org.freedesktop.Application): load, run, change the preset,
# unfreeze layers, screenshot, pause, export the run history, quit.
#
# Usage: test-e2e.sh PATH/TO/thaw PATH/TO/check-png
# Runs under tests/ui/run-under-xvfb.sh (a private X server and session bus).
# THAW_E2E_SHOT=FILE keeps a copy of the screenshot for a person to look at.
set -euo pipefail

thaw=$1
check_png=$2
app_id=io.github.thaw.Thaw
win_path=/io/github/thaw/Thaw/window/1
start_deadline=60 # seconds for the window to appear and the model to load
deadline=20       # seconds for anything else

dir=$(mktemp -d "${TMPDIR:-/tmp}/thaw-e2e.XXXXXX")
log=$dir/app.log
pid=
t0=$(date +%s%N)

cleanup() {
    local status=$?
    if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
        kill "$pid" 2>/dev/null || true
        for _ in $(seq 25); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
        kill -9 "$pid" 2>/dev/null || true
    fi
    if [ "$status" -ne 0 ] && [ -f "$log" ]; then
        echo "---- thaw's output ($log) ----" >&2
        cat "$log" >&2
        echo "---- end of thaw's output ----" >&2
    fi
    rm -rf "$dir"
    exit "$status"
}
trap cleanup EXIT

note() {
    local ms=$((($(date +%s%N) - t0) / 1000000))
    printf '[%3d.%01ds] %s\n' $((ms / 1000)) $((ms % 1000 / 100)) "$*"
}
fail() {
    echo "FAIL: $*" >&2
    exit 1
}

# The app must stay up until it is told to quit.
alive() {
    kill -0 "$pid" 2>/dev/null && return 0
    local status=0
    wait "$pid" || status=$?
    pid=
    fail "thaw exited early, with status $status"
}

# wait_for SECONDS WHAT COMMAND...: polls COMMAND every 0.2 s until it
# succeeds; fails if the app dies or SECONDS pass.
wait_for() {
    local limit=$1 what=$2
    shift 2
    local end=$(($(date +%s) + limit))
    until "$@"; do
        alive
        [ "$(date +%s)" -lt "$end" ] || fail "timed out after ${limit}s waiting for $what"
        sleep 0.2
    done
}

# pause_for SECONDS: sleeps, checking that the app stays up.
pause_for() {
    local end
    end=$(($(date +%s%N) + ${1%.*} * 1000000000))
    while [ "$(date +%s%N)" -lt "$end" ]; do
        alive
        sleep 0.2
    done
}

bus() {
    gdbus call --session --timeout 10 "$@"
}
win() {
    bus -d "$app_id" -o "$win_path" -m "org.gtk.Actions.$1" "${@:2}"
}
activate() {
    local name=$1 param=${2:-[]}
    win Activate "$name" "$param" '{}' >/dev/null || fail "activating win.$name failed"
}
app_action() {
    gapplication action "$app_id" "$@" || fail "gapplication action $* failed"
}

name_owned() {
    [ "$(bus -d org.freedesktop.DBus -o /org/freedesktop/DBus \
        -m org.freedesktop.DBus.NameHasOwner "$app_id" 2>/dev/null)" = "(true,)" ]
}
window_exported() {
    win List >/dev/null 2>&1
}
# Describe returns ((enabled, parameter type, [state]),).
enabled() {
    win Describe "$1" 2>/dev/null | grep -q '^((true,'
}
file_exists() {
    [ -s "$1" ]
}

[ -x "$thaw" ] || fail "no thaw binary at '$thaw'"
[ -x "$check_png" ] || fail "no check-png at '$check_png'"
[ -n "${DBUS_SESSION_BUS_ADDRESS:-}" ] || fail "no session bus (run under run-under-xvfb.sh)"

# A small setup, so that loading and epochs are quick (2 steps an epoch, some
# 25 steps a second here); enough epochs that training is still going when
# the knobs change and Pause comes (40 would be over within ~3 s). Without
# the feature cache: with it the frozen base's epochs take a millisecond and
# 1000 of them are over before Pause (tests/ui/test-window.c and the engine
# tests cover the cache).
"$thaw" --k 10 --val_k 10 --batch 20 --epochs 1000 --feature_cache false >"$log" 2>&1 &
pid=$!
note "started thaw (pid $pid)"

wait_for "$start_deadline" "the bus name $app_id" name_owned
wait_for "$start_deadline" "the window's actions at $win_path" window_exported
note "window is on the bus"
wait_for "$start_deadline" "the model to load (win.step enabled)" enabled step
note "model loaded"

activate run
note "running"
pause_for 3

bus -d "$app_id" -o "$win_path" -m org.gtk.Actions.SetState preset '<"pytorch">' '{}' \
    >/dev/null || fail "setting win.preset failed"
state=$(win Describe preset)
case $state in
*"'pytorch'"*) note "preset is pytorch" ;;
*) fail "win.preset did not change: $state" ;;
esac

activate unfreeze-last '[<12>]'
note "unfroze the last 12 layers"
pause_for 2

shot=$dir/window.png
app_action screenshot "'$shot'"
wait_for "$deadline" "the screenshot $shot" file_exists "$shot"
note "screenshot written"
if [ -n "${THAW_E2E_SHOT:-}" ]; then
    cp "$shot" "$THAW_E2E_SHOT"
    note "copied the screenshot to $THAW_E2E_SHOT"
fi
# The window is at least 800x500, not blank, and the batch-loss line
# (THAW_CHART_BLUE in ui/thaw-chart.h) is drawn.
"$check_png" "$shot" --min-size 800x500 --min-colours 50 --colour '#1c71d8:40:30' ||
    fail "the screenshot does not look like a training window"

# Still training (step is disabled once every epoch is done), so Pause
# has something to stop.
enabled step || fail "the run is over before Pause: raise --epochs"
activate pause
note "paused"
pause_for 1 # a step under way when Pause came still reports

# export_csv FILE: writes the run history to FILE; sets csv_steps to its
# number of step rows (not a $(...) subshell, so that fail ends the test).
export_csv() {
    local csv=$1
    activate export-csv-to "[<'$csv'>]"
    wait_for "$deadline" "the run history $csv" file_exists "$csv"
    head -n 1 "$csv" | grep -q '^kind,step,' || fail "$csv has no header: $(head -c 200 "$csv")"
    csv_steps=$(grep -c '^step,' "$csv" || true)
}
csv=$dir/history.csv
export_csv "$csv"
steps=$csv_steps
[ "$steps" -ge 1 ] || fail "$csv has no step rows"
# Knob edits leave markers: one for the preset, one for the unfreezing.
grep -q '^marker,[0-9]*,,,,,,.*pytorch' "$csv" || fail "$csv has no marker for the preset change"
grep -q '^marker,[0-9]*,,,,,,.*12' "$csv" || fail "$csv has no marker for unfreeze-last 12"
note "run history: $steps steps, $(grep -c '^epoch,' "$csv" || true) epochs"
pause_for 1
export_csv "$dir/history-later.csv"
[ "$csv_steps" -eq "$steps" ] || fail "still training after win.pause: $steps steps, then $csv_steps"
note "paused for good: still $steps steps a second later"

app_action quit
end=$(($(date +%s) + deadline))
while kill -0 "$pid" 2>/dev/null; do
    [ "$(date +%s)" -lt "$end" ] || fail "thaw did not exit within ${deadline}s of app.quit"
    sleep 0.2
done
status=0
wait "$pid" || status=$?
pid=
[ "$status" -eq 0 ] || fail "thaw exited with status $status after app.quit"
if grep -E -- '-(CRITICAL|WARNING) \*\*' "$log" >&2; then
    fail "thaw logged warnings (above)"
fi
note "thaw quit with status 0"
echo "PASS"
