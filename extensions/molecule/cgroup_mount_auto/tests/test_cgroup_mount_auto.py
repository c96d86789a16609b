# -*- coding: utf-8 -*-
# Copyright: lxchost.prep contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""(a) auto on a host whose v1 controllers are held: cgroup2, mounted, the line appended."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

import testinfra.utils.ansible_runner

testinfra_hosts = testinfra.utils.ansible_runner.AnsibleRunner(
    os.environ["MOLECULE_INVENTORY_FILE"]).get_hosts("all")

LINE = b"cgroup2 /var/local/cgroup cgroup2 defaults 0 0\n"


def test_premise_the_classic_v1_mount_fails_here(host):
    """If the all-controllers v1 mount worked on this host, auto should have chosen it."""
    host.check_output("mkdir -p /var/tmp/cgroup_mount/probe")
    probe = host.run("mount -t cgroup cgroup /var/tmp/cgroup_mount/probe")
    if probe.rc == 0:
        host.run("umount /var/tmp/cgroup_mount/probe")
    assert probe.rc == 32 and "already mounted" in probe.stderr


def test_fstab_is_the_prepared_file_plus_the_cgroup2_line(host):
    prepared = host.file("/var/tmp/cgroup_mount/fstab.prepared").content
    assert host.file("/etc/fstab").content == prepared + LINE


def test_cgroup2_is_mounted_and_the_host_hierarchies_stay(host):
    mount = host.mount_point("/var/local/cgroup")
    assert mount.exists and mount.filesystem == "cgroup2"
    assert host.mount_point("/sys/fs/cgroup/cpu").filesystem == "cgroup"
    assert host.file("/var/local/cgroup/cgroup.controllers").exists


def test_module_says_what_it_decided_and_why(host):
    result = host.ansible("lxchost.prep.cgroup_fstab", "", check=True)
    assert result["changed"] is False
    assert result["mode"] == "v2" and result["line"] == LINE.decode().strip()
    assert "EBUSY" in result["reason"] and "/sys/fs/cgroup/cpu" in result["reason"]
