#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: lxchost.prep contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: fleet_report
short_description: Print the fleet report of lxchost.prep.site, write it as JSON and Markdown, and judge the CI gate
version_added: 1.0.0
description:
  - "Reads, for every host of the play, the parts of the report each step of C(lxchost.prep.site) recorded as facts
    (C(lxchost_site_os_report), C(lxchost_site_kernel_report), C(kernel_build_report), C(cgroup_mount_report),
    C(lxc_userland_report), C(lxc_proof_report); see C(docs/CONTRACT.md)), and prints one report - a table of the hosts,
    then each host's details, where hosts with the same details are named once (C(lxchost-demo-2, -3: as lxchost-demo-1))."
  - Hosts of the play that failed or were unreachable earlier are reported with what they recorded before. Which of the
    two, and the error, is in the output above the report; the P(lxchost.prep.fleet_report#callback) callback, when
    enabled, adds them after the play recap.
  - Writes C(fleet-report.json) and C(fleet-report.md) in O(report_dir), and C(fleet-report-check.*) or
    C(fleet-report-run.*) after the run's mode. Under C(--limit), the hosts of the previous report of the same mode that
    this run did not reach are kept, each with the time it was checked, instead of being dropped.
  - Decides, for O(fail_on), which hosts of this run make the run fail (RV(gate)). The task itself does not fail - a next
    task fails those hosts, so that the report data reaches ansible-runner and AWX either way (as the custom stats
    C(lxchost_fleet)).
  - Runs on the controller; put it in a play of the same hosts, with C(run_once).
author:
  - lxchost.prep contributors (@lxchost)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - ansible.builtin.action_common_attributes.flow
attributes:
  action:
    support: full
  async:
    support: none
  bypass_host_loop:
    support: none
    details: It runs once per host it is given to; the play runs it with C(run_once).
  check_mode:
    support: full
    details: The report of a check run says what would change; its files are written in check mode too.
  diff_mode:
    support: none
    details: Nothing is changed on the hosts.
  platform:
    platforms: all
options:
  fail_on:
    description:
      - Which hosts make the run fail. V(never) - none. V(blocked) - a host that this playbook cannot make ready - its
        kernel needs a build that C(lxchost_site_build_kernel) does not allow, or its system is not supported.
        V(not_ready) - any host that is not ready for LXC yet - blocked or unsupported, failed or unreachable, a kernel
        build still to come, or (in check mode) any change still to make.
    type: str
    choices: [never, blocked, not_ready]
    default: blocked
  report_dir:
    description:
      - Directory for the report files on the controller, created if missing. A relative path is taken from the current
        directory.
      - When the option is not set, the environment variable C(LXCHOST_FLEET_REPORT_DIR) of the controller comes before
        this default.
    type: path
    default: fleet-report
  history:
    description:
      - Also keep every report as C(fleet-report-MODE-TIMESTAMP.json), to compare runs.
      - When the option is not set, the environment variable C(LXCHOST_FLEET_REPORT_HISTORY) of the controller comes
        before this default.
    type: bool
    default: false
notes:
  - The verdict of each host is V(ready), V(pending), V(blocked), V(unsupported), V(failed), V(unreachable) or
    V(not finished) (failed or unreachable, as seen from the task).
"""

EXAMPLES = r"""
- name: Print the fleet report and write it as JSON and Markdown
  lxchost.prep.fleet_report:
    fail_on: "{{ lxchost_site_fail_on | default(omit) }}"
  register: fleet_report
  run_once: true

- name: Fail the hosts that match the gate (ansible-playbook then exits 2)
  ansible.builtin.fail:
    msg: "{{ inventory_hostname }} is {{ fleet_report.verdicts[inventory_hostname] }}"
  when: inventory_hostname in fleet_report.gate.hosts | map(attribute='host')
"""

RETURN = r"""
summary:
  description: Counts of the hosts of this run.
  returned: always
  type: dict
  sample: {hosts: 3, ok: 3, failed: 0, unreachable: 0, not_finished: 0, unsupported: 0, kernel_ready: 3,
           kernel_build_needed: 0, verdicts: {pending: 3}}
gate:
  description: The hosts of this run that match O(fail_on), and a message that says so.
  returned: always
  type: dict
  contains:
    fail_on:
      description: The value of O(fail_on).
      type: str
      sample: blocked
    hosts:
      description: The hosts that match, with their verdict; empty when none does.
      type: list
      elements: dict
      sample: [{host: vps-tk2, verdict: blocked}]
    msg:
      description: One sentence for the log.
      type: str
      sample: "lxchost_site_fail_on is blocked, and 1 host(s) match: vps-tk2 (blocked)"
verdicts:
  description: Each host of this run, and its verdict.
  returned: always
  type: dict
  sample: {lxchost-demo-1: pending, vps-tk2: blocked}
files:
  description: The report files written (empty when they could not be written; the report says why).
  returned: always
  type: list
  elements: path
  sample: [/srv/ci/fleet-report/fleet-report.json, /srv/ci/fleet-report/fleet-report-check.json]
"""
