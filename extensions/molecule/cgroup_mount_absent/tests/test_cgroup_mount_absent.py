# -*- coding: utf-8 -*-
# Copyright: lxchost.prep contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""(d) absent: unmounted, our line removed, every other byte (and the missing final newline) kept."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

import testinfra.utils.ansible_runner

testinfra_hosts = testinfra.utils.ansible_runner.AnsibleRunner(
    os.environ["MOLECULE_INVENTORY_FILE"]).get_hosts("all")

OURS = b"cgroup2\t/var/local/cgroup\tcgroup2\tdefaults\t0\t0\n"


def test_line_removed_rest_byte_for_byte(host):
    prepared = host.file("/var/tmp/cgroup_mount/fstab.prepared").content
    assert OURS in prepared and not prepared.endswith(b"\n")
    assert host.file("/etc/fstab").content == prepared.replace(OURS, b"")


def test_unmounted_directory_left(host):
    assert not host.mount_point("/var/local/cgroup").exists
    assert host.file("/var/local/cgroup").is_directory
