# -*- coding: utf-8 -*-
# Copyright: lxchost.prep contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""(c) state present writes exactly the classic guide's line; nothing is mounted or created."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

import testinfra.utils.ansible_runner

testinfra_hosts = testinfra.utils.ansible_runner.AnsibleRunner(
    os.environ["MOLECULE_INVENTORY_FILE"]).get_hosts("all")


def test_fstab_has_exactly_the_classic_line_appended(host):
    prepared = host.file("/var/tmp/cgroup_mount/fstab.prepared").content
    assert host.file("/etc/fstab").content == prepared + b"cgroup /var/local/cgroup cgroup defaults 0 0\n"


def test_nothing_mounted_nor_created(host):
    assert not host.mount_point("/var/local/cgroup").exists
    assert not host.file("/var/local/cgroup").exists
