# -*- coding: utf-8 -*-
# Copyright: lxchost.prep contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The fleet_report callback on recorded data: hosts that are ready, need a kernel build
(allowed or not), failed or were unreachable; the terminal text, the files, and silence for
playbooks that record nothing."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

import pytest

from ansible import context
from ansible.executor.stats import AggregateStats
from ansible.module_utils.common.collections import ImmutableDict

from ansible_collections.lxchost.prep.plugins.callback import fleet_report

FSTAB_BEFORE = "# static file system information\nproc /proc proc defaults 0 0\n"
LINE = "cgroup2 /var/local/cgroup cgroup2 defaults 0 0"


def kernel(ready, plan, missing=()):
    return {"distribution": "Debian 12.8", "release": "6.1.0-28-amd64", "version": "6.1.119",
            "config_source": "/boot/config-6.1.0-28-amd64", "ready": ready,
            "missing_required": list(missing), "missing_recommended": [], "plan": plan, "builder": ""}


def stats_for(fleet, processed=(), failures=(), dark=(), changed=None):
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
    if fleet is not None:
        stats.update_custom_stats("lxchost_fleet", fleet)
    return stats


class Result(object):
    """The parts of a TaskResult the callback reads."""

    def __init__(self, host, task, result, ignore_errors=False, action="ansible.builtin.command"):
        self._host = type("Host", (), {"get_name": lambda self: host})()
        self._task = type("Task", (), {"get_name": lambda self: task, "ignore_errors": ignore_errors,
                                       "action": action})()
        self._result = result


CHECKER = "lxchost.prep.lxc_checkconfig"


def verdict(profile, blockers=(), runtime=True, **extra):
    """An lxc_checkconfig result, as much of it as the callback reads."""
    result = {"profile": profile, "ready": not blockers, "runtime": {"kernel_release": "6.8.0-31-generic"} if runtime
              else None, "blockers": [{"id": check_id, "label": check_id, "status": status, "reason": reason,
                                       "hint": "do something"} for check_id, status, reason in blockers]}
    result.update(extra)
    return result


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


FLEET = {
    "ready-1": {
        "kernel": kernel(True, "ready"),
        "cgroup": {"path": "/var/local/cgroup", "changed": True, "line": LINE, "reason": "auto: v1 controllers are held",
                   "diff": [{"before": FSTAB_BEFORE, "after": FSTAB_BEFORE + LINE + "\n",
                             "before_header": "/etc/fstab", "after_header": "/etc/fstab"}]},
        "userland": {"missing": ["busybox-static"], "network": "lxc-net", "network_reason": "lxc-net can run"},
        "proof": {"output": []},
    },
    "old-2": {"kernel": kernel(False, "blocked", ["cgroup_memory", "veth"])},
    "old-3": {"kernel": dict(kernel(False, "build", ["veth"]), builder="buildbox")},
    "broken-4": {"kernel": kernel(True, "ready")},
}


def test_check_report_in_the_terminal_and_files(callback, tmp_path):
    callback.v2_runner_on_failed(Result("broken-4", "Install the missing packages", {"msg": "E: Unable to locate\n package"}))
    callback.v2_runner_on_unreachable(Result("gone-5", "Gathering Facts", {"msg": "Failed to connect"}))
    callback.v2_runner_on_failed(Result("old-2", "ignored", {"msg": "x"}, ignore_errors=True), ignore_errors=True)
    stats = stats_for(FLEET, processed=["ready-1", "old-2", "old-3", "broken-4"], failures=["broken-4"], dark=["gone-5"])
    callback.v2_playbook_on_stats(stats)
    text = "\n".join(callback.lines)
    assert "LXC fleet report - check mode: nothing was changed" in text
    assert "+" + LINE in text
    assert "would install busybox-static" in text
    assert "kernel build needed (missing required: cgroup_memory, veth) but not allowed by the inventory" in text
    assert "kernel build needed (missing required: veth), on builder buildbox" in text
    assert "error: in task 'Install the missing packages': E: Unable to locate package" in text
    assert "gone-5 (UNREACHABLE: Failed to connect)" in text
    assert text.splitlines()[-2] == ("5 host(s): 3 ok, 1 failed, 1 unreachable; kernel ready on 2, build needed on 2")

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


def test_a_rescued_failure_is_not_the_outcome(callback):
    callback.v2_runner_on_failed(Result("ready-1", "Start the container", {"msg": "non-zero return code"}))
    callback.v2_runner_on_failed(Result("ready-1", "Fail with what went wrong", {"msg": "LXC could not run it"}))
    callback.v2_runner_on_failed(Result("old-2", "Start the container", {"msg": "rescued"}))
    callback.v2_playbook_on_stats(stats_for(FLEET, processed=list(FLEET), failures=["ready-1"]))
    text = "\n".join(callback.lines)
    assert "error: in task 'Fail with what went wrong': LXC could not run it" in text
    assert "old-2 (ok)" in text


def test_real_run_says_what_was_done(callback, tmp_path, monkeypatch):
    monkeypatch.setattr(context, "CLIARGS", ImmutableDict(check=False))
    fleet = {"ready-1": dict(FLEET["ready-1"], proof={"output": ["hello from lxchost-proof, pid 9"]})}
    callback.v2_playbook_on_stats(stats_for(fleet, processed=["ready-1"], changed={"ready-1": 2}))
    text = "\n".join(callback.lines)
    assert "changes made by this run" in text
    assert "installed busybox-static" in text
    assert "    | hello from lxchost-proof, pid 9" in text
    assert (tmp_path / "reports" / "fleet-report-run.json").exists()
    assert not (tmp_path / "reports" / "fleet-report-check.json").exists()


def test_silent_for_other_playbooks(callback, tmp_path):
    callback.v2_playbook_on_stats(stats_for(None, processed=["a"]))
    assert callback.lines == []
    assert not (tmp_path / "reports").exists()


def test_unwritable_report_dir_is_said_not_raised(callback, tmp_path):
    (tmp_path / "reports").write_text("a file, not a directory")
    callback.v2_playbook_on_stats(stats_for(FLEET, processed=list(FLEET)))
    assert callback.lines[-1].startswith("could not write the report files in ")


def test_history_keeps_every_report(callback, tmp_path):
    callback._plugin_options["history"] = True
    for _run in range(2):
        callback.v2_playbook_on_stats(stats_for(FLEET, processed=list(FLEET)))
    assert len(list((tmp_path / "reports").glob("fleet-report-check-*.json"))) == 2


def test_unified_diff_of_one_or_many_results():
    one = {"before": "a\n", "after": "a\nb\n", "before_header": "/etc/fstab"}
    assert fleet_report.unified_diff(one)[-1] == "+b"
    assert fleet_report.unified_diff([one, {"before": "x\n", "after": "x\n"}, "junk"]) == fleet_report.unified_diff(one)
    assert fleet_report.unified_diff({}) == []


def test_a_build_asked_for_on_a_ready_kernel_and_how_containers_are_confined(callback):
    fleet = {"vm-1": {"kernel": dict(kernel(True, "build"), builder="buildbox"),
                      "userland": {"missing": [], "network": "lxc-net", "network_reason": "bridge",
                                   "apparmor": "enforced", "apparmor_reason": "profiles loaded"}}}
    callback.v2_playbook_on_stats(stats_for(fleet, processed=["vm-1"]))
    text = "\n".join(callback.lines)
    assert ("kernel build asked for (lxchost_site_build_kernel: always; the running kernel is ready), "
            "on builder buildbox") in text
    assert "  AppArmor: enforced - profiles loaded" in text


def test_each_hosts_profile_and_what_blocks_it(callback, tmp_path):
    blocked = [("apparmor_restrict_unprivileged_userns", "disabled",
                "kernel.apparmor_restrict_unprivileged_userns = 1 on this host: user ubuntu cannot use user "
                "namespaces. " + "Unprivileged containers run in a user namespace; " * 4)]
    callback.v2_runner_on_ok(Result("ready-1", "Check the running kernel's config", verdict("privileged"), action=CHECKER))
    callback.v2_runner_on_failed(Result("old-2", "Check the running kernel's config", dict(
        verdict("unprivileged", blocked), failed=True, msg="lacks what LXC needs"), action=CHECKER))
    # Not the host's running kernel: a config file, and a check delegated to a builder.
    callback.v2_runner_on_ok(Result("old-3", "Check the config", verdict("unprivileged", blocked, runtime=False),
                                    action=CHECKER))
    callback.v2_runner_on_ok(Result("old-3", "Find the running kernel's config", verdict(
        "unprivileged", blocked, _ansible_delegated_vars={"ansible_delegated_host": "buildbox"}), action=CHECKER))
    callback.v2_runner_on_ok(Result("ready-1", "Something else", verdict("unprivileged", blocked)))
    callback.v2_playbook_on_stats(stats_for(FLEET, processed=list(FLEET), failures=["old-2"]))
    text = "\n".join(callback.lines)
    assert "  profile privileged: nothing blocks it" in text
    line = [item for item in callback.lines if item.startswith("  profile unprivileged: blocked by ")][0]
    assert line.startswith("  profile unprivileged: blocked by apparmor_restrict_unprivileged_userns (disabled: "
                           "kernel.apparmor_restrict_unprivileged_userns = 1 on this host")
    assert line.endswith("...)") and len(line) <= len("  profile unprivileged: blocked by ") + 200
    rows = dict((row["host"], row) for row in json.loads((tmp_path / "reports" / "fleet-report.json").read_text())["hosts"])
    assert rows["ready-1"]["profile"] == "privileged" and rows["ready-1"]["blockers"] == []
    assert [item["id"] for item in rows["old-2"]["blockers"]] == ["apparmor_restrict_unprivileged_userns"]
    assert rows["old-3"]["profile"] is None and rows["old-3"]["blockers"] == []
    assert "- profile unprivileged: blocked by apparmor_restrict_unprivileged_userns" in (
        tmp_path / "reports" / "fleet-report.md").read_text()


def test_the_last_check_of_a_host_wins(callback):
    blocked = [("newuidmap", "missing", "newuidmap is not installed.")]
    callback.v2_runner_on_ok(Result("ready-1", "Check", verdict("unprivileged", blocked), action=CHECKER))
    callback.v2_runner_on_ok(Result("ready-1", "Check after the build", verdict("unprivileged"), action="lxc_checkconfig"))
    callback.v2_playbook_on_stats(stats_for({"ready-1": FLEET["ready-1"]}, processed=["ready-1"]))
    assert "  profile unprivileged: nothing blocks it" in callback.lines
