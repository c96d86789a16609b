# -*- coding: utf-8 -*-
# Copyright: lxchost.prep contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The checker's result as text, laid out like lxc-checkconfig's sections.

Private to lxchost.prep. Only lays out a result that _lxc_checker has judged: no judging here.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.lxchost.prep.plugins.module_utils._lxc_catalogue import (
    ENABLED,
    GROUPS,
    MISSING,
    MODULE,
    NOT_APPLICABLE,
    REQUIRED,
)

_STATUS_TEXT = {ENABLED: "enabled", MODULE: "enabled (module)", NOT_APPLICABLE: "not applicable"}


def _check_line(check):
    if check["status"] == MISSING:
        text = "required" if check["level"] == REQUIRED else "missing"
    else:
        text = _STATUS_TEXT[check["status"]]
    if check["status"] == NOT_APPLICABLE and check["reason"]:
        text += " (%s)" % check["reason"].rstrip(".")
    return "%s: %s" % (check["label"], text)


def render_report(result):
    """Plain text laid out like lxc-checkconfig's sections (no colours: it goes into logs)."""
    compression = "" if result["compression"] == "none" else " (%s)" % result["compression"]
    lines = ["Kernel configuration: %s%s" % (result["config_source"], compression),
             "Kernel version: %s" % result["kernel_version"],
             "Cgroup checks for: %s" % result["cgroup_mode_reason"]]
    for group, title in GROUPS:
        checks = [c for c in result["checks"] if c["group"] == group]
        if checks:
            lines.append("")
            lines.append("--- %s ---" % title)
            lines.extend(_check_line(c) for c in checks)
    runtime = result["runtime"]
    if runtime:
        cgroup = runtime["cgroup"]
        lines += ["", "--- Running host ---", "Cgroup mode: %s" % cgroup["mode"]]
        if cgroup["v1_mounts"]:
            lines.append("Cgroup v1 mount points: %s" % ", ".join(m["path"] for m in cgroup["v1_mounts"]))
        if cgroup["v2_mounts"]:
            lines.append("Cgroup v2 mount points: %s" % ", ".join(cgroup["v2_mounts"]))
        lines.append("Cgroup namespace: %s" % ("yes" if runtime["cgroup_namespace"] else "no"))
        for name, helper in sorted(runtime["userns_helpers"].items()):
            if helper is None:
                lines.append("%s: not installed" % name)
            else:
                lines.append("%s: %s" % (name, "setuid root" if helper["setuid"] else
                                         "file capabilities" if helper["file_capabilities"] else
                                         "neither setuid nor file capabilities"))
        for check_id, module in sorted(runtime["modules"].items()):
            state = "loaded" if module["loaded"] else (
                "not loaded" if module["available"] else
                "unknown (no modules.dep)" if module["available"] is None else "module file missing")
            lines.append("Module for %s: %s" % (check_id, state))
    lines.append("")
    if result["ready"]:
        lines.append("Result: ready for LXC%s" % (
            "; missing recommended: %s" % ", ".join(result["missing_recommended"])
            if result["missing_recommended"] else ""))
    else:
        lines.append("Result: NOT ready for LXC; missing required: %s" % ", ".join(result["missing_required"]))
    return "\n".join(lines)
