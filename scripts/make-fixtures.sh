#!/usr/bin/env bash
# Regenerate the *generated* kernel config fixtures in tests/fixtures/configs/.
# The hand-made ones (handmade-*, synthetic-*, bad-*, no-header*) are written by hand and
# are not touched. See tests/fixtures/configs/README.md for what each fixture is for.
#
# Needs (Debian 12): linux-source-6.1 linux-config-6.1 flex bison bc gcc make xz-utils,
# and apt access for the arm64 config. Nothing is installed or changed on the host:
# the source is unpacked under a temporary directory and the arm64 package is fetched with
# a private apt state directory.
#
#   scripts/make-fixtures.sh            # all generated fixtures
#   WORK=/tmp/kfix scripts/make-fixtures.sh   # keep the unpacked tree for a re-run
set -euo pipefail

# shellcheck source=scripts/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

OUT="${REPO_ROOT}/tests/fixtures/configs"
SOURCE_TARBALL=/usr/src/linux-source-6.1.tar.xz
DEBIAN_CONFIGS=/usr/src/linux-config-6.1
WORK="${WORK:-$(mktemp -d /tmp/lxchost-fixtures.XXXXXX)}"
mkdir -p "${WORK}"

[ -f "${SOURCE_TARBALL}" ] || die "${SOURCE_TARBALL} missing: apt-get install linux-source-6.1"
[ -d "${DEBIAN_CONFIGS}" ] || die "${DEBIAN_CONFIGS} missing: apt-get install linux-config-6.1"

# Kconfig targets only need the host compiler for scripts/kconfig; no kernel is built.
SRC="${WORK}/linux-source-6.1"
if [ ! -f "${SRC}/Makefile" ]; then
    log "unpacking ${SOURCE_TARBALL} into ${WORK}"
    tar -xJf "${SOURCE_TARBALL}" -C "${WORK}"
fi

kconfig() {  # kconfig <target> <objdir>
    mkdir -p "$2"
    make -s -C "${SRC}" O="$2" ARCH=x86_64 "$1" >/dev/null
}

for target in tinyconfig defconfig allmodconfig; do
    log "make ${target}"
    kconfig "${target}" "${WORK}/${target}"
done
cp "${WORK}/tinyconfig/.config" "${OUT}/linux-6.1-tinyconfig.config"
cp "${WORK}/defconfig/.config" "${OUT}/linux-6.1-defconfig.config"
xz -9 -c "${WORK}/allmodconfig/.config" > "${OUT}/linux-6.1-allmodconfig.config.xz"

# tinyconfig plus what LXC needs (and the dependencies Kconfig would not pull in by itself).
# Some options as modules, so the "module" status is exercised too.
LXC_BUILTIN="MULTIUSER SMP MODULES MODULE_UNLOAD NET INET IPV6 UNIX PACKET NETDEVICES NET_CORE
 NETFILTER BPF_SYSCALL NAMESPACES UTS_NS IPC_NS PID_NS USER_NS NET_NS CGROUPS CGROUP_DEVICE
 CGROUP_SCHED CGROUP_CPUACCT MEMCG CPUSETS CGROUP_PIDS CGROUP_FREEZER CGROUP_BPF NETFILTER_ADVANCED
 CHECKPOINT_RESTORE FHANDLE EVENTFD EPOLL SECCOMP SECCOMP_FILTER POSIX_MQUEUE SYSVIPC FILE_LOCKING
 PROC_FS SYSFS TMPFS DEVTMPFS FUTEX SHMEM TTY PRINTK BLOCK BINFMT_ELF"
LXC_MODULES="VETH MACVLAN VLAN_8021Q BRIDGE NF_CONNTRACK NF_NAT NETFILTER_XTABLES IP_NF_IPTABLES
 IP_NF_NAT IP6_NF_IPTABLES IP6_NF_NAT IP_NF_TARGET_MASQUERADE IP6_NF_TARGET_MASQUERADE IP_NF_MANGLE
 IP6_NF_MANGLE NETFILTER_XT_TARGET_CHECKSUM NETFILTER_XT_MATCH_COMMENT FUSE_FS UNIX_DIAG INET_DIAG
 PACKET_DIAG NETLINK_DIAG NF_TABLES"
log "tinyconfig + LXC options"
mkdir -p "${WORK}/tinylxc"
cp "${WORK}/tinyconfig/.config" "${WORK}/tinylxc/.config"
args=()
for sym in ${LXC_BUILTIN}; do args+=(--enable "${sym}"); done
for sym in ${LXC_MODULES}; do args+=(--module "${sym}"); done
"${SRC}/scripts/config" --file "${WORK}/tinylxc/.config" "${args[@]}"
kconfig olddefconfig "${WORK}/tinylxc"
for sym in ${LXC_BUILTIN} ${LXC_MODULES}; do
    grep -q "^CONFIG_${sym}=[ym]$" "${WORK}/tinylxc/.config" \
        || die "tinyconfig-lxc: olddefconfig dropped CONFIG_${sym} (a dependency is missing above)"
done
cp "${WORK}/tinylxc/.config" "${OUT}/linux-6.1-tinyconfig-lxc.config"

# Debian's shipped configs, byte for byte (already xz-compressed).
log "Debian linux-config-6.1 (amd64, cloud-amd64)"
cp "${DEBIAN_CONFIGS}/config.amd64_none_amd64.xz" "${OUT}/debian-6.1-amd64.config.xz"
cp "${DEBIAN_CONFIGS}/config.amd64_none_cloud-amd64.xz" "${OUT}/debian-6.1-cloud-amd64.config.xz"

# The arm64 flavour is in the arm64 build of linux-config-6.1; fetch it with a private apt
# state so the host's architectures and package lists stay as they are.
log "Debian linux-config-6.1 (arm64)"
APT=(apt-get -q -o APT::Architecture=arm64 -o APT::Architectures=arm64
     -o Dir::State::Lists="${WORK}/apt/lists" -o Dir::Cache="${WORK}/apt/cache"
     -o Dir::State::status=/dev/null)
mkdir -p "${WORK}/apt/lists/partial" "${WORK}/apt/cache/archives/partial"
"${APT[@]}" update >/dev/null
(cd "${WORK}" && "${APT[@]}" download linux-config-6.1 >/dev/null 2>&1)
dpkg-deb -x "${WORK}"/linux-config-6.1_*_arm64.deb "${WORK}/arm64"
cp "${WORK}/arm64/usr/src/linux-config-6.1/config.arm64_none_arm64.xz" "${OUT}/debian-6.1-arm64.config.xz"

log "done; unpacked tree and build dirs left in ${WORK} (remove it when finished)"
