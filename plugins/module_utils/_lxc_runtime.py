# -*- coding: utf-8 -*-
# Copyright: lxchost.prep contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Judge what the running kernel runs with, not only what it was built with.

Private to lxchost.prep. Reads the host through _host_facts (gather) and judges from what that
returns: cgroup controllers switched off at boot (the controller's config check becomes
``disabled``), and the catalogue's RUNTIME_CHECKS (user namespace switches, id-mapping helpers,
subordinate ids, AppArmor, SELinux, swap accounting). Nothing here knows a particular option:
the knowledge is data in _lxc_catalogue. Only the running kernel is judged so; for a config
file every runtime check is not applicable (not_running_checks).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.lxchost.prep.plugins.module_utils._host_facts import (
    apparmor_facts,
    boot_parameters,
    cgroup_facts,
    cgroup_namespace,
    controller_states,
    hardware_model,
    helper_facts,
    init_system,
    installed_packages,
    ip_forward_facts,
    module_parameter,
    selinux_mode,
    subordinate_ids,
    sysctl,
    user_id,
)
from ansible_collections.lxchost.prep.plugins.module_utils._kconfig import ReadError
from ansible_collections.lxchost.prep.plugins.module_utils._lxc_catalogue import (
    BOOT_PARAMETERS,
    BY_ID,
    DISABLED,
    ENABLED,
    MISSING,
    MODULE,
    NOT_APPLICABLE,
    OPTIONAL,
    RUNTIME_CHECKS,
    USERLAND_PACKAGES,
    V2_CONTROLLERS,
    level_for,
)

NOT_RUNNING = ("Judged only for the running kernel: a config file does not say how a host boots or is set "
               "up.")
# An unprivileged container maps this many ids of the host (LXC's usual map).
CONTAINER_ID_COUNT = 65536
ENABLED_STATUSES = (ENABLED, MODULE)


def gather(release, user="root", root="/"):
    """Every fact the runtime judging uses, as the module returns them in ``runtime``; user is who
    runs unprivileged containers (their subordinate ids are looked up by name and by uid)."""
    subids = {}
    for check in RUNTIME_CHECKS:
        if check.probe == "subid":
            try:
                subids[check.target] = subordinate_ids(check.target, root)
            except ReadError as exc:
                subids[check.target] = str(exc)
    return dict(
        kernel_release=release,
        cgroup=cgroup_facts(root),
        cgroup_namespace=cgroup_namespace(root),
        controllers=controller_states(root),
        boot_parameters=["%s=%s" % (name, value) if value is not None else name
                         for name, value in boot_parameters(root) if name in BOOT_PARAMETERS],
        sysctls=dict((check.target, sysctl(check.target, root)) for check in RUNTIME_CHECKS if check.probe == "sysctl"),
        module_parameters=dict((check.target, module_parameter(check.target, root))
                               for check in RUNTIME_CHECKS if check.probe == "module_parameter"),
        userns_helpers=dict((check.target, helper_facts(check.target, root))
                            for check in RUNTIME_CHECKS if check.probe == "helper"),
        subordinate_ids=subids,
        apparmor=apparmor_facts(root),
        selinux=selinux_mode(root),
        hardware_model=hardware_model(root),
        user=dict(name=user, uid=user_id(user, root)),
        ip_forward=ip_forward_facts(root),
        init=init_system(root),
        packages=installed_packages(USERLAND_PACKAGES, root),
        modules={},
    )


def parameter_values(runtime, name):
    """The values a boot parameter has on the command line, in order ("" for a bare word)."""
    values = []
    for item in runtime["boot_parameters"]:
        key, sep, value = item.partition("=")
        if key == name:
            values.append(value if sep else "")
    return values


def _on_raspberry_pi(runtime):
    return (runtime.get("hardware_model") or "").startswith("Raspberry Pi")


def _boot_hint(runtime, add, remove=None):
    """Where to change the kernel command line on this host."""
    after = " (after %s: the later parameter wins)" % remove if remove else ""
    if _on_raspberry_pi(runtime):
        return ("On this Raspberry Pi, add %s at the end of the one line in /boot/firmware/cmdline.txt, "
                "/boot/cmdline.txt before Raspberry Pi OS 12%s, then reboot." % (add, after))
    return ("Add %s at the end of GRUB_CMDLINE_LINUX in /etc/default/grub%s, run update-grub and reboot (on a "
            "Raspberry Pi, add it to cmdline.txt instead)." % (add, after))


# ---------------------------------------------------------------- controllers switched off at boot

def _off_at_boot(name, runtime):
    """(reason, hint) for a controller /proc/cgroups shows with enabled 0, naming the parameter."""
    decisive, enabled_before = None, False
    for item in runtime["boot_parameters"]:
        key, _sep, value = item.partition("=")
        if key in ("cgroup_disable", "cgroup_enable") and name in value.split(","):
            if key == "cgroup_disable" and decisive and decisive[0] == "cgroup_enable":
                enabled_before = True
            decisive = (key, value)
    enable = "cgroup_enable=%s" % name
    if decisive and decisive[0] == "cgroup_disable":
        reason = ("Built in, but switched off at boot by cgroup_disable=%s on the kernel command line (%s)."
                  % (decisive[1], "/proc/cgroups: enabled 0" if runtime["controllers"].get(name) is False
                     else "the cgroup2 root does not offer it"))
        if enabled_before:
            reason += " The %s before it does not count: the later parameter wins." % enable
        return reason, _boot_hint(runtime, enable, "cgroup_disable=%s" % decisive[1])
    if decisive:
        return ("Built in, but /proc/cgroups shows it disabled although the kernel command line ends with %s: "
                "this kernel does not know cgroup_enable=, or switches it off elsewhere." % enable,
                "Look for what switches it off (cgroup_disable= in the boot loader's own settings, a kernel "
                "built with it off), then reboot.")
    return ("Built in, but switched off at boot (/proc/cgroups: enabled 0), with no cgroup_disable= on the "
            "kernel command line: this kernel leaves it off unless the command line has %s (Raspberry Pi and "
            "older Debian kernels do)." % enable, _boot_hint(runtime, enable))


def _disabled_by_parameter(name, runtime):
    return any(name in value.split(",") for value in parameter_values(runtime, "cgroup_disable"))


def _controller_off(req, runtime, cgroup_versions):
    """(reason, hint) when the running host has the controller of req switched off, else None."""
    name = req.controller
    cgroup = runtime["cgroup"]
    v2_lacks = (cgroup["mode"] == "v2" and name in V2_CONTROLLERS and cgroup["v2_controllers"]
                and name not in cgroup["v2_controllers"])
    # Newer kernels list only cgroup v1 controllers in /proc/cgroups: on a cgroup2 host the root's
    # cgroup.controllers is the evidence then, and cgroup_disable= still the reason.
    if runtime["controllers"].get(name) is False or (v2_lacks and _disabled_by_parameter(name, runtime)):
        return _off_at_boot(name, runtime)
    no_v1 = [value for value in parameter_values(runtime, "cgroup_no_v1")
             if name in value.split(",") or "all" in value.split(",")]
    if no_v1 and cgroup_versions == ("v1",):
        return ("cgroup_no_v1=%s on the kernel command line keeps %s out of every cgroup v1 hierarchy, and "
                "this host runs its controllers on cgroup v1 (cgroup %s)." % (no_v1[-1], name, cgroup["mode"]),
                "Remove cgroup_no_v1=%s from the kernel command line (GRUB_CMDLINE_LINUX in /etc/default/grub, "
                "update-grub, reboot), or run the host on cgroup v2." % no_v1[-1])
    if v2_lacks:
        return ("The cgroup2 hierarchy at %s does not offer it (cgroup.controllers: %s)."
                % (cgroup["v2_mounts"][0], " ".join(cgroup["v2_controllers"])),
                "Look for cgroup_disable=%s on the kernel command line; a controller still bound to a cgroup "
                "v1 hierarchy is not offered in cgroup2, and kernels before 4.15 have no cpu controller in "
                "cgroup2 (before 5.0, no cpuset)." % name)
    return None


def judge_controllers(checks, runtime, cgroup_versions):
    """Config checks of controllers that the running host switched off become ``disabled``."""
    for check in checks:
        req = BY_ID.get(check["id"])
        if req is None or not req.controller or check["status"] not in ENABLED_STATUSES:
            continue
        off = _controller_off(req, runtime, cgroup_versions)
        if off:
            check.update(status=DISABLED, reason=off[0], hint=off[1])


# ---------------------------------------------------------------- the catalogue's runtime checks

def _entry(check, level):
    return dict(id=check.id, label=check.label, group=check.group, level=level, symbol=None, value=None,
                status=None, reason=None, hint=None)


def not_running_checks(profile):
    """The runtime checks for a config file: each not applicable, with the reason."""
    checks = []
    for check in RUNTIME_CHECKS:
        entry = _entry(check, level_for(check, profile) or OPTIONAL)
        entry.update(status=NOT_APPLICABLE, reason=NOT_RUNNING)
        checks.append(entry)
    return checks


def judge_runtime(check, runtime, profile, user, statuses, config_values):
    """One runtime check on the running host: a dict shaped like a config check."""
    level = level_for(check, profile)
    entry = _entry(check, level or OPTIONAL)
    if level is None:
        judged = sorted(profile_name for profile_name, _level in check.levels)
        entry.update(status=NOT_APPLICABLE, reason="Only judged for %s containers (profile: %s)."
                     % (" and ".join(judged), " or ".join(judged)))
        return entry
    unmet = [need for need in check.needs if statuses.get(need) not in ENABLED_STATUSES]
    if unmet:
        entry.update(status=NOT_APPLICABLE, reason="Only applies when %s; here %s." % (
            " and ".join("%s (%s) is enabled" % (BY_ID[need].label, need) for need in unmet),
            " and ".join("it is %s" % statuses.get(need, MISSING).replace("_", " ") for need in unmet)))
        return entry
    status, reason, hint = _PROBES[check.probe](check, runtime, user, config_values)
    entry.update(status=status, reason=reason,
                 hint=(hint if hint is not None else check.hint.format(user=user)) if status not in (
                     ENABLED, NOT_APPLICABLE) else None)
    return entry


def _module_parameter(check, runtime, _user, _values):
    value = runtime["module_parameters"].get(check.target)
    if value is None:
        return NOT_APPLICABLE, "This kernel has no %s parameter: nothing keeps the feature off at boot." % (
            check.target), None
    given = parameter_values(runtime, check.target)
    if value == check.off_value:
        return DISABLED, "%s is %s on this host (%s). %s" % (
            check.target, value, "the kernel command line sets %s=%s" % (check.target, given[-1]) if given
            else "the kernel command line does not set it", check.why), None
    return ENABLED, "%s is %s." % (check.target, value), None


def _sysctl(check, runtime, user, _values):
    value = runtime["sysctls"].get(check.target)
    if value is None:
        return NOT_APPLICABLE, "This kernel has no %s: nothing switches the feature off here." % check.target, None
    if value != check.off_value:
        return ENABLED, "%s = %s." % (check.target, value), None
    if check.spares_root and user == "root":
        return ENABLED, ("%s = %s, which stops only users other than root; the containers run as root."
                         % (check.target, value)), None
    return DISABLED, "%s = %s on this host%s. %s" % (
        check.target, value, ": user %s cannot use user namespaces" % user if check.spares_root else "",
        check.why), None


def _helper(check, runtime, user, _values):
    if user == "root":
        return NOT_APPLICABLE, ("The containers run as root, which writes their id maps itself; %s is for "
                                "containers of other users." % check.target), None
    helper = runtime["userns_helpers"].get(check.target)
    if helper is None:
        return MISSING, "%s is not installed. %s" % (check.target, check.why), None
    if helper["setuid"]:
        return ENABLED, "%s is setuid root." % helper["path"], None
    if helper["file_capabilities"]:
        return ENABLED, "%s has file capabilities." % helper["path"], None
    return MISSING, "%s is neither setuid root nor given file capabilities. %s" % (helper["path"], check.why), None


def _subid(check, runtime, user, _values):
    ranges = runtime["subordinate_ids"].get(check.target)
    if isinstance(ranges, str):
        return MISSING, "%s %s" % (ranges, check.why), None
    if ranges is None:
        return MISSING, "%s does not exist. %s" % (check.target, check.why), None
    names = (user, runtime["user"]["uid"])
    owned = [(first, count) for owner, first, count in ranges if owner in names]
    total = sum(count for _first, count in owned)
    if total >= CONTAINER_ID_COUNT:
        return ENABLED, "%s owns %d ids in %s (from %d)." % (user, total, check.target, owned[0][0]), None
    if total:
        return MISSING, "%s owns only %d ids in %s. %s" % (user, total, check.target, check.why), None
    return MISSING, "%s gives %s no range. %s" % (check.target, user, check.why), None


def _apparmor(check, runtime, _user, _values):
    apparmor = runtime["apparmor"]
    if apparmor["enabled"] is None:
        return NOT_APPLICABLE, "The running kernel has no AppArmor.", None
    if apparmor["enabled"] != "Y":
        return NOT_APPLICABLE, ("AppArmor is built in but not enabled at boot (apparmor=0, or another security "
                                "module chosen with security= or lsm=): LXC does not use it."), None
    problems = []
    if not apparmor["parser"]:
        problems.append("apparmor_parser is not installed (package apparmor)")
    if not apparmor["securityfs"]:
        problems.append("/sys/kernel/security/apparmor does not exist (securityfs not mounted, or a container)")
    if problems:
        return MISSING, "AppArmor is enabled in the running kernel, but %s: lxc-start refuses to start containers. %s" % (
            " and ".join(problems), check.why), None
    if not apparmor["mount_mediation"]:
        return MISSING, ("AppArmor is enabled, but cannot mediate mounts here (no /sys/kernel/security/apparmor/"
                         "features/mount/mask): lxc-start refuses to start containers unless their config sets "
                         "lxc.apparmor.allow_incomplete = 1, which leaves their mounts unconfined."), (
            "Boot a kernel whose AppArmor mediates mounts; setting lxc.apparmor.allow_incomplete = 1 lowers the "
            "containers' isolation, a decision left to you.")
    return ENABLED, ("AppArmor is enabled; LXC loads and enforces its profiles with %s through "
                     "/sys/kernel/security/apparmor." % apparmor["parser"]), None


def _selinux(check, runtime, _user, _values):
    mode = runtime["selinux"]
    if mode is None:
        return NOT_APPLICABLE, "The running kernel has no SELinux: no /sys/fs/selinux.", None
    if mode == "permissive":
        return ENABLED, "SELinux is permissive: it logs what it would deny, and blocks nothing.", None
    return ENABLED, "SELinux is enforcing. %s" % check.why, None


def _swap_accounting(check, runtime, _user, values):
    if runtime["controllers"].get("memory") is False:
        return NOT_APPLICABLE, "The memory controller is switched off at boot: it accounts nothing.", None
    noswap = [value for value in parameter_values(runtime, "cgroup.memory") if "noswap" in value.split(",")]
    if noswap:
        return DISABLED, "cgroup.memory=%s on the kernel command line switches swap accounting off." % noswap[-1], (
            "Remove cgroup.memory=noswap from the kernel command line (GRUB_CMDLINE_LINUX in /etc/default/grub, "
            "update-grub, reboot).")
    given = parameter_values(runtime, "swapaccount")
    if given and given[-1] == "0":
        return DISABLED, "swapaccount=0 on the kernel command line switches swap accounting off.", (
            "Remove swapaccount=0 from the kernel command line (GRUB_CMDLINE_LINUX in /etc/default/grub, "
            "update-grub, reboot).")
    if given:
        return ENABLED, "swapaccount=%s on the kernel command line." % given[-1], None
    if values.get("MEMCG_SWAP") == "n":
        return MISSING, "The kernel is built without swap accounting (CONFIG_MEMCG_SWAP is not set).", (
            "Set CONFIG_MEMCG_SWAP=y and rebuild the kernel.")
    if values.get("MEMCG_SWAP_ENABLED") == "n":
        return DISABLED, ("Off by default in this kernel (CONFIG_MEMCG_SWAP_ENABLED is not set), and the kernel "
                          "command line has no swapaccount=1."), None
    return ENABLED, "On: the kernel's default.", None


_PROBES = {
    "module_parameter": _module_parameter,
    "sysctl": _sysctl,
    "helper": _helper,
    "subid": _subid,
    "apparmor": _apparmor,
    "selinux": _selinux,
    "swap_accounting": _swap_accounting,
}


def judge_host(runtime, profile, statuses, config_values):
    """Every runtime check of the catalogue, judged on the running host (gathered by gather())."""
    user = runtime["user"]["name"]
    return [judge_runtime(check, runtime, profile, user, statuses, config_values) for check in RUNTIME_CHECKS]
