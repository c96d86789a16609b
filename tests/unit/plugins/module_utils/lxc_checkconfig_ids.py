# -*- coding: utf-8 -*-
# Copyright: lxchost.prep contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The check ids issue 2 fixed for everything lxc-checkconfig 5.0.2 checks; tools and tests rely on them."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

LXC_CHECKCONFIG_IDS = (
    "namespaces", "uts_namespace", "ipc_namespace", "pid_namespace", "user_namespace",
    "network_namespace", "devpts_multiple_instances", "cgroups", "cgroup_namespace",
    "cgroup_device", "cgroup_sched", "cgroup_cpuacct", "cgroup_memory", "cgroup_cpuset", "veth",
    "macvlan", "vlan", "bridge", "netfilter_advanced", "nf_nat_ipv4", "nf_nat_ipv6",
    "ip_nf_target_masquerade", "ip6_nf_target_masquerade", "netfilter_xt_target_checksum",
    "netfilter_xt_match_comment", "fuse", "checkpoint_restore", "fhandle", "eventfd", "epoll",
    "unix_diag", "inet_diag", "packet_diag", "netlink_diag", "file_capabilities",
)
