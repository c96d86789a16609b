# -*- coding: utf-8 -*-
# Copyright: lxchost.prep contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The fleet_report callback on recorded results: the parts the hosts recorded as facts, their
failures and unreachable errors, the report task's result. With the report task, it completes
that task's files with what the recap knows; without it, it prints and writes the whole report;
for playbooks that record nothing, it says nothing."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

import pytest

from ansible import context
from ansible.executor.stats import AggregateStats
from ansible.module_utils.common.collections import ImmutableDict

from ansible_collections.lxchost.prep.plugins.callback import fleet_report
from ansible_collections.lxchost.prep.plugins.plugin_utils import _fleet_report as fleet

FSTAB_BEFORE = "# static file system information\nproc /proc proc defaults 0 0\n"
LINE = "cgroup2 /var/local/cgroup cgroup2 defaults 0 0"


def kernel(ready, plan, missing=()):
    return {"distribution": "Debian 12.8", "release": "6.1.0-28-amd64", "version": "6.1.119",
            "config_source": "/boot/config-6.1.0-28-amd64", "ready": ready,
            "missing_required": list(missing), "missing_recommended": [], "plan": plan}


def stats_for(processed=(), failures=(), dark=(), changed=None):
    stats = AggregateStats()
    for name in processed:
        stats.increment("ok", name)
    for name in failures:
        stats.increment("failures", name)
    for name in dark:
        stats.increment("dark", name)
    for name, count in (changed or {}).items():
        for _increment in range(count):
            stats.increment("changed", name)
    return stats


class Result(object):
    """The parts of a TaskResult the callback reads."""

    def __init__(self, host, task, result, ignore_errors=False, action="ansible.builtin.set_fact"):
        self._host = type("Host", (), {"get_name": lambda self: host})()
        self._task = type("Task", (), {"get_name": lambda self: task, "ignore_errors": ignore_errors,
                                       "action": action})()
        self._result = result


@pytest.fixture
def callback(tmp_path, monkeypatch):
    monkeypatch.setattr(context, "CLIARGS", ImmutableDict(check=True))
    plugin = fleet_report.CallbackModule()
    # The options as Ansible's config would resolve them (what set_options stores).
    plugin._plugin_options = {"report_dir": str(tmp_path / "reports"), "history": False}
    plugin._playbook = "site.yml"
    lines = []
    monkeypatch.setattr(plugin._display, "display", lambda msg, *a, **k: lines.append(msg))
    plugin.lines = lines
    return plugin


FACTS = {
    "ready-1": {
        "lxchost_site_kernel_report": kernel(True, "ready"),
        "cgroup_mount_report": {"path": "/var/local/cgroup", "changed": True, "line": LINE, "reason": "auto: v1 controllers are held",
                                "diff": [{"before": FSTAB_BEFORE, "after": FSTAB_BEFORE + LINE + "\n",
                                          "before_header": "/etc/fstab", "after_header": "/etc/fstab"}]},
        "lxc_userland_report": {"missing": ["busybox-static"], "network": "lxc-net", "network_reason": "lxc-net can run"},
    },
    "old-2": {"lxchost_site_kernel_report": kernel(False, "blocked", ["cgroup_memory", "veth"])},
    "old-3": {"lxchost_site_kernel_report": kernel(False, "build", ["veth"]),
              "kernel_build_report": {"build_host": "buildbox", "release": "", "summary": "old-3: would fetch the source"}},
    "broken-4": {"lxchost_site_kernel_report": kernel(True, "ready")},
}


def record_facts(callback, facts=None):
    for host, host_facts in (facts or FACTS).items():
        for name, value in host_facts.items():
            callback.v2_runner_on_ok(Result(host, "Record", {"ansible_facts": {name: value}}))


def test_whole_report_when_no_host_reached_the_report_task(callback, tmp_path):
    record_facts(callback)
    callback.v2_runner_on_failed(Result("broken-4", "Install the missing packages", {"msg": "E: Unable to locate\n package"}))
    callback.v2_runner_on_unreachable(Result("gone-5", "Gathering Facts", {"msg": "Failed to connect"}))
    callback.v2_runner_on_failed(Result("old-2", "ignored", {"msg": "x"}, ignore_errors=True), ignore_errors=True)
    callback.v2_playbook_on_stats(stats_for(processed=["ready-1", "old-2", "old-3", "broken-4"], failures=["broken-4"], dark=["gone-5"]))
    text = "\n".join(callback.lines)
    assert "LXC fleet report - check mode: nothing was changed" in text
    assert "+" + LINE in text
    assert "would install busybox-static" in text
    assert "kernel build needed (missing required: cgroup_memory, veth) but not allowed by the inventory" in text
    assert "kernel build needed (missing required: veth), on builder buildbox" in text
    assert "error: in task 'Install the missing packages': E: Unable to locate package" in text
    assert "gone-5 (UNREACHABLE: Failed to connect)" in text
    assert "5 host(s): 3 ok, 1 failed, 1 unreachable; kernel ready on 2, build needed on 2" in text

    report = json.loads((tmp_path / "reports" / "fleet-report.json").read_text())
    assert report == json.loads((tmp_path / "reports" / "fleet-report-check.json").read_text())
    rows = dict((row["host"], row) for row in report["hosts"])
    assert rows["old-2"]["status"] == "ok"  # an ignored failure is not a failure
    assert rows["old-2"]["planned_short"] == ["kernel build (not allowed)"]
    assert rows["ready-1"]["planned_short"] == ["fstab", "1 package"]
    assert rows["gone-5"]["kernel_version"] is None and rows["gone-5"]["planned_short"] == []
    assert rows["broken-4"]["failed_task"] == "Install the missing packages"
    markdown = (tmp_path / "reports" / "fleet-report.md").read_text()
    assert "| gone-5 | - | - | - | none | UNREACHABLE: Failed to connect |" in markdown
    assert "```diff" in markdown


def test_completes_the_files_of_the_report_task(callback, tmp_path):
    record_facts(callback)
    callback.v2_runner_on_unreachable(Result("gone-5", "Gathering Facts", {"msg": "Failed to connect"}))
    # What the report task saw: gone-5 lost on the way, old-2 blocked (the gate's default).
    fleet_parts = dict((host, fleet.host_parts(facts)) for host, facts in FACTS.items())
    report = fleet.build_report(fleet_parts, {"gone-5": dict(fleet.NOT_FINISHED)}, True, "blocked")
    files = fleet.write_report(report, str(tmp_path / "task-reports"), history=True)
    callback.v2_runner_on_ok(Result("ready-1", "Print the fleet report", {"files": files, "gate": report["gate"]},
                                    action="lxchost.prep.fleet_report"))
    # The gate fails the matching host after the report: the run's verdict, not that host's failure.
    callback.v2_runner_on_failed(Result("old-2", "Fail the hosts that match lxchost_site_fail_on", {"msg": "old-2 is blocked"}))
    callback.v2_playbook_on_stats(stats_for(processed=list(FACTS), failures=["old-2"], dark=["gone-5"], changed={"ready-1": 2}))
    text = "\n".join(callback.lines)
    assert "LXC fleet report - check mode" not in text  # the task printed it
    assert "gone-5: UNREACHABLE in task 'Gathering Facts': Failed to connect" in text
    assert "old-2:" not in text
    assert text.splitlines()[-1] == "5 host(s): 4 ok, 0 failed, 1 unreachable; kernel ready on 2, build needed on 2"
    for path in files:
        if path.endswith(".json"):
            rows = dict((r["host"], r) for r in json.loads(open(path).read())["hosts"])
            assert rows["gone-5"]["status"] == "unreachable" and rows["gone-5"]["error"] == "Failed to connect"
            assert rows["old-2"]["status"] == "ok" and rows["old-2"]["verdict"] == "blocked"
            assert rows["ready-1"]["changed_tasks"] == 2
    assert "UNREACHABLE: Failed to connect" in (tmp_path / "task-reports" / "fleet-report.md").read_text()
    assert not (tmp_path / "reports").exists()  # the callback's own place is for runs without the task


def test_a_rescued_failure_is_not_the_outcome(callback):
    record_facts(callback)
    callback.v2_runner_on_failed(Result("ready-1", "Start the container", {"msg": "non-zero return code"}))
    callback.v2_runner_on_failed(Result("ready-1", "Fail with what went wrong", {"msg": "LXC could not run it"}))
    callback.v2_runner_on_failed(Result("old-2", "Start the container", {"msg": "rescued"}))
    callback.v2_playbook_on_stats(stats_for(processed=list(FACTS), failures=["ready-1"]))
    text = "\n".join(callback.lines)
    assert "error: in task 'Fail with what went wrong': LXC could not run it" in text
    assert "old-2 (ok)" in text


def test_real_run_says_what_was_done(callback, tmp_path, monkeypatch):
    monkeypatch.setattr(context, "CLIARGS", ImmutableDict(check=False))
    record_facts(callback, {"ready-1": dict(FACTS["ready-1"], lxc_proof_report={"output": ["hello from lxchost-proof, pid 9"]})})
    callback.v2_playbook_on_stats(stats_for(processed=["ready-1"], changed={"ready-1": 2}))
    text = "\n".join(callback.lines)
    assert "changes made by this run" in text
    assert "installed busybox-static" in text
    assert "    | hello from lxchost-proof, pid 9" in text
    assert (tmp_path / "reports" / "fleet-report-run.json").exists()
    assert not (tmp_path / "reports" / "fleet-report-check.json").exists()


def test_limit_merges_into_the_previous_report(callback, tmp_path, monkeypatch):
    record_facts(callback)
    callback.v2_playbook_on_stats(stats_for(processed=list(FACTS)))
    monkeypatch.setattr(context, "CLIARGS", ImmutableDict(check=True, subset="ready-1"))
    again = fleet_report.CallbackModule()
    again._plugin_options = callback._plugin_options
    monkeypatch.setattr(again._display, "display", lambda msg, *a, **k: None)
    record_facts(again, {"ready-1": FACTS["ready-1"]})
    again.v2_playbook_on_stats(stats_for(processed=["ready-1"]))
    report = json.loads((tmp_path / "reports" / "fleet-report.json").read_text())
    assert [(r["host"], r["in_this_run"]) for r in report["hosts"]] == [
        ("broken-4", False), ("old-2", False), ("old-3", False), ("ready-1", True)]


def test_silent_for_other_playbooks(callback, tmp_path):
    callback.v2_runner_on_ok(Result("a", "Set something", {"ansible_facts": {"other": 1}}))
    callback.v2_playbook_on_stats(stats_for(processed=["a"]))
    assert callback.lines == []
    assert not (tmp_path / "reports").exists()


def test_unwritable_report_dir_is_said_not_raised(callback, tmp_path):
    (tmp_path / "reports").write_text("a file, not a directory")
    record_facts(callback)
    callback.v2_playbook_on_stats(stats_for(processed=list(FACTS)))
    assert callback.lines[-1].startswith("could not write the report files in ")


def test_history_keeps_every_report(callback, tmp_path):
    callback._plugin_options["history"] = True
    record_facts(callback)
    for _run in range(2):
        callback.v2_playbook_on_stats(stats_for(processed=list(FACTS)))
    assert len(list((tmp_path / "reports").glob("fleet-report-check-*.json"))) == 2


def test_unified_diff_of_one_or_many_results():
    one = {"before": "a\n", "after": "a\nb\n", "before_header": "/etc/fstab"}
    assert fleet.unified_diff(one)[-1] == "+b"
    assert fleet.unified_diff([one, {"before": "x\n", "after": "x\n"}, "junk"]) == fleet.unified_diff(one)
    assert fleet.unified_diff({}) == []


def test_a_build_asked_for_on_a_ready_kernel_and_how_containers_are_confined(callback):
    record_facts(callback, {"vm-1": {
        "lxchost_site_kernel_report": kernel(True, "build"),
        "kernel_build_report": {"build_host": "buildbox", "release": "6.1.176-lxc-7abc02db", "summary": "built"},
        "lxc_userland_report": {"missing": [], "network": "lxc-net", "network_reason": "bridge",
                                "apparmor": "enforced", "apparmor_reason": "profiles loaded"}}})
    callback.v2_playbook_on_stats(stats_for(processed=["vm-1"]))
    text = "\n".join(callback.lines)
    assert ("kernel build asked for (lxchost_site_build_kernel: always; the running kernel is ready), "
            "on builder buildbox") in text
    assert "  AppArmor: enforced - profiles loaded" in text
