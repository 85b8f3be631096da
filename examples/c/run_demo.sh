#!/usr/bin/env bash
# Builds examples/c/demo.c against the staged install with pkg-config and runs it; then the
# channel step: a collector publishes what its reader receives into a channel, and a second
# process reads the channel and prints its publish-to-read percentiles (examples/c/channel_pubsub.c).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=$here/../../build/examples
mkdir -p "$out"
${CC:-cc} -std=c11 -Wall -Wextra -O2 -D_GNU_SOURCE $(pkg-config --cflags alphacore) "$here/demo.c" \
    -o "$out/demo" $(pkg-config --libs alphacore) -lpthread
"$out/demo" "$@"
${CC:-cc} -std=c11 -Wall -Wextra -O2 -D_GNU_SOURCE $(pkg-config --cflags alphacore) "$here/channel_pubsub.c" \
    -o "$out/channel_pubsub" $(pkg-config --libs alphacore)
echo
echo "[channel] the collector publishes what its reader receives; a second process reads the channel"
"$out/channel_pubsub"
