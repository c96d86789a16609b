# -*- coding: utf-8 -*-
# Copyright: lxchost.prep contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What LXC needs from a kernel and a host: the one home of the collection's kernel knowledge.

Used by the lxc_checkconfig module (to judge a config and the running host) and by the
kernel_build role (to switch the options on).  To add a check of the config, add one
``_req(...)`` line to REQUIREMENTS below; a check of the running host, one ``_runtime(...)``
line to RUNTIME_CHECKS.

Levels are per profile: ``privileged`` containers (root in the container is root on the host,
the classic setup) and ``unprivileged`` ones (user namespaces with id maps).  A config check
has the same level for both unless ``unprivileged=`` says otherwise; a runtime check lists the
profiles it is judged for, and is not applicable to the others.

Symbols are written without the CONFIG_ prefix.  A symbol is either a plain name (valid in every
kernel) or ``(name, since, until)``: valid for kernel versions ``since <= v < until`` (either may
be None).  Several symbols valid for the same version are alternatives: any one enabled passes.
Version gates are the kernel release that added or removed the symbol (see the research notes in
docs/ for the kernel commits).  A fourth element MEANING marks a range that says something else:
when an option that exists before and after it stands for this requirement (CGROUPS gives cgroup
namespaces only from 4.6; NF_NAT is IPv4 NAT before 3.7 and from 5.1, and only the NAT core in
between).

The file is the evidence; version gates only fill in what it does not say.  Vendors backport
options to older kernels (CentOS 5's 2.6.18 has CONFIG_EVENTFD, RHEL 6's 2.6.32 has
CONFIG_NETFILTER_XT_TARGET_CHECKSUM) and keep options mainline removed, so a config is judged by
this rule (symbols_for, chosen_symbol):

1. A feature built in from a version on (``builtin_since``) is built in from that version,
   whatever the file says: nothing can switch it off.
2. An option the file mentions - set to y or m, to another value, or listed as ``# CONFIG_X is
   not set`` - exists in that kernel, whatever its version gate says, and is judged from the file.
3. Version gates decide only for options the file does not mention: such an option counts when
   its range holds for the kernel version (it is then missing from the file).
4. A MEANING range always holds: the file shows that the option exists, never what it means.

Of the symbols that count, one set to y wins, then one set to m, then the first the file
mentions, then the first in catalogue order; that one is reported, and switched on by a fix.
No symbol counts: the feature is built in (1), predates this kernel, or was removed from it.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from collections import namedtuple

from ansible_collections.lxchost.prep.plugins.module_utils._kconfig import parse_version

REQUIRED = "required"
RECOMMENDED = "recommended"
OPTIONAL = "optional"
LEVELS = (REQUIRED, RECOMMENDED, OPTIONAL)

PRIVILEGED = "privileged"
UNPRIVILEGED = "unprivileged"
PROFILES = (PRIVILEGED, UNPRIVILEGED)

# The verdicts a check can get. DISABLED: built into the running kernel but switched off on this
# host (a boot parameter, a sysctl); only the running kernel is ever judged so.
ENABLED = "enabled"
MODULE = "module"
MISSING = "missing"
DISABLED = "disabled"
NOT_APPLICABLE = "not_applicable"
STATUSES = (ENABLED, MODULE, MISSING, DISABLED, NOT_APPLICABLE)

# Groups in report order, with the section titles lxc-checkconfig uses where it has one.
GROUPS = (
    ("namespaces", "Namespaces"),
    ("cgroups", "Control groups"),
    ("network", "Networking"),
    ("filesystems", "Filesystems"),
    ("security", "Security"),
    ("misc", "Misc"),
    ("checkpoint_restore", "Checkpoint/Restore"),
    ("host", "Running host"),
)

Symbol = namedtuple("Symbol", "name since until gate")
# What a symbol's range says: when the option exists (the file can overrule it), or when an option
# that exists anyway means this requirement (only the version decides).
EXISTS = "exists"
MEANING = "meaning"

Requirement = namedtuple(
    "Requirement",
    "id label group levels symbols builtin_since cgroup only_if modules needs controller menu why",
)


def _req(id, label, group, level, symbols, why, menu="", builtin_since=None, cgroup=None,
         only_if=(), modules=(), needs=(), controller=None, unprivileged=None):
    """One requirement.  level: its level for every profile; unprivileged: another level for the
    unprivileged profile.  cgroup: None (any), 'v1' or 'v2' (only judged for that cgroup mode).
    only_if: symbols that must be enabled for the check to apply (CPUSETS needs SMP).
    modules: module names the option builds (runtime check of =m options).
    needs: symbols to switch on first when enabling it (used by the kernel_build role); plain
    names or (name, since, until) like symbols.
    controller: the cgroup controller the option builds, as /proc/cgroups names it: on the
    running kernel, a controller switched off at boot makes the check ``disabled``."""
    if isinstance(symbols, str):
        symbols = (symbols,)
    levels = ((PRIVILEGED, level), (UNPRIVILEGED, unprivileged or level))
    return Requirement(id, label, group, levels, _symbols(symbols), builtin_since, cgroup, tuple(only_if),
                       tuple(modules), _symbols(needs), controller, menu, why)


def _symbols(names):
    return tuple(Symbol(s, None, None, EXISTS) if isinstance(s, str) else Symbol(*(tuple(s) + (EXISTS,))[:4])
                 for s in names)


NS_MENU = "General setup > Namespaces support > "
CG_MENU = "General setup > Control Group support > "
NF_MENU = "Networking support > Networking options > Network packet filtering framework (Netfilter) > "
NF_CORE = NF_MENU + "Core Netfilter Configuration > "

REQUIREMENTS = (
    # --- namespaces ---
    _req("namespaces", "Namespaces", "namespaces", REQUIRED, "NAMESPACES",
         "LXC isolates every container in namespaces.", "General setup > Namespaces support",
         needs=[("MULTIUSER", "4.1", None)]),
    _req("uts_namespace", "Utsname namespace", "namespaces", REQUIRED, "UTS_NS",
         "Gives each container its own hostname.", NS_MENU + "UTS namespace"),
    _req("ipc_namespace", "Ipc namespace", "namespaces", REQUIRED, "IPC_NS",
         "Keeps System V IPC and POSIX message queues per container.", NS_MENU + "IPC namespace",
         needs=("SYSVIPC",)),
    _req("pid_namespace", "Pid namespace", "namespaces", REQUIRED, [("PID_NS", "2.6.24", None)],
         "Gives each container its own PID 1 and process tree.", NS_MENU + "PID Namespaces"),
    _req("user_namespace", "User namespace", "namespaces", RECOMMENDED, [("USER_NS", "2.6.23", None)],
         "Needed for unprivileged containers (root in the container is not root on the host); "
         "complete only from 3.8.", NS_MENU + "User namespace", unprivileged=REQUIRED),
    _req("network_namespace", "Network namespace", "namespaces", REQUIRED, [("NET_NS", "2.6.24", None)],
         "Gives each container its own network stack; LXC unshares it for every network type "
         "but 'none'.", NS_MENU + "Network namespace", needs=("NET",)),
    _req("devpts_multiple_instances", "Multiple /dev/pts instances", "namespaces", RECOMMENDED,
         [("DEVPTS_MULTIPLE_INSTANCES", "2.6.29", "4.7")],
         "Gives each container its own /dev/pts instead of the host's terminals; always on since "
         "4.7 (kernel eedf265aa003).",
         "Device Drivers > Character devices > Support multiple instances of devpts",
         builtin_since="4.7"),
    _req("time_namespace", "Time namespace", "namespaces", OPTIONAL, [("TIME_NS", "5.6", None)],
         "Lets lxc.time.offset.* give a container its own monotonic and boot clocks.",
         NS_MENU + "TIME namespace"),
    # --- control groups ---
    _req("cgroups", "Cgroups", "cgroups", REQUIRED, [("CGROUPS", "2.6.24", None)],
         "LXC places every container in its own cgroup to account and limit it.",
         "General setup > Control Group support"),
    _req("cgroup_namespace", "Cgroup namespace", "cgroups", RECOMMENDED,
         [("CGROUP_NS", "2.6.24", "3.0"), ("CGROUPS", "4.6", None, MEANING)],
         "Hides the host's cgroup tree from the container; part of cgroup core since 4.6 "
         "(the old ns_cgroup subsystem was removed in 3.0, kernel a77aea92010a).",
         CG_MENU.rstrip(" >")),
    _req("cgroup_device", "Cgroup device", "cgroups", RECOMMENDED, [("CGROUP_DEVICE", "2.6.26", None)],
         "Limits which devices a container may open (cgroup v1 devices controller).",
         CG_MENU + "Device controller", cgroup="v1", controller="devices"),
    _req("cgroup_sched", "Cgroup sched", "cgroups", RECOMMENDED, "CGROUP_SCHED",
         "CPU shares and quotas per container.", CG_MENU + "CPU controller", controller="cpu"),
    _req("cgroup_cpuacct", "Cgroup cpu account", "cgroups", RECOMMENDED, "CGROUP_CPUACCT",
         "CPU usage accounting per container (cgroup v1 cpuacct controller).",
         CG_MENU + "Simple CPU accounting controller", cgroup="v1", controller="cpuacct"),
    _req("cgroup_memory", "Cgroup memory controller", "cgroups", RECOMMENDED,
         [("CGROUP_MEM_RES_CTLR", "2.6.25", "3.6"), ("MEMCG", "3.6", None)],
         "Memory limits per container; renamed MEMCG in 3.6 (kernel c255a458).",
         CG_MENU + "Memory controller", controller="memory"),
    _req("cgroup_memory_v1", "Cgroup v1 memory controller", "cgroups", RECOMMENDED,
         [("MEMCG_V1", "6.11", None)],
         "From 6.11 the v1 memory interface is a separate option, off by default (kernel "
         "e93d4166b40a): a cgroup v1 host loses memory limits without it.",
         CG_MENU + "Memory controller > Legacy cgroup v1 memory controller", cgroup="v1",
         needs=("MEMCG",), controller="memory"),
    _req("cgroup_cpuset", "Cgroup cpuset", "cgroups", RECOMMENDED, "CPUSETS",
         "Pins containers to CPUs and memory nodes.", CG_MENU + "Cpuset controller",
         only_if=("SMP",), controller="cpuset"),
    _req("cgroup_cpuset_v1", "Cgroup v1 cpuset controller", "cgroups", RECOMMENDED,
         [("CPUSETS_V1", "6.12", None)],
         "From 6.12 the v1 cpuset interface is a separate option, off by default: a cgroup v1 "
         "host loses cpusets without it.", CG_MENU + "Cpuset controller > Legacy cgroup v1 "
         "cpusets controller", cgroup="v1", only_if=("SMP",), needs=("CPUSETS",), controller="cpuset"),
    _req("cgroup_pids", "Cgroup pids controller", "cgroups", RECOMMENDED, [("CGROUP_PIDS", "4.3", None)],
         "Caps the number of processes per container (fork-bomb protection).",
         CG_MENU + "PIDs controller", controller="pids"),
    _req("cgroup_freezer", "Cgroup freezer", "cgroups", RECOMMENDED, [("CGROUP_FREEZER", "2.6.28", None)],
         "lxc-freeze on cgroup v1 (on cgroup v2 freezing is part of the core since 5.2).",
         CG_MENU + "Freezer controller", cgroup="v1", controller="freezer"),
    _req("cgroup_bpf", "Cgroup BPF (device control)", "cgroups", RECOMMENDED,
         [("CGROUP_BPF", "4.10", None)],
         "On cgroup v2 LXC restricts devices with a BPF program attached to the container's "
         "cgroup (kernel 3007098494be).", CG_MENU + "Support for eBPF programs attached to cgroups",
         cgroup="v2", needs=("BPF_SYSCALL",)),
    # --- networking (lxc-checkconfig's "Misc") ---
    _req("veth", "Veth pair device", "network", RECOMMENDED, "VETH",
         "The default container network type (veth) needs it.",
         "Device Drivers > Network device support > Virtual ethernet pair device",
         modules=("veth",), needs=("NET", "NETDEVICES", "NET_CORE")),
    _req("macvlan", "Macvlan", "network", OPTIONAL, "MACVLAN",
         "For lxc.net.N.type = macvlan.", "Device Drivers > Network device support > MAC-VLAN support",
         modules=("macvlan",), needs=("NETDEVICES", "NET_CORE")),
    _req("vlan", "Vlan", "network", OPTIONAL, "VLAN_8021Q",
         "For lxc.net.N.type = vlan.", "Networking support > Networking options > 802.1Q/802.1ad VLAN Support",
         modules=("8021q",)),
    _req("bridge", "Bridges", "network", RECOMMENDED, "BRIDGE",
         "lxc-net's lxcbr0 and most host setups attach containers to a bridge.",
         "Networking support > Networking options > 802.1d Ethernet Bridging", modules=("bridge",),
         needs=("NET", "INET")),
    _req("netfilter_advanced", "Advanced netfilter", "network", OPTIONAL, "NETFILTER_ADVANCED",
         "Unlocks the netfilter options below in menuconfig.", NF_MENU + "Advanced netfilter configuration",
         needs=("NETFILTER",)),
    _req("nf_nat_ipv4", "IPv4 NAT", "network", RECOMMENDED,
         [("NF_NAT", None, "3.7", MEANING), ("NF_NAT_IPV4", "3.7", "5.1"), ("NF_NAT", "5.1", None, MEANING)],
         "lxc-net masquerades container traffic; NF_NAT_IPV4 exists only from 3.7 to 5.0 "
         "(kernel 3bf195ae6037 folded it into NF_NAT).", NF_CORE + "Netfilter NAT",
         modules=("nf_nat_ipv4", "nf_nat"), needs=("NETFILTER", "NF_CONNTRACK")),
    _req("nf_nat_ipv6", "IPv6 NAT", "network", OPTIONAL,
         [("NF_NAT_IPV6", "3.7", "5.1"), ("NF_NAT", "5.1", None, MEANING)],
         "IPv6 masquerading for containers; IPv6 NAT exists from 3.7.", NF_CORE + "Netfilter NAT",
         modules=("nf_nat_ipv6", "nf_nat"), needs=("NETFILTER", "NF_CONNTRACK", "IPV6")),
    _req("ip_nf_target_masquerade", "IPv4 MASQUERADE target", "network", RECOMMENDED,
         ["IP_NF_TARGET_MASQUERADE", ("NETFILTER_XT_TARGET_MASQUERADE", "5.2", None)],
         "lxc-net's iptables MASQUERADE rule; a compatibility alias of "
         "NETFILTER_XT_TARGET_MASQUERADE since 5.2.",
         NF_MENU + "IP: Netfilter Configuration > MASQUERADE target support",
         modules=("ipt_MASQUERADE", "xt_MASQUERADE", "nf_nat_masquerade_ipv4"),
         needs=("NETFILTER", "NF_CONNTRACK", "NETFILTER_XTABLES", "IP_NF_IPTABLES", "NF_NAT", "IP_NF_NAT")),
    _req("ip6_nf_target_masquerade", "IPv6 MASQUERADE target", "network", OPTIONAL,
         [("IP6_NF_TARGET_MASQUERADE", "3.7", None)],
         "ip6tables MASQUERADE for containers' IPv6 traffic.",
         NF_MENU + "IPv6: Netfilter Configuration > MASQUERADE target support",
         modules=("ip6t_MASQUERADE", "xt_MASQUERADE", "nf_nat_masquerade_ipv6"),
         needs=("IPV6", "NETFILTER", "NF_CONNTRACK", "NETFILTER_XTABLES", "IP6_NF_IPTABLES", "NF_NAT",
                "IP6_NF_NAT")),
    _req("netfilter_xt_target_checksum", "CHECKSUM target", "network", RECOMMENDED,
         [("NETFILTER_XT_TARGET_CHECKSUM", "2.6.35", None)],
         "lxc-net fills in DHCP reply checksums with the CHECKSUM target.",
         NF_CORE + "CHECKSUM target support", modules=("xt_CHECKSUM",),
         needs=("NETFILTER", "NETFILTER_XTABLES", "NETFILTER_ADVANCED", "IP_NF_IPTABLES", "IP_NF_MANGLE")),
    _req("netfilter_xt_match_comment", "comment match", "network", OPTIONAL,
         "NETFILTER_XT_MATCH_COMMENT",
         "LXD and Incus tag their firewall rules with comments.", NF_CORE + '"comment" match support',
         modules=("xt_comment",), needs=("NETFILTER", "NETFILTER_XTABLES", "NETFILTER_ADVANCED")),
    # lxc-net (LXC 5) writes its rules with nft wherever `nft list ruleset` works, and Debian's
    # iptables is iptables-nft since Debian 10: on such a host these are what NAT for containers
    # takes. Seen on a Debian 12 host whose kernel had NF_TABLES but no inet family: lxc-net failed.
    _req("nf_tables", "nftables", "network", RECOMMENDED, [("NF_TABLES", "3.13", None)],
         "lxc-net writes its NAT and filter rules with nft where nftables works, and iptables-nft "
         "(Debian's iptables since Debian 10) runs on it.", NF_CORE + "Netfilter nf_tables support",
         modules=("nf_tables",), needs=("NETFILTER",)),
    _req("nft_compat", "nftables xtables compatibility", "network", RECOMMENDED, [("NFT_COMPAT", "3.13", None)],
         "iptables-nft (Debian's iptables since Debian 10) runs lxc-net's CHECKSUM and MASQUERADE targets "
         "through it, where nft itself is not installed.", NF_CORE + "Netfilter x_tables over nf_tables module",
         modules=("nft_compat",), needs=("NF_TABLES", "NETFILTER", "NETFILTER_XTABLES")),
    _req("nf_tables_inet", "nftables inet tables", "network", RECOMMENDED, [("NF_TABLES_INET", "3.14", None)],
         "lxc-net's filter rules live in one table for IPv4 and IPv6 (nft's inet family).",
         NF_CORE + "Netfilter nf_tables mixed IPv4/IPv6 tables support", needs=("NF_TABLES", "IPV6")),
    _req("nf_tables_ipv4", "nftables IPv4 tables", "network", RECOMMENDED, [("NF_TABLES_IPV4", "3.13", None)],
         "lxc-net's masquerade rule lives in an IPv4 (ip) table.",
         NF_MENU + "IP: Netfilter Configuration > IPv4 nf_tables support", modules=("nf_tables_ipv4",),
         needs=("NF_TABLES",)),
    _req("nft_nat", "nftables NAT chains", "network", RECOMMENDED,
         [("NFT_CHAIN_NAT_IPV4", "3.13", "5.1"), ("NFT_NAT", "5.1", None, MEANING)],
         "lxc-net's postrouting chain is of type nat (NFT_CHAIN_NAT_IPV4 until 5.0, nft's nat module "
         "since 5.1).", NF_CORE + "Netfilter nf_tables nat module",
         modules=("nft_chain_nat_ipv4", "nft_chain_nat", "nft_nat"),
         needs=("NF_TABLES", "NF_TABLES_IPV4", "NETFILTER", "NF_CONNTRACK", "NF_NAT")),
    _req("nft_masq", "nftables masquerade", "network", RECOMMENDED,
         [("NFT_MASQ_IPV4", "3.18", "5.1"), ("NFT_MASQ", "5.1", None, MEANING)],
         "lxc-net masquerades container traffic with nft's masquerade statement (NFT_MASQ_IPV4 on top "
         "of NFT_MASQ until 5.0).", NF_CORE + "Netfilter nf_tables masquerade support",
         modules=("nft_masq_ipv4", "nft_masq"),
         needs=("NF_TABLES", "NF_TABLES_IPV4", "NETFILTER", "NF_CONNTRACK", "NF_NAT")),
    _req("netfilter_xtables_legacy", "Legacy xtables (iptables-legacy)", "network", OPTIONAL,
         [("NETFILTER_XTABLES_LEGACY", "6.17", None)],
         "From 6.17 the iptables-legacy tables are a separate option, off by default: rules "
         "written with iptables-legacy fail without it.",
         NF_CORE + "Netfilter legacy tables support", needs=("NETFILTER", "NETFILTER_XTABLES")),
    # --- filesystems ---
    _req("fuse", "FUSE (for use with lxcfs)", "filesystems", RECOMMENDED, "FUSE_FS",
         "lxcfs shows containers their own /proc/meminfo, uptime and cpuinfo through FUSE.",
         "File systems > FUSE (Filesystem in Userspace) support", modules=("fuse",)),
    _req("overlay_fs", "Overlay filesystem", "filesystems", OPTIONAL, [("OVERLAY_FS", "3.18", None)],
         "Snapshots and clones with lxc-copy -B overlayfs.", "File systems > Overlay filesystem support",
         modules=("overlay",)),
    # --- security ---
    _req("file_capabilities", "File capabilities", "security", RECOMMENDED,
         [("SECURITY_FILE_CAPABILITIES", "2.6.24", "2.6.33")],
         "Lets containers keep capabilities on files; always on since 2.6.33 (kernel b3a222e52e4d).",
         "Security options > File POSIX Capabilities", builtin_since="2.6.33"),
    _req("seccomp", "Seccomp", "security", RECOMMENDED, "SECCOMP",
         "LXC's default profile blocks dangerous system calls with seccomp.",
         "General architecture-dependent options (Processor type and features before 5.10) > "
         "Enable seccomp to safely execute untrusted bytecode"),
    _req("seccomp_filter", "Seccomp filter", "security", RECOMMENDED, [("SECCOMP_FILTER", "3.5", None)],
         "LXC's seccomp policies are BPF filters (mode 2).",
         "General architecture-dependent options > Enable seccomp to safely execute untrusted bytecode",
         needs=("SECCOMP",)),
    _req("apparmor", "AppArmor", "security", OPTIONAL, [("SECURITY_APPARMOR", "2.6.36", None)],
         "Debian and Ubuntu confine containers with LXC's AppArmor profiles.",
         "Security options > AppArmor support", needs=("SECURITY", "SECURITY_NETWORK")),
    # --- misc ---
    _req("unix_sockets", "Unix domain sockets", "misc", REQUIRED, "UNIX",
         "LXC's command socket and monitor are Unix sockets.",
         "Networking support > Networking options > Unix domain sockets", needs=("NET",)),
    _req("signalfd", "signalfd() system call", "misc", REQUIRED, "SIGNALFD",
         "lxc-start receives the container's signals through a signalfd.",
         "General setup > Configure standard kernel features (expert users) > Enable signalfd() system call"),
    _req("posix_mqueue", "POSIX message queues", "misc", RECOMMENDED, "POSIX_MQUEUE",
         "Guests' systemd and lxc-execute expect /dev/mqueue.", "General setup > POSIX Message Queues"),
    # --- checkpoint/restore (CRIU); lxc-checkconfig checks all of them ---
    _req("checkpoint_restore", "checkpoint restore", "checkpoint_restore", OPTIONAL,
         [("CHECKPOINT_RESTORE", "3.3", None)],
         "lxc-checkpoint (CRIU) needs it (kernel 067bce1a06c1).",
         "General setup > Checkpoint/restore support"),
    _req("fhandle", "CONFIG_FHANDLE", "checkpoint_restore", OPTIONAL, [("FHANDLE", "2.6.39", None)],
         "CRIU and systemd use open_by_handle_at().",
         "General setup > open by fhandle syscalls"),
    _req("eventfd", "CONFIG_EVENTFD", "checkpoint_restore", OPTIONAL, [("EVENTFD", "2.6.22", None)],
         "CRIU dumps eventfds.",
         "General setup > Configure standard kernel features (expert users) > Enable eventfd() system call"),
    _req("epoll", "CONFIG_EPOLL", "checkpoint_restore", REQUIRED, "EPOLL",
         "lxc-start's event loop is built on epoll; CRIU dumps it too.",
         "General setup > Configure standard kernel features (expert users) > Enable eventpoll support"),
    _req("unix_diag", "CONFIG_UNIX_DIAG", "checkpoint_restore", OPTIONAL, [("UNIX_DIAG", "3.3", None)],
         "CRIU inspects Unix sockets through sock_diag.",
         "Networking support > Networking options > UNIX: socket monitoring interface", needs=("UNIX",)),
    _req("inet_diag", "CONFIG_INET_DIAG", "checkpoint_restore", OPTIONAL, "INET_DIAG",
         "CRIU inspects TCP/UDP sockets through sock_diag.",
         "Networking support > Networking options > INET: socket monitoring interface", needs=("INET",)),
    _req("packet_diag", "CONFIG_PACKET_DIAG", "checkpoint_restore", OPTIONAL, [("PACKET_DIAG", "3.6", None)],
         "CRIU inspects packet sockets through sock_diag.",
         "Networking support > Networking options > Packet: sockets monitoring interface", needs=("PACKET",)),
    _req("netlink_diag", "CONFIG_NETLINK_DIAG", "checkpoint_restore", OPTIONAL,
         [("NETLINK_DIAG", "3.10", None)],
         "CRIU inspects netlink sockets through sock_diag.",
         "Networking support > Networking options > NETLINK: socket monitoring interface"),
)

BY_ID = dict((req.id, req) for req in REQUIREMENTS)


# ---------------------------------------------------------------- the running host

RuntimeCheck = namedtuple("RuntimeCheck", "id label group levels probe target off_value spares_root needs why hint")
# The group of every runtime check (the report's "Running host" section).
HOST_GROUP = "host"


def _runtime(id, label, levels, probe, why, hint, target=None, off_value=None, spares_root=False, needs=()):
    """One check of the running host, judged only when the running kernel is.

    levels: {profile: level} for the profiles it is judged for (not applicable to the others).
    probe: what the checker reads - "sysctl" (target: its name; off_value: the value that
    switches the feature off), "module_parameter" (target: the boot parameter
    module.parameter, read back from /sys/module; off_value as for a sysctl), "helper"
    (target: the program), "subid" (target: the file of subordinate ids), "apparmor",
    "selinux", "swap_accounting".
    spares_root: the switch only stops users other than root (root's containers still work).
    needs: ids of config checks that must be enabled (built in or a module) for it to apply.
    hint: what to do; {user} is the user who runs unprivileged containers."""
    return RuntimeCheck(id, label, HOST_GROUP, tuple(sorted(levels.items())), probe, target, off_value, spares_root,
                        tuple(needs), why, hint)


USERNS_WHY = "Unprivileged containers run in a user namespace; "

RUNTIME_CHECKS = (
    _runtime("user_namespace_boot", "User namespaces switched on at boot", {UNPRIVILEGED: REQUIRED},
             "module_parameter", USERNS_WHY + "RHEL and CentOS 7 kernels keep them off unless the kernel command "
             "line has user_namespace.enable=1.",
             "Add user_namespace.enable=1 to the kernel command line (grubby --update-kernel=ALL "
             "--args=user_namespace.enable=1, or GRUB_CMDLINE_LINUX in /etc/default/grub, then grub2-mkconfig "
             "-o /boot/grub2/grub.cfg) and reboot.",
             target="user_namespace.enable", off_value="N", needs=("user_namespace",)),
    _runtime("max_user_namespaces", "user.max_user_namespaces", {UNPRIVILEGED: REQUIRED}, "sysctl",
             USERNS_WHY + "at 0 no process may create one (CentOS 7's default).",
             "sysctl -w user.max_user_namespaces=15000, and keep it in /etc/sysctl.d/ (for example "
             "/etc/sysctl.d/90-lxc-userns.conf).",
             target="user.max_user_namespaces", off_value="0", needs=("user_namespace",)),
    _runtime("unprivileged_userns_clone", "kernel.unprivileged_userns_clone", {UNPRIVILEGED: REQUIRED}, "sysctl",
             USERNS_WHY + "at 0 (Debian 10 and older, linux-hardened) only root may create one.",
             "sysctl -w kernel.unprivileged_userns_clone=1, and keep it in /etc/sysctl.d/; or run the "
             "containers as root.",
             target="kernel.unprivileged_userns_clone", off_value="0", spares_root=True, needs=("user_namespace",)),
    _runtime("apparmor_restrict_unprivileged_userns", "kernel.apparmor_restrict_unprivileged_userns",
             {UNPRIVILEGED: REQUIRED}, "sysctl",
             USERNS_WHY + "at 1 (Ubuntu 24.04's default) AppArmor takes every capability away inside a user "
             "namespace an unprivileged user creates, unless an AppArmor profile with 'userns,' covers the "
             "program.",
             "Give the programs that start the containers an AppArmor profile that allows 'userns,' (see "
             "/etc/apparmor.d/), or sysctl -w kernel.apparmor_restrict_unprivileged_userns=0 and keep it in "
             "/etc/sysctl.d/; or run the containers as root.",
             target="kernel.apparmor_restrict_unprivileged_userns", off_value="1", spares_root=True,
             needs=("user_namespace",)),
    _runtime("newuidmap", "newuidmap (setuid root)", {UNPRIVILEGED: REQUIRED}, "helper",
             "LXC maps a user's subordinate user ids into the container with newuidmap, which must be setuid "
             "root or carry file capabilities.",
             "Install the uidmap package (Debian, Ubuntu) or shadow-utils (RHEL, Fedora); a copy that lost its "
             "setuid bit gets it back with chmod u+s.", target="newuidmap"),
    _runtime("newgidmap", "newgidmap (setuid root)", {UNPRIVILEGED: REQUIRED}, "helper",
             "LXC maps a user's subordinate group ids into the container with newgidmap, which must be setuid "
             "root or carry file capabilities.",
             "Install the uidmap package (Debian, Ubuntu) or shadow-utils (RHEL, Fedora); a copy that lost its "
             "setuid bit gets it back with chmod u+s.", target="newgidmap"),
    _runtime("subuid_range", "Subordinate user ids (/etc/subuid)", {UNPRIVILEGED: REQUIRED}, "subid",
             "An unprivileged container maps 65536 user ids of the host, which the user must own in /etc/subuid.",
             "usermod --add-subuids 100000-165535 {user} (or add the line {user}:100000:65536 to /etc/subuid).",
             target="/etc/subuid"),
    _runtime("subgid_range", "Subordinate group ids (/etc/subgid)", {UNPRIVILEGED: REQUIRED}, "subid",
             "An unprivileged container maps 65536 group ids of the host, which the user must own in /etc/subgid.",
             "usermod --add-subgids 100000-165535 {user} (or add the line {user}:100000:65536 to /etc/subgid).",
             target="/etc/subgid"),
    _runtime("apparmor_for_lxc", "AppArmor usable by LXC", {PRIVILEGED: RECOMMENDED, UNPRIVILEGED: RECOMMENDED},
             "apparmor",
             "Where the running kernel enables AppArmor, lxc-start confines every container and loads the "
             "profile it generates with apparmor_parser (package apparmor) through /sys/kernel/security/apparmor; "
             "without them it refuses to start any container.",
             "Install the apparmor package (lxchost.prep.lxc_userland does) and make sure securityfs is mounted "
             "at /sys/kernel/security."),
    _runtime("selinux_state", "SELinux", {PRIVILEGED: OPTIONAL, UNPRIVILEGED: OPTIONAL}, "selinux",
             "Where SELinux is enforcing, containers start in the context lxc.selinux.context names, and the "
             "policy must allow it.",
             "Set lxc.selinux.context for the containers, or load a policy module for them."),
    _runtime("swap_accounting", "Swap accounting", {PRIVILEGED: OPTIONAL, UNPRIVILEGED: OPTIONAL},
             "swap_accounting",
             "Memory and swap limits (lxc.cgroup.memory.memsw.limit_in_bytes, lxc.cgroup2.memory.swap.max) "
             "need the memory controller to account swap.",
             "Add swapaccount=1 to the kernel command line (GRUB_CMDLINE_LINUX in /etc/default/grub, then "
             "update-grub; on a Raspberry Pi, cmdline.txt) and reboot.",
             needs=("cgroup_memory",)),
)

RUNTIME_BY_ID = dict((check.id, check) for check in RUNTIME_CHECKS)

# Kernel command line parameters that decide what LXC gets, reported in order (a later one wins):
# controllers switched off (cgroup_disable=, Raspberry Pi's default) or on (cgroup_enable=, Raspberry Pi
# and older Debian kernels), kept out of cgroup v1 (cgroup_no_v1=), systemd's cgroup layout, RHEL 7's
# user namespace switch, swap accounting.
BOOT_PARAMETERS = ("cgroup_disable", "cgroup_enable", "cgroup_no_v1", "systemd.unified_cgroup_hierarchy",
                   "systemd.legacy_systemd_cgroup_controller", "user_namespace.enable", "swapaccount",
                   "cgroup.memory")

# The Debian packages LXC's userland is made of, whose state a check of the running host reports
# (lxc_userland installs a selection of them and reads their state there instead of asking dpkg).
USERLAND_PACKAGES = ("apparmor", "bridge-utils", "busybox-static", "debootstrap", "dnsmasq-base", "iptables", "lxc",
                     "lxc-templates", "lxcfs", "nftables", "uidmap")

# Controllers cgroup2 has (its root's cgroup.controllers lists those the host offers); devices, freezer
# and cpuacct are cgroup v1 controllers only (cgroup2 does their work in its core and with BPF).
V2_CONTROLLERS = ("cpuset", "cpu", "io", "memory", "hugetlb", "pids", "rdma", "misc")


def level_for(entry, profile):
    """The level of a requirement or runtime check for a profile, or None when it is not judged there."""
    return dict(entry.levels).get(profile)


# ---------------------------------------------------------------- which symbol exists in which kernel

def version_of(text):
    """A version string of the catalogue ("2.6.38.6", "6.11") as a comparable tuple; None for None."""
    return parse_version(text) if text else None


def in_range(symbol, version):
    """Whether the symbol's version range holds for this kernel version (a tuple)."""
    return ((symbol.since is None or version >= version_of(symbol.since))
            and (symbol.until is None or version < version_of(symbol.until)))


def counts(symbol, version, values=None):
    """Whether a symbol counts for its requirement in this kernel, by the file-evidence rule of the
    module docstring (values: the config's {symbol: value}; None judges by version alone)."""
    if symbol.gate == EXISTS and values is not None and symbol.name in values:
        return True
    return in_range(symbol, version)


def symbols_for(req, version, values=None):
    """The symbols that stand for req in this kernel, in catalogue order (the file-evidence rule);
    none from the version on which the feature is built in."""
    if req.builtin_since and version >= version_of(req.builtin_since):
        return []
    found = []
    for sym in req.symbols:
        if counts(sym, version, values) and sym.name not in [other.name for other in found]:
            found.append(sym)
    return found


def chosen_symbol(req, version, values=None):
    """The symbol reported for req, and switched on by a fix: y wins, then m, then the first the file
    mentions, then the first that counts; None when none counts."""
    found = symbols_for(req, version, values)
    values = values or {}
    for wanted in ("y", "m"):
        for sym in found:
            if values.get(sym.name) == wanted:
                return sym
    mentioned = [sym for sym in found if sym.name in values]
    return (mentioned or found or [None])[0]


def needs_for(req, version, values=None):
    """The names req needs switched on first in this kernel (for hints and kernel builds)."""
    return [sym.name for sym in req.needs if counts(sym, version, values)]


def first_version(req):
    """The earliest kernel version in which a symbol of req appears (text), or None."""
    firsts = [sym.since for sym in req.symbols if sym.since]
    return min(firsts, key=version_of) if firsts else None


def last_version(req):
    """The latest kernel version that removed a symbol of req (text), or None."""
    lasts = [sym.until for sym in req.symbols if sym.until]
    return max(lasts, key=version_of) if lasts else None
