# -*- coding: utf-8 -*-
# Copyright: lxchost.prep contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r"""
name: fleet_report
type: aggregate
short_description: The full fleet report of lxchost.prep.site, completed after the play recap
version_added: 1.0.0
description:
  - The report of C(lxchost.prep.site) is printed by its last task (M(lxchost.prep.fleet_report)), from any
    installation and with any C(ansible.cfg). A task cannot see why a host was lost on the way (failed or
    unreachable, and the error); this callback can. When it is enabled, after the play recap it names each host that
    failed or was unreachable with the task and the error, and writes them into the report files that task wrote.
  - When no host reached that task (every host failed or was unreachable before it), this callback prints the whole
    report itself, from the parts the hosts recorded (C(docs/CONTRACT.md)), and writes C(fleet-report.json) and
    C(fleet-report.md) in O(report_dir), and C(fleet-report-check.*) or C(fleet-report-run.*) after the run's mode.
  - Silent for playbooks that record no part of the report.
author:
  - lxchost.prep contributors (@lxchost)
requirements:
  - enabled in C(callbacks_enabled) (for example C(ANSIBLE_CALLBACKS_ENABLED=lxchost.prep.fleet_report); the
    repository's ansible.cfg does this)
options:
  report_dir:
    description:
      - Directory for the report files this callback writes itself (when no host reached the report task; else it
        completes the files that task wrote), created if missing.
      - A relative path is taken from the current directory; set in an C(ansible.cfg), from that file's directory.
    type: path
    default: fleet-report
    env:
      - name: LXCHOST_FLEET_REPORT_DIR
    ini:
      - section: callback_fleet_report
        key: report_dir
  history:
    description:
      - Also keep every report this callback writes itself as C(fleet-report-MODE-TIMESTAMP.json), to compare runs.
    type: bool
    default: false
    env:
      - name: LXCHOST_FLEET_REPORT_HISTORY
    ini:
      - section: callback_fleet_report
        key: history
"""

import json
import os

from ansible import context
from ansible.plugins.callback import CallbackBase

from ansible_collections.lxchost.prep.plugins.plugin_utils._fleet_report import (
    FAIL_ON_DEFAULT,
    build_report,
    complete_report,
    host_parts,
    read_previous,
    render_text,
    rewrite_report,
    summary_line,
    write_report,
)

REPORT_ACTIONS = frozenset(("lxchost.prep.fleet_report", "fleet_report"))


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "lxchost.prep.fleet_report"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self, *args, **kwargs):
        super(CallbackModule, self).__init__(*args, **kwargs)
        self._outcomes = {}
        self._parts = {}
        # The result of the report task (the lxchost.prep.fleet_report module), once it ran.
        self._task_report = None
        self._gate_failures = {}
        self._playbook = None

    def v2_playbook_on_start(self, playbook):
        self._playbook = os.path.basename(playbook._file_name)

    def v2_runner_on_ok(self, result):
        if result._task.action in REPORT_ACTIONS:
            self._task_report = result._result
            return
        facts = result._result.get("ansible_facts")
        if isinstance(facts, dict):
            parts = host_parts(facts)
            if parts:
                self._parts.setdefault(result._host.get_name(), {}).update(parts)

    def _record(self, result, status):
        res = result._result
        error = res.get("msg") or res.get("stderr") or res.get("reason") or "failed"
        if isinstance(error, (list, dict)):
            error = json.dumps(error)
        # The last one wins: a failure inside a block that was rescued comes before the
        # rescue's own (clearer) failure, or is not the host's outcome at all.
        self._outcomes.setdefault(result._host.get_name(), {})[status] = {
            "status": status, "task": result._task.get_name(), "error": " ".join(str(error).split())}

    def v2_runner_on_failed(self, result, ignore_errors=False):
        if ignore_errors or result._task.ignore_errors:
            return
        if self._task_report is not None:
            # After the report, the only task that fails is the gate (lxchost_site_fail_on):
            # it is the run's verdict on the fleet, not a failure of that host.
            name = result._host.get_name()
            self._gate_failures[name] = self._gate_failures.get(name, 0) + 1
            return
        self._record(result, "failed")

    def v2_runner_on_unreachable(self, result):
        self._record(result, "unreachable")

    def outcomes(self, stats):
        """What happened to each host: the recap decides (a rescued failure leaves the host ok),
        the recorded results say why."""
        outcomes = {}
        for name in sorted(set(stats.processed) | set(self._parts) | set(self._outcomes)):
            recorded = self._outcomes.get(name, {})
            if stats.dark.get(name):
                outcome = dict(recorded.get("unreachable") or {"status": "unreachable", "error": "unreachable"})
            elif stats.failures.get(name, 0) > self._gate_failures.get(name, 0):
                outcome = dict(recorded.get("failed") or {"status": "failed", "error": "a task failed"})
            else:
                outcome = {"status": "ok"}
            outcome["changed"] = stats.changed.get(name, 0)
            outcomes[name] = outcome
        return outcomes

    def v2_playbook_on_stats(self, stats):
        if self._task_report is not None:
            lines = self.complete_task_report(stats)
        elif self._parts:
            lines = self.full_report(stats)
        else:
            return  # a playbook that records no report
        for line in lines:
            self._display.display(line)

    def complete_task_report(self, stats):
        """The report task printed the report: add what only the recap knows."""
        outcomes = self.outcomes(stats)
        lines = ["", "=" * 20 + " LXC fleet report: the hosts as the play recap has them " + "=" * 20]
        for name, outcome in outcomes.items():
            if outcome["status"] != "ok":
                lines.append("%s: %s in task '%s': %s" % (
                    name, outcome["status"].upper(), outcome.get("task") or "?", outcome.get("error")))
        files = [f for f in self._task_report.get("files") or [] if f.endswith((".json", ".md"))]
        json_files = [f for f in files if f.endswith(".json")]
        report = None
        if json_files:
            try:
                with open(json_files[0]) as handle:
                    report = complete_report(json.load(handle), outcomes)
                rewrite_report(report, files)
                lines.append("report files completed: %s" % ", ".join(
                    f for f in files if os.path.basename(f).startswith("fleet-report.")))
            except (OSError, ValueError, KeyError) as exc:
                lines.append("could not complete the report files: %s" % exc)
                report = None
        if report is not None:
            lines.append(summary_line(report["summary"]))
        return lines

    def full_report(self, stats):
        """No host reached the report task: the whole report from what the hosts recorded."""
        check_mode = bool(context.CLIARGS.get("check", False))
        limit = context.CLIARGS.get("subset") or ""
        report_dir = os.path.expanduser(self.get_option("report_dir"))
        previous, problem = read_previous(report_dir, "check" if check_mode else "run") if limit else (None, None)
        report = build_report(self._parts, self.outcomes(stats), check_mode, FAIL_ON_DEFAULT, limit=limit,
                              previous=previous, playbook=self._playbook)
        lines = render_text(report)
        if problem:
            lines.append("the previous report was not merged: %s" % problem)
        try:
            paths = write_report(report, report_dir, self.get_option("history"))
            lines.append("report files: %s" % ", ".join(p for p in paths if os.path.basename(p).startswith("fleet-report.")))
        except OSError as exc:
            lines.append("could not write the report files in %s: %s" % (report_dir, exc))
        return lines
