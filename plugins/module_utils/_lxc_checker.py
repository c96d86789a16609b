# -*- coding: utf-8 -*-
# Copyright: lxchost.prep contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Judge a kernel config against the catalogue, for a profile of containers.

The judging knows nothing about particular options: all of that is data in _lxc_catalogue
(which also knows which symbol exists in which kernel version). When the running kernel is
judged, _lxc_runtime judges what it runs with too (controllers switched off at boot, the
runtime checks); for a config file those are not applicable. The text report is laid out by
_lxc_report.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

from ansible_collections.lxchost.prep.plugins.module_utils._host_facts import loaded_modules, module_index
from ansible_collections.lxchost.prep.plugins.module_utils._kconfig import (
    KconfigError,
    KernelConfig,
    find_running_config,
    format_version,
    parse_version,
)
from ansible_collections.lxchost.prep.plugins.module_utils._kernel_options import fragment_lines, lxc_settings
from ansible_collections.lxchost.prep.plugins.module_utils._lxc_catalogue import (
    BY_ID,
    DISABLED,
    ENABLED,
    LEVELS,
    MISSING,
    MODULE,
    NOT_APPLICABLE,
    OPTIONAL,
    PRIVILEGED,
    PROFILES,
    RECOMMENDED,
    REQUIRED,
    REQUIREMENTS,
    chosen_symbol,
    first_version,
    last_version,
    level_for,
    needs_for,
    version_of,
)
from ansible_collections.lxchost.prep.plugins.module_utils._lxc_report import render_report
from ansible_collections.lxchost.prep.plugins.module_utils._lxc_runtime import (
    gather,
    judge_controllers,
    judge_host,
    not_running_checks,
    parameter_values,
)

CGROUP_MODES = ("auto", "v1", "v2", "both")
# Statuses of a check that is not met: fail_on and ready count both.
NOT_MET = (MISSING, DISABLED)


def _hint_enable(req, symbol, version, values):
    hint = "Set CONFIG_%s=y" % symbol
    if req.menu:
        hint += " (menuconfig: %s)" % req.menu
    needs = needs_for(req, version, values)
    if needs:
        hint += ", with %s" % ", ".join("CONFIG_%s" % need for need in needs)
    return hint + ", and rebuild the kernel."


def judge(req, config, version, cgroup_versions, profile=PRIVILEGED):
    """One check of one requirement: a dict as the module returns it in ``checks``.

    The file is the evidence; version gates only fill in what it does not say (the rule is written
    in _lxc_catalogue's docstring)."""
    level = level_for(req, profile)
    check = dict(id=req.id, label=req.label, group=req.group, level=level,
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
    if req.builtin_since and version >= version_of(req.builtin_since):
        check.update(status=NOT_APPLICABLE,
                     reason="Always built in since %s: there is no option to set." % req.builtin_since)
        return check

    chosen = chosen_symbol(req, version, config.values)
    if chosen is None:
        return _judge_absent_symbol(req, version, level, check)
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
        check["hint"] = _hint_enable(req, chosen.name, version, config.values)
    return check


def _judge_absent_symbol(req, version, level, check):
    """No symbol of req counts in this kernel: not yet there, or gone."""
    first = first_version(req)
    if first and version < version_of(first):
        if level == REQUIRED:
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
        req = BY_ID.get(check["id"])
        if req is None or check["status"] != MODULE or not req.modules:
            continue
        wanted = [name.replace("-", "_") for name in req.modules]
        modules[check["id"]] = dict(
            modules=list(req.modules),
            available=None if index is None else any(name in index for name in wanted),
            loaded=any(name in loaded for name in wanted))
    return modules


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
    layout = parameter_values(runtime, "systemd.unified_cgroup_hierarchy")
    boot = "; systemd.unified_cgroup_hierarchy=%s on the kernel command line" % layout[-1] if layout else ""
    if mode in ("v1", "hybrid"):
        return ("v1",), "v1 (the host runs cgroup %s%s)" % (mode, boot)
    if mode == "v2":
        return ("v2",), "v2 (the host runs cgroup v2%s)" % boot
    return ("v1", "v2"), "v1 and v2 (no cgroup hierarchy is mounted on the host)"


def _version_to_judge(parsed, config, kernel_version, running, release, warnings):
    if kernel_version:
        version = parse_version(kernel_version)
        if version is None:
            raise KconfigError("kernel_version %r is not a kernel version (for example 2.6.38.6 or 6.1)."
                               % kernel_version)
        header = version_of(parsed.header_version)
        if header and header[:3] != version[:3]:
            warnings.append("kernel_version %s differs from the version %s in the header of %s; using %s."
                            % (kernel_version, parsed.header_version, config, kernel_version))
        return version
    if running:
        version = parse_version(release)
        if version is None:
            raise KconfigError("Cannot read a version from the running kernel's release %r; pass "
                               "kernel_version." % release)
        return version
    version = version_of(parsed.header_version)
    if version is None:
        raise KconfigError(
            "Cannot tell which kernel version %s is for: its header has neither '# Linux/<arch> X.Y.Z "
            "Kernel Configuration' nor '# Linux kernel version: X.Y.Z'. Pass the version with the "
            "kernel_version option (for example kernel_version: 2.6.38.6)." % config)
    return version


def blockers(checks):
    """The required checks that are not met: what keeps LXC from running containers of the profile."""
    return [dict(id=c["id"], label=c["label"], status=c["status"], reason=c["reason"], hint=c["hint"])
            for c in checks if c["level"] == REQUIRED and c["status"] in NOT_MET]


def fragment(checks, parsed, version, versions, profile, levels):
    """The fix fragment (merge_config.sh format) for the missing config checks of these levels: their
    options with what they need first, from the same plan the kernel_build role applies. Checks a
    config cannot fix (switched off on the host, or a kernel too old for the feature) are named in
    comments. Empty when nothing of these levels is missing."""
    wanted = [c for c in checks if c["level"] in levels and c["status"] in NOT_MET]
    fixable = [c["id"] for c in wanted if c["status"] == MISSING and c["symbol"]]
    if not wanted:
        return ""
    labels = dict((c["id"], c["label"]) for c in checks)
    settings = lxc_settings(format_version(version), levels, versions, parsed.values, profile, requirements=fixable)
    lines = ["# The options LXC needs that %s lacks (kernel %s, %s containers, levels %s)."
             % (parsed.source, format_version(version), profile, ", ".join(levels)),
             "# Merge it: scripts/kconfig/merge_config.sh -m .config THIS_FILE, then make olddefconfig."]
    for check in wanted:
        if check["status"] == DISABLED:
            lines.append("# %s is built in but switched off on this host: no config line changes that (see its "
                         "hint)." % check["id"])
        elif not check["symbol"]:
            lines.append("# %s: %s" % (check["id"], check["hint"]))
    lines.extend(fragment_lines(settings, parsed.values, labels))
    return "\n".join(lines) + "\n"


RUNNING = "running"
MET = (ENABLED, MODULE, NOT_APPLICABLE)


def _config_verdicts(config, kernel_version, running, release, versions, profile, warnings):
    """(parsed config, version, config checks) of one config, judged by the config alone."""
    parsed = KernelConfig.from_file(config)
    version = _version_to_judge(parsed, config, kernel_version, running, release, warnings)
    return parsed, version, [judge(req, parsed, version, versions, profile) for req in REQUIREMENTS]


def compare(baseline_source, baseline_version, before, after):
    """What changes in readiness from the baseline's config checks to the config's: the checks that
    become missing, the ones that become enabled, every change of status, and a sentence."""
    old = dict((c["id"], c) for c in before)
    changes = [dict(id=c["id"], level=c["level"], before=old[c["id"]]["status"], after=c["status"])
               for c in after if old[c["id"]]["status"] != c["status"]]
    became_missing = [c["id"] for c in changes if c["after"] == MISSING and c["before"] in MET]
    became_enabled = [c["id"] for c in changes if c["before"] == MISSING and c["after"] in (ENABLED, MODULE)]
    ready_before = not [c for c in before if c["level"] == REQUIRED and c["status"] == MISSING]
    ready_after = not [c for c in after if c["level"] == REQUIRED and c["status"] == MISSING]
    summary = "compared with %s (kernel %s): gains %s; loses %s; ready for LXC %s" % (
        baseline_source, format_version(baseline_version), ", ".join(became_enabled) or "nothing",
        ", ".join(became_missing) or "nothing",
        "before and after" if ready_before and ready_after else "neither before nor after"
        if not (ready_before or ready_after) else "only after" if ready_after else "before, NOT after")
    return dict(config_source=baseline_source, kernel_version=format_version(baseline_version),
                ready=ready_before, became_missing=became_missing, became_enabled=became_enabled,
                changes=changes, summary=summary)


def check_kernel(config=None, kernel_version=None, cgroup_mode="auto", runtime_root="/", release=None,
                 profile=PRIVILEGED, user="root", fragment_levels=(REQUIRED, RECOMMENDED), baseline=None):
    """Judge a kernel config for LXC containers of a profile (privileged or unprivileged).

    config=None: the running kernel, with what it runs with (runtime facts and checks); user is
    who runs unprivileged containers. fragment_levels: the levels the fix fragment switches on.
    baseline: another config (a path, or "running" for the running kernel's) to compare with: what
    changes in readiness from it to config (its config checks only, for the same profile and
    cgroup versions). Raises KconfigError with a message for the user on bad input."""
    if cgroup_mode not in CGROUP_MODES:
        raise KconfigError("cgroup_mode must be one of %s, not %r." % (", ".join(CGROUP_MODES), cgroup_mode))
    if profile not in PROFILES:
        raise KconfigError("profile must be one of %s, not %r." % (", ".join(PROFILES), profile))
    unknown = [level for level in fragment_levels if level not in LEVELS]
    if unknown:
        raise KconfigError("fragment_levels must be among %s, not %s." % (", ".join(LEVELS), ", ".join(unknown)))
    warnings = []
    running = config is None
    if running and baseline == RUNNING:
        raise KconfigError("baseline: running compares the running kernel with another config: give that config "
                           "in config (for example the .config of a kernel built but not booted yet).")
    if running or baseline == RUNNING:
        release = release or os.uname()[2]
    if running:
        config = find_running_config(release, runtime_root)

    runtime = gather(release, user, runtime_root) if running else None
    versions, cgroup_why = _cgroup_versions(cgroup_mode, runtime)
    parsed, version, checks = _config_verdicts(config, kernel_version, running, release, versions, profile, warnings)
    compared = None
    if baseline:
        base_running = baseline == RUNNING
        base_config = find_running_config(release, runtime_root) if base_running else baseline
        _base, base_version, base_checks = _config_verdicts(base_config, None, base_running, release, versions,
                                                            profile, warnings)
        compared = compare(("the running kernel's config %s" % base_config) if base_running else base_config,
                           base_version, base_checks, checks)
    if running:
        judge_controllers(checks, runtime, versions)
        runtime["modules"] = module_facts(release, checks, runtime_root)
        statuses = dict((c["id"], c["status"]) for c in checks)
        host_checks = judge_host(runtime, profile, statuses, parsed.values)
    else:
        host_checks = not_running_checks(profile)

    everything = checks + host_checks
    missing = dict((level, [c["id"] for c in everything if c["level"] == level and c["status"] in NOT_MET])
                   for level in LEVELS)
    result = dict(
        ready=not missing[REQUIRED],
        profile=profile,
        kernel_version=format_version(version),
        config_source=config,
        compression=parsed.compression,
        cgroup_mode=" and ".join(versions),
        cgroup_mode_reason=cgroup_why,
        checks=everything,
        missing_required=missing[REQUIRED],
        missing_recommended=missing[RECOMMENDED],
        missing_optional=missing[OPTIONAL],
        blockers=blockers(everything),
        fragment=fragment(checks, parsed, version, versions, profile, tuple(fragment_levels)),
        baseline=compared,
        runtime=runtime,
        warnings=warnings,
    )
    result["report"] = render_report(result)
    result["lxc_kernel"] = dict(
        (key, result[key]) for key in ("ready", "profile", "kernel_version", "config_source", "cgroup_mode",
                                       "missing_required", "missing_recommended"))
    result["lxc_kernel"]["status"] = dict((c["id"], c["status"]) for c in checks)
    result["lxc_kernel"]["runtime_status"] = dict((c["id"], c["status"]) for c in host_checks)
    result["lxc_kernel"]["blockers"] = [b["id"] for b in result["blockers"]]
    return result


def failure(result, fail_on):
    """The message for a task with fail_on (never, required, recommended) on this result, or None.

    It names what switched off each disabled check, then ends with the ids that are not met."""
    if fail_on == "never":
        return None
    ids = list(result["missing_required"])
    if fail_on == RECOMMENDED:
        ids += result["missing_recommended"]
    if not ids:
        return None
    checks = dict((c["id"], c) for c in result["checks"])
    off = "".join("%s: %s " % (check_id, checks[check_id]["reason"]) for check_id in ids
                  if checks[check_id]["status"] == DISABLED)
    return "%sKernel %s (%s) lacks what LXC needs for %s containers (%s): %s." % (
        off, result["kernel_version"], result["config_source"], result["profile"], fail_on, ", ".join(ids))
