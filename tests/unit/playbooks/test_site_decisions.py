# -*- coding: utf-8 -*-
# Copyright: lxchost.prep contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Decisions written as Jinja in the playbook and the roles, rendered by Ansible's templating with
the facts of each kind of host: which systems lxchost.prep.site prepares, and which kernel source
package kernel_build takes on each Debian release."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

import pytest

from ansible.parsing.dataloader import DataLoader
from ansible.template import Templar

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


def _os_guard():
    judge = _load("playbooks", "site.yml")[0]
    (task,) = [t for t in judge["tasks"] if "lxchost_site_os_report" in t.get("ansible.builtin.set_fact", {})]
    return task


@pytest.mark.parametrize("distribution, major, supported", [
    ("Debian", "11", True), ("Debian", "12", True), ("Debian", "13", True),
    ("Debian", "10", False), ("Debian", "n/a", False),  # buster; testing/sid have no major version
    ("Ubuntu", "24", False), ("Rocky", "9", False), ("Alpine", "3", False),
])
def test_supported_systems(distribution, major, supported):
    task = _os_guard()
    facts = {"distribution": distribution, "distribution_major_version": major,
             "distribution_version": major + ".1", "distribution_release": "codename"}
    variables = dict(task["vars"], ansible_facts=facts)
    report = _render(task["ansible.builtin.set_fact"]["lxchost_site_os_report"], variables)
    assert report["supported"] is supported
    assert report["distribution"] == "%s %s.1 (codename)" % (distribution, major)
    assert report["reason"].endswith("supported" if supported else "nothing was checked or changed on this host")


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
