# -*- coding: utf-8 -*-
# Copyright: lxchost.prep contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The fleet report's logic on recorded parts: each host's verdict, the CI gate, hosts with the
same details named once, a run under --limit merged into the previous report, the files."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

import pytest

from ansible_collections.lxchost.prep.plugins.plugin_utils import _fleet_report as fleet

LINE = "cgroup2 /var/local/cgroup cgroup2 defaults 0 0"
FSTAB = "proc /proc proc defaults 0 0\n"
EARLIER = "2026-01-01 10:00:00 UTC"
NOW = "2026-01-02 10:00:00 UTC"


def kernel(ready=True, plan="ready", missing=()):
    return {"distribution": "Debian 12.8", "release": "6.1.0-28-amd64", "version": "6.1.119",
            "config_source": "/boot/config-6.1.0-28-amd64", "ready": ready,
            "missing_required": list(missing), "missing_recommended": [], "plan": plan}


def fresh_host():
    """What a fresh Debian 12 container records in check mode."""
    return {
        "os": {"distribution": "Debian 12.8 (bookworm)", "supported": True, "reason": "Debian 12.8 (bookworm): supported"},
        "kernel": kernel(),
        "cgroup": {"path": "/var/local/cgroup", "changed": True, "line": LINE, "reason": "auto: v1 controllers are held",
                   "diff": {"before": FSTAB, "after": FSTAB + LINE + "\n", "before_header": "/etc/fstab"}},
        "userland": {"missing": ["busybox-static", "lxc-templates"], "network": "empty",
                     "network_reason": "ip_forward is not writable"},
    }


def prepared_host():
    """The same host after a real run: nothing to change, the proof ran."""
    entry = fresh_host()
    entry["cgroup"] = dict(entry["cgroup"], changed=False, diff={})
    entry["userland"] = dict(entry["userland"], missing=[])
    return entry


UNSUPPORTED = {"os": {"distribution": "Rocky 9.4 (Blue Onyx)", "supported": False,
                      "reason": "Rocky 9.4 (Blue Onyx): lxchost.prep prepares Debian 11, 12 and 13 only"}}
BLOCKED = {"kernel": kernel(False, "blocked", ["cgroup_memory", "veth"])}


def report(fleet_parts, check_mode=True, fail_on="blocked", outcomes=None, **kwargs):
    kwargs.setdefault("finished", NOW)
    return fleet.build_report(fleet_parts, outcomes or {}, check_mode, fail_on, **kwargs)


def verdicts(rep):
    return dict((r["host"], r["verdict"]) for r in rep["hosts"])


def test_verdict_of_each_kind_of_host():
    rep = report({"fresh": fresh_host(), "prepared": prepared_host(), "old": BLOCKED, "rocky": UNSUPPORTED,
                  "build": {"kernel": kernel(False, "build", ["veth"])}, "gone": {"kernel": kernel()}},
                 outcomes={"gone": dict(fleet.NOT_FINISHED)})
    assert verdicts(rep) == {"fresh": "pending", "prepared": "ready", "old": "blocked", "rocky": "unsupported",
                             "build": "pending", "gone": "not finished"}
    assert rep["summary"]["unsupported"] == 1 and rep["summary"]["not_finished"] == 1


def test_run_mode_a_changed_host_is_ready_and_an_unproven_kernel_build_is_not():
    proven = dict(fresh_host(), kernel=kernel(False, "build", ["veth"]), proof={"output": ["hello"]})
    unproven = dict(fresh_host(), kernel=kernel(False, "build", ["veth"]))
    rep = report({"fresh": fresh_host(), "proven": proven, "unproven": unproven}, check_mode=False)
    assert verdicts(rep) == {"fresh": "ready", "proven": "ready", "unproven": "pending"}
    assert rep["hosts"][0]["planned_changes"] == ["wrote fstab line " + LINE, "installed busybox-static, lxc-templates"]


@pytest.mark.parametrize("fail_on, matched", [
    ("never", []),
    ("blocked", ["old", "rocky"]),
    ("not_ready", ["fresh", "gone", "old", "rocky"]),
])
def test_gate(fail_on, matched):
    rep = report({"fresh": fresh_host(), "prepared": prepared_host(), "old": BLOCKED, "rocky": UNSUPPORTED},
                 fail_on=fail_on, outcomes={"gone": dict(fleet.NOT_FINISHED)})
    assert [m["host"] for m in rep["gate"]["hosts"]] == matched
    assert rep["gate"]["fail_on"] == fail_on
    assert ("no host matches" in rep["gate"]["msg"]) == (not matched)
    assert fleet.render_text(rep)[-1] == "gate: " + rep["gate"]["msg"]


def test_gate_refuses_an_unknown_value():
    with pytest.raises(ValueError, match="never, blocked, not_ready"):
        fleet.gate([], "sometimes")


def test_hosts_with_the_same_details_are_named_once():
    rep = report({"lxchost-demo-1": fresh_host(), "lxchost-demo-2": fresh_host(), "lxchost-demo-3": fresh_host(),
                  "lxchost-demo-4": prepared_host(), "web1": fresh_host()})
    text = "\n".join(fleet.render_text(rep))
    assert "lxchost-demo-2, -3, web1: as lxchost-demo-1" in text
    assert text.count("  packages: would install busybox-static, lxc-templates") == 1
    assert "lxchost-demo-4 (ok)" in text and "  packages: all present" in text
    # The table still has one line per host.
    assert sum(1 for line in text.splitlines() if line.startswith("lxchost-demo-")) == 4 + 3
    markdown = "\n".join(fleet.render_markdown(rep))
    assert "lxchost-demo-2, lxchost-demo-3, web1: as lxchost-demo-1." in markdown
    assert markdown.count("## ") == 2


def test_hosts_that_differ_or_ended_differently_are_not_grouped():
    other_kernel = dict(fresh_host(), kernel=dict(kernel(), release="6.1.0-30-amd64"))
    rep = report({"a-1": fresh_host(), "a-2": other_kernel, "a-3": fresh_host()},
                 outcomes={"a-3": {"status": "failed", "error": "E: no lxc", "task": "Install"}})
    text = "\n".join(fleet.render_text(rep))
    assert ": as a-1" not in text
    assert "a-3 (FAILED: E: no lxc)" in text and "  error: in task 'Install': E: no lxc" in text


@pytest.mark.parametrize("names, said", [
    (["lxchost-demo-2", "lxchost-demo-3"], "lxchost-demo-2, -3"),
    (["vps-tk1", "vps-tk2", "vps-os1"], "vps-tk1, -tk2, -os1"),
    (["web1", "web2"], "web1, web2"),
    (["a-1", "b-2", "b-3"], "a-1, b-2, -3"),
    (["lxchost-site-2-h11a", "lxchost-site-3-h11a"], "lxchost-site-2-h11a, -3-h11a"),
])
def test_short_names(names, said):
    assert fleet.short_names(names) == said


def test_limit_keeps_the_hosts_of_the_previous_report_with_their_time(tmp_path):
    first = report({"h-1": fresh_host(), "h-2": BLOCKED, "h-3": fresh_host()}, finished=EARLIER)
    fleet.write_report(first, str(tmp_path), history=False)
    previous, problem = fleet.read_previous(str(tmp_path), "check")
    assert problem is None
    second = report({"h-1": prepared_host()}, limit="h-1", previous=previous)
    rows = dict((r["host"], r) for r in second["hosts"])
    assert sorted(rows) == ["h-1", "h-2", "h-3"]
    assert rows["h-1"]["checked"] == NOW and rows["h-1"]["in_this_run"] and rows["h-1"]["verdict"] == "ready"
    assert rows["h-2"]["checked"] == EARLIER and not rows["h-2"]["in_this_run"] and rows["h-2"]["verdict"] == "blocked"
    # The gate and the summary are this run's: h-2 is blocked, but was not checked now.
    assert second["gate"]["hosts"] == [] and second["summary"]["hosts"] == 1
    text = fleet.render_text(second)
    assert "kept from earlier runs (not in --limit h-1): h-2 (blocked, %s), h-3 (pending, %s)" % (EARLIER, EARLIER) in text
    assert "h-2 (" not in "\n".join(line for line in text if not line.startswith("kept"))
    # A third limited run keeps the times of the first.
    third = report({"h-3": prepared_host()}, limit="h-3", previous=second)
    assert dict((r["host"], r["checked"]) for r in third["hosts"]) == {"h-1": NOW, "h-2": EARLIER, "h-3": NOW}


def test_without_limit_the_run_is_the_fleet():
    previous = report({"h-1": fresh_host(), "retired": fresh_host()})
    rep = report({"h-1": fresh_host()}, previous=previous)
    assert [r["host"] for r in rep["hosts"]] == ["h-1"]


def test_previous_report_missing_or_unreadable(tmp_path):
    assert fleet.read_previous(str(tmp_path), "check") == (None, None)
    (tmp_path / "fleet-report-run.json").write_text("{not json")
    previous, problem = fleet.read_previous(str(tmp_path), "run")
    assert previous is None and "is not a report" in problem
    (tmp_path / "fleet-report-run.json").write_text(json.dumps({"hosts": [{"name": "x"}]}))
    assert "no list of hosts" in fleet.read_previous(str(tmp_path), "run")[1]


def test_files_by_mode_and_history(tmp_path):
    paths = fleet.write_report(report({"h-1": fresh_host()}), str(tmp_path), history=True)
    names = [p.rsplit("/", 1)[1] for p in paths]
    assert names[:4] == ["fleet-report.json", "fleet-report-check.json", "fleet-report.md", "fleet-report-check.md"]
    assert names[4].startswith("fleet-report-check-2") and len(names) == 5
    assert (tmp_path / "fleet-report.md").read_text().startswith("# LXC fleet report")


def test_completed_with_what_the_recap_knows(tmp_path):
    rep = report({"h-1": fresh_host()}, fail_on="not_ready", outcomes={"h-2": dict(fleet.NOT_FINISHED)})
    paths = fleet.write_report(rep, str(tmp_path), history=False)
    rep = fleet.complete_report(json.loads((tmp_path / "fleet-report.json").read_text()), {
        "h-1": {"status": "ok", "changed": 2},
        "h-2": {"status": "unreachable", "task": "Gathering Facts", "error": "Connection refused"}})
    fleet.rewrite_report(rep, paths)
    rows = dict((r["host"], r) for r in json.loads((tmp_path / "fleet-report-check.json").read_text())["hosts"])
    assert rows["h-2"]["status"] == "unreachable" and rows["h-2"]["verdict"] == "unreachable"
    assert rows["h-2"]["error"] == "Connection refused" and rows["h-1"]["changed_tasks"] == 2
    assert "1 ok, 0 failed, 1 unreachable" in fleet.summary_line(rep["summary"])
    assert "UNREACHABLE: Connection refused" in (tmp_path / "fleet-report.md").read_text()


def test_parts_from_host_variables_by_the_contract():
    facts = {"lxchost_site_kernel_report": kernel(), "cgroup_mount_report": {"line": LINE},
             "cgroup_mount_result": {"changed": True}, "lxc_proof_report": "not a part"}
    assert fleet.host_parts(facts) == {"kernel": kernel(), "cgroup": {"line": LINE}}


def test_the_builder_is_named_from_the_kernel_build_part():
    entry = {"kernel": kernel(False, "build", ["veth"]),
             "build": {"build_host": "buildbox", "release": "6.1.176-lxc-7abc02db",
                       "summary": "6.1.176-lxc-7abc02db: would be built on buildbox"}}
    text = "\n".join(fleet.render_text(report({"vps-1": entry})))
    assert "kernel build needed (missing required: veth), on builder buildbox" in text
    assert "  kernel build: 6.1.176-lxc-7abc02db: would be built on buildbox" in text


def test_each_hosts_profile_and_what_blocks_it():
    """The kernel part carries the checker's profile and blockers; the text names them with the reasons."""
    ok = dict(fresh_host(), kernel=dict(kernel(), profile="privileged", blockers=[]))
    blocked = dict(fresh_host(), kernel=dict(kernel(False, "blocked", ["user_namespaces"]), profile="unprivileged",
                                             blockers=[{"id": "apparmor_restrict_unprivileged_userns",
                                                        "status": "disabled", "label": "x", "hint": "y",
                                                        "reason": "kernel.apparmor_restrict_unprivileged_userns = 1."}]))
    rep = report({"host-a": ok, "host-b": blocked})
    text = fleet.render_text(rep)
    assert "  profile privileged: nothing blocks it" in text
    assert ("  profile unprivileged: blocked by apparmor_restrict_unprivileged_userns (disabled: "
            "kernel.apparmor_restrict_unprivileged_userns = 1)") in text
    assert fleet.profile_text(None, []) == ""
    assert fleet.profile_text("privileged", [{"id": "x", "status": "missing", "reason": "r" * 300}]).endswith("...)")


@pytest.mark.parametrize("check_mode", [True, False])
def test_a_host_that_runs_the_kernel_the_build_makes_has_nothing_planned(check_mode):
    """lxchost_site_build_kernel: always on a host that built and booted it already: no kernel change, ready."""
    done = prepared_host()
    done["kernel"] = kernel(plan="build")
    done["build"] = {"build_host": "buildbox", "release": "6.1.176-lxc-7abc02db", "current": True, "summary": "..."}
    done["proof"] = {"ran": True, "output": ["it ran"]}
    todo = dict(done, build=dict(done["build"], current=False))
    rep = report({"done": done, "todo": todo}, check_mode=check_mode)
    rows = dict((r["host"], r) for r in rep["hosts"])
    assert rows["done"]["planned_changes"] == [] and rows["done"]["verdict"] == "ready", rows["done"]
    assert "runs the kernel this build makes (6.1.176-lxc-7abc02db)" in rows["done"]["kernel_plan_text"]
    assert rows["todo"]["planned_changes"] and "kernel build asked for" in rows["todo"]["planned_changes"][0]
    assert rows["todo"]["verdict"] == ("pending" if check_mode else "ready")
