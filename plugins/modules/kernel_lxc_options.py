#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: lxchost.prep contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: kernel_lxc_options
short_description: Plan and audit the kernel config options LXC needs, for one kernel version
version_added: 1.0.0
description:
  - Plans the settings a kernel build applies to its base config - the lines of config fragments,
    then the options LXC needs (from the same catalogue M(lxchost.prep.lxc_checkconfig) judges with,
    with the options each one needs switched on first), then O(options) - as C(scripts/config)
    arguments. The LXC options are the very plan whose missing part M(lxchost.prep.lxc_checkconfig)
    returns as its fix fragment; the option reported for a check is the one switched on.
  - With O(expect), audits a config after C(make olddefconfig) instead - every setting the config
    does not honour is reported with the C(depends on) lines Kconfig gives it in O(src) and which of
    their options are off, and the task fails.
  - "With O(previous_config), also tells how the config differs from the one built last
    (C(+CONFIG_VETH), C(-CONFIG_X), C(CONFIG_Y: m -> y))."
  - With O(mode=digest), only returns RV(catalogue_digest), the digest of the catalogue the plan
    and the check use; the lxchost.prep.kernel_build role makes a config again when it changes.
  - With O(mode=reasons), says why a build with O(inputs) is needed after the build recorded
    with O(previous_inputs) (RV(reasons)).
  - Read-only. Used by the lxchost.prep.kernel_build role.
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
    details: Nothing is changed.
  platform:
    platforms: posix
options:
  mode:
    description:
      - V(plan) - the settings to apply to a base config. V(audit) - check O(config) against
        O(expect) (O(expect) alone also means V(audit)). V(digest) - only RV(catalogue_digest); needs
        no other option. V(reasons) - why a build with O(inputs) is needed (RV(reasons)).
    type: str
    choices: [plan, audit, digest, reasons]
    default: plan
  src:
    description:
      - The kernel source tree. Its C(Makefile) gives the kernel version when O(kernel_version) is
        not set, and its C(Kconfig) files explain dropped options.
      - Required to plan and to audit.
    type: path
  kernel_version:
    description: The kernel version, for example C(6.1.119) or C(2.6.38.6). Default - read from O(src).
    type: str
  config:
    description:
      - A kernel config on the host. When planning, the base config (the catalogue's C(only_if)
        conditions are judged on it, for example cpusets only with C(SMP)). When auditing, the final
        config.
    type: path
  levels:
    description: Which LXC option levels to switch on.
    type: list
    elements: str
    choices: [required, recommended, optional]
    default: [required, recommended]
  cgroup_mode:
    description: Switch on the options of cgroup v1, of v2, or of both (the kernel may boot either).
    type: str
    choices: [v1, v2, both]
    default: both
  profile:
    description:
      - The containers the kernel is for; the catalogue's levels are per profile (C(unprivileged) makes user
        namespaces required), as M(lxchost.prep.lxc_checkconfig) judges them.
    type: str
    choices: [privileged, unprivileged]
    default: privileged
  fragments:
    description: Config fragments on the host, applied in order before the LXC options.
    type: list
    elements: path
    default: []
  options:
    description:
      - Options set last, overriding fragments and the catalogue, as C(NAME) (or C(CONFIG_NAME))
        to C(y), C(m), C(n) or a value.
    type: dict
    default: {}
  expect:
    description:
      - Audit O(config) against these settings (the RV(settings) of a planning run) instead of
        planning.
    type: list
    elements: dict
  previous_config:
    description: The config built last, to compare O(config) with (missing file - no comparison).
    type: path
  arch:
    description: The C(uname -m) of the build, to read the right C(arch/) Kconfig. Default - this host's.
    type: str
  inputs:
    description:
      - "With O(mode=reasons), the inputs of the build to make - C(version), C(config_sha256), C(patches),
        C(compiler), C(method), C(localversion). With O(config) and O(previous_config), a changed config
        is detailed (C(config changed: +CONFIG_VETH))."
    type: dict
  previous_inputs:
    description: With O(mode=reasons), the inputs recorded by the last build; empty - there was none.
    type: dict
    default: {}
  build_host:
    description: With O(mode=reasons), the host that builds, named in C(no earlier build on HOST).
    type: str
    default: this host
"""

EXAMPLES = r"""
- name: Plan the settings for a tinyconfig base
  lxchost.prep.kernel_lxc_options:
    src: /var/tmp/kernel-build/src/linux
    config: /var/tmp/kernel-build/configure/.config
    options:
      INET: y
  register: kernel_plan

- name: Apply them
  ansible.builtin.command:
    argv: "{{ ['/var/tmp/kernel-build/src/linux/scripts/config', '--file', '/var/tmp/kernel-build/configure/.config']
              + kernel_plan.config_args }}"

- name: After olddefconfig, fail on anything it dropped, naming the unmet dependency
  lxchost.prep.kernel_lxc_options:
    src: /var/tmp/kernel-build/src/linux
    config: /var/tmp/kernel-build/configure/.config
    expect: "{{ kernel_plan.settings }}"

- name: The digest of the catalogue, to know when a config must be made again
  lxchost.prep.kernel_lxc_options:
    mode: digest
  register: kernel_catalogue

- name: Why a build is needed
  lxchost.prep.kernel_lxc_options:
    mode: reasons
    inputs: {version: 6.1.192, config_sha256: 1f0c..., patches: [], compiler: gcc (Debian 12.2.0-14) 12.2.0,
             method: bindeb-pkg, localversion: -lxc}
    previous_inputs: "{{ last_build.inputs | default({}) }}"  # the record the last build left
    config: /var/tmp/kernel-build/configure/.config
    previous_config: /var/tmp/kernel-build/packages/0123456789abcdef/config
  register: kernel_why
"""

RETURN = r"""
catalogue_digest:
  description:
    - The sha256 of the catalogue as the plan and the check use it (symbols, versions, levels, what each
      needs, conditions; not the texts), and of the version of the rules that apply it.
  returned: success
  type: str
  sample: 3b7e0f3c9a5d6e1f2a4b8c7d9e0f1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f
kernel_version:
  description: The kernel version the plan is for.
  returned: when planning or auditing
  type: str
  sample: 6.1.192
settings:
  description: Every setting in the order applied; a later source for a symbol replaced an earlier one.
  returned: success
  type: list
  elements: dict
  sample: [{symbol: NET, value: y, source: "LXC: network_namespace"}]
config_args:
  description: The C(scripts/config) arguments that apply RV(settings).
  returned: when planning
  type: list
  elements: str
  sample: [--set-val, NET, y, --set-val, NET_NS, y]
dropped:
  description: Settings the audited config does not honour, with the reason.
  returned: when auditing
  type: list
  elements: dict
  sample: [{symbol: NETFILTER_XT_TARGET_CHECKSUM, wanted: y, got: null, source: "LXC: netfilter_xt_target_checksum",
            reason: "... it depends on (IP_NF_MANGLE || IP6_NF_MANGLE) && NETFILTER_ADVANCED ..."}]
changes:
  description: How O(config) differs from O(previous_config); empty without one.
  returned: when planning, auditing or giving reasons
  type: list
  elements: str
  sample: [+CONFIG_VETH, "CONFIG_BRIDGE: m -> y"]
reasons:
  description:
    - Why a build with O(inputs) is needed, one entry per input that differs from O(previous_inputs);
      empty when none differs.
  returned: with O(mode=reasons)
  type: list
  elements: str
  sample: ["version 6.1.176 -> 6.1.192", "config changed: +CONFIG_VETH"]
"""

import os

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.lxchost.prep.plugins.module_utils._kconfig import KconfigError, KernelConfig
from ansible_collections.lxchost.prep.plugins.module_utils._kernel_options import (
    catalogue_digest,
    config_args,
    config_changes,
    dropped,
    explain_dropped,
    kconfig_dependencies,
    plan,
    rebuild_reasons,
    srcarch,
)

_MAKEFILE_VERSION_KEYS = ("VERSION", "PATCHLEVEL", "SUBLEVEL", "EXTRAVERSION")


def source_version(src):
    """'6.1.192' from the top Makefile of a kernel tree."""
    path = os.path.join(src, "Makefile")
    try:
        with open(path, "r") as handle:
            head = handle.read(4096)
    except (IOError, OSError) as exc:
        raise KconfigError("%s is not a kernel source tree: cannot read %s (%s)." % (src, path, exc.strerror or exc))
    values = {}
    for line in head.splitlines():
        key, sep, value = line.partition("=")
        if sep and key.strip() in _MAKEFILE_VERSION_KEYS:
            values.setdefault(key.strip(), value.strip())
    if not values.get("VERSION") or not values.get("PATCHLEVEL"):
        raise KconfigError("%s has no VERSION/PATCHLEVEL lines: %s is not a kernel source tree." % (path, src))
    version = "%s.%s" % (values["VERSION"], values["PATCHLEVEL"])
    if values.get("SUBLEVEL"):
        version += ".%s" % values["SUBLEVEL"]
    return version + values.get("EXTRAVERSION", "")


def config_values(path):
    return KernelConfig.from_file(path).values if path else {}


def changes_since(previous_config, values):
    """How ``values`` differ from the config at ``previous_config``; [] when there is none."""
    if previous_config and os.path.exists(previous_config):
        return config_changes(config_values(previous_config), values)
    return []


def main():
    module = AnsibleModule(
        argument_spec=dict(
            mode=dict(type="str", default="plan", choices=["plan", "audit", "digest", "reasons"]),
            src=dict(type="path"),
            kernel_version=dict(type="str"),
            config=dict(type="path"),
            levels=dict(type="list", elements="str", default=["required", "recommended"],
                        choices=["required", "recommended", "optional"]),
            cgroup_mode=dict(type="str", default="both", choices=["v1", "v2", "both"]),
            profile=dict(type="str", default="privileged", choices=["privileged", "unprivileged"]),
            fragments=dict(type="list", elements="path", default=[]),
            options=dict(type="dict", default={}),
            expect=dict(type="list", elements="dict"),
            previous_config=dict(type="path"),
            arch=dict(type="str"),
            inputs=dict(type="dict"),
            previous_inputs=dict(type="dict", default={}),
            build_host=dict(type="str", default="this host"),
        ),
        required_if=[("mode", "plan", ("src",)), ("mode", "audit", ("src", "config", "expect")),
                     ("mode", "reasons", ("inputs",))],
        required_by=dict(expect=("config",), previous_config=("config",)),
        supports_check_mode=True,
    )
    params = module.params
    mode = "audit" if params["mode"] == "plan" and params["expect"] is not None else params["mode"]
    result = dict(changed=False, catalogue_digest=catalogue_digest())
    if mode == "digest":
        module.exit_json(**result)
    cgroup_versions = ("v1", "v2") if params["cgroup_mode"] == "both" else (params["cgroup_mode"],)
    try:
        if mode == "reasons":
            values = config_values(params["config"])
            result["changes"] = changes_since(params["previous_config"], values)
            result["reasons"] = rebuild_reasons(params["previous_inputs"], params["inputs"], params["build_host"],
                                                result["changes"])
            module.exit_json(**result)
        version = params["kernel_version"] or source_version(params["src"])
        values = config_values(params["config"])
        result.update(kernel_version=version, changes=changes_since(params["previous_config"], values))
        if mode == "plan":
            settings = plan(version, params["levels"], cgroup_versions, values,
                            params["fragments"], params["options"], params["profile"])
            result.update(settings=settings, config_args=config_args(settings))
            module.exit_json(**result)
        settings = params["expect"]
        lost = dropped(settings, values)
        result.update(settings=settings, dropped=lost)
        if lost:
            arch = srcarch(params["arch"] or os.uname()[4])
            dependencies = kconfig_dependencies(params["src"], [item["symbol"] for item in lost], arch)
            reasons = explain_dropped(lost, values, dependencies, version)
            for item, reason in zip(lost, reasons):
                item["reason"] = reason
            module.fail_json(
                msg="olddefconfig dropped %d requested option(s) from %s (kernel %s); switch on what they "
                    "depend on (kernel_build_config_options or a fragment), or stop asking for them: %s"
                    % (len(lost), params["config"], version, " ".join(reasons)), **result)
    except KconfigError as exc:
        module.fail_json(msg=str(exc))
    module.exit_json(**result)


if __name__ == "__main__":
    main()
