# -*- coding: utf-8 -*-
# Copyright: lxchost.prep contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The fleet report of lxchost.prep.site, shared by the fleet_report action and callback.

Each host's report is made of parts, one per step of the playbook; each part is a fact the
step records (REPORT_FACTS, described in docs/CONTRACT.md). From those parts this module
makes the rows of the report, decides each host's verdict and the CI gate, merges a run
limited to some hosts into the previous report, and renders it as text and Markdown.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import collections
import datetime
import difflib
import json
import os

# The custom stats key (set_stats) under which the report data reaches ansible-runner and AWX.
STATS_KEY = "lxchost_fleet"

# The contract: each part of a host's report, and the fact that records it.
REPORT_FACTS = (
    ("os", "lxchost_site_os_report"),          # site.yml: supported system or not
    ("kernel", "lxchost_site_kernel_report"),  # site.yml: lxc_checkconfig's verdict and the plan
    ("build", "kernel_build_report"),          # role kernel_build
    ("cgroup", "cgroup_mount_report"),         # role cgroup_mount
    ("userland", "lxc_userland_report"),       # role lxc_userland
    ("proof", "lxc_proof_report"),             # role lxc_proof
)

# lxchost_site_fail_on: which verdicts make the run fail.
FAIL_ON_CHOICES = ("never", "blocked", "not_ready")
FAIL_ON_DEFAULT = "blocked"
VERDICTS = ("ready", "pending", "blocked", "unsupported", "failed", "unreachable", "not finished")
_GATE_VERDICTS = {
    "never": frozenset(),
    "blocked": frozenset(("blocked", "unsupported")),
    "not_ready": frozenset(VERDICTS) - frozenset(("ready",)),
}

# The outcome of a host that the play lost before its report (the recap says why).
NOT_FINISHED = {"status": "not finished", "error": "failed or unreachable before the report (see the output above)"}


def now_utc():
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")


def plain(value):
    """JSON-ready copy of a variable (Ansible hands over its own subclasses of dict, list, str)."""
    if isinstance(value, dict):
        return dict((str(k), plain(v)) for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, (int, float)):
        return value
    return str(value)


def host_parts(facts):
    """The report parts recorded in a host's variables (hostvars, or the facts of a task result)."""
    parts = {}
    for part, fact in REPORT_FACTS:
        if fact in facts:
            value = facts[fact]
            if isinstance(value, dict):
                parts[part] = plain(value)
    return parts


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


def kernel_plan_text(name, kernel, build):
    plan = kernel.get("plan")
    if plan == "ready":
        return "no kernel build: the running kernel is ready"
    if plan == "build" and build.get("current"):
        return "no kernel build: the host runs the kernel this build makes (%s)" % build.get("release")
    missing = ", ".join(kernel.get("missing_required") or []) or "none"
    build_host = build.get("build_host") or name
    builder = ", on builder %s" % build_host if build_host != name else ""
    if plan == "build" and kernel.get("ready"):
        return "kernel build asked for (lxchost_site_build_kernel: always; the running kernel is ready)%s" % builder
    if plan == "build":
        return "kernel build needed (missing required: %s)%s" % (missing, builder)
    if plan == "blocked":
        return ("kernel build needed (missing required: %s) but not allowed by the inventory "
                "(lxchost_site_build_kernel: false)" % missing)
    return ""


def host_verdict(row, check_mode):
    """ready, pending (changes or a kernel build still to come), blocked, unsupported, or the status."""
    if row["os_supported"] is False:
        return "unsupported"
    if row["kernel_plan"] == "blocked":
        return "blocked"
    if row["status"] != "ok":
        return row["status"]
    building = row["kernel_plan"] == "build" and not row.get("kernel_current")
    if check_mode and (building or row["planned_changes"]):
        return "pending"
    if not check_mode and building and not row["proof"]:
        return "pending"  # built and installed, not proven on the new kernel yet
    return "ready"


REASON_WIDTH = 120


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


def host_row(name, entry, outcome, check_mode, checked):
    """One host's report: the recorded parts plus what happened to it."""
    system = entry.get("os") or {}
    kernel = entry.get("kernel") or {}
    build = entry.get("build") or {}
    cgroup = entry.get("cgroup") or {}
    userland = entry.get("userland") or {}
    proof = entry.get("proof") or {}
    planned, short = [], []
    if kernel.get("plan") == "blocked" or (kernel.get("plan") == "build" and not build.get("current")):
        planned.append(kernel_plan_text(name, kernel, build))
        short.append("kernel build" + (" (not allowed)" if kernel.get("plan") == "blocked" else ""))
    if cgroup.get("changed"):
        line = cgroup.get("line") or "for %s" % cgroup.get("path")
        planned.append("%s fstab line %s" % ("would write" if check_mode else "wrote", line))
        short.append("fstab")
    missing = userland.get("missing") or []
    if missing:
        planned.append("%s %s" % ("would install" if check_mode else "installed", ", ".join(missing)))
        short.append("%d package%s" % (len(missing), "" if len(missing) == 1 else "s"))
    if kernel.get("ready") is None:
        readiness = "-"
    elif kernel.get("ready"):
        readiness = "ready"
    else:
        readiness = "missing: " + ", ".join(kernel.get("missing_required") or [])
    row = {
        "host": name,
        "checked": checked,
        "in_this_run": True,
        "status": outcome["status"],
        "error": outcome.get("error"),
        "failed_task": outcome.get("task"),
        "changed_tasks": outcome.get("changed"),
        "os_supported": system.get("supported"),
        "os_reason": system.get("reason"),
        "distribution": kernel.get("distribution") or system.get("distribution"),
        "kernel_version": kernel.get("version"),
        "kernel_release": kernel.get("release"),
        "config_source": kernel.get("config_source"),
        "ready": kernel.get("ready"),
        "readiness": readiness,
        "missing_required": kernel.get("missing_required") or [],
        "missing_recommended": kernel.get("missing_recommended") or [],
        "kernel_plan": kernel.get("plan"),
        "kernel_current": bool(build.get("current")),
        "profile": kernel.get("profile"),
        "blockers": [dict(id=item.get("id"), status=item.get("status"), reason=item.get("reason") or "")
                     for item in kernel.get("blockers") or [] if isinstance(item, dict)],
        "kernel_plan_text": kernel_plan_text(name, kernel, build) if kernel else "",
        "kernel_build": build.get("summary"),
        "cgroup_line": cgroup.get("line"),
        "cgroup_reason": cgroup.get("reason"),
        "cgroup_changed": cgroup.get("changed"),
        "cgroup_lxc_view": cgroup.get("lxc_view") or "",
        "fstab_diff": unified_diff(cgroup.get("diff")),
        "packages_missing": missing,
        "network": userland.get("network"),
        "network_reason": userland.get("network_reason"),
        "apparmor": userland.get("apparmor"),
        "apparmor_reason": userland.get("apparmor_reason"),
        "proof_ran": proof.get("ran"),
        "proof": proof.get("output") or [],
        "planned_changes": planned,
        "planned_short": short,
    }
    row["verdict"] = host_verdict(row, check_mode)
    return row


def summarize(rows):
    statuses = collections.Counter(r["status"] for r in rows)
    verdicts = collections.Counter(r["verdict"] for r in rows)
    return {
        "hosts": len(rows),
        "ok": statuses["ok"],
        "failed": statuses["failed"],
        "unreachable": statuses["unreachable"],
        "not_finished": statuses["not finished"],
        "unsupported": verdicts["unsupported"],
        "kernel_ready": sum(1 for r in rows if r["ready"]),
        "kernel_build_needed": sum(1 for r in rows if r["kernel_plan"] in ("build", "blocked")),
        "verdicts": dict(verdicts),
    }


def gate(rows, fail_on):
    """The hosts of this run that make it fail under lxchost_site_fail_on, and the message."""
    if fail_on not in _GATE_VERDICTS:
        raise ValueError("lxchost_site_fail_on must be one of %s, not %r" % (", ".join(FAIL_ON_CHOICES), fail_on))
    matched = [{"host": r["host"], "verdict": r["verdict"]} for r in rows
               if r["in_this_run"] and r["verdict"] in _GATE_VERDICTS[fail_on]]
    if matched:
        msg = "lxchost_site_fail_on is %s, and %d host(s) match: %s" % (
            fail_on, len(matched), ", ".join("%s (%s)" % (m["host"], m["verdict"]) for m in matched))
    else:
        msg = "lxchost_site_fail_on is %s: no host matches" % fail_on
    return {"fail_on": fail_on, "hosts": matched, "msg": msg}


def read_previous(report_dir, mode):
    """The last report of this mode in report_dir: (report, None), (None, None) or (None, problem)."""
    path = os.path.join(report_dir, "fleet-report-%s.json" % mode)
    try:
        with open(path) as handle:
            report = json.load(handle)
    except FileNotFoundError:
        return None, None
    except OSError as exc:
        return None, "could not read %s: %s" % (path, exc)
    except ValueError as exc:
        return None, "%s is not a report (%s)" % (path, exc)
    hosts = report.get("hosts") if isinstance(report, dict) else None
    if not isinstance(hosts, list) or not all(isinstance(r, dict) and isinstance(r.get("host"), str) for r in hosts):
        return None, "%s is not a report (no list of hosts)" % path
    return report, None


def build_report(fleet, outcomes, check_mode, fail_on, limit="", previous=None, playbook=None, finished=None):
    """The report of a run.

    fleet: host -> recorded parts; outcomes: host -> {status, error, task, changed} (hosts with
    no outcome are ok). With a limit, the hosts of the previous report of the same mode that this
    run did not touch are kept, each with the time it was checked.
    """
    finished = finished or now_utc()
    names = sorted(set(fleet) | set(outcomes))
    rows = [host_row(name, fleet.get(name) or {}, outcomes.get(name) or {"status": "ok"}, check_mode, finished)
            for name in names]
    kept = []
    if limit and previous:
        for old in previous["hosts"]:
            if old["host"] not in outcomes and old["host"] not in fleet:
                kept.append(dict(old, in_this_run=False))
    return {
        "playbook": playbook,
        "mode": "check" if check_mode else "run",
        "finished": finished,
        "limit": limit or None,
        "summary": summarize(rows),
        "gate": gate(rows, fail_on),
        "hosts": sorted(rows + kept, key=lambda r: r["host"]),
    }


def complete_report(report, outcomes):
    """Fill in what happened to hosts the report task could not see (failed, unreachable)."""
    check_mode = report["mode"] == "check"
    for row in report["hosts"]:
        outcome = outcomes.get(row["host"])
        if not row.get("in_this_run") or not outcome:
            continue
        row["status"] = outcome["status"]
        row["error"] = outcome.get("error")
        row["failed_task"] = outcome.get("task")
        row["changed_tasks"] = outcome.get("changed")
        row["verdict"] = host_verdict(row, check_mode)
    rows = [r for r in report["hosts"] if r.get("in_this_run")]
    report["summary"] = summarize(rows)
    report["gate"] = gate(rows, report["gate"]["fail_on"])
    return report


def write_report(report, report_dir, history):
    """Write the report as JSON and Markdown; returns the paths written. Raises OSError."""
    os.makedirs(report_dir, exist_ok=True)
    paths = []
    for ext, text in (("json", json.dumps(report, indent=2, sort_keys=True)),
                      ("md", "\n".join(render_markdown(report)))):
        # The latest report, and the latest of its mode (a check run does not overwrite what
        # the last real run did, nor the reverse).
        for name in ("fleet-report.%s" % ext, "fleet-report-%s.%s" % (report["mode"], ext)):
            path = os.path.join(report_dir, name)
            with open(path, "w") as handle:
                handle.write(text + "\n")
            paths.append(path)
    if history:
        stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%dT%H%M%S.%f")
        path = os.path.join(report_dir, "fleet-report-%s-%s.json" % (report["mode"], stamp))
        with open(path, "w") as handle:
            handle.write(json.dumps(report, indent=2, sort_keys=True) + "\n")
        paths.append(path)
    return paths


def rewrite_report(report, paths):
    """Write a completed report again to the files it was first written to."""
    for path in paths:
        if path.endswith(".md"):
            text = "\n".join(render_markdown(report))
        else:
            text = json.dumps(report, indent=2, sort_keys=True)
        with open(path, "w") as handle:
            handle.write(text + "\n")


def table(rows, headers):
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(headers)]
    out = ["  ".join(h.ljust(w) for h, w in zip(headers, widths)).rstrip(),
           "  ".join("-" * w for w in widths)]
    out.extend("  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in rows)
    return out


def short_status(row):
    if row["verdict"] == "unsupported":
        return "UNSUPPORTED: %s" % (row["distribution"] or "unknown system")
    if row["status"] == "ok":
        return "ok"
    text = "%s: %s" % (row["status"].upper(), row["error"] or "")
    return text if len(text) <= 70 else text[:67] + "..."


def host_details(row, mode):
    """The detail lines of one host, without its name (hosts with the same lines are grouped)."""
    lines = []
    if row["status"] != "ok" and row["error"]:
        lines.append("  error: %s%s" % ("in task '%s': " % row["failed_task"] if row["failed_task"] else "", row["error"]))
    if row["os_supported"] is False:
        lines.append("  unsupported: %s" % row["os_reason"])
    if row["kernel_version"]:
        lines.append("  kernel %s (%s, from %s): %s" % (
            row["kernel_release"] or row["kernel_version"], row["distribution"] or "?", row["config_source"],
            "ready for LXC" if row["ready"] else "NOT ready, missing required: " + ", ".join(row["missing_required"])))
        if row["missing_recommended"]:
            lines.append("  missing recommended: " + ", ".join(row["missing_recommended"]))
        if row.get("profile"):
            lines.append("  " + profile_text(row["profile"], row.get("blockers") or []))
        lines.append("  " + row["kernel_plan_text"])
    if row["kernel_build"]:
        lines.append("  kernel build: " + row["kernel_build"])
    if row["cgroup_line"] or row["cgroup_reason"]:
        reason = row["cgroup_reason"] or ""
        if len(reason) > 160:  # the full reason is in the report files
            reason = reason[:157] + "..."
        lines.append("  cgroups: %s%s - %s" % (
            "would write " if mode == "check" and row["cgroup_changed"] else "", row["cgroup_line"], reason))
    if row.get("cgroup_lxc_view"):
        lines.append("  cgroups for LXC: also bound at %s (LXC 5 looks for v1 hierarchies only under /sys/fs/cgroup)"
                     % row["cgroup_lxc_view"])
    lines.extend("    " + d for d in row["fstab_diff"])
    if row["network"]:
        lines.append("  network: %s - %s" % (row["network"], row["network_reason"]))
    if row["apparmor"]:
        lines.append("  AppArmor: %s - %s" % (row["apparmor"], row["apparmor_reason"]))
    if row["packages_missing"]:
        lines.append("  packages: %s %s" % ("would install" if mode == "check" else "installed",
                                            ", ".join(row["packages_missing"])))
    elif row["network"]:
        lines.append("  packages: all present")
    if row["proof"]:
        lines.append("  proof (output of a command run in a throwaway container):")
        lines.extend("    | " + p for p in row["proof"])
    elif mode == "check" and row["status"] == "ok" and row["network"]:
        lines.append("  proof: would create, start, run a command in, stop and destroy a busybox container")
    return lines


def short_names(names):
    """lxchost-demo-2, lxchost-demo-3 -> lxchost-demo-2, -3: what a name shares, up to a '-', with the
    last name said in full is not said again."""
    out, base = [], None
    for name in names:
        common = os.path.commonprefix([base, name]) if base else ""
        cut = common.rfind("-")
        if cut > 0:
            out.append(name[cut:])
        else:
            out.append(name)
            base = name
    return ", ".join(out)


def grouped(rows, mode):
    """[(first row, its detail lines, [names of the other hosts with the same details])], in host order."""
    groups, by_key = [], {}
    for row in rows:
        details = host_details(row, mode)
        key = (short_status(row), tuple(details))
        if key in by_key:
            by_key[key][2].append(row["host"])
        else:
            by_key[key] = (row, details, [])
            groups.append(by_key[key])
    return groups


def summary_line(summary):
    if summary["not_finished"]:
        outcome = "%d ok, %d failed or unreachable (the output above says which)" % (
            summary["ok"], summary["failed"] + summary["unreachable"] + summary["not_finished"])
    else:
        outcome = "%d ok, %d failed, %d unreachable" % (summary["ok"], summary["failed"], summary["unreachable"])
    line = "%d host(s): %s; kernel ready on %d, build needed on %d" % (
        summary["hosts"], outcome, summary["kernel_ready"], summary["kernel_build_needed"])
    if summary["unsupported"]:
        line += "; unsupported system on %d" % summary["unsupported"]
    return line


def kept_line(report):
    kept = [r for r in report["hosts"] if not r.get("in_this_run")]
    if not kept:
        return None
    return "kept from earlier runs (not in --limit %s): %s" % (report["limit"], ", ".join(
        "%s (%s, %s)" % (r["host"], r.get("verdict", "?"), r.get("checked", "?")) for r in kept))


def render_text(report):
    rows = [r for r in report["hosts"] if r.get("in_this_run")]
    mode = report["mode"]
    title = "LXC fleet report - %s" % (
        "check mode: nothing was changed; planned changes below" if mode == "check" else "changes made by this run")
    cells = [[r["host"], r["kernel_version"] or "-", r["readiness"], r["network"] or "-",
              ", ".join(r["planned_short"]) or ("none" if r["status"] == "ok" else "-"), short_status(r)]
             for r in rows]
    head = ["HOST", "KERNEL", "LXC KERNEL", "NET", "PLANNED CHANGES" if mode == "check" else "CHANGES", "RESULT"]
    lines = ["", "=" * 20 + " " + title + " " + "=" * 20]
    lines.extend(table(cells, head))
    for row, details, others in grouped(rows, mode):
        lines.append("")
        lines.append("%s (%s)" % (row["host"], short_status(row)))
        lines.extend(details)
        if others:
            lines.append("%s: as %s" % (short_names(others), row["host"]))
    lines.append("")
    kept = kept_line(report)
    if kept:
        lines.append(kept)
    lines.append(summary_line(report["summary"]))
    lines.append("gate: " + report["gate"]["msg"])
    return lines


def render_markdown(report):
    mode = report["mode"]
    rows = [r for r in report["hosts"] if r.get("in_this_run")]
    if mode == "check":
        intro = "Check mode: nothing was changed; the changes below are planned."
    else:
        intro = "Changes below were made by this run."
    lines = ["# LXC fleet report", "",
             "%s%s. %s" % ("%s, " % report["playbook"] if report.get("playbook") else "", report["finished"], intro), "",
             "| Host | Kernel | LXC kernel | Network | %s | Result |" % ("Planned changes" if mode == "check" else "Changes"),
             "|---|---|---|---|---|---|"]
    for r in rows:
        lines.append("| %s | %s | %s | %s | %s | %s |" % (
            r["host"], r["kernel_version"] or "-", r["readiness"], r["network"] or "-",
            "<br>".join(r["planned_changes"]) or "none", short_status(r).replace("|", "\\|")))
    for r, _details, others in grouped(rows, mode):
        lines += ["", "## %s" % r["host"], ""]
        if r["error"]:
            lines.append("- **%s** %s: %s" % (r["status"], "in task '%s'" % r["failed_task"] if r["failed_task"] else "", r["error"]))
        if r["os_supported"] is False:
            lines.append("- unsupported: %s" % r["os_reason"])
        if r["kernel_version"]:
            verdict = "ready" if r["ready"] else "missing " + ", ".join(r["missing_required"])
            lines.append("- kernel %s from `%s`: %s" % (r["kernel_release"] or r["kernel_version"], r["config_source"], verdict))
            if r.get("profile"):
                lines.append("- %s" % profile_text(r["profile"], r.get("blockers") or []))
            lines.append("- %s" % r["kernel_plan_text"])
        if r["kernel_build"]:
            lines.append("- kernel build: %s" % r["kernel_build"])
        if r["cgroup_line"]:
            lines.append("- cgroups: `%s` (%s)" % (r["cgroup_line"], r["cgroup_reason"]))
        if r.get("cgroup_lxc_view"):
            lines.append("- cgroups for LXC: also bound at `%s` (LXC 5 looks for v1 hierarchies only under "
                         "`/sys/fs/cgroup`)" % r["cgroup_lxc_view"])
        if r["fstab_diff"]:
            lines += ["", "```diff"] + r["fstab_diff"] + ["```", ""]
        if r["network"]:
            lines.append("- network: %s (%s)" % (r["network"], r["network_reason"]))
            if r["apparmor"]:
                lines.append("- AppArmor: %s (%s)" % (r["apparmor"], r["apparmor_reason"]))
            lines.append("- packages: %s" % (", ".join(r["packages_missing"]) or "all present"))
        if r["proof"]:
            lines += ["- proof:", "", "```"] + r["proof"] + ["```"]
        if others:
            lines += ["", "%s: as %s." % (", ".join(others), r["host"])]
    kept = kept_line(report)
    lines += [""] + ([kept, ""] if kept else []) + [summary_line(report["summary"]), "", "Gate: " + report["gate"]["msg"]]
    return lines
