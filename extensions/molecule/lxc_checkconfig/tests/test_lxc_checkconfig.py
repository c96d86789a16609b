# -*- coding: utf-8 -*-
# Copyright: lxchost.prep contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the lxc_checkconfig scenario's converge left on the host: its local fact.

Expectations come from sources independent of the module: the catalogue file for the
ids, the config file's own header (decompressed here) and `uname -r` for versions.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import bz2
import gzip
import importlib
import json
import lzma
import os
import re
import sys

import pytest
import testinfra.utils.ansible_runner

testinfra_hosts = testinfra.utils.ansible_runner.AnsibleRunner(
    os.environ["MOLECULE_INVENTORY_FILE"]).get_hosts("all")

FACT = "/etc/ansible/facts.d/lxc_kernel.fact"
CONFIG_UNDER_TEST = "/var/tmp/lxchost/config-under-test"
# disabled: compiled in, but switched off on the running host (a boot parameter, a sysctl).
STATUSES = {"enabled", "module", "missing", "disabled", "not_applicable"}
HEADER_VERSION = re.compile(
    r"^# (?:Linux/\S+ |Linux kernel version: )(\d+\.\d+(?:\.\d+)*)", re.MULTILINE)


def _catalogue_ids():
    # The catalogue imports from the collection: load it as the collection's own module.
    root = os.path.normpath(os.path.join(os.environ["MOLECULE_PROJECT_DIRECTORY"], "..", "..", ".."))
    if root not in sys.path:
        sys.path.insert(0, root)
    catalogue = importlib.import_module("ansible_collections.lxchost.prep.plugins.module_utils._lxc_catalogue")
    return set(req.id for req in catalogue.REQUIREMENTS)


def _decompress(data):
    if data.startswith(b"\x1f\x8b"):
        return gzip.decompress(data)
    if data.startswith(b"\xfd7zXZ"):
        return lzma.decompress(data)
    if data.startswith(b"BZh"):
        return bz2.decompress(data)
    if data.startswith(b"\x28\xb5\x2f\xfd"):
        import zstandard
        return zstandard.ZstdDecompressor().decompressobj().decompress(data)
    return data


def _header_version(text):
    match = HEADER_VERSION.search(text)
    assert match, "no version header in the config under test"
    return match.group(1)


@pytest.fixture
def fact(host):
    fact_file = host.file(FACT)
    assert fact_file.exists, "converge left no %s" % FACT
    assert fact_file.mode == 0o644
    return json.loads(fact_file.content_string)


@pytest.mark.parametrize("which", ["running", "file"])
def test_fact_has_a_verdict_for_every_catalogue_check(fact, which):
    verdict = fact[which]
    assert set(verdict["status"]) == _catalogue_ids()
    assert set(verdict["status"].values()) <= STATUSES
    assert isinstance(verdict["ready"], bool)
    missing_required = list(verdict["missing_required"])
    assert verdict["ready"] is (not missing_required)
    for cid in missing_required + verdict["missing_recommended"]:
        # Config checks are in status, checks of the running host in runtime_status.
        assert dict(verdict["status"], **verdict.get("runtime_status", {}))[cid] in ("missing", "disabled")


def test_running_kernel_version_matches_uname(host, fact):
    release = host.check_output("uname -r")
    version = fact["running"]["kernel_version"]
    assert re.match(r"\d+\.\d+", version)
    assert release == version or release.startswith(version + "-") or release.startswith(version + "."), \
        (release, version)


def test_running_kernel_config_source_is_on_the_host(host, fact):
    source = fact["running"]["config_source"]
    assert host.file(source).exists, source


def test_running_kernel_can_run_containers(fact):
    # This kernel runs Docker containers right now, so namespaces and cgroups exist:
    # a verdict of "not ready" here would be a false alarm.
    assert fact["running"]["ready"] is True, fact["running"]["missing_required"]


def test_config_file_version_comes_from_its_header(host, fact):
    raw = host.file(CONFIG_UNDER_TEST).content
    expected = _header_version(_decompress(raw).decode("utf-8", "replace"))
    assert fact["file"]["config_source"] == CONFIG_UNDER_TEST
    got = fact["file"]["kernel_version"]
    assert got == expected or expected.startswith(got + "."), (got, expected)
