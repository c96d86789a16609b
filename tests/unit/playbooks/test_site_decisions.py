# -*- coding: utf-8 -*-
# Copyright: lxchost.prep contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Decisions written as Jinja in the playbook and the roles, rendered by Ansible's templating with
the facts of each kind of host: which systems lxchost.prep.site prepares, and which kernel source
package kernel_build takes on each Debian release."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import functools
import os

import pytest

from ansible.parsing.dataloader import DataLoader
from ansible.template import Templar

from ansible_collections.lxchost.prep.plugins.module_utils._lxc_catalogue import USERLAND_PACKAGES

COLLECTION = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))


def _load(*path):
    """The file as Ansible loads a playbook or a role's variables: its templates are templates."""
    path = os.path.join(COLLECTION, *path)
    try:
        return DataLoader().load_from_file(path, trusted_as_template=True)
    except TypeError:  # ansible-core before 2.19 trusts every string
        return DataLoader().load_from_file(path)


def _render(template, variables):
    return Templar(loader=DataLoader(), variables=variables).template(template)


@functools.lru_cache(maxsize=None)
def _judge_play():
    """The first play of the playbook: it judges each host and plans its preparation."""
    return _load("playbooks", "site.yml")[0]


def _judge_task(module):
    (task,) = [t for t in _judge_play()["tasks"] if module in t]
    return task


def _os_guard():
    """The judging play's variables and its task that decides from the checker's result."""
    judge = _judge_play()
    (task,) = [t for t in judge["tasks"] if "lxchost_site_os_report" in t.get("ansible.builtin.set_fact", {})]
    return judge["vars"], task


def _checker_result(system, ready=True):
    """lxchost.prep.lxc_checkconfig's return on a host (system: its `system` return)."""
    return {"system": system, "ready": ready, "kernel_version": "6.1.119", "config_source": "/proc/config.gz",
            "missing_required": [], "missing_recommended": [], "profile": "privileged", "blockers": [],
            "runtime": {"kernel_release": "6.1.0-28-amd64"}}


def _system(name, os_id, version, codename):
    return {"name": name, "id": os_id, "version": version, "major_version": version.split(".")[0] if version else None,
            "codename": codename, "pretty_name": None}


@pytest.mark.parametrize("system, shown, supported", [
    (_system("Debian", "debian", "11.11", "bullseye"), "Debian 11.11 (bullseye)", True),
    (_system("Debian", "debian", "12.8", "bookworm"), "Debian 12.8 (bookworm)", True),
    (_system("Debian", "debian", "13.1", "trixie"), "Debian 13.1 (trixie)", True),
    (_system("Debian", "debian", "10.13", "buster"), "Debian 10.13 (buster)", False),
    (_system("Debian", "debian", None, "trixie"), "Debian (trixie)", False),  # testing/sid: no version
    (_system("Ubuntu", "ubuntu", "24.04", "noble"), "Ubuntu 24.04 (noble)", False),
    (_system("Rocky", "rocky", "9.4", "Blue Onyx"), "Rocky 9.4 (Blue Onyx)", False),
    (_system("Alpine", "alpine", "3.20.3", None), "Alpine 3.20.3", False),
    ({}, "unknown", False),  # no os-release at all
])
def test_supported_systems(system, shown, supported):
    play_vars, task = _os_guard()
    variables = dict(play_vars, **task["vars"])
    variables.update(lxchost_site_kernel=_checker_result(system))
    facts = task["ansible.builtin.set_fact"]
    report = _render(facts["lxchost_site_os_report"], variables)
    assert report["supported"] is supported
    assert report["distribution"] == shown
    assert report["reason"].endswith("supported" if supported else "nothing was changed on this host")
    plan = _render(facts["lxchost_site_kernel_plan"], variables)
    assert plan == ("ready" if supported else "unsupported")
    kernel = _render(facts["lxchost_site_kernel_report"], variables)
    assert (kernel["plan"], kernel["release"]) == ("ready", "6.1.0-28-amd64") if supported else kernel == {}


@pytest.mark.parametrize("build, ready, plan", [
    (False, True, "ready"), (False, False, "blocked"), (True, False, "build"), (True, True, "ready"),
    ("always", True, "build"),
])
def test_kernel_plan(build, ready, plan):
    play_vars, task = _os_guard()
    variables = dict(play_vars, **task["vars"])
    variables.update(lxchost_site_kernel=_checker_result(_system("Debian", "debian", "12.8", "bookworm"), ready),
                     lxchost_site_build_kernel=build)
    assert _render(task["ansible.builtin.set_fact"]["lxchost_site_kernel_plan"], variables) == plan


@pytest.mark.parametrize("result, failed", [
    ({"msg": "No config found for the running kernel", "system": _system("Rocky", "rocky", "9.4", None)}, False),
    ({"msg": "No config found for the running kernel", "system": _system("Debian", "debian", "12.8", "bookworm")},
     True),
    ({"msg": "MODULE FAILURE: /usr/bin/python3: not found"}, True),  # no system: not even the guard can run
    (_checker_result(_system("Rocky", "rocky", "9.4", None)), False),
])
def test_the_checker_fails_a_host_only_where_it_matters(result, failed):
    task = _judge_task("lxchost.prep.lxc_checkconfig")
    variables = dict(_judge_play()["vars"], lxchost_site_kernel=result)
    assert _render(_trusted("{{ %s }}" % task["failed_when"]), variables) is failed


def _trusted(template):
    """A template built here, trusted as the playbook's own are (ansible-core 2.19 and later
    template only trusted strings; earlier versions trust every string)."""
    try:
        from ansible.template import trust_as_template  # pylint: disable=import-outside-toplevel
    except ImportError:
        return template
    return trust_as_template(template)


@pytest.mark.parametrize("system, plan, groups", [
    (_system("Debian", "debian", "12.8", "bookworm"), "ready", ["lxchost_site_supported"]),
    (_system("Rocky", "rocky", "9.4", None), "unsupported", []),  # in no group of the later plays
])
def test_only_supported_hosts_join_the_later_plays(system, plan, groups):
    play_vars, guard = _os_guard()
    variables = dict(play_vars, **guard["vars"])
    variables.update(lxchost_site_kernel=_checker_result(system))
    variables.update(lxchost_site_os_report=_render(guard["ansible.builtin.set_fact"]["lxchost_site_os_report"],
                                                    variables),
                     lxchost_site_kernel_plan=_render(guard["ansible.builtin.set_fact"]["lxchost_site_kernel_plan"],
                                                      variables))
    group_by = _judge_task("ansible.builtin.group_by")["ansible.builtin.group_by"]
    assert _render(_trusted(group_by["key"]), variables) == "lxchost_kernel_" + plan
    assert _render(group_by["parents"], variables) == groups


def _userland(runtime, **overrides):
    """lxc_userland's decisions (vars/main.yml) for a host, with the role's defaults."""
    variables = dict(_load("roles", "lxc_userland", "defaults", "main.yml"))
    variables.update(_load("roles", "lxc_userland", "vars", "main.yml"))
    variables.update(lxc_userland_runtime=runtime, **overrides)
    return lambda name: _render(variables[name], variables)


def _runtime(packages, writable=False, apparmor="N"):
    return {"ip_forward": {"exists": True, "writable": writable, "value": "0"}, "init": "systemd",
            "apparmor": {"enabled": apparmor}, "packages": packages}


# What the checker reports on a host with lxc and iptables installed.
_ALL_KNOWN = dict(dict.fromkeys(USERLAND_PACKAGES), iptables="1.8.9-2", lxc="1:5.0.2-1+deb12u2")


def test_lxc_userland_takes_the_packages_from_the_checker():
    decide = _userland(_runtime(_ALL_KNOWN, writable=True, apparmor="Y"))
    assert decide("__lxc_userland_probe") is False  # no dpkg-query, no look at the host
    assert decide("__lxc_userland_network_mode") == "lxc-net"
    assert sorted(decide("__lxc_userland_missing")) == ["apparmor", "busybox-static", "dnsmasq-base", "lxc-templates"]


@pytest.mark.parametrize("runtime, overrides", [
    ({}, {}),  # no runtime: the role looks at the host itself
    (_runtime({}), {}),  # the checker found no dpkg database
    (_runtime(_ALL_KNOWN), {"lxc_userland_packages": ["lxc", "criu"]}),  # a package the checker does not report
])
def test_lxc_userland_asks_dpkg_what_the_checker_does_not_say(runtime, overrides):
    decide = _userland(runtime, lxc_userland_dpkg={"stdout_lines": ["lxc installed", "criu not-installed"]},
                       **overrides)
    assert decide("__lxc_userland_probe") is True
    if runtime:
        assert decide("__lxc_userland_installed") == ["lxc"]


@pytest.mark.parametrize("release, explicit, package", [
    ("bullseye", "", "linux-source-5.10"),
    ("bookworm", "", "linux-source-6.1"),
    ("trixie", "", "linux-source-6.12"),
    ("noble", "", ""),  # unknown: preflight refuses it
    ("bookworm", "linux-source-6.1-custom", "linux-source-6.1-custom"),
])
def test_kernel_source_package_of_the_build_hosts_release(release, explicit, package):
    variables = dict(_load("roles", "kernel_build", "defaults", "main.yml"))
    variables.update(_load("roles", "kernel_build", "vars", "main.yml"))
    variables.update(kernel_build_debian_package=explicit, kernel_build_builder="", inventory_hostname="vps-1",
                     hostvars={"vps-1": {"ansible_facts": {"distribution_release": release}}})
    assert _render(variables["__kernel_build_debian_package"], variables) == package
