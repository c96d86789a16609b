#!/usr/bin/env bash
# The main job, end to end: start the disposable local hosts of inventory/local (one systemd
# Debian 12 container per host), then run site.yml three times: --check --diff (the readiness
# report; changes nothing), for real, and again (which must change nothing), and end with
# the proof container's output from the fleet report.
#   scripts/demo.sh                      the local containers (fresh ones each time)
#   INVENTORY=path scripts/demo.sh       your own hosts instead (nothing is started)
#   scripts/demo.sh clean                remove the demo containers
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"

LOCAL_INVENTORY="${REPO_ROOT}/inventory/local"
# Same capabilities as the molecule platform (extensions/molecule/config.yml).
CAPS=(CHOWN DAC_OVERRIDE DAC_READ_SEARCH FOWNER FSETID KILL SETGID SETUID SETPCAP
      LINUX_IMMUTABLE NET_BIND_SERVICE NET_BROADCAST NET_ADMIN NET_RAW IPC_LOCK IPC_OWNER
      SYS_MODULE SYS_RAWIO SYS_CHROOT SYS_PTRACE SYS_PACCT SYS_ADMIN SYS_BOOT SYS_NICE
      SYS_TIME SYS_TTY_CONFIG MKNOD LEASE AUDIT_WRITE AUDIT_CONTROL SETFCAP MAC_OVERRIDE
      MAC_ADMIN SYSLOG WAKE_ALARM BLOCK_SUSPEND AUDIT_READ)

# The container names are the hosts of the local inventory that use the docker connection.
local_hosts() {
    ansible-inventory -i "${LOCAL_INVENTORY}" --list | python3 -c '
import json, sys
inv = json.load(sys.stdin)
for host, hv in sorted(inv.get("_meta", {}).get("hostvars", {}).items()):
    if hv.get("ansible_connection") == "community.docker.docker":
        print(host)'
}

# Start one fresh container per name given; wait until systemd answers in each.
start_containers() {
    local privilege=() cap name state
    if [ "${LXCHOST_PRIVILEGED:-false}" = true ]; then
        privilege=(--privileged)
    else
        privilege=(--cap-drop ALL)
        for cap in "${CAPS[@]}"; do privilege+=(--cap-add "${cap}"); done
    fi
    for name in "$@"; do
        docker rm -f "${name}" >/dev/null 2>&1 || true
        log "starting ${name} from ${LXCHOST_IMAGE}"
        docker run -d --name "${name}" --hostname "${name}" "${privilege[@]}" \
            --security-opt seccomp=unconfined --security-opt apparmor=unconfined \
            --cgroupns host -v /sys/fs/cgroup:/sys/fs/cgroup:rw \
            --tmpfs /run --tmpfs /run/lock --label org.lxchost.demo=1 \
            "${LXCHOST_IMAGE}" /lib/systemd/systemd >/dev/null
    done
    for name in "$@"; do
        # systemd takes a moment; "degraded" still means it booted.
        state=
        for _ in $(seq 30); do
            state="$(docker exec "${name}" systemctl is-system-running 2>/dev/null || true)"
            case "${state}" in running|degraded) break ;; esac
            sleep 1
        done
        log "${name}: systemd ${state:-not answering}"
    done
}

# ansible-playbook site.yml, echoing its output; with "no-changes" first, fail when the
# recap shows a change.
play() {
    local expect=$1; shift
    local out="${CACHE_DIR}/demo-play.out"
    log "ansible-playbook -i ${inventory} site.yml $*"
    (cd "${REPO_ROOT}" && ansible-playbook -i "${inventory}" "$@" site.yml) | tee "${out}"
    if [ "${expect}" = no-changes ] && grep -Eq 'changed=[1-9]' "${out}"; then
        die "the last run changed something; site.yml is not idempotent"
    fi
}

if [ "${1:-}" = clean ]; then
    if command -v docker >/dev/null && docker info >/dev/null 2>&1; then
        ids="$(docker ps -aq --filter label=org.lxchost.demo=1)"
        # shellcheck disable=SC2086  # one id per word
        [ -z "${ids}" ] || docker rm -f ${ids} >/dev/null
    fi
    log "removed the demo containers (if any)"
    exit 0
fi

"${REPO_ROOT}/scripts/setup.sh"
"${REPO_ROOT}/scripts/layout.sh"
use_venv
export ANSIBLE_NOCOLOR=1 LXCHOST_FLEET_REPORT_DIR="${REPO_ROOT}/.cache/fleet-report"
# Facts cached by an earlier demo belong to containers that no longer exist.
export ANSIBLE_CACHE_PLUGIN_CONNECTION="${CACHE_DIR}/demo-facts"
rm -rf "${ANSIBLE_CACHE_PLUGIN_CONNECTION}"
if [ -n "${INVENTORY:-}" ]; then
    inventory="$(realpath "${INVENTORY}")"
else
    inventory="${LOCAL_INVENTORY}"
    "${REPO_ROOT}/scripts/docker-up.sh"
    "${REPO_ROOT}/scripts/base-image.sh"
    mapfile -t hosts < <(local_hosts)
    [ "${#hosts[@]}" -gt 0 ] || die "no docker hosts in ${LOCAL_INVENTORY}"
    start_containers "${hosts[@]}"
fi

log "1/3: the readiness report (--check --diff changes nothing)"
play any --check --diff
log "2/3: for real"
play any
log "3/3: again, which must change nothing"
play no-changes
log "the proof containers' output (from ${LXCHOST_FLEET_REPORT_DIR}/fleet-report.json):"
python3 - "${LXCHOST_FLEET_REPORT_DIR}/fleet-report.json" <<'PY'
import json, sys
report = json.load(open(sys.argv[1]))
for host in report["hosts"]:
    print("%s (network %s):" % (host["host"], host["network"]))
    for line in host["proof"] or ["no proof: %s" % (host["error"] or "did not run")]:
        print("    " + line)
PY
log "done; 'make demo-clean' removes the demo containers"
