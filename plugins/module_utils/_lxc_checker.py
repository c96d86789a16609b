# -*- coding: utf-8 -*-
# Copyright: lxchost.prep contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Judge a kernel config against the catalogue, gather runtime facts, lay out the report.

The judging knows nothing about particular options: all of that is data in _lxc_catalogue.
Runtime facts (cgroup mounts, namespaces, helpers, modules) describe the running host and are
only gathered when the running kernel's own config is checked.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import stat

from ansible_collections.lxchost.prep.plugins.module_utils._kconfig import (
    KconfigError,
    KernelConfig,
    find_running_config,
    format_version,
    parse_version,
)
from ansible_collections.lxchost.prep.plugins.module_utils._lxc_catalogue import (
    GROUPS,
    LEVELS,
    REQUIRED,
    RECOMMENDED,
    REQUIREMENTS,
)

ENABLED = "enabled"
MODULE = "module"
MISSING = "missing"
NOT_APPLICABLE = "not_applicable"

CGROUP_MODES = ("auto", "v1", "v2", "both")

_V1_MOUNT_OPTIONS = frozenset(("rw", "ro", "relatime", "noatime", "nosuid", "nodev", "noexec",
                               "clone_children", "noprefix", "xattr", "cpuset_v2_mode", "favordynmods",
                               "seclabel", "nodiratime", "lazytime", "sync", "dirsync", "mand", "nosymfollow"))


def _version(text):
    return parse_version(text) if text else None


def _exists_in(sym, version):
    return ((sym.since is None or version >= _version(sym.since))
            and (sym.until is None or version < _version(sym.until)))


def _symbols_for(req, version):
    """The symbols of req that exist in this kernel version, in catalogue order."""
    return [sym for sym in req.symbols if _exists_in(sym, version)]


def _needs_for(req, version):
    """The names req needs switched on first in this kernel version (for hints and kernel builds)."""
    return [sym.name for sym in req.needs if _exists_in(sym, version)]


def _hint_enable(req, symbol, version):
    hint = "Set CONFIG_%s=y" % symbol
    if req.menu:
        hint += " (menuconfig: %s)" % req.menu
    needs = _needs_for(req, version)
    if needs:
        hint += ", with %s" % ", ".join("CONFIG_%s" % need for need in needs)
    return hint + ", and rebuild the kernel."


def judge(req, config, version, cgroup_versions):
    """One check of one requirement: a dict as the module returns it in ``checks``."""
    check = dict(id=req.id, label=req.label, group=req.group, level=req.level,
                 symbol=None, value=None, status=None, reason=None, hint=None)
    if req.cgroup and req.cgroup not in cgroup_versions:
        check.update(status=NOT_APPLICABLE,
                     reason="Only used with cgroup %s; this kernel is judged for cgroup %s."
                     % (req.cgroup, " and ".join(sorted(cgroup_versions))))
        return check
    unmet = [name for name in req.only_if if config.value(name) not in ("y", "m")]
    if unmet:
        check.update(status=NOT_APPLICABLE, reason="Only applies with %s, which this config lacks."
                     % ", ".join("CONFIG_%s" % name for name in unmet))
        return check

    symbols = _symbols_for(req, version)
    if not symbols:
        return _judge_absent_symbol(req, version, check)

    # Alternatives: built in beats a module, a module beats missing; else report the first.
    chosen = next((sym for sym in symbols if config.value(sym.name) == "y"),
                  next((sym for sym in symbols if config.value(sym.name) == "m"), symbols[0]))
    value = config.value(chosen.name)
    check.update(symbol="CONFIG_%s" % chosen.name, value=value if value in ("y", "m", "n", None) else "n")
    if value == "y":
        check["status"] = ENABLED
    elif value == "m":
        check["status"] = MODULE
        check["hint"] = "Built as a module%s: it must be loadable on the host (modprobe)." % (
            " (%s)" % " or ".join(req.modules) if req.modules else "")
    else:
        check["status"] = MISSING
        check["reason"] = req.why
        check["hint"] = _hint_enable(req, chosen.name, version)
    return check


def _judge_absent_symbol(req, version, check):
    """No symbol of req exists in this version: built in, not yet there, or gone."""
    if req.builtin_since and version >= _version(req.builtin_since):
        check.update(status=NOT_APPLICABLE,
                     reason="Always built in since %s: there is no option to set." % req.builtin_since)
        return check
    firsts = [_version(sym.since) for sym in req.symbols if sym.since]
    if firsts and version < min(firsts):
        first = min((sym.since for sym in req.symbols if sym.since), key=_version)
        if req.level == REQUIRED:
            check.update(status=MISSING, reason=req.why,
                         hint="This kernel predates the feature: LXC needs kernel %s or later." % first)
        else:
            check.update(status=NOT_APPLICABLE, reason="Does not exist before kernel %s." % first)
        return check
    last = max((sym.until for sym in req.symbols if sym.until), key=_version)
    check.update(status=NOT_APPLICABLE, reason="The option was removed in kernel %s." % last)
    return check


def _read(path, default=None):
    try:
        with open(path) as handle:
            return handle.read()
    except (IOError, OSError):
        return default


def cgroup_facts(root="/"):
    """cgroup mode and hierarchies, from mount types (never by creating a cgroup)."""
    v1_mounts, v2_mounts = [], []
    for line in (_read(os.path.join(root, "proc/self/mounts"), "") or "").splitlines():
        fields = line.split()
        if len(fields) < 4:
            continue
        path = fields[1].replace("\\040", " ")
        if fields[2] == "cgroup2":
            v2_mounts.append(path)
        elif fields[2] == "cgroup":
            opts = [opt for opt in fields[3].split(",")
                    if opt not in _V1_MOUNT_OPTIONS and not opt.startswith("release_agent=")]
            v1_mounts.append(dict(path=path, controllers=opts))
    available = []
    for line in (_read(os.path.join(root, "proc/cgroups"), "") or "").splitlines():
        fields = line.split()
        if len(fields) >= 4 and not line.startswith("#") and fields[3] == "1":
            available.append(fields[0])
    bound = sorted(set(ctl for mount in v1_mounts for ctl in mount["controllers"]
                       if not ctl.startswith("name=")))
    v2_controllers = []
    if v2_mounts:
        v2_controllers = (_read(os.path.join(root, v2_mounts[0].lstrip("/"), "cgroup.controllers"), "")
                          or "").split()
    if bound and v2_mounts:
        mode = "hybrid"
    elif bound or (v1_mounts and not v2_mounts):
        mode = "v1"
    elif v2_mounts:
        mode = "v2"
    else:
        mode = "none"
    return dict(mode=mode, v1_mounts=v1_mounts, v2_mounts=v2_mounts, v1_bound_controllers=bound,
                v1_available_controllers=available, v2_controllers=v2_controllers)


def _helper_fact(name, root):
    for directory in ("usr/bin", "bin", "usr/sbin", "sbin"):
        path = os.path.join(root, directory, name)
        if os.path.isfile(path):
            mode = os.stat(path).st_mode
            try:
                file_caps = bool(os.getxattr(path, "security.capability"))
            except (AttributeError, OSError):
                file_caps = False
            return dict(path="/" + os.path.join(directory, name), setuid=bool(mode & stat.S_ISUID),
                        file_capabilities=file_caps)
    return None


def _module_index(release, root):
    """Module names that exist for this release (modules.dep), or None when unknown."""
    text = _read(os.path.join(root, "lib/modules", release, "modules.dep"))
    if text is None:
        return None
    names = set()
    for line in text.splitlines():
        path = line.split(":", 1)[0]
        base = os.path.basename(path).split(".ko", 1)[0]
        names.add(base.replace("-", "_"))
    return names


def module_facts(release, checks, root="/"):
    """For each check built as a module: does the module file exist, is it loaded?"""
    by_id = dict((req.id, req) for req in REQUIREMENTS)
    index = _module_index(release, root)
    loaded = set(line.split(" ", 1)[0] for line in
                 (_read(os.path.join(root, "proc/modules"), "") or "").splitlines() if line)
    modules = {}
    for check in checks:
        names = by_id[check["id"]].modules
        if check["status"] != MODULE or not names:
            continue
        wanted = [name.replace("-", "_") for name in names]
        modules[check["id"]] = dict(
            modules=list(names),
            available=None if index is None else any(name in index for name in wanted),
            loaded=any(name in loaded for name in wanted))
    return modules


def runtime_facts(release, root="/"):
    """Facts about the running host, reported apart from the config verdicts."""
    return dict(
        kernel_release=release,
        cgroup=cgroup_facts(root),
        cgroup_namespace=os.path.exists(os.path.join(root, "proc/self/ns/cgroup")),
        userns_helpers=dict((name, _helper_fact(name, root)) for name in ("newuidmap", "newgidmap")),
        modules={},
    )


def _cgroup_versions(cgroup_mode, runtime):
    """Which cgroup versions' checks apply, and a sentence saying why."""
    if cgroup_mode == "v1":
        return ("v1",), "v1 (as asked)"
    if cgroup_mode == "v2":
        return ("v2",), "v2 (as asked)"
    if cgroup_mode == "both":
        return ("v1", "v2"), "v1 and v2 (as asked)"
    if runtime is None:
        return ("v1", "v2"), "v1 and v2 (a config file: the host may boot either)"
    mode = runtime["cgroup"]["mode"]
    if mode in ("v1", "hybrid"):
        return ("v1",), "v1 (the host runs cgroup %s)" % mode
    if mode == "v2":
        return ("v2",), "v2 (the host runs cgroup v2)"
    return ("v1", "v2"), "v1 and v2 (no cgroup hierarchy is mounted on the host)"


def check_kernel(config=None, kernel_version=None, cgroup_mode="auto", runtime_root="/", release=None):
    """Judge a kernel config for LXC.  config=None: the running kernel (and runtime facts).

    Raises KconfigError with a message for the user on bad input."""
    if cgroup_mode not in CGROUP_MODES:
        raise KconfigError("cgroup_mode must be one of %s, not %r." % (", ".join(CGROUP_MODES), cgroup_mode))
    warnings = []
    running = config is None
    if running:
        release = release or os.uname()[2]
        config = find_running_config(release, runtime_root)
    parsed = KernelConfig.from_file(config)

    if kernel_version:
        version = parse_version(kernel_version)
        if version is None:
            raise KconfigError("kernel_version %r is not a kernel version (for example 2.6.38.6 or 6.1)."
                               % kernel_version)
        header = _version(parsed.header_version)
        if header and header[:3] != version[:3]:
            warnings.append("kernel_version %s differs from the version %s in the header of %s; using %s."
                            % (kernel_version, parsed.header_version, config, kernel_version))
    elif running:
        version = parse_version(release)
        if version is None:
            raise KconfigError("Cannot read a version from the running kernel's release %r; pass "
                               "kernel_version." % release)
    else:
        version = _version(parsed.header_version)
        if version is None:
            raise KconfigError(
                "Cannot tell which kernel version %s is for: its header has neither '# Linux/<arch> X.Y.Z "
                "Kernel Configuration' nor '# Linux kernel version: X.Y.Z'. Pass the version with the "
                "kernel_version option (for example kernel_version: 2.6.38.6)." % config)

    runtime = runtime_facts(release, runtime_root) if running else None
    versions, cgroup_why = _cgroup_versions(cgroup_mode, runtime)
    checks = [judge(req, parsed, version, versions) for req in REQUIREMENTS]
    if running:
        runtime["modules"] = module_facts(release, checks, runtime_root)

    missing = dict((level, [c["id"] for c in checks if c["level"] == level and c["status"] == MISSING])
                   for level in LEVELS)
    result = dict(
        ready=not missing[REQUIRED],
        kernel_version=format_version(version),
        config_source=config,
        compression=parsed.compression,
        cgroup_mode=" and ".join(versions),
        cgroup_mode_reason=cgroup_why,
        checks=checks,
        missing_required=missing[REQUIRED],
        missing_recommended=missing[RECOMMENDED],
        missing_optional=missing["optional"],
        runtime=runtime,
        warnings=warnings,
    )
    result["report"] = render_report(result)
    result["lxc_kernel"] = dict(
        (key, result[key]) for key in ("ready", "kernel_version", "config_source", "cgroup_mode",
                                       "missing_required", "missing_recommended"))
    result["lxc_kernel"]["status"] = dict((c["id"], c["status"]) for c in checks)
    return result


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
