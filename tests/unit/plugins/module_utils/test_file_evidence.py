# -*- coding: utf-8 -*-
# Copyright: lxchost.prep contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The file is the evidence; version gates only fill in what it does not say.

Every verdict on the twelve real distribution configs (tests/unit/fixtures/distro-configs/) is
explained by the rule written in _lxc_catalogue's docstring, restated here on its own:

1. built in from a version on: not applicable, whatever the file says;
2. an option the file mentions (y, m, another value, "is not set") exists in that kernel;
3. the version gate decides for an option the file does not mention;
4. a range that says what an option means (MEANING) always holds.

Backports: the same real configs judged as older kernels (kernel_version), so that options the file
has come "before" mainline added them - they must be judged from the file, never as not existing -
and the hand-made RHEL 6 config (its backported CHECKSUM target).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from pathlib import Path

import pytest

from ansible_collections.lxchost.prep.plugins.module_utils import _lxc_catalogue as catalogue
from ansible_collections.lxchost.prep.plugins.module_utils._kconfig import KernelConfig, parse_version
from ansible_collections.lxchost.prep.plugins.module_utils._lxc_checker import check_kernel

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
DISTRO_CONFIGS = sorted((FIXTURES / "distro-configs").glob("*.config.xz"))
CONFIG_FIXTURES = Path(__file__).resolve().parents[3] / "fixtures" / "configs"
ON = ("y", "m")


def in_range(symbol, version):
    return ((symbol.since is None or version >= parse_version(symbol.since))
            and (symbol.until is None or version < parse_version(symbol.until)))


def counting(req, version, values):
    """The rule, restated: the symbols of req that count in this kernel."""
    if req.builtin_since and version >= parse_version(req.builtin_since):
        return []
    return [sym for sym in req.symbols
            if (sym.gate == catalogue.EXISTS and sym.name in values) or in_range(sym, version)]


def explain(check, req, version, values):
    """Why the verdict is what the rule says; an AssertionError when it is not."""
    symbols = counting(req, version, values)
    names = [sym.name for sym in symbols]
    status = check["status"]
    if check["reason"] and check["reason"].startswith(("Only used with cgroup", "Only applies with")):
        return "not judged here"
    if req.builtin_since and version >= parse_version(req.builtin_since):
        assert status == catalogue.NOT_APPLICABLE and check["reason"].startswith("Always built in"), check
        return "built in"
    on = [name for name in names if values.get(name) in ON]
    if on:
        assert check["symbol"][len("CONFIG_"):] in on, check
        assert status == {"y": catalogue.ENABLED, "m": catalogue.MODULE}[values[check["symbol"][7:]]], check
        return "set in the file"
    if names:
        assert status == catalogue.MISSING and check["symbol"][len("CONFIG_"):] in names, check
        assert check["value"] == (values.get(check["symbol"][7:]) if values.get(check["symbol"][7:]) else None) \
            or check["value"] == "n", check
        return "not set" if any(name in values for name in names) else "absent, gate holds"
    # Nothing counts: no option of req that the file mentions can exist-gate it away.
    assert not [sym for sym in req.symbols if sym.gate == catalogue.EXISTS and sym.name in values], check
    assert status in (catalogue.NOT_APPLICABLE, catalogue.MISSING) and check["symbol"] is None, check
    return "no option in this kernel"


def _judged(path, kernel_version=None):
    values = KernelConfig.from_file(str(path)).values
    result = check_kernel(config=str(path), kernel_version=kernel_version, cgroup_mode="both")
    return result, values, parse_version(result["kernel_version"])


@pytest.mark.parametrize("path", DISTRO_CONFIGS, ids=[p.name for p in DISTRO_CONFIGS])
def test_every_verdict_on_a_real_config_follows_the_rule(path):
    result, values, version = _judged(path)
    explained = {}
    for check in result["checks"]:
        req = catalogue.BY_ID.get(check["id"])
        if req is None:
            assert check["status"] == catalogue.NOT_APPLICABLE  # the running host is not judged for a file
            continue
        explained[check["id"]] = explain(check, req, version, values)
    assert len(explained) == len(catalogue.REQUIREMENTS)


def test_there_are_twelve_real_configs():
    assert len(DISTRO_CONFIGS) == 12
    assert (FIXTURES / "distro-configs" / "SOURCES.md").read_text().count(".config |") == 12


# Kernel versions to judge the real configs as: each before options the configs have.
OLDER = ["2.6.32", "3.2", "3.10", "4.2", "4.9"]


@pytest.mark.parametrize("older", OLDER)
@pytest.mark.parametrize("path", DISTRO_CONFIGS, ids=[p.name for p in DISTRO_CONFIGS])
def test_an_option_in_the_file_is_judged_from_the_file_whatever_its_gate(path, older):
    """The real config judged as an older kernel: every option it has that mainline added later is a
    backport there, and is judged from the file - never 'does not exist before kernel X'."""
    header = parse_version(KernelConfig.from_file(str(path)).header_version)
    if header[:2] <= parse_version(older)[:2]:
        pytest.skip("%s is not older than the config's own kernel" % older)
    result, values, version = _judged(path, kernel_version=older)
    backports = 0
    for check in result["checks"]:
        req = catalogue.BY_ID.get(check["id"])
        if req is None:
            continue
        explain(check, req, version, values)
        later = [sym for sym in req.symbols if sym.gate == catalogue.EXISTS and sym.name in values
                 and sym.since and version < parse_version(sym.since)]
        if later and not (req.builtin_since and version >= parse_version(req.builtin_since)):
            backports += 1
            assert not (check["reason"] or "").startswith("Does not exist before"), check
            assert check["symbol"] is not None, check
    assert backports > 0


def test_the_real_backports_of_the_issue():
    """RHEL 6's 2.6.32 has the CHECKSUM target (mainline: 2.6.35); CentOS 5's 2.6.18 has eventfd
    (mainline: 2.6.22). Both were called not_applicable by the version gates alone."""
    rhel6 = check_kernel(config=str(CONFIG_FIXTURES / "handmade-2.6.32-rhel6-backports.config"))
    checksum = [c for c in rhel6["checks"] if c["id"] == "netfilter_xt_target_checksum"][0]
    assert rhel6["kernel_version"] == "2.6.32"
    assert (checksum["status"], checksum["symbol"], checksum["value"]) == (
        catalogue.MODULE, "CONFIG_NETFILTER_XT_TARGET_CHECKSUM", "m")
    plain = check_kernel(config=str(CONFIG_FIXTURES / "handmade-2.6.32.config"))
    assert [c for c in plain["checks"] if c["id"] == "netfilter_xt_target_checksum"][0]["status"] == \
        catalogue.NOT_APPLICABLE   # not in that file: the gate decides


@pytest.mark.parametrize("path", DISTRO_CONFIGS, ids=[p.name for p in DISTRO_CONFIGS])
def test_a_meaning_is_never_taken_from_the_file(path):
    """NF_NAT is in every real config; before 5.1 it is not IPv4 NAT by itself (NF_NAT_IPV4 is)."""
    result, values, version = _judged(path)
    nat = [c for c in result["checks"] if c["id"] == "nf_nat_ipv4"][0]
    if parse_version("3.7") <= version < parse_version("5.1"):
        assert nat["symbol"] == "CONFIG_NF_NAT_IPV4", nat
    else:
        assert nat["symbol"] == "CONFIG_NF_NAT", nat
    assert values.get("NF_NAT") in ON
