# -*- coding: utf-8 -*-
# Copyright: lxchost.prep contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The fleet_report action as a play's last task runs it: the parts from hostvars, hosts the play
lost, the gate, --limit against the report files, and the data handed to ansible-runner."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
from types import SimpleNamespace

import pytest

from ansible.errors import AnsibleActionFail

from ansible_collections.lxchost.prep.plugins.action import fleet_report as action

KERNEL = {"distribution": "Debian 12.8", "release": "6.1.0-28-amd64", "version": "6.1.119", "config_source": "/proc/config.gz",
          "ready": True, "missing_required": [], "missing_recommended": [], "plan": "ready"}
USERLAND = {"missing": ["lxc-templates"], "network": "empty", "network_reason": "no ip_forward"}
HOSTVARS = {
    "demo-1": {"lxchost_site_kernel_report": KERNEL, "lxc_userland_report": USERLAND, "ansible_facts": {}},
    "demo-2": {"lxchost_site_kernel_report": KERNEL, "lxc_userland_report": USERLAND},
    "old-3": {"lxchost_site_kernel_report": dict(KERNEL, ready=False, plan="blocked", missing_required=["veth"])},
    "gone-4": {},
}


def run(tmp_path, monkeypatch, args=None, check_mode=True, active=("demo-1", "demo-2", "old-3"), limit=None,
        hosts=("demo-1", "demo-2", "old-3", "gone-4")):
    lines = []
    monkeypatch.setattr(action.display, "display", lambda msg, *a, **k: lines.append(msg))
    monkeypatch.delenv(action.REPORT_DIR_ENV, raising=False)
    monkeypatch.delenv(action.HISTORY_ENV, raising=False)
    monkeypatch.chdir(tmp_path)
    task = SimpleNamespace(args=dict(args or {}), async_val=0, check_mode=check_mode, action="lxchost.prep.fleet_report")
    connection = SimpleNamespace(_shell=SimpleNamespace(tmpdir=None))
    plugin = action.ActionModule(task, connection, None, None, None)
    task_vars = {"hostvars": HOSTVARS, "ansible_play_hosts_all": list(hosts), "ansible_play_hosts": list(active),
                 "ansible_check_mode": check_mode}
    if limit:
        task_vars["ansible_limit"] = limit
    result = plugin.run(task_vars=task_vars)
    result["lines"] = lines
    return result


def test_report_printed_written_and_handed_to_runner(tmp_path, monkeypatch):
    result = run(tmp_path, monkeypatch)
    text = "\n".join(result["lines"])
    assert "LXC fleet report - check mode" in text
    assert "demo-2: as demo-1" in text
    assert "gone-4 (NOT FINISHED: " in text
    assert "4 host(s): 3 ok, 1 failed or unreachable (the output above says which)" in text
    assert result["verdicts"] == {"demo-1": "pending", "demo-2": "pending", "old-3": "blocked", "gone-4": "not finished"}
    assert result["gate"]["hosts"] == [{"host": "old-3", "verdict": "blocked"}]  # the default: blocked
    assert result["changed"] is False and not result.get("failed")
    report = json.loads((tmp_path / "fleet-report" / "fleet-report.json").read_text())
    assert [r["host"] for r in report["hosts"]] == ["demo-1", "demo-2", "gone-4", "old-3"]
    assert str(tmp_path / "fleet-report" / "fleet-report-check.json") in result["files"]
    stats = result["ansible_stats"]
    assert stats["per_host"] is False and stats["aggregate"] is True
    assert sorted(stats["data"]["lxchost_fleet"]) == ["demo-1", "demo-2", "old-3"]
    assert stats["data"]["lxchost_fleet"]["demo-1"] == {"kernel": KERNEL, "userland": USERLAND}


@pytest.mark.parametrize("fail_on, matched", [("never", []), ("not_ready", ["demo-1", "demo-2", "gone-4", "old-3"])])
def test_gate_choices(tmp_path, monkeypatch, fail_on, matched):
    result = run(tmp_path, monkeypatch, args={"fail_on": fail_on})
    assert sorted(m["host"] for m in result["gate"]["hosts"]) == matched


def test_an_unknown_gate_is_refused(tmp_path, monkeypatch):
    with pytest.raises(AnsibleActionFail, match="fail_on"):
        run(tmp_path, monkeypatch, args={"fail_on": "sometimes"})


def test_limit_merges_into_the_previous_report_of_the_same_mode(tmp_path, monkeypatch):
    run(tmp_path, monkeypatch)
    run(tmp_path, monkeypatch, check_mode=False, args={"report_dir": "run-reports"})
    result = run(tmp_path, monkeypatch, hosts=["demo-1"], active=["demo-1"], limit="demo-1")
    report = json.loads((tmp_path / "fleet-report" / "fleet-report-check.json").read_text())
    assert [(r["host"], r["in_this_run"]) for r in report["hosts"]] == [
        ("demo-1", True), ("demo-2", False), ("gone-4", False), ("old-3", False)]
    assert result["verdicts"] == {"demo-1": "pending"} and result["gate"]["hosts"] == []
    assert any(line.startswith("kept from earlier runs (not in --limit demo-1): demo-2 (pending, ")
               for line in result["lines"])


def test_report_dir_and_history_from_the_environment(tmp_path, monkeypatch):
    lines = []
    monkeypatch.setattr(action.display, "display", lambda msg, *a, **k: lines.append(msg))
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv(action.REPORT_DIR_ENV, str(tmp_path / "elsewhere"))
    monkeypatch.setenv(action.HISTORY_ENV, "true")
    task = SimpleNamespace(args={}, async_val=0, check_mode=False, action="lxchost.prep.fleet_report")
    plugin = action.ActionModule(task, SimpleNamespace(_shell=SimpleNamespace(tmpdir=None)), None, None, None)
    plugin.run(task_vars={"hostvars": HOSTVARS, "ansible_play_hosts_all": ["demo-1"], "ansible_play_hosts": ["demo-1"]})
    assert len(list((tmp_path / "elsewhere").glob("fleet-report-run-*.json"))) == 1
    assert not (tmp_path / "fleet-report").exists()


def test_unwritable_report_dir_is_said_not_raised(tmp_path, monkeypatch):
    (tmp_path / "fleet-report").write_text("a file, not a directory")
    result = run(tmp_path, monkeypatch)
    assert result["files"] == []
    assert result["lines"][-1].startswith("could not write the report files in ")
