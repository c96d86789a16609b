#!/usr/bin/env bash
# Disposable Debian VMs for tests and demos: qemu with a copy-on-write overlay of a disk image
# from scripts/vm-image.sh, SSH forwarded from a free port on 127.0.0.1, a serial console log.
# The VM reboots in place (a guest reboot goes through SeaBIOS and GRUB again).
#   scripts/vm.sh start NAME KIND    start (or find running) VM NAME of KIND (systemd|legacy);
#                                    prints one JSON line: name, address, port, user,
#                                    identity_file, console, accel, boot_seconds
#   scripts/vm.sh stop NAME          stop it (by its own pid file, never by name) and forget it
#   scripts/vm.sh ssh NAME [CMD...]  run a command in it
# Environment: LXCHOST_VM_DIR (state, default .cache/vm/run), LXCHOST_VM_MEMORY (MiB, 1024),
# LXCHOST_VM_CPUS (2), LXCHOST_VM_ACCEL (auto|kvm|tcg; auto probes KVM once, then TCG),
# LXCHOST_VM_BOOT_TIMEOUT (seconds to wait for SSH, 300).
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"

RUN_DIR="${LXCHOST_VM_DIR:-${CACHE_DIR}/vm/run}"
KEY="${CACHE_DIR}/vm/id_ed25519"
MEMORY="${LXCHOST_VM_MEMORY:-1024}"
CPUS="${LXCHOST_VM_CPUS:-2}"
BOOT_TIMEOUT="${LXCHOST_VM_BOOT_TIMEOUT:-300}"
SSH_OPTS=(-o BatchMode=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null
          -o LogLevel=ERROR -o ConnectTimeout=5 -o IdentitiesOnly=yes)

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# The pid of NAME's qemu, if it runs: the pid file's process must be a qemu started with
# this VM's own pid file (a recycled pid is not ours).
vm_pid() {
    local dir="${RUN_DIR}/$1" pid
    [ -f "${dir}/pid" ] || return 1
    pid="$(cat "${dir}/pid")"
    [ -r "/proc/${pid}/cmdline" ] && tr '\0' ' ' <"/proc/${pid}/cmdline" | grep -qF -- "${dir}/pid" || return 1
    echo "${pid}"
}

# KVM answers /dev/kvm on these machines but its guests hang before the boot loader: boot the
# image for a few seconds under KVM and keep KVM only if GRUB printed something. Probed once.
accel() {
    local image=$1 probe="${CACHE_DIR}/vm/accel" dir
    case "${LXCHOST_VM_ACCEL:-auto}" in kvm|tcg) echo "${LXCHOST_VM_ACCEL}"; return ;; esac
    if [ ! -f "${probe}" ]; then
        echo tcg >"${probe}"
        if [ -w /dev/kvm ]; then
            dir="$(mktemp -d)"
            timeout 10 qemu-system-x86_64 -accel kvm -m 256 -display none -monitor none \
                -serial "file:${dir}/console" -snapshot -drive "file=${image},if=virtio,format=raw" \
                >/dev/null 2>&1 || true
            if grep -qaE 'GRUB|Booting|Linux version' "${dir}/console" 2>/dev/null; then echo kvm >"${probe}"; fi
            rm -rf "${dir}"
        fi
        log "VM acceleration: $(cat "${probe}") (probed once; remove ${probe} to probe again)"
    fi
    cat "${probe}"
}

ssh_vm() {
    local port=$1; shift
    ssh "${SSH_OPTS[@]}" -i "${KEY}" -p "${port}" root@127.0.0.1 "$@"
}

start() {
    local name=$1 kind=$2 dir image port acc pid started cpu
    dir="${RUN_DIR}/${name}"
    image="$("${REPO_ROOT}/scripts/vm-image.sh" "${kind}")"
    mkdir -p "${dir}"
    started=${SECONDS}
    if ! pid="$(vm_pid "${name}")"; then
        port="$(free_port)"
        acc="$(accel "${image}")"
        cpu=(-cpu max)
        [ "${acc}" = kvm ] && cpu=(-cpu host)
        rm -f "${dir}/disk.qcow2" "${dir}/console.log"
        qemu-img create -q -f qcow2 -F raw -b "${image}" "${dir}/disk.qcow2"
        echo "${port}" >"${dir}/port"
        echo "${acc}" >"${dir}/accel"
        echo "${kind}" >"${dir}/kind"
        qemu-system-x86_64 -name "${name}" -accel "${acc}" "${cpu[@]}" -m "${MEMORY}" -smp "${CPUS}" \
            -display none -monitor none -serial "file:${dir}/console.log" \
            -drive "file=${dir}/disk.qcow2,if=virtio,format=qcow2" \
            -netdev "user,id=n0,hostfwd=tcp:127.0.0.1:${port}-:22" -device virtio-net-pci,netdev=n0 \
            -daemonize -pidfile "${dir}/pid"
    fi
    port="$(cat "${dir}/port")"
    until ssh_vm "${port}" true 2>/dev/null; do
        if ! vm_pid "${name}" >/dev/null; then
            tail -n 30 "${dir}/console.log" >&2 || true
            die "VM ${name} stopped while booting (console: ${dir}/console.log)"
        fi
        if [ $((SECONDS - started)) -ge "${BOOT_TIMEOUT}" ]; then
            tail -n 30 "${dir}/console.log" >&2 || true
            die "VM ${name} did not answer SSH within ${BOOT_TIMEOUT}s (console: ${dir}/console.log)"
        fi
        sleep 2
    done
    printf '{"name": "%s", "kind": "%s", "address": "127.0.0.1", "port": %s, "user": "root", "identity_file": "%s", "console": "%s", "accel": "%s", "boot_seconds": %s}\n' \
        "${name}" "$(cat "${dir}/kind")" "${port}" "${KEY}" "${dir}/console.log" "$(cat "${dir}/accel")" "$((SECONDS - started))"
}

stop() {
    local name=$1 dir pid
    dir="${RUN_DIR}/${name}"
    if pid="$(vm_pid "${name}")"; then
        kill "${pid}"
        for _ in $(seq 20); do [ -d "/proc/${pid}" ] || break; sleep 0.5; done
        [ ! -d "/proc/${pid}" ] || kill -9 "${pid}"
    fi
    rm -rf "${dir}"
}

case "${1:-}" in
    start) [ $# -eq 3 ] || die "usage: $0 start NAME systemd|legacy"; start "$2" "$3" ;;
    stop) [ $# -eq 2 ] || die "usage: $0 stop NAME"; stop "$2" ;;
    ssh) [ $# -ge 2 ] || die "usage: $0 ssh NAME [CMD...]"; name=$2; shift 2
         ssh_vm "$(cat "${RUN_DIR}/${name}/port")" "$@" ;;
    *) die "usage: $0 start NAME KIND | stop NAME | ssh NAME [CMD...]" ;;
esac
