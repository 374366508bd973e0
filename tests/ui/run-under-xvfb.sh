#!/bin/sh
# Runs a GTK test program the way the ui suite must run: on a private X
# server (Xvfb) with a private session bus (GTK's accessibility layer needs
# one) and the cairo renderer (GL renderers differ in pixels and are not
# available everywhere). Used by tests/meson.build for every ui test.
set -e
if ! command -v xvfb-run >/dev/null || ! command -v dbus-run-session >/dev/null; then
    echo "xvfb-run or dbus-run-session is missing (packages xvfb, xauth, dbus)" >&2
    exit 77 # skipped
fi
export GSK_RENDERER=cairo
exec xvfb-run -a -s "-screen 0 1600x1000x24 -nolisten tcp" dbus-run-session -- "$@"
