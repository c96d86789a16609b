#!/usr/bin/env bash
# The main job, end to end: start the disposable local hosts of inventory/local (one systemd
# Debian 12 container per host), then run site.yml three times: --check --diff (the readiness
# report; changes nothing), for real, and again (which must change nothing), and end with
# the proof container's output from the fleet report.
#   scripts/demo.sh                      the local containers (fresh ones each time)
#   VM=1 scripts/demo.sh                 two local VMs that boot (qemu: a systemd one and a
#                                        sysvinit one) and a kernel builder container: the kernel
#                                        is built once, installed on both, booted through GRUB
#                                        (a one-shot boot first), then cgroups, lxc-net, the proof
#   INVENTORY=path scripts/demo.sh       your own hosts instead (nothing is started)
#   scripts/demo.sh clean                remove the demo containers and VMs
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
start_containers() { start_containers_from "${LXCHOST_IMAGE}" "$@"; }

start_containers_from() {
    local image=$1 privilege=() cap name state
    shift
    if [ "${LXCHOST_PRIVILEGED:-false}" = true ]; then
        privilege=(--privileged)
    else
        privilege=(--cap-drop ALL)
        for cap in "${CAPS[@]}"; do privilege+=(--cap-add "${cap}"); done
    fi
    for name in "$@"; do
        docker rm -f "${name}" >/dev/null 2>&1 || true
        log "starting ${name} from ${image}"
        docker run -d --name "${name}" --hostname "${name}" "${privilege[@]}" \
            --security-opt seccomp=unconfined --security-opt apparmor=unconfined \
            --cgroupns host -v /sys/fs/cgroup:/sys/fs/cgroup:rw \
            --tmpfs /run --tmpfs /run/lock --label org.lxchost.demo=1 \
            "${image}" /lib/systemd/systemd >/dev/null
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

VM_NAMES=(lxchost-demo-vm-systemd lxchost-demo-vm-legacy)
VM_BUILDER=lxchost-demo-builder
VM_INVENTORY="${CACHE_DIR}/demo-vm/hosts.yml"

# The builder container and the two VMs; writes their inventory (ssh to each VM, the docker
# connection to the builder) with what site.yml needs to build, install and boot a kernel.
start_vms() {
    local name kind json
    log "building the builder image and starting ${VM_BUILDER}"
    docker build -q -t lxchost/kernel-builder:bookworm --build-arg "BASE_IMAGE=${LXCHOST_IMAGE}" \
        "${REPO_ROOT}/extensions/molecule/resources/builder" >/dev/null
    start_containers_from lxchost/kernel-builder:bookworm "${VM_BUILDER}"
    mkdir -p "$(dirname "${VM_INVENTORY}")"
    {
        echo "# Written by scripts/demo.sh (VM=1): two local VMs and a kernel builder."
        echo "all:"
        echo "  children:"
        echo "    kernel_builders:"
        echo "      hosts:"
        echo "        ${VM_BUILDER}: {ansible_connection: community.docker.docker, ansible_python_interpreter: /usr/bin/python3}"
        echo "    lxc_hosts:"
        echo "      hosts:"
        for name in "${VM_NAMES[@]}"; do
            kind="${name##*-}"
            log "starting VM ${name} (${kind}); under software emulation it takes a minute or two"
            json="$("${REPO_ROOT}/scripts/vm.sh" start "${name}" "${kind}")"
            log "${name}: ${json}"
            python3 - "${name}" "${json}" <<'PY'
import json, sys
vm = json.loads(sys.argv[2])
print("        %s: {ansible_host: %s, ansible_port: %d, ansible_user: %s, ansible_ssh_private_key_file: %s, "
      "ansible_ssh_common_args: '-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null'}"
      % (sys.argv[1], vm["address"], vm["port"], vm["user"], vm["identity_file"]))
PY
        done
        echo "      vars:"
        echo "        lxchost_site_build_kernel: always"
        echo "        kernel_build_builder: ${VM_BUILDER}"
        echo "        kernel_build_base_config: tinyconfig"
        echo "        kernel_build_config_fragments: ['${REPO_ROOT}/extensions/molecule/resources/vm/kvm-guest-debian.config']"
        echo "        kernel_build_config_options: {MULTIUSER: y, INET: y, IP_NF_MANGLE: y, BRIDGE: m, VETH: m}"
        echo "        kernel_build_reboot: true"
        echo "        kernel_build_min_disk_gb: 3"
        echo "        kernel_build_fetch_dir: '${CACHE_DIR}/demo-vm/kernel-packages'"
    } >"${VM_INVENTORY}"
}

if [ "${1:-}" = clean ]; then
    if command -v docker >/dev/null && docker info >/dev/null 2>&1; then
        ids="$(docker ps -aq --filter label=org.lxchost.demo=1)"
        # shellcheck disable=SC2086  # one id per word
        [ -z "${ids}" ] || docker rm -f ${ids} >/dev/null
    fi
    for name in "${VM_NAMES[@]}"; do "${REPO_ROOT}/scripts/vm.sh" stop "${name}"; done
    log "removed the demo containers and VMs (if any)"
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
elif [ "${VM:-0}" = 1 ]; then
    "${REPO_ROOT}/scripts/docker-up.sh"
    "${REPO_ROOT}/scripts/base-image.sh"
    start_vms
    inventory="${VM_INVENTORY}"
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
