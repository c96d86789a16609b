# -*- coding: utf-8 -*-
# Copyright: lxchost.prep contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""site.yml run by `ansible-runner run` (the engine under AWX / Ansible Automation Platform).

A private data dir as AWX makes one (inventory/, env/, artifacts/), the collection checkout
as the project, one disposable systemd container (the molecule platform's capabilities) and
one host that is down. The readiness report (--check --diff) must: finish with the
unreachable host reported as such and the real one judged, change nothing on the real host,
hand the fleet data to runner's artifacts (the report task's custom stats -> playbook_on_stats
artifact_data, what AWX shows as the job's artifacts), and write the report files (completed by
the callback, which the checkout's ansible.cfg enables, with the unreachable host's error).
Needs Docker and the base image (conftest.py).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import subprocess

import pytest
import yaml

COLLECTION = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
# A host that is down: nothing listens on its SSH port (connection refused).
DOWN_HOST = {"ansible_connection": "ssh", "ansible_host": "127.0.0.1", "ansible_port": 9, "ansible_ssh_timeout": 5}


def _sh(*argv):
    return subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          universal_newlines=True, check=False)


@pytest.fixture(scope="module")
def host(container_host):
    return container_host("lxchost-runner")


@pytest.fixture(scope="module")
def run(host, tmp_path_factory):
    private = tmp_path_factory.mktemp("runner")
    (private / "inventory").mkdir()
    (private / "env").mkdir()
    inventory = {"all": {"children": {"lxc_hosts": {
        "hosts": {host: {}, "lxchost-runner-absent": DOWN_HOST},
        "vars": {"ansible_connection": "community.docker.docker",
                 "ansible_python_interpreter": "/usr/bin/python3"}}}}}
    (private / "inventory" / "hosts.yml").write_text(yaml.safe_dump(inventory))
    report_dir = private / "report"
    envvars = {
        "ANSIBLE_COLLECTIONS_PATH": os.path.dirname(os.path.dirname(os.path.dirname(COLLECTION))),
        "LXCHOST_FLEET_REPORT_DIR": str(report_dir),
        "ANSIBLE_CACHE_PLUGIN_CONNECTION": str(private / "facts"),
        "ANSIBLE_NOCOLOR": "1",
    }
    (private / "env" / "envvars").write_text(yaml.safe_dump(envvars))
    fstab_before = _sh("docker", "exec", host, "cat", "/etc/fstab").stdout
    proc = subprocess.run(
        ["ansible-runner", "run", str(private), "--project-dir", COLLECTION, "-p", "site.yml",
         "--ident", "report", "--cmdline", "--check --diff"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True, check=False)
    artifacts = private / "artifacts" / "report"
    events = []
    for path in sorted((artifacts / "job_events").glob("*.json")):
        events.append(json.loads(path.read_text()))
    return dict(proc=proc, artifacts=artifacts, events=events, report_dir=report_dir,
                fstab_before=fstab_before, fstab_after=_sh("docker", "exec", host, "cat", "/etc/fstab").stdout)


def test_runner_finished_with_the_unreachable_host_failing_the_job(run):
    # ansible-playbook exits 4 when a host is unreachable; runner reports the job failed.
    assert (run["artifacts"] / "rc").read_text().strip() == "4", run["proc"].stdout
    assert (run["artifacts"] / "status").read_text().strip() == "failed"


def test_the_report_is_in_runner_stdout(run):
    stdout = (run["artifacts"] / "stdout").read_text()
    assert "LXC fleet report - check mode" in stdout
    assert "1 ok, 0 failed, 1 unreachable" in stdout


def test_fleet_data_reaches_runner_artifacts(run, host):
    stats = [e for e in run["events"] if e.get("event") == "playbook_on_stats"]
    assert len(stats) == 1
    fleet = stats[0]["event_data"]["artifact_data"]["lxchost_fleet"]
    assert fleet[host]["kernel"]["plan"] == "ready"
    assert fleet[host]["userland"]["network"] == "empty"
    assert "lxchost-runner-absent" not in fleet


def test_report_files(run, host):
    report = json.loads((run["report_dir"] / "fleet-report.json").read_text())
    rows = dict((row["host"], row) for row in report["hosts"])
    assert report["mode"] == "check"
    assert rows["lxchost-runner-absent"]["status"] == "unreachable"
    assert rows["lxchost-runner-absent"]["error"]
    assert rows[host]["status"] == "ok"
    assert "+cgroup2 /var/local/cgroup cgroup2 defaults 0 0" in rows[host]["fstab_diff"]
    assert sorted(rows[host]["packages_missing"]) == ["busybox-static", "lxc-templates"]
    assert (run["report_dir"] / "fleet-report.md").read_text().startswith("# LXC fleet report")


def test_check_mode_changed_nothing(run, host):
    assert run["fstab_before"] == run["fstab_after"]
    assert _sh("docker", "exec", host, "dpkg-query", "-W", "busybox-static").returncode != 0
