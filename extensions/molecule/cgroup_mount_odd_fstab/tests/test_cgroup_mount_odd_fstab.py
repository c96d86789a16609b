# -*- coding: utf-8 -*-
# Copyright: lxchost.prep contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""(e) duplicates fixed: the first line rewritten in place, the second dropped, all else byte for byte."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

import testinfra.utils.ansible_runner

testinfra_hosts = testinfra.utils.ansible_runner.AnsibleRunner(
    os.environ["MOLECULE_INVENTORY_FILE"]).get_hosts("all")

FIRST = b"cgroup /var/local/cgroup cgroup defaults\n"
SECOND = b"cgroup\t/var/local/cgroup/\tcgroup\tdefaults\t0\t0\n"
OURS = b"cgroup2 /var/local/cgroup cgroup2 defaults 0 0\n"


def test_fstab_byte_for_byte(host):
    prepared = host.file("/var/tmp/cgroup_mount/fstab.prepared").content
    assert prepared.count(FIRST) == 1 and prepared.count(SECOND) == 1 and not prepared.endswith(b"\n")
    assert b"\\040" in prepared and b"\t\t\n" in prepared
    expected = prepared.replace(FIRST, OURS).replace(SECOND, b"")
    assert host.file("/etc/fstab").content == expected


def test_mounted(host):
    assert host.mount_point("/var/local/cgroup").filesystem == "cgroup2"


def test_refusals_left_their_targets_alone(host):
    prepared = host.file("/var/tmp/cgroup_mount/fstab.prepared").content
    assert host.file("/srv/ro/fstab").content == prepared
    assert host.file("/srv/dup/fstab").content == prepared
    assert host.file("/var/local/cgroup-file").is_file
    assert not host.file("/var/local/cgroup-ro").exists
