#!/usr/bin/env bash
# The main job, end to end: site.yml with --check --diff, then for real, then again
# (which must change nothing), on a disposable local container or on INVENTORY.
#   scripts/demo.sh          (INVENTORY=path to use real hosts instead)
#   scripts/demo.sh clean    remove the demo container
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"

CONTAINER=lxchost-demo-1
# Same capabilities as the molecule platform (extensions/molecule/config.yml).
CAPS=(CHOWN DAC_OVERRIDE DAC_READ_SEARCH FOWNER FSETID KILL SETGID SETUID SETPCAP
      LINUX_IMMUTABLE NET_BIND_SERVICE NET_BROADCAST NET_ADMIN NET_RAW IPC_LOCK IPC_OWNER
      SYS_MODULE SYS_RAWIO SYS_CHROOT SYS_PTRACE SYS_PACCT SYS_ADMIN SYS_BOOT SYS_NICE
      SYS_TIME SYS_TTY_CONFIG MKNOD LEASE AUDIT_WRITE AUDIT_CONTROL SETFCAP MAC_OVERRIDE
      MAC_ADMIN SYSLOG WAKE_ALARM BLOCK_SUSPEND AUDIT_READ)

if [ "${1:-}" = clean ]; then
    if command -v docker >/dev/null && docker info >/dev/null 2>&1; then
        docker rm -f "${CONTAINER}" >/dev/null 2>&1 || true
    fi
    log "removed ${CONTAINER} (if it existed)"
    exit 0
fi

start_container() {
    "${REPO_ROOT}/scripts/docker-up.sh"
    "${REPO_ROOT}/scripts/base-image.sh"
    if [ "$(docker inspect -f '{{.State.Running}}' "${CONTAINER}" 2>/dev/null)" = true ]; then
        log "${CONTAINER} is running"
        return
    fi
    docker rm -f "${CONTAINER}" >/dev/null 2>&1 || true
    local privilege=()
    if [ "${LXCHOST_PRIVILEGED:-false}" = true ]; then
        privilege=(--privileged)
    else
        privilege=(--cap-drop ALL)
        local cap
        for cap in "${CAPS[@]}"; do privilege+=(--cap-add "${cap}"); done
    fi
    log "starting ${CONTAINER} from ${LXCHOST_IMAGE}"
    docker run -d --name "${CONTAINER}" --hostname "${CONTAINER}" "${privilege[@]}" \
        --security-opt seccomp=unconfined --security-opt apparmor=unconfined \
        --cgroupns host -v /sys/fs/cgroup:/sys/fs/cgroup:rw \
        --tmpfs /run --tmpfs /run/lock \
        "${LXCHOST_IMAGE}" /lib/systemd/systemd >/dev/null
    # systemd takes a moment; "degraded" still means it booted.
    local state=
    for _ in $(seq 30); do
        state="$(docker exec "${CONTAINER}" systemctl is-system-running 2>/dev/null || true)"
        case "${state}" in running|degraded) break ;; esac
        sleep 1
    done
    log "${CONTAINER}: systemd ${state:-not answering}"
}

# ansible-playbook, echoing its output, failing when the recap shows changes and
# $1 is "no-changes".
play() {
    local expect=$1; shift
    local out="${CACHE_DIR}/demo-play.out"
    log "ansible-playbook $*"
    ansible-playbook -i "${inventory}" "$@" "${REPO_ROOT}/site.yml" | tee "${out}"
    if [ "${expect}" = no-changes ] && grep -Eq 'changed=[1-9]' "${out}"; then
        die "the second run changed something; site.yml is not idempotent"
    fi
}

"${REPO_ROOT}/scripts/setup.sh"
"${REPO_ROOT}/scripts/layout.sh"
use_venv
if [ -n "${INVENTORY:-}" ]; then
    inventory="$(realpath "${INVENTORY}")"
else
    inventory="${REPO_ROOT}/inventory/local"
    start_container
fi
export ANSIBLE_NOCOLOR=1 ANSIBLE_INJECT_FACT_VARS=false
play any --check --diff
play any
play no-changes
log "done; 'make demo-clean' removes ${CONTAINER}"
