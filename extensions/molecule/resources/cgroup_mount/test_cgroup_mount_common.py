# -*- coding: utf-8 -*-
# Copyright: lxchost.prep contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Checks every cgroup_mount_* scenario shares (wired in each scenario's molecule.yml)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

import testinfra.utils.ansible_runner

testinfra_hosts = testinfra.utils.ansible_runner.AnsibleRunner(
    os.environ["MOLECULE_INVENTORY_FILE"]).get_hosts("all")

PREPARED = "/var/tmp/cgroup_mount/fstab.prepared"


def test_check_step_on_the_fresh_host_left_fstab_alone(host):
    """Converge runs with cgroup_mount_backup: true, so its one backup holds fstab as converge
    found it, i.e. after molecule's check step (a --check run on the fresh host). It must be
    the prepared bytes: the dry run changed nothing. One backup only: idempotence wrote nothing."""
    backups = host.check_output("find /etc -maxdepth 1 -name 'fstab.*~'").split()
    assert len(backups) == 1, "expected exactly one fstab backup, found %s" % backups
    assert host.file(backups[0]).content == host.file(PREPARED).content


def test_fstab_keeps_owner_and_mode(host):
    fstab = host.file("/etc/fstab")
    assert (fstab.user, fstab.group, fstab.mode) == ("root", "root", 0o644)
