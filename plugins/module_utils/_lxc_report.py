# -*- coding: utf-8 -*-
# Copyright: lxchost.prep contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The checker's result as text, laid out like lxc-checkconfig's sections.

Private to lxchost.prep. Only lays out a result that _lxc_checker has judged: no judging here.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.lxchost.prep.plugins.module_utils._lxc_catalogue import (
    DISABLED,
    ENABLED,
    GROUPS,
    HOST_GROUP,
    MISSING,
    MODULE,
    NOT_APPLICABLE,
    OPTIONAL,
    REQUIRED,
    RUNTIME_BY_ID,
    level_for,
)

_STATUS_TEXT = {ENABLED: "enabled", MODULE: "enabled (module)", DISABLED: "DISABLED", NOT_APPLICABLE: "not applicable"}


def _check_line(check):
    if check["status"] == MISSING:
        text = "required" if check["level"] == REQUIRED else "missing"
    else:
        text = _STATUS_TEXT[check["status"]]
    # A config check's missing option is its own explanation; a host's state needs its reason.
    explain = check["status"] in (NOT_APPLICABLE, DISABLED) or check["group"] == HOST_GROUP
    if explain and check["reason"]:
        text += " (%s)" % check["reason"].rstrip(".")
    return "%s: %s" % (check["label"], text)


def _runtime_lines(runtime):
    cgroup = runtime["cgroup"]
    lines = ["Kernel command line: %s" % (" ".join(runtime["boot_parameters"]) or
                                          "none of the parameters that matter to LXC"),
             "Cgroup mode: %s" % cgroup["mode"]]
    if cgroup["v1_mounts"]:
        lines.append("Cgroup v1 mount points: %s" % ", ".join(m["path"] for m in cgroup["v1_mounts"]))
    if cgroup["v2_mounts"]:
        lines.append("Cgroup v2 mount points: %s" % ", ".join(cgroup["v2_mounts"]))
    off = sorted(name for name, enabled in runtime["controllers"].items() if not enabled)
    if off:
        lines.append("Controllers switched off at boot: %s" % ", ".join(off))
    lines.append("Cgroup namespace: %s" % ("yes" if runtime["cgroup_namespace"] else "no"))
    for check_id, module in sorted(runtime["modules"].items()):
        state = "loaded" if module["loaded"] else (
            "not loaded" if module["available"] else
            "unknown (no modules.dep)" if module["available"] is None else "module file missing")
        lines.append("Module for %s: %s" % (check_id, state))
    return lines


def render_report(result):
    """Plain text laid out like lxc-checkconfig's sections (no colours: it goes into logs)."""
    compression = "" if result["compression"] == "none" else " (%s)" % result["compression"]
    lines = ["Kernel configuration: %s%s" % (result["config_source"], compression),
             "Kernel version: %s" % result["kernel_version"],
             "Profile: %s containers" % result["profile"],
             "Cgroup checks for: %s" % result["cgroup_mode_reason"]]
    runtime = result["runtime"]
    for group, title in GROUPS:
        checks = [c for c in result["checks"] if c["group"] == group]
        if not checks:
            continue
        lines += ["", "--- %s ---" % title]
        if group == HOST_GROUP and runtime is None:
            lines.append("Not judged: %s" % checks[0]["reason"])
            continue
        if group == HOST_GROUP:
            lines.extend(_runtime_lines(runtime))
            other = [c["id"] for c in checks if level_for(RUNTIME_BY_ID[c["id"]], result["profile"]) is None]
            checks = [c for c in checks if c["id"] not in other]
            if other:
                lines.append("Not judged for %s containers: %s" % (result["profile"], ", ".join(other)))
        lines.extend(_check_line(c) for c in checks)
    to_do = [c for c in result["checks"] if c["status"] in (MISSING, DISABLED) and c["level"] != OPTIONAL
             and c["hint"]]
    if to_do:
        lines += ["", "--- What to do ---"]
        lines.extend("%s: %s" % (c["id"], c["hint"]) for c in to_do)
    lines.append("")
    who = "%s containers" % result["profile"]
    if result["ready"]:
        lines.append("Result: ready for LXC (%s)%s" % (who, (
            "; not met (recommended): %s" % ", ".join(result["missing_recommended"])
            if result["missing_recommended"] else "")))
    else:
        lines.append("Result: NOT ready for LXC (%s); not met (required): %s" % (
            who, ", ".join(result["missing_required"])))
    return "\n".join(lines)
