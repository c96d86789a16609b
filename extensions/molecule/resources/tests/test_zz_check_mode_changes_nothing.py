# -*- coding: utf-8 -*-
# Copyright: lxchost.prep contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Shared by every molecule scenario (wired in extensions/molecule/config.yml).

Molecule's own `check` step only asserts that a dry run does not fail. This asserts
what users rely on: once converged, a --check run of the scenario's converge playbook
reports changed=0 and failed=0 on every host, and leaves the files named in
LXCHOST_CHECK_WATCH (space separated paths) byte-identical on every host.
Named test_zz_* so it runs after the scenario's own tests.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import re
import subprocess

import pytest
import testinfra
import testinfra.utils.ansible_runner

INVENTORY = os.environ["MOLECULE_INVENTORY_FILE"]
HOSTS = testinfra.utils.ansible_runner.AnsibleRunner(INVENTORY).get_hosts("all")
RECAP_LINE = re.compile(
    r"^(?P<host>\S+)\s*:\s*ok=(?P<ok>\d+)\s+changed=(?P<changed>\d+)\s+"
    r"unreachable=(?P<unreachable>\d+)\s+failed=(?P<failed>\d+)", re.MULTILINE)


def _converge_playbook():
    override = os.environ.get("LXCHOST_CONVERGE_PLAYBOOK")
    if override:
        return override
    return os.path.join(os.environ["MOLECULE_SCENARIO_DIRECTORY"], "converge.yml")


def _digests(host, paths):
    """sha256 of each watched path on host; None for a path that does not exist."""
    digests = {}
    for path in paths:
        if host.file(path).exists:
            digests[path] = host.check_output("sha256sum %s" % path).split()[0]
        else:
            digests[path] = None
    return digests


@pytest.fixture(scope="module")
def check_run():
    """Run the converge playbook once with --check; digests of watched files around it."""
    watched = os.environ.get("LXCHOST_CHECK_WATCH", "").split()
    hosts = dict((name, testinfra.get_host("ansible://%s?ansible_inventory=%s" % (name, INVENTORY)))
                 for name in HOSTS)
    before = dict((name, _digests(host, watched)) for name, host in hosts.items())
    env = dict(os.environ, ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0")
    proc = subprocess.run(
        ["ansible-playbook", "--inventory", INVENTORY, "--check", "--diff",
         "--skip-tags", "molecule-notest,notest,molecule-idempotence-notest",
         _converge_playbook()],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True, check=False)
    after = dict((name, _digests(host, watched)) for name, host in hosts.items())
    recap = dict((m.group("host"), m.groupdict()) for m in RECAP_LINE.finditer(proc.stdout))
    return dict(proc=proc, recap=recap, before=before, after=after)


@pytest.mark.parametrize("name", HOSTS)
def test_check_mode_after_converge_changes_nothing(check_run, name):
    proc = check_run["proc"]
    assert proc.returncode == 0, "check run failed:\n%s" % proc.stdout
    if name not in check_run["recap"] and "-> %s]" % name in proc.stdout:
        # Only a delegate (a kernel builder): its tasks count for the hosts that delegated them.
        pytest.skip("%s is not a host of the playbook, only a delegate of its hosts" % name)
    assert name in check_run["recap"], "no recap line for %s in:\n%s" % (name, proc.stdout)
    recap = check_run["recap"][name]
    assert (recap["changed"], recap["failed"], recap["unreachable"]) == ("0", "0", "0"), \
        "check mode after converge is not a no-op on %s:\n%s" % (name, proc.stdout)
    assert int(recap["ok"]) > 0, "nothing ran on %s:\n%s" % (name, proc.stdout)


@pytest.mark.parametrize("name", HOSTS)
def test_check_mode_leaves_watched_files_alone(check_run, name):
    assert check_run["before"][name] == check_run["after"][name]
