# -*- coding: utf-8 -*-
# Copyright: lxchost.prep contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The kernel_lxc_options module run the way Ansible runs it (its own process, an args file),
on a small kernel tree laid out on disk: plan, audit, version from the Makefile, bad input."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from pathlib import Path

import pytest

from ansible_collections.lxchost.prep.plugins.module_utils._kernel_options import catalogue_digest
from ansible_collections.lxchost.prep.tests.unit.plugins.modules import module_process

FIXTURES = Path(__file__).resolve().parents[3] / "fixtures" / "configs"


def run_module(tmp_path, args, check_mode=False):
    rc, result, _err = module_process.run_module("kernel_lxc_options", tmp_path, args, check_mode)
    return rc, result


@pytest.fixture
def tree(tmp_path):
    src = tmp_path / "linux"
    src.mkdir()
    (src / "Makefile").write_text("# SPDX\nVERSION = 6\nPATCHLEVEL = 1\nSUBLEVEL = 192\nEXTRAVERSION =\nNAME = Curry Ramen\n")
    (src / "Kconfig").write_text('config NAMESPACES\n\tbool "ns"\n\tdepends on MULTIUSER\n')
    return src


def test_plan_reads_the_version_from_the_tree(tmp_path, tree):
    config = tmp_path / ".config"
    config.write_bytes((FIXTURES / "linux-6.1-tinyconfig.config").read_bytes())
    rc, result = run_module(tmp_path, dict(src=str(tree), config=str(config), options={"INET": "y"}), check_mode=True)
    assert rc == 0 and result["changed"] is False, result
    assert result["kernel_version"] == "6.1.192"
    names = [s["symbol"] for s in result["settings"]]
    assert "VETH" in names and "INET" in names and "CPUSETS" not in names
    assert result["config_args"][:3] == ["--set-val", names[0], "y"]


def test_classic_guide_version_given_explicitly(tmp_path, tree):
    rc, result = run_module(tmp_path, dict(src=str(tree), kernel_version="2.6.38.6"))
    assert rc == 0, result
    names = [s["symbol"] for s in result["settings"]]
    assert "CGROUP_MEM_RES_CTLR" in names and "MEMCG" not in names


def test_audit_fails_naming_option_and_dependency(tmp_path, tree):
    config = tmp_path / ".config"
    config.write_text("# Linux/x86 6.1.192 Kernel Configuration\nCONFIG_NET=y\n# CONFIG_MULTIUSER is not set\n")
    expect = [dict(symbol="NET", value="y", source="LXC: network_namespace"),
              dict(symbol="NAMESPACES", value="y", source="LXC: namespaces")]
    rc, result = run_module(tmp_path, dict(src=str(tree), config=str(config), expect=expect, arch="x86_64"))
    assert rc == 1 and result["failed"], result
    assert "CONFIG_NAMESPACES=y (from LXC: namespaces) became not set: it depends on MULTIUSER" in result["msg"]
    assert [item["symbol"] for item in result["dropped"]] == ["NAMESPACES"]


def test_audit_passes_and_reports_changes(tmp_path, tree):
    config = tmp_path / ".config"
    config.write_text("# Linux/x86 6.1.192 Kernel Configuration\nCONFIG_NET=y\nCONFIG_VETH=y\n")
    previous = tmp_path / "previous"
    previous.write_text("# Linux/x86 6.1.192 Kernel Configuration\nCONFIG_NET=y\n")
    rc, result = run_module(tmp_path, dict(src=str(tree), config=str(config), previous_config=str(previous),
                                           expect=[dict(symbol="VETH", value="y", source="LXC: veth")]))
    assert rc == 0, result
    assert result["dropped"] == [] and result["changes"] == ["+CONFIG_VETH"]


def test_not_a_source_tree(tmp_path):
    rc, result = run_module(tmp_path, dict(src=str(tmp_path / "nothing")))
    assert rc == 1 and "is not a kernel source tree" in result["msg"]


def test_broken_fragment(tmp_path, tree):
    fragment = tmp_path / "lxc.fragment"
    fragment.write_text("CONFIG_VETH=y\nthis is not config\n")
    rc, result = run_module(tmp_path, dict(src=str(tree), fragments=[str(fragment)]))
    assert rc == 1 and "lxc.fragment, line 2 is not a kernel config line" in result["msg"]


def test_plan_returns_the_catalogue_digest(tmp_path, tree):
    rc, result = run_module(tmp_path, dict(src=str(tree), kernel_version="6.1"))
    assert rc == 0 and result["catalogue_digest"] == catalogue_digest(), result


def test_digest_mode_reads_nothing(tmp_path):
    rc, result = run_module(tmp_path, dict(mode="digest"), check_mode=True)
    assert rc == 0 and result["changed"] is False, result
    assert result["catalogue_digest"] == catalogue_digest()
    assert "settings" not in result and "kernel_version" not in result


def test_plan_and_audit_need_a_source_tree(tmp_path):
    rc, result = run_module(tmp_path, dict(mode="plan"))
    assert rc == 1 and "src" in result["msg"], result
    rc, result = run_module(tmp_path, dict(mode="audit", src=str(tmp_path)))
    assert rc == 1 and "config" in result["msg"] and "expect" in result["msg"], result


INPUTS = dict(version="6.1.176", config_sha256="a" * 64, patches=[], compiler="gcc (Debian 12.2.0-14) 12.2.0",
              method="bindeb-pkg", localversion="-lxc")


def test_reasons_without_an_earlier_build(tmp_path):
    rc, result = run_module(tmp_path, dict(mode="reasons", inputs=INPUTS, build_host="buildbox"), check_mode=True)
    assert rc == 0 and result["reasons"] == ["no earlier build on buildbox"], result


def test_reasons_detail_the_config_from_the_two_files(tmp_path):
    config = tmp_path / ".config"
    config.write_text("# Linux/x86 6.1.192 Kernel Configuration\nCONFIG_NET=y\nCONFIG_VETH=y\n")
    previous = tmp_path / "previous"
    previous.write_text("# Linux/x86 6.1.176 Kernel Configuration\nCONFIG_NET=y\n")
    new = dict(INPUTS, version="6.1.192", config_sha256="b" * 64)
    rc, result = run_module(tmp_path, dict(mode="reasons", inputs=new, previous_inputs=INPUTS, config=str(config),
                                           previous_config=str(previous)))
    assert rc == 0, result
    assert result["reasons"] == ["version 6.1.176 -> 6.1.192", "config changed: +CONFIG_VETH"]
    assert result["changes"] == ["+CONFIG_VETH"]


def test_reasons_with_the_previous_config_gone(tmp_path):
    config = tmp_path / ".config"
    config.write_text("CONFIG_NET=y\n")
    new = dict(INPUTS, config_sha256="b" * 64, method="make-kpkg")
    rc, result = run_module(tmp_path, dict(mode="reasons", inputs=new, previous_inputs=INPUTS, config=str(config),
                                           previous_config=str(tmp_path / "gone")))
    assert rc == 0 and result["reasons"] == ["config changed", "method make-kpkg"], result


def test_reasons_need_inputs(tmp_path):
    rc, result = run_module(tmp_path, dict(mode="reasons"))
    assert rc == 1 and "inputs" in result["msg"], result
