#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: lxchost.prep contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: lxc_checkconfig
short_description: Judge whether a kernel config is ready for LXC
version_added: 1.0.0
description:
  - Reads a kernel config (the running kernel's, or any config file, plain or compressed with gzip,
    xz, bzip2 or zstd, detected by content) and judges every option LXC needs, with the kernel
    version taken from the config's own header, so a kernel that is not booted yet is judged
    against its own version.
  - Knows renamed and removed options from 2.6 to 6.x (for example C(CGROUP_MEM_RES_CTLR) before 3.6
    and C(MEMCG) after, C(NF_NAT_IPV4) only from 3.7 to 5.0, file capabilities built in from 2.6.33,
    multiple devpts instances built in from 4.7, C(MEMCG_V1) and C(CPUSETS_V1) on 6.11 and 6.12,
    the legacy xtables option of 6.17). An option that cannot exist in the kernel checked, or that is
    built in there, is reported as C(not_applicable), never as missing.
  - The config file is the evidence; version gates only fill in what it does not say. An option the config
    sets, or lists as C(is not set), exists in that kernel whatever version mainline added it in, so vendor
    backports (RHEL 6's C(NETFILTER_XT_TARGET_CHECKSUM) on 2.6.32) are judged from the file.
  - When the running kernel is checked, what it runs with is judged too, not only what it was built
    with. A cgroup controller that is built in but switched off at boot (C(cgroup_disable=memory), the
    default of Raspberry Pi kernels; a missing C(cgroup_enable=memory) on kernels that need it;
    C(cgroup_no_v1=) on a cgroup v1 host) makes its check C(disabled), with the parameter named in the
    reason and where to change it in the hint. The checks of the running host (group C(host)) judge
    the switches of user namespaces (C(user_namespace.enable), C(user.max_user_namespaces),
    C(kernel.unprivileged_userns_clone), C(kernel.apparmor_restrict_unprivileged_userns)), newuidmap and
    newgidmap, the subordinate ids of the user in C(/etc/subuid) and C(/etc/subgid), whether LXC can use
    AppArmor where the kernel enables it (C(apparmor_parser) and C(/sys/kernel/security/apparmor)), the
    SELinux mode, and swap accounting.
  - Facts about the running host (kernel command line parameters that matter, cgroup mode and
    controllers, sysctls, helpers, AppArmor and SELinux, modules of options built as C(=m)) are returned
    apart, in RV(runtime).
  - For a config file given with O(config) nothing of the host is read or mixed in - the checks of the
    running host are C(not_applicable), with that reason.
  - Read-only. Never loads a kernel module (not even C(configs)) to find a config.
author:
  - lxchost.prep contributors (@lxchost)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
    details: The module only reads; it runs the same in check mode.
  diff_mode:
    support: none
    details: Nothing is changed, so there is nothing to diff.
  platform:
    platforms: posix
options:
  config:
    description:
      - Path of the kernel config to check, on the managed host. Plain text or compressed with gzip,
        xz, bzip2 or zstd (zstd needs the Python C(zstandard) package or the C(zstd) command).
      - When omitted, the running kernel's config is looked up, in this order, and the one used is
        returned in RV(config_source) - C(/proc/config.gz), C(/boot/config-RELEASE),
        C(/lib/modules/RELEASE/config), C(/usr/lib/modules/RELEASE/config),
        C(/lib/modules/RELEASE/build/.config), C(/usr/src/linux-headers-RELEASE/.config),
        C(/usr/src/linux-RELEASE/.config), C(/usr/lib/ostree-boot/config-RELEASE),
        C(/usr/lib/kernel/config-RELEASE).
    type: path
  kernel_version:
    description:
      - The kernel version the config belongs to, for example C(2.6.38.6) or C(6.1).
      - "By default it comes from the config's header (C(# Linux/x86_64 6.1.0 Kernel Configuration),
        or C(# Linux kernel version: 2.6.32) before 2.6.37), or, for the running kernel, from C(uname -r)."
      - Needed only for a config whose header is missing or unreadable (a fragment, a hand-edited file).
      - At most 64 characters (digits, letters and C(. - + ~ _)), starting with two numbers of at most 9
        digits; anything else is refused with a message.
    type: str
  cgroup_mode:
    description:
      - Which cgroup version's needs to judge. Some controllers only matter for cgroup v1
        (C(CGROUP_DEVICE), C(CGROUP_CPUACCT), C(CGROUP_FREEZER), C(MEMCG_V1), C(CPUSETS_V1)) and one only
        for cgroup v2 (C(CGROUP_BPF), device control).
      - C(auto) uses what the running host mounts (v1 or hybrid means v1, unified means v2) when the
        running kernel is checked, and both versions for a config file (the host may boot either).
    type: str
    choices: [auto, v1, v2, both]
    default: auto
  profile:
    description:
      - The containers the host is to run, which decides how much each check matters (the levels per profile
        are data in the collection's catalogue).
      - C(privileged) - root in the container is root on the host (LXC's classic setup, what
        lxchost.prep.lxc_proof runs). User namespaces are recommended; their switches, id-mapping helpers and
        subordinate ids are not judged.
      - C(unprivileged) - containers in a user namespace with id maps. C(CONFIG_USER_NS) becomes required, and so
        do, on the running kernel, user namespaces switched on (C(user_namespace.enable),
        C(user.max_user_namespaces), C(kernel.unprivileged_userns_clone) and
        C(kernel.apparmor_restrict_unprivileged_userns) for a user other than root), newuidmap and newgidmap
        (for a user other than root) and 65536 subordinate user and group ids for O(unprivileged_user).
    type: str
    choices: [privileged, unprivileged]
    default: privileged
  unprivileged_user:
    description:
      - With O(profile=unprivileged), the user who runs the containers; their subordinate ids are looked up by
        name and by uid. The switches that only stop users other than root spare C(root).
    type: str
    default: root
  baseline:
    description:
      - Another kernel config to compare with - a path on the managed host, or C(running) for the running
        kernel's own config (then O(config) is required). RV(baseline) says what changes in readiness from it to
        the kernel checked - the checks that become missing, the ones that become enabled - so a new kernel's
        gains and losses are known before it is booted.
      - Only the two configs are compared (each with its own kernel version, for the same O(profile) and cgroup
        versions), not what the running host switches off.
    type: str
  fragment_levels:
    description:
      - The levels whose missing options RV(fragment) switches on.
    type: list
    elements: str
    choices: [required, recommended, optional]
    default: [required, recommended]
  fail_on:
    description:
      - Fail the task when checks of this level (or a stricter one) are not met - options missing, or, on the
        running kernel, switched off on the host (C(disabled)). The result is returned in full either way, and
        the message names what switched each C(disabled) check off.
      - C(never) only reports; C(required) fails when the kernel cannot run LXC; C(recommended) also
        fails when recommended options are missing.
    type: str
    choices: [required, recommended, never]
    default: never
notes:
  - No root is needed to check a readable config file.
  - The checks of the running host read C(/proc), C(/sys) and C(/etc) only; they run nothing and change
    nothing.
  - Levels - C(required) are options without which LXC cannot start a container; C(recommended)
    are what a usual LXC host uses (cgroup controllers, veth, bridge, lxc-net's NAT, seccomp);
    C(optional) are for particular features (macvlan, checkpoint/restore, overlayfs snapshots).
seealso:
  - name: lxc-checkconfig
    description: The shell script shipped with LXC that this module supersedes.
    link: https://linuxcontainers.org/lxc/manpages/man1/lxc-checkconfig.1.html
"""

EXAMPLES = r"""
- name: Check the running kernel
  lxchost.prep.lxc_checkconfig:
  register: lxc_kernel_check

- name: Show the report
  ansible.builtin.debug:
    msg: "{{ lxc_kernel_check.report }}"

- name: Refuse to go on with a kernel that cannot run LXC
  lxchost.prep.lxc_checkconfig:
    fail_on: required

- name: Check a kernel that is built but not booted yet, for a cgroup v2 host
  lxchost.prep.lxc_checkconfig:
    config: /usr/src/linux-6.1/.config
    cgroup_mode: v2
    fail_on: recommended

- name: Can this host run unprivileged containers for the user lxc?
  lxchost.prep.lxc_checkconfig:
    profile: unprivileged
    unprivileged_user: lxc
    fail_on: required
  register: lxc_unprivileged_check

- name: Write what a new kernel needs as a config fragment, to merge with merge_config.sh
  ansible.builtin.copy:
    content: "{{ lxc_kernel_check.fragment }}"
    dest: /root/lxc.config
    mode: "0644"
  when: lxc_kernel_check.fragment | length > 0

- name: What would the kernel just built gain or lose against the one running?
  lxchost.prep.lxc_checkconfig:
    config: /usr/src/linux-6.12/.config
    baseline: running
  register: lxc_new_kernel

- name: Say it
  ansible.builtin.debug:
    msg: "{{ lxc_new_kernel.baseline.summary }}"

- name: Check an old config whose header was lost
  lxchost.prep.lxc_checkconfig:
    config: /root/config-2.6.38.6.xz
    kernel_version: 2.6.38.6
"""

RETURN = r"""
ready:
  description:
    - Whether every required check is met - each required option enabled (built in or as a module) and,
      for the running kernel, not switched off on the host.
  returned: success
  type: bool
  sample: true
kernel_version:
  description: The kernel version every version gate used.
  returned: success
  type: str
  sample: 2.6.38.6
config_source:
  description: The config file that was read.
  returned: success
  type: str
  sample: /proc/config.gz
compression:
  description: How the config was compressed (detected by content).
  returned: success
  type: str
  sample: gzip
  choices: [none, gzip, xz, bzip2, zstd]
cgroup_mode:
  description: The cgroup versions whose needs were judged.
  returned: success
  type: str
  sample: v1 and v2
cgroup_mode_reason:
  description: Why those cgroup versions were judged.
  returned: success
  type: str
  sample: v1 (the host runs cgroup hybrid)
checks:
  description: One entry per check, in report order.
  returned: success
  type: list
  elements: dict
  contains:
    id:
      description: Stable identifier of the check.
      type: str
      sample: cgroup_memory
    label:
      description: Human label.
      type: str
      sample: Cgroup memory controller
    group:
      description: Section of the report.
      type: str
      sample: cgroups
    level:
      description: How much LXC needs it.
      type: str
      choices: [required, recommended, optional]
    symbol:
      description:
        - The CONFIG_ symbol that applies to this kernel version, or null when none does (and for the checks
          of the running host, group C(host)).
      type: str
      sample: CONFIG_MEMCG
    value:
      description: Its value - C(y), C(m), C(n) (not set), or null when the config does not mention it.
      type: str
      sample: y
    status:
      description: The verdict.
      type: str
      choices: [enabled, module, missing, disabled, not_applicable]
      sample: disabled
    reason:
      description:
        - Why the option matters (when missing), why the check does not apply, what switched it off on this
          host (when disabled, naming the boot parameter or sysctl), or what the host shows (checks of the
          running host).
      type: str
      sample: Built in, but switched off at boot by cgroup_disable=memory on the kernel command line.
    hint:
      description: What to do, when the status is not C(enabled).
      type: str
      sample: Set CONFIG_VETH=y (menuconfig ...), and rebuild the kernel.
missing_required:
  description:
    - Ids of required checks that are not met - C(missing) from the config or the host, or C(disabled) on the
      running host. RV(ready) is true when this is empty.
  returned: success
  type: list
  elements: str
  sample: []
missing_recommended:
  description: Ids of recommended checks that are not met (C(missing) or C(disabled)).
  returned: success
  type: list
  elements: str
  sample: [cgroup_memory_v1]
missing_optional:
  description: Ids of optional checks that are not met (C(missing) or C(disabled)).
  returned: success
  type: list
  elements: str
  sample: [macvlan]
runtime:
  description:
    - Facts about the running host, only when the running kernel is checked (null otherwise).
    - C(cgroup.mode) is C(v1), C(hybrid), C(v2) or C(none), from the types of the mounted cgroup file systems.
    - C(controllers) is every controller of C(/proc/cgroups) with whether it is enabled (false - switched off at
      boot); C(boot_parameters) the kernel command line parameters that matter to LXC, in order (a later one
      wins); C(sysctls) and C(module_parameters) the switches the checks read (null where the kernel has none);
      C(subordinate_ids) the ranges of C(/etc/subuid) and C(/etc/subgid) (null when the file does not exist);
      C(user) who runs unprivileged containers; C(ip_forward) whether C(/proc/sys/net/ipv4/ip_forward) exists
      and can be written (lxc-net needs that; a container guest's C(/proc/sys) is read-only) and its value;
      C(init) is C(systemd) where systemd runs the host, else C(other).
    - C(packages) is what dpkg's status file says of the Debian packages of LXC's userland (apparmor,
      bridge-utils, busybox-static, debootstrap, dnsmasq-base, iptables, lxc, lxc-templates, lxcfs, nftables,
      uidmap) - the version of each one installed, null for one that is not; empty where the host has no dpkg.
      The role C(lxchost.prep.lxc_userland) reads it (given as C(lxc_userland_runtime)) instead of asking dpkg again.
  returned: success
  type: dict
  sample:
    kernel_release: 6.6.51+rpt-rpi-v8
    cgroup:
      mode: v2
      v1_mounts: []
      v2_mounts: [/sys/fs/cgroup]
      v1_bound_controllers: []
      v1_available_controllers: [cpuset, cpu, cpuacct, blkio, devices, freezer, net_cls, perf_event, net_prio, pids]
      v2_controllers: [cpuset, cpu, io, pids]
    cgroup_namespace: true
    controllers: {cpuset: true, cpu: true, memory: false, pids: true}
    boot_parameters: [cgroup_disable=memory]
    sysctls: {user.max_user_namespaces: "15000", kernel.unprivileged_userns_clone: null,
              kernel.apparmor_restrict_unprivileged_userns: null}
    module_parameters: {user_namespace.enable: null}
    userns_helpers:
      newuidmap: {path: /usr/bin/newuidmap, setuid: true, file_capabilities: false}
      newgidmap: {path: /usr/bin/newgidmap, setuid: true, file_capabilities: false}
    subordinate_ids:
      /etc/subuid: [[pi, 100000, 65536]]
      /etc/subgid: [[pi, 100000, 65536]]
    apparmor: {enabled: null, securityfs: false, mount_mediation: false, parser: null}
    selinux: null
    hardware_model: Raspberry Pi 4 Model B Rev 1.5
    user: {name: root, uid: "0"}
    ip_forward: {exists: true, writable: true, value: "0"}
    init: systemd
    packages: {apparmor: null, bridge-utils: null, busybox-static: "1:1.35.0-4+b3", debootstrap: null,
               dnsmasq-base: null, iptables: "1.8.9-2", lxc: "1:5.0.2-1+deb12u2", lxc-templates: null, lxcfs: null,
               nftables: null, uidmap: null}
    modules:
      veth: {modules: [veth], available: true, loaded: false}
system:
  description:
    - The running host's operating system from C(/etc/os-release), when no O(config) is given (null otherwise),
      also when the kernel cannot be judged. C(name) is the first word of its C(NAME); C(version) is Debian's
      point release from C(/etc/debian_version) on Debian, else C(VERSION_ID). A value the host does not give
      is null.
    - A playbook can decide from it which hosts it prepares without gathering facts first (one module call
      instead of two per host).
  returned: always (null when O(config) is given)
  type: dict
  sample: {name: Debian, id: debian, version: "12.8", major_version: "12", codename: bookworm,
           pretty_name: "Debian GNU/Linux 12 (bookworm)"}
profile:
  description: The profile of containers the kernel and host were judged for.
  returned: success
  type: str
  choices: [privileged, unprivileged]
  sample: privileged
blockers:
  description:
    - The required checks that are not met - what keeps LXC from running containers of the profile here - with
      their status, reason and hint. Empty when RV(ready) is true.
  returned: success
  type: list
  elements: dict
  sample:
    - id: user_namespace
      label: User namespace
      status: missing
      reason: Needed for unprivileged containers (root in the container is not root on the host); complete only from 3.8.
      hint: Set CONFIG_USER_NS=y (menuconfig ...), and rebuild the kernel.
baseline:
  description:
    - With O(baseline), what changes in readiness from the baseline's config to the kernel checked (their config
      checks, each judged for its own kernel version); null without O(baseline).
    - C(became_missing) - checks met in the baseline and missing now; C(became_enabled) - missing in the baseline
      and enabled (or a module) now; C(changes) - every check whose status differs; C(ready) - whether the baseline
      was ready; C(summary) - the same in one sentence.
  returned: success
  type: dict
  sample:
    config_source: the running kernel's config /boot/config-6.1.0-18-amd64
    kernel_version: 6.1.0
    ready: true
    became_missing: []
    became_enabled: [cgroup_bpf, veth]
    changes:
      - {id: cgroup_bpf, level: recommended, before: missing, after: enabled}
      - {id: veth, level: recommended, before: missing, after: module}
    summary: >-
      compared with the running kernel's config /boot/config-6.1.0-18-amd64 (kernel 6.1.0): gains cgroup_bpf, veth;
      loses nothing; ready for LXC before and after
fragment:
  description:
    - The Kconfig lines that switch on every missing option of O(fragment_levels), each with what it needs first
      (C(CONFIG_X=y) lines grouped under a comment naming the check), in the format of the kernel's
      C(scripts/kconfig/merge_config.sh). It is the same plan the lxchost.prep.kernel_build role applies
      (M(lxchost.prep.kernel_lxc_options)).
    - Checks no config line can fix (switched off on the running host, a kernel older than the feature) are named
      in comments. Empty when nothing of those levels is missing.
    - Write it to a file and merge it - C(scripts/kconfig/merge_config.sh -m .config lxc.config) then
      C(make olddefconfig).
  returned: success
  type: str
  sample: |
    # The options LXC needs that /boot/config-6.1.0-18-amd64 lacks (kernel 6.1.0, privileged containers, levels required, recommended).
    # Merge it: scripts/kconfig/merge_config.sh -m .config THIS_FILE, then make olddefconfig.
    # cgroup_bpf: Cgroup BPF (device control)
    CONFIG_BPF_SYSCALL=y
    CONFIG_CGROUP_BPF=y
    # veth: Veth pair device
    CONFIG_VETH=y
report:
  description:
    - The result as text, in sections laid out like lxc-checkconfig's, then the running host, what to do, and
      the result.
  returned: success
  type: str
  sample: "Kernel configuration: /proc/config.gz (gzip)\nKernel version: 6.6.51\n..."
ansible_facts:
  description: Facts set by the module.
  returned: success
  type: dict
  contains:
    lxc_kernel:
      description:
        - ready, profile, kernel_version, config_source, cgroup_mode, missing_required, missing_recommended,
          status (a dict of config check id to status), runtime_status (the same for the checks of the
          running host) and blockers (the ids of RV(blockers)).
      type: dict
      sample:
        ready: true
        profile: privileged
        kernel_version: 6.6.51
        config_source: /proc/config.gz
        cgroup_mode: v2
        missing_required: []
        missing_recommended: [cgroup_memory]
        status: {namespaces: enabled, cgroup_memory: disabled}
        runtime_status: {max_user_namespaces: not_applicable, apparmor_for_lxc: not_applicable}
        blockers: []
"""

import re

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.lxchost.prep.plugins.module_utils._host_facts import system_facts
from ansible_collections.lxchost.prep.plugins.module_utils._kconfig import KconfigError, parse_version
from ansible_collections.lxchost.prep.plugins.module_utils._lxc_checker import check_kernel, failure

# A kernel version, as uname -r or a config header spells it: 6.1, 2.6.38.6, 6.1.0-18-amd64.
_KERNEL_VERSION = re.compile(r"^[0-9A-Za-z._+~-]{1,64}$")


def kernel_version_problem(value):
    """Why kernel_version cannot be used (a sentence), or None. Empty means not given."""
    if not value:
        return None
    text = value.strip()
    shown = repr(text) if len(text) <= 40 else "%r... (%d characters)" % (text[:40], len(text))
    if not _KERNEL_VERSION.match(text) or parse_version(text) is None:
        return ("kernel_version %s is not a kernel version: give one such as 6.1, 2.6.38.6 or 6.1.0-18-amd64 (at "
                "most 64 characters: digits, letters and . - + ~ _; at most 9 digits a number)." % shown)
    return None


def main():
    module = AnsibleModule(
        argument_spec=dict(
            config=dict(type="path"),
            kernel_version=dict(type="str"),
            cgroup_mode=dict(type="str", default="auto", choices=["auto", "v1", "v2", "both"]),
            profile=dict(type="str", default="privileged", choices=["privileged", "unprivileged"]),
            unprivileged_user=dict(type="str", default="root"),
            baseline=dict(type="str"),
            fragment_levels=dict(type="list", elements="str", default=["required", "recommended"],
                                 choices=["required", "recommended", "optional"]),
            fail_on=dict(type="str", default="never", choices=["required", "recommended", "never"]),
        ),
        supports_check_mode=True,
    )
    problem = kernel_version_problem(module.params["kernel_version"])
    if problem:
        module.fail_json(msg=problem)
    # The running host's system, also when its kernel cannot be judged: a playbook decides from it
    # whether the host is one it prepares, without gathering facts first.
    system = system_facts() if module.params["config"] is None else None
    try:
        result = check_kernel(config=module.params["config"], kernel_version=module.params["kernel_version"],
                              cgroup_mode=module.params["cgroup_mode"], profile=module.params["profile"],
                              user=module.params["unprivileged_user"],
                              fragment_levels=module.params["fragment_levels"], baseline=module.params["baseline"])
    except KconfigError as exc:
        module.fail_json(msg=str(exc), system=system)

    for warning in result.pop("warnings"):
        module.warn(warning)
    result["system"] = system
    result["ansible_facts"] = dict(lxc_kernel=result.pop("lxc_kernel"))
    problem = failure(result, module.params["fail_on"])
    if problem:
        module.fail_json(msg=problem, changed=False, **result)
    module.exit_json(changed=False, **result)


if __name__ == "__main__":
    main()
