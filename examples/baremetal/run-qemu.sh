#!/bin/sh
# SPDX-License-Identifier: MIT
# run-qemu.sh QEMU TIMEOUT -- QEMU-ARGS...
# Boots under QEMU with a timeout. A kernel reports its verdict through the
# isa-debug-exit device: BM_EXIT_PASS (0x10) makes QEMU exit with 33, which
# this script turns into 0; anything else (a failure code, a timeout, a
# crash) is a failure.
qemu=$1 timeout=$2
shift 2
[ "$1" = "--" ] && shift
timeout --foreground "$timeout" "$qemu" "$@" </dev/null
status=$?
case $status in
33) exit 0 ;;
124) echo "run-qemu: timed out after ${timeout}s" >&2 ;;
*) echo "run-qemu: QEMU exited with status $status" >&2 ;;
esac
exit 1
