# -*- coding: utf-8 -*-
# Copyright: lxchost.prep contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The fleet report as a task: the documentation is in plugins/modules/fleet_report.py."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

from ansible.module_utils.parsing.convert_bool import boolean
from ansible.plugins.action import ActionBase
from ansible.utils.display import Display

from ansible_collections.lxchost.prep.plugins.plugin_utils._fleet_report import (
    FAIL_ON_CHOICES,
    FAIL_ON_DEFAULT,
    NOT_FINISHED,
    STATS_KEY,
    build_report,
    host_parts,
    read_previous,
    render_text,
    write_report,
)

display = Display()

REPORT_DIR_ENV = "LXCHOST_FLEET_REPORT_DIR"
HISTORY_ENV = "LXCHOST_FLEET_REPORT_HISTORY"


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _VALID_ARGS = frozenset(("fail_on", "report_dir", "history"))

    def run(self, tmp=None, task_vars=None):
        result = super(ActionModule, self).run(tmp, task_vars)
        task_vars = task_vars or {}
        _validated, args = self.validate_argument_spec(argument_spec=dict(
            fail_on=dict(type="str", choices=list(FAIL_ON_CHOICES), default=FAIL_ON_DEFAULT),
            report_dir=dict(type="path", default=os.environ.get(REPORT_DIR_ENV) or "fleet-report"),
            history=dict(type="bool", default=boolean(os.environ.get(HISTORY_ENV) or "false", strict=False)),
        ))
        report_dir = os.path.abspath(args["report_dir"])
        check_mode = bool(task_vars.get("ansible_check_mode"))
        limit = task_vars.get("ansible_limit") or ""

        # Every host this play was meant for (under --limit); those the play lost on the way
        # (failed or unreachable) still have the parts they recorded before.
        hostvars = task_vars["hostvars"]
        active = set(task_vars.get("ansible_play_hosts") or [])
        fleet, outcomes = {}, {}
        for name in task_vars.get("ansible_play_hosts_all") or []:
            parts = host_parts(hostvars[name])
            if parts:
                fleet[name] = parts
            outcomes[name] = {"status": "ok"} if name in active else dict(NOT_FINISHED)

        previous, problem = read_previous(report_dir, "check" if check_mode else "run") if limit else (None, None)
        report = build_report(fleet, outcomes, check_mode, args["fail_on"], limit=limit, previous=previous)
        lines = render_text(report)
        if problem:
            lines.append("the previous report was not merged: %s" % problem)
        files = []
        try:
            files = write_report(report, report_dir, args["history"])
            lines.append("report files: %s" % ", ".join(f for f in files if os.path.basename(f).startswith("fleet-report.")))
        except OSError as exc:
            lines.append("could not write the report files in %s: %s" % (report_dir, exc))
        for line in lines:
            display.display(line)

        result.update(
            changed=False,
            summary=report["summary"],
            gate=report["gate"],
            verdicts=dict((r["host"], r["verdict"]) for r in report["hosts"] if r["in_this_run"]),
            files=files,
            # What set_stats would record: the parts of every host, for ansible-runner and AWX
            # (the playbook_on_stats event's artifact_data).
            ansible_stats={"data": {STATS_KEY: fleet}, "per_host": False, "aggregate": True},
        )
        return result
