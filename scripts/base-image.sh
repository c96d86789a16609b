#!/usr/bin/env bash
# Build the systemd Debian images the molecule scenarios and `make demo` boot,
# from Debian's packages (no registry needed): lxchost/debian-systemd:SUITE for
# Debian 11 (bullseye), 12 (bookworm) and 13 (trixie).
#   scripts/base-image.sh                  the image LXCHOST_IMAGE names (bookworm by default)
#   scripts/base-image.sh bullseye trixie  these
# An image with the same recipe hash is kept. With LXCHOST_IMAGE set to an image that
# is not one of these, that image is used as given (pulled if absent).
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"

IMAGE_PREFIX="lxchost/debian-systemd:"
SUITES=(bullseye bookworm trixie)
# Keep lean: every scenario boots this. Scenarios needing more (kernel build
# tools, ...) add them here so nothing hits the network at converge time.
PACKAGES=(
    python3 systemd systemd-sysv dbus iproute2 kmod util-linux procps
    lxc            # gives the real lxc-checkconfig, a peer to compare against
    xz-utils bzip2 zstd gzip   # compressed kernel configs (/proc/config.gz, ...)
)

if [ "$#" -eq 0 ]; then
    suite="${LXCHOST_IMAGE#"${IMAGE_PREFIX}"}"
    if [ "${suite}" = "${LXCHOST_IMAGE}" ] || [[ " ${SUITES[*]} " != *" ${suite} "* ]]; then
        if ! docker image inspect "${LXCHOST_IMAGE}" >/dev/null 2>&1; then
            log "pulling ${LXCHOST_IMAGE}"
            docker pull "${LXCHOST_IMAGE}"
        fi
        exit 0
    fi
    set -- "${suite}"
fi

# The recipe hash covers this script (package list, post-install steps).
RECIPE="$(sha256sum "$0" | cut -c1-16)"

build_image() {
    local suite=$1 image="${IMAGE_PREFIX}$1" have mirror rootfs includes
    [[ " ${SUITES[*]} " == *" ${suite} "* ]] || die "unknown suite ${suite} (known: ${SUITES[*]})"
    have="$(docker image inspect -f '{{ index .Config.Labels "org.lxchost.recipe" }}' \
        "${image}" 2>/dev/null || true)"
    if [ "${have}" = "${RECIPE}" ]; then
        log "image ${image} is current (recipe ${RECIPE})"
        return 0
    fi

    # The mirror this machine uses for SUITE, else the one of its own release: Debian's
    # archive serves every suite from the same address.
    mirror="$(apt_mirror "${suite}")"
    [ -n "${mirror}" ] || mirror="$(apt_mirror "$(sed -n 's/^VERSION_CODENAME=//p' /etc/os-release)")"
    [ -n "${mirror}" ] || die "no Debian mirror in /etc/apt/sources*; set LXCHOST_MIRROR"

    rootfs="$(mktemp -d /var/tmp/lxchost-rootfs.XXXXXX)"
    # shellcheck disable=SC2064  # the path is fixed now; the trap outlives this function
    trap "rm -rf '${rootfs}'" EXIT
    log "debootstrap ${suite} from ${mirror} into ${rootfs}"
    includes="$(IFS=,; echo "${PACKAGES[*]}")"
    debootstrap --variant=minbase --include="${includes}" "${suite}" "${rootfs}" "${mirror}" \
        >"${CACHE_DIR}/debootstrap-${suite}.log" 2>&1 \
        || { tail -n 40 "${CACHE_DIR}/debootstrap-${suite}.log" >&2; die "debootstrap ${suite} failed"; }

    # Container hygiene: no consoles to wait for, a fresh machine-id per container,
    # no package caches in the image.
    chroot "${rootfs}" systemctl mask getty.target console-getty.service \
        systemd-udevd.service systemd-udevd-kernel.socket systemd-udevd-control.socket \
        lxc-net.service lxc.service >/dev/null 2>&1 || true
    : >"${rootfs}/etc/machine-id"
    rm -rf "${rootfs}"/var/cache/apt/archives/*.deb "${rootfs}"/var/lib/apt/lists/*

    log "importing ${image}"
    tar -C "${rootfs}" -c . | docker import \
        -c 'CMD ["/lib/systemd/systemd"]' \
        -c 'ENV container=docker' \
        -c "LABEL org.lxchost.recipe=${RECIPE}" \
        - "${image}" >/dev/null
    rm -rf "${rootfs}"
    trap - EXIT
    log "built ${image} (recipe ${RECIPE})"
}

for suite in "$@"; do
    build_image "${suite}"
done
