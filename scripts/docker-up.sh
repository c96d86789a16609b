#!/usr/bin/env bash
# Start a Docker engine if none answers. Idempotent: does nothing when
# `docker info` already works (a system service, or an earlier run of this).
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"

if docker info >/dev/null 2>&1; then
    exit 0
fi
command -v dockerd >/dev/null || die "dockerd not installed; run 'make setup'"

log "starting dockerd (log: ${CACHE_DIR}/dockerd.log)"
# setsid: the engine must outlive this script and the make process group.
setsid dockerd --data-root /var/lib/docker >>"${CACHE_DIR}/dockerd.log" 2>&1 </dev/null &
echo $! >"${CACHE_DIR}/dockerd.pid"

for _ in $(seq 60); do
    if docker info >/dev/null 2>&1; then
        log "dockerd is up"
        exit 0
    fi
    sleep 1
done
tail -n 30 "${CACHE_DIR}/dockerd.log" >&2
die "dockerd did not answer within 60s"
