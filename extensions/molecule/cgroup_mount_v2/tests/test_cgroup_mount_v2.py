# -*- coding: utf-8 -*-
# Copyright: lxchost.prep contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""(b) mode v2: the classic guide's line is replaced, in place, by the cgroup2 line, and cgroup2 is mounted."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

import testinfra.utils.ansible_runner

testinfra_hosts = testinfra.utils.ansible_runner.AnsibleRunner(
    os.environ["MOLECULE_INVENTORY_FILE"]).get_hosts("all")


def test_classic_line_rewritten_in_place(host):
    prepared = host.file("/var/tmp/cgroup_mount/fstab.prepared").content
    assert b"cgroup /var/local/cgroup cgroup defaults 0 0\n" in prepared
    expected = prepared.replace(b"cgroup /var/local/cgroup cgroup defaults 0 0\n",
                                b"cgroup2 /var/local/cgroup cgroup2 defaults 0 0\n")
    assert host.file("/etc/fstab").content == expected


def test_cgroup2_mounted_from_fstab(host):
    mount = host.mount_point("/var/local/cgroup")
    assert mount.exists and mount.filesystem == "cgroup2"
    assert host.run("findmnt --fstab --mountpoint /var/local/cgroup --types cgroup2").rc == 0


def test_mounted_root_mode_is_the_kernels(host):
    """Never chmod-ed: the mounted cgroup2 root keeps the mode the kernel gives it."""
    assert host.file("/var/local/cgroup").mode == 0o555
