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
  - When the running kernel is checked, facts about the running host (cgroup mode, cgroup
    namespace, newuidmap/newgidmap, modules of options built as C(=m)) are gathered too and
    returned apart, in RV(runtime). They are never gathered for a config file given with O(config).
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
  fail_on:
    description:
      - Fail the task when options of this level (or a stricter one) are missing. The result is
        returned in full either way.
      - C(never) only reports; C(required) fails when the kernel cannot run LXC; C(recommended) also
        fails when recommended options are missing.
    type: str
    choices: [required, recommended, never]
    default: never
notes:
  - No root is needed to check a readable config file.
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

- name: Check an old config whose header was lost
  lxchost.prep.lxc_checkconfig:
    config: /root/config-2.6.38.6.xz
    kernel_version: 2.6.38.6
"""

RETURN = r"""
ready:
  description: Whether every required option is enabled (built in or as a module).
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
      description: The CONFIG_ symbol that applies to this kernel version, or null when none does.
      type: str
      sample: CONFIG_MEMCG
    value:
      description: Its value - C(y), C(m), C(n) (not set), or null when the config does not mention it.
      type: str
      sample: y
    status:
      description: The verdict.
      type: str
      choices: [enabled, module, missing, not_applicable]
    reason:
      description: Why the option matters (when missing) or why the check does not apply.
      type: str
    hint:
      description: What to do, when the status is not C(enabled).
      type: str
      sample: Set CONFIG_VETH=y (menuconfig ...), and rebuild the kernel.
missing_required:
  description: Ids of missing required checks.
  returned: success
  type: list
  elements: str
  sample: []
missing_recommended:
  description: Ids of missing recommended checks.
  returned: success
  type: list
  elements: str
  sample: [cgroup_memory_v1]
missing_optional:
  description: Ids of missing optional checks.
  returned: success
  type: list
  elements: str
  sample: [macvlan]
runtime:
  description:
    - Facts about the running host, only when the running kernel is checked (null otherwise).
    - C(cgroup.mode) is C(v1), C(hybrid), C(v2) or C(none), from the types of the mounted cgroup file systems.
  returned: success
  type: dict
  sample:
    kernel_release: 6.1.0-18-amd64
    cgroup:
      mode: v2
      v1_mounts: []
      v2_mounts: [/sys/fs/cgroup]
      v1_bound_controllers: []
      v1_available_controllers: [cpuset, cpu, io, memory, pids]
      v2_controllers: [cpuset, cpu, io, memory, pids]
    cgroup_namespace: true
    userns_helpers:
      newuidmap: {path: /usr/bin/newuidmap, setuid: true, file_capabilities: false}
      newgidmap: {path: /usr/bin/newgidmap, setuid: true, file_capabilities: false}
    modules:
      veth: {modules: [veth], available: true, loaded: false}
report:
  description: The result as text, in sections laid out like lxc-checkconfig's.
  returned: success
  type: str
ansible_facts:
  description: Facts set by the module.
  returned: success
  type: dict
  contains:
    lxc_kernel:
      description:
        - ready, kernel_version, config_source, cgroup_mode, missing_required, missing_recommended,
          and status (a dict of check id to status).
      type: dict
"""

import re

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.lxchost.prep.plugins.module_utils._kconfig import KconfigError, parse_version
from ansible_collections.lxchost.prep.plugins.module_utils._lxc_checker import check_kernel

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
            fail_on=dict(type="str", default="never", choices=["required", "recommended", "never"]),
        ),
        supports_check_mode=True,
    )
    problem = kernel_version_problem(module.params["kernel_version"])
    if problem:
        module.fail_json(msg=problem)
    try:
        result = check_kernel(config=module.params["config"], kernel_version=module.params["kernel_version"],
                              cgroup_mode=module.params["cgroup_mode"])
    except KconfigError as exc:
        module.fail_json(msg=str(exc))

    for warning in result.pop("warnings"):
        module.warn(warning)
    result["ansible_facts"] = dict(lxc_kernel=result.pop("lxc_kernel"))
    fail_on = module.params["fail_on"]
    missing = result["missing_required"]
    if fail_on == "recommended":
        missing = missing + result["missing_recommended"]
    if fail_on != "never" and missing:
        module.fail_json(msg="Kernel %s (%s) lacks what LXC needs (%s): %s." % (
            result["kernel_version"], result["config_source"], fail_on, ", ".join(missing)),
            changed=False, **result)
    module.exit_json(changed=False, **result)


if __name__ == "__main__":
    main()
