#!/usr/bin/env bash
# Build the systemd Debian image the molecule scenarios and `make demo` boot,
# from Debian's packages (no registry needed). Skipped when an image with the
# same recipe hash exists. With LXCHOST_IMAGE set to another name the image is
# used as given (pulled if absent) and nothing is built.
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"

DEFAULT_IMAGE="lxchost/debian-systemd:bookworm"
SUITE="bookworm"
# Keep lean: every scenario boots this. Scenarios needing more (kernel build
# tools, ...) add them here so nothing hits the network at converge time.
PACKAGES=(
    python3 systemd systemd-sysv dbus iproute2 kmod util-linux procps
    lxc            # gives the real lxc-checkconfig, a peer to compare against
    xz-utils bzip2 zstd gzip   # compressed kernel configs (/proc/config.gz, ...)
)

if [ "${LXCHOST_IMAGE}" != "${DEFAULT_IMAGE}" ]; then
    if ! docker image inspect "${LXCHOST_IMAGE}" >/dev/null 2>&1; then
        log "pulling ${LXCHOST_IMAGE}"
        docker pull "${LXCHOST_IMAGE}"
    fi
    exit 0
fi

# The recipe hash covers this script (package list, post-install steps).
RECIPE="$(sha256sum "$0" | cut -c1-16)"
have="$(docker image inspect -f '{{ index .Config.Labels "org.lxchost.recipe" }}' \
    "${DEFAULT_IMAGE}" 2>/dev/null || true)"
if [ "${have}" = "${RECIPE}" ]; then
    log "image ${DEFAULT_IMAGE} is current (recipe ${RECIPE})"
    exit 0
fi

MIRROR="$(apt_mirror "${SUITE}")"
[ -n "${MIRROR}" ] || die "no ${SUITE} mirror in /etc/apt/sources*; set LXCHOST_MIRROR"

ROOTFS="$(mktemp -d /var/tmp/lxchost-rootfs.XXXXXX)"
trap 'rm -rf "${ROOTFS}"' EXIT
log "debootstrap ${SUITE} from ${MIRROR} into ${ROOTFS}"
includes="$(IFS=,; echo "${PACKAGES[*]}")"
debootstrap --variant=minbase --include="${includes}" "${SUITE}" "${ROOTFS}" "${MIRROR}" \
    >"${CACHE_DIR}/debootstrap.log" 2>&1 \
    || { tail -n 40 "${CACHE_DIR}/debootstrap.log" >&2; die "debootstrap failed"; }

# Container hygiene: no consoles to wait for, a fresh machine-id per container,
# no package caches in the image.
chroot "${ROOTFS}" systemctl mask getty.target console-getty.service \
    systemd-udevd.service systemd-udevd-kernel.socket systemd-udevd-control.socket \
    lxc-net.service lxc.service >/dev/null 2>&1 || true
: >"${ROOTFS}/etc/machine-id"
rm -rf "${ROOTFS}"/var/cache/apt/archives/*.deb "${ROOTFS}"/var/lib/apt/lists/*

log "importing ${DEFAULT_IMAGE}"
tar -C "${ROOTFS}" -c . | docker import \
    -c 'CMD ["/lib/systemd/systemd"]' \
    -c 'ENV container=docker' \
    -c "LABEL org.lxchost.recipe=${RECIPE}" \
    - "${DEFAULT_IMAGE}" >/dev/null
log "built ${DEFAULT_IMAGE} (recipe ${RECIPE})"
