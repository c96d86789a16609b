# -*- coding: utf-8 -*-
# Copyright: lxchost.prep contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Judge a kernel config against the catalogue.

The judging knows nothing about particular options: all of that is data in _lxc_catalogue
(which also knows which symbol exists in which kernel version). Runtime facts come from
_host_facts and are only gathered when the running kernel's own config is checked; the text
report is laid out by _lxc_report.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

from ansible_collections.lxchost.prep.plugins.module_utils._host_facts import (
    cgroup_facts,
    cgroup_namespace,
    helper_facts,
    loaded_modules,
    module_index,
)
from ansible_collections.lxchost.prep.plugins.module_utils._kconfig import (
    KconfigError,
    KernelConfig,
    find_running_config,
    format_version,
    parse_version,
)
from ansible_collections.lxchost.prep.plugins.module_utils._lxc_catalogue import (
    BY_ID,
    ENABLED,
    LEVELS,
    MISSING,
    MODULE,
    NOT_APPLICABLE,
    REQUIRED,
    RECOMMENDED,
    REQUIREMENTS,
    first_version,
    last_version,
    needs_for,
    symbols_for,
    version_of,
)
from ansible_collections.lxchost.prep.plugins.module_utils._lxc_report import render_report

CGROUP_MODES = ("auto", "v1", "v2", "both")

def _hint_enable(req, symbol, version):
    hint = "Set CONFIG_%s=y" % symbol
    if req.menu:
        hint += " (menuconfig: %s)" % req.menu
    needs = needs_for(req, version)
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

    symbols = symbols_for(req, version)
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
    if req.builtin_since and version >= version_of(req.builtin_since):
        check.update(status=NOT_APPLICABLE,
                     reason="Always built in since %s: there is no option to set." % req.builtin_since)
        return check
    first = first_version(req)
    if first and version < version_of(first):
        if req.level == REQUIRED:
            check.update(status=MISSING, reason=req.why,
                         hint="This kernel predates the feature: LXC needs kernel %s or later." % first)
        else:
            check.update(status=NOT_APPLICABLE, reason="Does not exist before kernel %s." % first)
        return check
    check.update(status=NOT_APPLICABLE, reason="The option was removed in kernel %s." % last_version(req))
    return check


def module_facts(release, checks, root="/"):
    """For each check built as a module: does the module file exist, is it loaded?"""
    index = module_index(release, root)
    loaded = loaded_modules(root)
    modules = {}
    for check in checks:
        names = BY_ID[check["id"]].modules
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
        cgroup_namespace=cgroup_namespace(root),
        userns_helpers=dict((name, helper_facts(name, root)) for name in ("newuidmap", "newgidmap")),
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
        header = version_of(parsed.header_version)
        if header and header[:3] != version[:3]:
            warnings.append("kernel_version %s differs from the version %s in the header of %s; using %s."
                            % (kernel_version, parsed.header_version, config, kernel_version))
    elif running:
        version = parse_version(release)
        if version is None:
            raise KconfigError("Cannot read a version from the running kernel's release %r; pass "
                               "kernel_version." % release)
    else:
        version = version_of(parsed.header_version)
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
