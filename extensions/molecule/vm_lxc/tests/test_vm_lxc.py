# -*- coding: utf-8 -*-
# Copyright: lxchost.prep contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""On the distribution kernel (AppArmor enabled): LXC's profiles loaded by the apparmor package, the
proof container confined by them, and the check report on the fresh VMs planned it."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import glob
import json
import os

import pytest
import testinfra.utils.ansible_runner

INVENTORY = os.environ["MOLECULE_INVENTORY_FILE"]
VMS = testinfra.utils.ansible_runner.AnsibleRunner(INVENTORY).get_hosts("lxc_hosts")


def vm_host(name):
    return testinfra.get_host("ansible://%s?ansible_inventory=%s" % (name, INVENTORY))


def fleet_report(mode, which):
    """The fleet report of the first or last check or run (LXCHOST_FLEET_REPORT_HISTORY)."""
    paths = sorted(glob.glob(os.path.join(os.environ["MOLECULE_EPHEMERAL_DIRECTORY"], "fleet-report",
                                          "fleet-report-%s-*.json" % mode)))
    assert paths, "no %s report" % mode
    with open(paths[which]) as handle:
        return dict((row["host"], row) for row in json.load(handle)["hosts"])


@pytest.mark.parametrize("name", VMS)
def test_apparmor_confines_containers(name):
    host = vm_host(name)
    assert host.file("/sys/module/apparmor/parameters/enabled").content_string.strip() == "Y"
    assert host.package("apparmor").is_installed
    assert "lxc-container-default-cgns" in host.check_output("cat /sys/kernel/security/apparmor/profiles")
    row = fleet_report("run", -1)[name]
    assert row["apparmor"] == "enforced", row
    assert "AppArmor: lxc-container-default-cgns (enforce)" in row["proof"], row["proof"]


@pytest.mark.parametrize("name", VMS)
def test_check_report_on_fresh_vms_planned_lxc_net_and_apparmor(name):
    row = fleet_report("check", 0)[name]
    assert row["status"] == "ok", row
    assert row["kernel_plan"] == "ready" and row["network"] == "lxc-net", row
    assert "apparmor" in row["packages_missing"] and "lxc" in row["packages_missing"], row
