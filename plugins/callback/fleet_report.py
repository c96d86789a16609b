# -*- coding: utf-8 -*-
# Copyright: lxchost.prep contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r"""
name: fleet_report
type: aggregate
short_description: One summary of the fleet at the end of site.yml, in the terminal and in JSON and Markdown files
version_added: 1.0.0
description:
  - Collects what C(site.yml) records with C(ansible.builtin.set_stats) under C(lxchost_fleet) (kernel verdict,
    planned or made changes, LXC proof) together with every host's failures and unreachable errors, and prints
    one table after the play recap. Writes the same to C(fleet-report.json) (for machines) and
    C(fleet-report.md) (for people) in O(report_dir), and to C(fleet-report-check.*) or C(fleet-report-run.*)
    by the run's mode, so the last readiness report and the last real run are both kept.
  - Hosts that were unreachable or failed appear as such, with the error and the task it came from.
  - Each host's profile of containers (privileged or unprivileged) and what blocks it (the required checks
    that are not met, with their reasons) come from the last M(lxchost.prep.lxc_checkconfig) result of its
    running kernel.
  - Silent for playbooks that record nothing under C(lxchost_fleet).
author:
  - lxchost.prep contributors (@lxchost)
requirements:
  - enabled in C(callbacks_enabled) (the repository's ansible.cfg does this)
options:
  report_dir:
    description:
      - Directory for C(fleet-report.json) and C(fleet-report.md), created if missing. A relative path is taken
        from the playbook's directory.
    type: path
    default: fleet-report
    env:
      - name: LXCHOST_FLEET_REPORT_DIR
    ini:
      - section: callback_fleet_report
        key: report_dir
  history:
    description:
      - Also keep every report as C(fleet-report-MODE-TIMESTAMP.json), to compare runs.
    type: bool
    default: false
    env:
      - name: LXCHOST_FLEET_REPORT_HISTORY
    ini:
      - section: callback_fleet_report
        key: history
"""

import datetime
import difflib
import json
import os

from ansible import context
from ansible.plugins.callback import CallbackBase

STATS_KEY = "lxchost_fleet"
# The module whose results say each host's profile and what blocks it.
CHECKER = "lxc_checkconfig"
REASON_WIDTH = 120


def checker_verdict(host, action, result):
    """What an lxc_checkconfig result says of the host's running kernel - profile, ready, blockers -
    or None for other tasks, for a config file, and for a check delegated to another host."""
    if (action or "").split(".")[-1] != CHECKER or not isinstance(result, dict):
        return None
    if result.get("runtime") is None or "profile" not in result:
        return None
    delegated = result.get("_ansible_delegated_vars") or {}
    if delegated.get("ansible_delegated_host") not in (None, host):
        return None
    blockers = [dict(id=item.get("id"), status=item.get("status"), reason=item.get("reason") or "")
                for item in result.get("blockers") or [] if isinstance(item, dict)]
    return dict(profile=result["profile"], ready=result.get("ready"), blockers=blockers)


def _short(text, width=REASON_WIDTH):
    text = " ".join(str(text).split())
    return text if len(text) <= width else text[:width - 3] + "..."


def profile_text(profile, blockers):
    """'profile privileged: nothing blocks it', or what blocks it with the reasons; '' when unknown."""
    if not profile:
        return ""
    if not blockers:
        return "profile %s: nothing blocks it" % profile
    return "profile %s: blocked by %s" % (profile, "; ".join(
        "%s (%s: %s)" % (item["id"], item["status"], _short(item["reason"].rstrip("."))) for item in blockers))


def unified_diff(diff):
    """Unified diff lines of Ansible diff results: one before/after dict or a list of them."""
    items = diff if isinstance(diff, list) else [diff]
    lines = []
    for item in items:
        if not isinstance(item, dict) or "before" not in item or "after" not in item:
            continue
        before = item.get("before") or ""
        after = item.get("after") or ""
        if before == after:
            continue
        header = item.get("before_header") or item.get("after_header") or "before/after"
        lines.extend(line.rstrip("\n") for line in difflib.unified_diff(
            before.splitlines(True), after.splitlines(True), header, header, n=0))
    return lines


def kernel_plan_text(kernel):
    plan = kernel.get("plan")
    if plan == "ready":
        return "no kernel build: the running kernel is ready"
    missing = ", ".join(kernel.get("missing_required") or []) or "none"
    builder = ", on builder %s" % kernel["builder"] if kernel.get("builder") else ""
    if plan == "build" and kernel.get("ready"):
        return "kernel build asked for (lxchost_site_build_kernel: always; the running kernel is ready)%s" % builder
    if plan == "build":
        return "kernel build needed (missing required: %s)%s" % (missing, builder)
    if plan == "blocked":
        return ("kernel build needed (missing required: %s) but not allowed by the inventory "
                "(lxchost_site_build_kernel: false)" % missing)
    return ""


def host_row(name, entry, outcome, check_mode, verdict=None):
    """One host's report: the recorded data plus what happened to it, and the checker's verdict
    (profile, blockers) of its running kernel when the run had one."""
    kernel = entry.get("kernel") or {}
    verdict = verdict or {}
    cgroup = entry.get("cgroup") or {}
    userland = entry.get("userland") or {}
    proof = entry.get("proof") or {}
    verb = "would " if check_mode else ""
    planned, short = [], []
    if kernel.get("plan") in ("build", "blocked"):
        planned.append(kernel_plan_text(kernel))
        short.append("kernel build" + (" (not allowed)" if kernel.get("plan") == "blocked" else ""))
    if cgroup.get("changed"):
        planned.append("%s fstab line %s" % ("would write" if check_mode else "wrote", cgroup.get("line") or "for %s" % cgroup.get("path")))
        short.append("fstab")
    missing = userland.get("missing") or []
    if missing:
        planned.append("%s %s" % ("would install" if check_mode else "installed", ", ".join(missing)))
        short.append("%d package%s" % (len(missing), "" if len(missing) == 1 else "s"))
    if kernel.get("ready") is None:
        ready = "-"
    elif kernel.get("ready"):
        ready = "ready"
    else:
        ready = "missing: " + ", ".join(kernel.get("missing_required") or [])
    return {
        "host": name,
        "status": outcome["status"],
        "error": outcome.get("error"),
        "failed_task": outcome.get("task"),
        "changed_tasks": outcome.get("changed", 0),
        "distribution": kernel.get("distribution"),
        "kernel_version": kernel.get("version"),
        "kernel_release": kernel.get("release"),
        "config_source": kernel.get("config_source"),
        "ready": kernel.get("ready"),
        "readiness": ready,
        "missing_required": kernel.get("missing_required") or [],
        "missing_recommended": kernel.get("missing_recommended") or [],
        "profile": kernel.get("profile") or verdict.get("profile"),
        "blockers": kernel.get("blockers") or verdict.get("blockers") or [],
        "kernel_plan": kernel.get("plan"),
        "kernel_plan_text": kernel_plan_text(kernel) if kernel else "",
        "cgroup_line": cgroup.get("line"),
        "cgroup_reason": cgroup.get("reason"),
        "cgroup_changed": cgroup.get("changed"),
        "fstab_diff": unified_diff(cgroup.get("diff")),
        "packages_missing": missing,
        "network": userland.get("network"),
        "network_reason": userland.get("network_reason"),
        "apparmor": userland.get("apparmor"),
        "apparmor_reason": userland.get("apparmor_reason"),
        "proof": proof.get("output"),
        "planned_changes": planned,
        "planned_short": short,
    }


def table(rows, headers):
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(headers)]
    out = ["  ".join(h.ljust(w) for h, w in zip(headers, widths)).rstrip(),
           "  ".join("-" * w for w in widths)]
    out.extend("  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in rows)
    return out


def short_status(row):
    if row["status"] == "ok":
        return "ok"
    text = "%s: %s" % (row["status"].upper(), row["error"] or "")
    return text if len(text) <= 70 else text[:67] + "..."


def render_text(report):
    rows = report["hosts"]
    mode = report["mode"]
    title = "LXC fleet report - %s" % (
        "check mode: nothing was changed; planned changes below" if mode == "check" else "changes made by this run")
    cells = []
    for r in rows:
        cells.append([
            r["host"],
            r["kernel_version"] or "-",
            r["readiness"],
            r["network"] or "-",
            ", ".join(r["planned_short"]) or ("none" if r["status"] == "ok" else "-"),
            short_status(r),
        ])
    head = ["HOST", "KERNEL", "LXC KERNEL", "NET", "PLANNED CHANGES" if mode == "check" else "CHANGES", "RESULT"]
    lines = ["", "=" * 20 + " " + title + " " + "=" * 20]
    lines.extend(table(cells, head))
    for r in rows:
        lines.append("")
        lines.append("%s (%s)" % (r["host"], short_status(r)))
        if r["status"] != "ok" and r["error"]:
            lines.append("  error: %s%s" % ("in task '%s': " % r["failed_task"] if r["failed_task"] else "", r["error"]))
        if r["kernel_version"]:
            lines.append("  kernel %s (%s, from %s): %s" % (
                r["kernel_release"] or r["kernel_version"], r["distribution"] or "?", r["config_source"],
                "ready for LXC" if r["ready"] else "NOT ready, missing required: " + ", ".join(r["missing_required"])))
            if r["missing_recommended"]:
                lines.append("  missing recommended: " + ", ".join(r["missing_recommended"]))
            lines.append("  " + r["kernel_plan_text"])
        if r["profile"]:
            lines.append("  " + profile_text(r["profile"], r["blockers"]))
        if r["cgroup_line"] or r["cgroup_reason"]:
            reason = r["cgroup_reason"] or ""
            if len(reason) > 160:  # the full reason is in the report files
                reason = reason[:157] + "..."
            lines.append("  cgroups: %s%s - %s" % (
                "would write " if mode == "check" and r["cgroup_changed"] else "", r["cgroup_line"], reason))
        for d in r["fstab_diff"]:
            lines.append("    " + d)
        if r["network"]:
            lines.append("  network: %s - %s" % (r["network"], r["network_reason"]))
        if r["apparmor"]:
            lines.append("  AppArmor: %s - %s" % (r["apparmor"], r["apparmor_reason"]))
        if r["packages_missing"]:
            lines.append("  packages: %s %s" % ("would install" if mode == "check" else "installed", ", ".join(r["packages_missing"])))
        elif r["network"]:
            lines.append("  packages: all present")
        if r["proof"]:
            lines.append("  proof (output of a command run in a throwaway container):")
            lines.extend("    | " + p for p in r["proof"])
        elif mode == "check" and r["status"] == "ok" and r["network"]:
            lines.append("  proof: would create, start, run a command in, stop and destroy a busybox container")
    s = report["summary"]
    lines.append("")
    lines.append("%d host(s): %d ok, %d failed, %d unreachable; kernel ready on %d, build needed on %d" % (
        s["hosts"], s["ok"], s["failed"], s["unreachable"], s["kernel_ready"], s["kernel_build_needed"]))
    return lines


def render_markdown(report):
    mode = report["mode"]
    if mode == "check":
        intro = "Check mode: nothing was changed; the changes below are planned."
    else:
        intro = "Changes below were made by this run."
    lines = ["# LXC fleet report", "",
             "%s, %s. %s" % (report["playbook"], report["finished"], intro), "",
             "| Host | Kernel | LXC kernel | Network | %s | Result |" % ("Planned changes" if mode == "check" else "Changes"),
             "|---|---|---|---|---|---|"]
    for r in report["hosts"]:
        lines.append("| %s | %s | %s | %s | %s | %s |" % (
            r["host"], r["kernel_version"] or "-", r["readiness"], r["network"] or "-",
            "<br>".join(r["planned_changes"]) or "none", short_status(r).replace("|", "\\|")))
    for r in report["hosts"]:
        lines += ["", "## %s" % r["host"], ""]
        if r["error"]:
            lines.append("- **%s** %s: %s" % (r["status"], "in task '%s'" % r["failed_task"] if r["failed_task"] else "", r["error"]))
        if r["kernel_version"]:
            verdict = "ready" if r["ready"] else "missing " + ", ".join(r["missing_required"])
            lines.append("- kernel %s from `%s`: %s" % (r["kernel_release"] or r["kernel_version"], r["config_source"], verdict))
            lines.append("- %s" % r["kernel_plan_text"])
        if r["profile"]:
            lines.append("- %s" % profile_text(r["profile"], r["blockers"]))
        if r["cgroup_line"]:
            lines.append("- cgroups: `%s` (%s)" % (r["cgroup_line"], r["cgroup_reason"]))
        if r["fstab_diff"]:
            lines += ["", "```diff"] + r["fstab_diff"] + ["```", ""]
        if r["network"]:
            lines.append("- network: %s (%s)" % (r["network"], r["network_reason"]))
            if r["apparmor"]:
                lines.append("- AppArmor: %s (%s)" % (r["apparmor"], r["apparmor_reason"]))
            lines.append("- packages: %s" % (", ".join(r["packages_missing"]) or "all present"))
        if r["proof"]:
            lines += ["- proof:", "", "```"] + r["proof"] + ["```"]
    return lines


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "lxchost.prep.fleet_report"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self, *args, **kwargs):
        super(CallbackModule, self).__init__(*args, **kwargs)
        self._outcomes = {}
        self._verdicts = {}
        self._playbook = None
        self._playbook_dir = os.getcwd()

    def v2_playbook_on_start(self, playbook):
        self._playbook = os.path.basename(playbook._file_name)
        self._playbook_dir = os.path.dirname(os.path.abspath(playbook._file_name))

    def _record(self, result, status):
        if result._task.ignore_errors and status == "failed":
            return
        res = result._result
        error = res.get("msg") or res.get("stderr") or res.get("reason") or "failed"
        if isinstance(error, (list, dict)):
            error = json.dumps(error)
        # The last one wins: a failure inside a block that was rescued comes before the
        # rescue's own (clearer) failure, or is not the host's outcome at all.
        self._outcomes.setdefault(result._host.get_name(), {})[status] = {
            "status": status, "task": result._task.get_name(), "error": " ".join(str(error).split())}

    def _record_verdict(self, result):
        host = result._host.get_name()
        verdict = checker_verdict(host, getattr(result._task, "action", None), result._result)
        if verdict is not None:
            self._verdicts[host] = verdict  # the last check wins: after a kernel build, the new kernel's

    def v2_runner_on_ok(self, result):
        self._record_verdict(result)

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._record_verdict(result)  # fail_on returns the whole verdict with the failure
        if not ignore_errors:
            self._record(result, "failed")

    def v2_runner_on_unreachable(self, result):
        self._record(result, "unreachable")

    def build_report(self, stats):
        custom = (getattr(stats, "custom", None) or {}).get("_run", {})
        fleet = custom.get(STATS_KEY)
        if not isinstance(fleet, dict):
            return None
        check_mode = bool(context.CLIARGS.get("check", False))
        names = sorted(set(stats.processed) | set(fleet) | set(self._outcomes))
        rows = []
        for name in names:
            # The recap decides the outcome (a rescued failure leaves the host ok); the
            # recorded results say why.
            recorded = self._outcomes.get(name, {})
            if stats.dark.get(name):
                outcome = dict(recorded.get("unreachable") or {"status": "unreachable", "error": "unreachable"})
            elif stats.failures.get(name):
                outcome = dict(recorded.get("failed") or {"status": "failed", "error": "a task failed"})
            else:
                outcome = {"status": "ok"}
            outcome["changed"] = stats.changed.get(name, 0)
            rows.append(host_row(name, fleet.get(name) or {}, outcome, check_mode, self._verdicts.get(name)))
        summary = {
            "hosts": len(rows),
            "ok": sum(1 for r in rows if r["status"] == "ok"),
            "failed": sum(1 for r in rows if r["status"] == "failed"),
            "unreachable": sum(1 for r in rows if r["status"] == "unreachable"),
            "kernel_ready": sum(1 for r in rows if r["ready"]),
            "kernel_build_needed": sum(1 for r in rows if r["kernel_plan"] in ("build", "blocked")),
        }
        return {
            "playbook": self._playbook,
            "mode": "check" if check_mode else "run",
            "finished": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC"),
            "summary": summary,
            "hosts": rows,
        }

    def v2_playbook_on_stats(self, stats):
        report = self.build_report(stats)
        if report is None:
            return
        lines = render_text(report)
        report_dir = os.path.join(self._playbook_dir, os.path.expanduser(self.get_option("report_dir")))
        try:
            os.makedirs(report_dir, exist_ok=True)
            paths = []
            for ext, text in (("json", json.dumps(report, indent=2, sort_keys=True)),
                              ("md", "\n".join(render_markdown(report)))):
                # The latest report, and the latest of its mode (a check run does not
                # overwrite what the last real run did, nor the reverse).
                for name in ("fleet-report.%s" % ext, "fleet-report-%s.%s" % (report["mode"], ext)):
                    path = os.path.join(report_dir, name)
                    with open(path, "w") as handle:
                        handle.write(text + "\n")
                paths.append(os.path.join(report_dir, "fleet-report.%s" % ext))
            if self.get_option("history"):
                stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%dT%H%M%S.%f")
                with open(os.path.join(report_dir, "fleet-report-%s-%s.json" % (report["mode"], stamp)), "w") as handle:
                    handle.write(json.dumps(report, indent=2, sort_keys=True) + "\n")
            lines.append("report files: %s" % ", ".join(paths))
        except OSError as exc:
            lines.append("could not write the report files in %s: %s" % (report_dir, exc))
        for line in lines:
            self._display.display(line)
