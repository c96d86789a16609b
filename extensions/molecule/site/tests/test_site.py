# -*- coding: utf-8 -*-
# Copyright: lxchost.prep contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What site.yml leaves on each host, and what its fleet reports said.

The reports are the fleet_report callback's files (history on): the first check report is
molecule's check step on the fresh hosts (nothing converged yet), the last run report is the
idempotence run's.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import glob
import json
import os

import pytest
import testinfra.utils.ansible_runner

HOSTS = testinfra.utils.ansible_runner.AnsibleRunner(
    os.environ["MOLECULE_INVENTORY_FILE"]).get_hosts("lxc_hosts")
REPORT_DIR = os.path.join(os.environ["MOLECULE_EPHEMERAL_DIRECTORY"], "fleet-report")
LINE = "cgroup2 /var/local/cgroup cgroup2 defaults 0 0"


def _report(mode, which):
    paths = sorted(glob.glob(os.path.join(REPORT_DIR, "fleet-report-%s-*.json" % mode)))
    assert paths, "no %s report in %s" % (mode, REPORT_DIR)
    with open(paths[which]) as handle:
        report = json.load(handle)
    assert report["mode"] == mode
    return dict((row["host"], row) for row in report["hosts"])


def test_three_hosts():
    assert len(HOSTS) >= 3


def test_cgroup2_mounted_as_decided(host):
    # These hosts hold every v1 controller already (Docker's host), so auto means cgroup2.
    assert host.file("/etc/fstab").content_string.splitlines().count(LINE) == 1
    mount = host.mount_point("/var/local/cgroup")
    assert mount.exists and mount.filesystem == "cgroup2"


def test_lxc_installed(host):
    for name in ("lxc", "lxc-templates", "busybox-static"):
        assert host.package(name).is_installed, name


def test_proof_left_nothing_behind(host):
    assert not host.file("/var/lib/lxc/lxchost-proof").exists
    assert not host.file("/run/lxchost-proof.log").exists
    assert host.check_output("lxc-ls -1") == ""


@pytest.mark.parametrize("name", HOSTS)
def test_proof_ran_in_the_last_run(name):
    row = _report("run", -1)[name]
    assert row["status"] == "ok", row
    assert row["network"] == "empty"  # lxc-net cannot run in a Docker guest: /proc/sys is read-only
    assert "not writable" in row["network_reason"]
    assert row["proof"][0].startswith("hello from lxchost-proof, pid "), row["proof"]
    assert "interfaces: lo" in row["proof"][1], row["proof"]
    assert row["planned_changes"] == []  # the idempotence run changed nothing


@pytest.mark.parametrize("name", HOSTS)
def test_check_report_on_fresh_hosts_planned_the_changes(name):
    row = _report("check", 0)[name]
    assert row["status"] == "ok", row
    assert row["ready"] is True and row["kernel_plan"] == "ready"
    assert row["cgroup_changed"] is True
    assert "+" + LINE in row["fstab_diff"]
    assert sorted(row["packages_missing"]) == ["busybox-static", "lxc-templates"]
    assert row["proof"] == []  # check mode runs no container
