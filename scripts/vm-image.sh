#!/usr/bin/env bash
# Build a bootable Debian 12 disk image for the VM test hosts, from Debian's packages only
# (no cloud image download, no registry): a partitioned raw disk with GRUB in its MBR, so a
# kernel installed inside boots the way a VPS boots it (update-grub, reboot, GRUB picks it).
#   scripts/vm-image.sh systemd    Debian 12 with systemd (cgroup v2): the common VPS
#   scripts/vm-image.sh legacy     Debian 12 with sysvinit-core and nothing that mounts cgroups
#                                  at boot: the closest to the Squeeze VPS of the classic guide
# Prints the image's path. Cached: an image of the same recipe (this script's hash) is reused.
# Also writes the SSH key pair the images trust (.cache/vm/id_ed25519), made once.
# Needs root (debootstrap, a loop device, chroot).
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"

KIND="${1:-}"
SUITE=bookworm
VM_DIR="${CACHE_DIR}/vm"
KEY="${VM_DIR}/id_ed25519"
DISK_SIZE=4G

COMMON=(python3 openssh-server iproute2 kmod procps udev initramfs-tools zstd
        linux-image-cloud-amd64 grub-pc ca-certificates)
case "${KIND}" in
    systemd) PACKAGES=("${COMMON[@]}" systemd systemd-sysv dbus) ;;
    # sysvinit: no systemd as PID 1, so nothing mounts a cgroup at boot; ifupdown with DHCP.
    legacy) PACKAGES=("${COMMON[@]}" sysvinit-core ifupdown isc-dhcp-client) ;;
    *) die "usage: $0 systemd|legacy" ;;
esac

mkdir -p "${VM_DIR}"
[ -f "${KEY}" ] || ssh-keygen -q -t ed25519 -N '' -C lxchost-vm-test -f "${KEY}"

RECIPE="$( { cat "$0"; echo "${KIND}"; cat "${KEY}.pub"; } | sha256sum | cut -c1-12)"
IMAGE="${VM_DIR}/${KIND}-${RECIPE}.img"
if [ -f "${IMAGE}" ]; then
    echo "${IMAGE}"
    exit 0
fi
for tool in debootstrap sfdisk losetup partx mkfs.ext4; do
    command -v "${tool}" >/dev/null || die "${tool} is missing: run 'make setup'"
done

MIRROR="$(apt_mirror "${SUITE}")"
[ -n "${MIRROR}" ] || die "no ${SUITE} mirror in /etc/apt/sources*; set LXCHOST_MIRROR"

WORK="$(mktemp -d /var/tmp/lxchost-vm.XXXXXX)"
ROOTFS="${WORK}/rootfs"
MNT="${WORK}/mnt"
LOOP=""
cleanup() {
    local m
    for m in dev/pts dev proc sys; do umount "${MNT}/${m}" 2>/dev/null || true; done
    umount "${MNT}" 2>/dev/null || true
    [ -z "${LOOP}" ] || losetup -d "${LOOP}" 2>/dev/null || true
    rm -rf "${WORK}"
}
trap cleanup EXIT

log "debootstrap ${SUITE} (${KIND}) from ${MIRROR}"
# grub-pc asks which disk to install to: nothing here (grub-install runs below on the image).
export DEBIAN_FRONTEND=noninteractive
debootstrap --variant=minbase --include="$(IFS=,; echo "${PACKAGES[*]}")" \
    "${SUITE}" "${ROOTFS}" "${MIRROR}" >"${WORK}/debootstrap.log" 2>&1 \
    || { tail -n 40 "${WORK}/debootstrap.log" >&2; die "debootstrap failed"; }

# A fresh VPS: root logs in with a key, DHCP on the first NIC, the provider's resolver
# (qemu's user network answers DNS at 10.0.2.3), a serial console, GRUB as Debian sets it.
echo "lxchost-vm" >"${ROOTFS}/etc/hostname"
printf '127.0.0.1\tlocalhost\n127.0.1.1\tlxchost-vm\n' >"${ROOTFS}/etc/hosts"
echo "nameserver 10.0.2.3" >"${ROOTFS}/etc/resolv.conf"
install -d -m 0700 "${ROOTFS}/root/.ssh"
install -m 0600 "${KEY}.pub" "${ROOTFS}/root/.ssh/authorized_keys"
: >"${ROOTFS}/etc/machine-id"
# Debian's stock setting (GRUB_DEFAULT=0) stays: making the boot safe is the role's job.
sed -i -e 's/^GRUB_TIMEOUT=.*/GRUB_TIMEOUT=1/' \
    -e 's/^GRUB_CMDLINE_LINUX=.*/GRUB_CMDLINE_LINUX="console=ttyS0,115200 net.ifnames=0"/' \
    "${ROOTFS}/etc/default/grub"
cat >>"${ROOTFS}/etc/default/grub" <<'EOF'
GRUB_TERMINAL=serial
GRUB_SERIAL_COMMAND="serial --unit=0 --speed=115200"
EOF
case "${KIND}" in
    systemd)
        cat >"${ROOTFS}/etc/systemd/network/20-wired.network" <<'EOF'
[Match]
Name=en* eth*

[Network]
DHCP=yes
EOF
        chroot "${ROOTFS}" systemctl enable systemd-networkd ssh >/dev/null 2>&1
        chroot "${ROOTFS}" systemctl mask getty@tty1.service >/dev/null 2>&1 || true
        ;;
    legacy)
        cat >"${ROOTFS}/etc/network/interfaces" <<'EOF'
auto lo
iface lo inet loopback

allow-hotplug eth0
iface eth0 inet dhcp

allow-hotplug ens3
iface ens3 inet dhcp
EOF
        ;;
esac
rm -f "${ROOTFS}"/etc/ssh/ssh_host_*
# Host keys made at first boot, one set per VM (the image is shared): by ssh.service itself
# under systemd; under sysvinit by rc.local, which runs last and then starts sshd.
if [ "${KIND}" = systemd ]; then
    mkdir -p "${ROOTFS}/etc/systemd/system/ssh.service.d"
    printf '[Service]\nExecStartPre=\nExecStartPre=/usr/bin/ssh-keygen -A\nExecStartPre=/usr/sbin/sshd -t\n' \
        >"${ROOTFS}/etc/systemd/system/ssh.service.d/host-keys.conf"
else
    printf '%s\n' '#!/bin/sh' 'if [ ! -e /etc/ssh/ssh_host_ed25519_key ]; then' \
        '    ssh-keygen -A && /etc/init.d/ssh start' 'fi' 'exit 0' >"${ROOTFS}/etc/rc.local"
    chmod 0755 "${ROOTFS}/etc/rc.local"
fi
rm -rf "${ROOTFS}"/var/cache/apt/archives/*.deb "${ROOTFS}"/var/lib/apt/lists/*

log "making a ${DISK_SIZE} disk with one partition and GRUB"
RAW="${WORK}/disk.img"
truncate -s "${DISK_SIZE}" "${RAW}"
echo 'label: dos
start=2048, type=83, bootable' | sfdisk -q "${RAW}"
LOOP="$(losetup -fP --show "${RAW}")"
# The partition node does not always appear by itself (no udev here).
[ -b "${LOOP}p1" ] || partx -a "${LOOP}" 2>/dev/null || true
if [ ! -b "${LOOP}p1" ]; then
    dev="$(cat "/sys/block/$(basename "${LOOP}")/$(basename "${LOOP}")p1/dev")"
    mknod "${LOOP}p1" b "${dev%%:*}" "${dev##*:}"
fi
mkfs.ext4 -q -L root "${LOOP}p1"
UUID="$(blkid -s UUID -o value "${LOOP}p1")"
mkdir -p "${MNT}"
mount "${LOOP}p1" "${MNT}"
cp -a "${ROOTFS}"/. "${MNT}"/
echo "UUID=${UUID} / ext4 errors=remount-ro 0 1" >"${MNT}/etc/fstab"
for m in dev dev/pts proc sys; do mount --bind "/${m}" "${MNT}/${m}"; done
chroot "${MNT}" grub-install --target=i386-pc "${LOOP}" >"${WORK}/grub.log" 2>&1 \
    || { cat "${WORK}/grub.log" >&2; die "grub-install failed"; }
chroot "${MNT}" update-grub >>"${WORK}/grub.log" 2>&1 || { cat "${WORK}/grub.log" >&2; die "update-grub failed"; }
# Without udev in the chroot update-grub names the loop device; inside the VM later runs of
# update-grub find the UUID themselves.
sed -i "s|root=${LOOP}p1|root=UUID=${UUID}|g" "${MNT}/boot/grub/grub.cfg"
grep -q "root=UUID=${UUID}" "${MNT}/boot/grub/grub.cfg" || die "grub.cfg has no root=UUID line"
sync
for m in dev/pts dev proc sys; do umount "${MNT}/${m}"; done
umount "${MNT}"
losetup -d "${LOOP}"
LOOP=""
mv "${RAW}" "${IMAGE}.tmp"
mv "${IMAGE}.tmp" "${IMAGE}"
# Older recipes of this kind are no longer used.
find "${VM_DIR}" -maxdepth 1 -name "${KIND}-*.img" ! -name "$(basename "${IMAGE}")" -delete
log "built ${IMAGE}"
echo "${IMAGE}"
