# -*- coding: utf-8 -*-
# Copyright: lxchost.prep contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests for _lxc_catalogue: the shape of the data and the kernel history it encodes."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

import pytest

from ansible_collections.lxchost.prep.tests.unit.plugins.module_utils.lxc_checkconfig_ids import LXC_CHECKCONFIG_IDS
from ansible_collections.lxchost.prep.plugins.module_utils import _lxc_catalogue as catalogue
from ansible_collections.lxchost.prep.plugins.module_utils._kconfig import KernelConfig, parse_version
from ansible_collections.lxchost.prep.plugins.module_utils._lxc_checker import MISSING, judge

# "Plus what modern LXC needs": the catalogue's ids for them.
MODERN_IDS = {
    "seccomp": "SECCOMP",
    "seccomp_filter": "SECCOMP_FILTER",
    "cgroup_pids": "CGROUP_PIDS",
    "cgroup_freezer": "CGROUP_FREEZER",
    "cgroup_bpf": "CGROUP_BPF",
    "posix_mqueue": "POSIX_MQUEUE",
    "cgroup_memory_v1": "MEMCG_V1",
    "cgroup_cpuset_v1": "CPUSETS_V1",
    "netfilter_xtables_legacy": "NETFILTER_XTABLES_LEGACY",
}

SYMBOL = re.compile(r"^[A-Z][A-Z0-9_]*$")
MODULE_NAME = re.compile(r"^[A-Za-z0-9_-]+$")
REQS = catalogue.REQUIREMENTS
IDS = [req.id for req in REQS]

# Versions across the whole supported history, plus every boundary the catalogue names and the
# release just before it (2.6.x minors as 4-tuples so 2.6.38.6 sorts right).
_POINTS = set(["2.6.9", "2.6.18", "2.6.22", "2.6.23", "2.6.24", "2.6.25", "2.6.32", "2.6.38.6",
               "3.2", "3.10", "4.4", "4.9", "4.19", "5.0", "5.4", "5.10", "5.15", "6.1", "6.6",
               "6.12", "6.17", "7.0", "10.1"])
for _req in REQS:
    for _sym in _req.symbols:
        _POINTS.update(v for v in (_sym.since, _sym.until) if v)
    if _req.builtin_since:
        _POINTS.add(_req.builtin_since)
VERSIONS = sorted(set(parse_version(v) for v in _POINTS))


def _before(version):
    """The release before a boundary (2.6.33 -> 2.6.32, 3.0 -> 2.6.39, 5.1 -> 5.0)."""
    major, minor, patch, _extra = version
    if patch:
        return (major, minor, patch - 1, 0)
    if minor:
        return (major, minor - 1, 0, 0) if major > 2 else (2, 6, 39, 0)
    return {3: (2, 6, 39, 0)}.get(major, (major - 1, 20, 0, 0))


VERSIONS = sorted(set(VERSIONS) | set(_before(v) for v in VERSIONS if v > (2, 6, 9, 0)))


def _v(text):
    return parse_version(text) if text else None


def symbols_at(req, version):
    return [sym.name for sym in req.symbols
            if (sym.since is None or version >= _v(sym.since))
            and (sym.until is None or version < _v(sym.until))]


def by_id(check_id):
    return catalogue.BY_ID[check_id]


# ---------------------------------------------------------------- shape

@pytest.mark.parametrize("check_id", LXC_CHECKCONFIG_IDS)
def test_issue_id_present(check_id):
    assert check_id in catalogue.BY_ID


@pytest.mark.parametrize("check_id, symbol", sorted(MODERN_IDS.items()))
def test_modern_checks_present(check_id, symbol):
    req = by_id(check_id)
    assert symbol in [sym.name for sym in req.symbols]


def test_ids_unique_and_by_id_complete():
    assert len(IDS) == len(set(IDS))
    assert sorted(catalogue.BY_ID) == sorted(IDS)
    assert all(catalogue.BY_ID[req.id] is req for req in REQS)


def test_ids_are_identifiers():
    for check_id in IDS:
        assert re.match(r"^[a-z][a-z0-9_]*$", check_id), check_id


@pytest.mark.parametrize("req", REQS, ids=IDS)
def test_fields(req):
    assert [profile for profile, _level in req.levels] == list(catalogue.PROFILES)
    assert all(level in catalogue.LEVELS for _profile, level in req.levels)
    assert req.controller is None or re.match(r"^[a-z_]+$", req.controller)
    assert req.group in [name for name, _title in catalogue.GROUPS]
    assert req.cgroup in (None, "v1", "v2")
    assert req.label.strip() and req.why.strip()
    assert req.symbols, "no symbol"
    for sym in req.symbols:
        assert SYMBOL.match(sym.name), sym.name
        assert not sym.name.startswith("CONFIG_"), sym.name
    for name in [need.name for need in req.needs] + list(req.only_if):
        assert SYMBOL.match(name) and not name.startswith("CONFIG_"), name
    for need in req.needs:
        if need.since and need.until:
            assert _v(need.since) < _v(need.until), need
    for name in req.modules:
        assert MODULE_NAME.match(name) and not name.endswith(".ko"), name


def test_levels_and_groups_tables():
    assert set(catalogue.LEVELS) == {"required", "recommended", "optional"}
    names = [name for name, _title in catalogue.GROUPS]
    assert len(names) == len(set(names))
    assert {"namespaces", "cgroups", "network", "checkpoint_restore", "security", "filesystems"} <= set(names)
    # Every group a check uses has a title, and every titled group is used.
    assert set(req.group for req in REQS) | set(check.group for check in catalogue.RUNTIME_CHECKS) == set(names)


def test_lxc_checkconfig_mandatory_items_stay_required():
    # lxc-checkconfig's own "required" (red) items must not be weaker here.
    for check_id in ("namespaces", "ipc_namespace", "pid_namespace"):
        for profile in catalogue.PROFILES:
            assert catalogue.level_for(by_id(check_id), profile) == catalogue.REQUIRED


# ---------------------------------------------------------------- version ranges

@pytest.mark.parametrize("req", REQS, ids=IDS)
def test_version_ranges_well_formed(req):
    for sym in req.symbols:
        for bound in (sym.since, sym.until):
            if bound is not None:
                assert parse_version(bound) is not None, bound
        if sym.since and sym.until:
            assert _v(sym.since) < _v(sym.until), sym
    if req.builtin_since:
        assert parse_version(req.builtin_since) is not None
        # Built in from X: no symbol of the check may still be judged at X or later.
        assert symbols_at(req, _v(req.builtin_since)) == []
        assert max(_v(sym.until) for sym in req.symbols) == _v(req.builtin_since)


# Overlapping symbols are alternatives (any one enabled passes); only these checks have them.
ALTERNATIVES = {
    # From 5.2 IP_NF_TARGET_MASQUERADE is a compatibility alias selecting NETFILTER_XT_TARGET_MASQUERADE.
    "ip_nf_target_masquerade": ((5, 2, 0, 0), ["IP_NF_TARGET_MASQUERADE", "NETFILTER_XT_TARGET_MASQUERADE"]),
}


@pytest.mark.parametrize("req", REQS, ids=IDS)
def test_ranges_overlap_only_for_listed_alternatives(req):
    """Renames hand over at one version; two symbols at once only where listed as alternatives."""
    for version in VERSIONS:
        names = symbols_at(req, version)
        if req.id in ALTERNATIVES and version >= ALTERNATIVES[req.id][0]:
            assert names == ALTERNATIVES[req.id][1], (req.id, version, names)
        else:
            assert len(names) <= 1, (req.id, version, names)


# Gaps between a check's first and last symbol are real kernel history, listed here on purpose.
KNOWN_GAPS = {
    # ns_cgroup removed in 3.0 (a77aea92010a); cgroup namespaces arrived in 4.6.
    "cgroup_namespace": [((3, 0, 0, 0), (4, 6, 0, 0))],
}


@pytest.mark.parametrize("req", REQS, ids=IDS)
def test_no_unexplained_gaps(req):
    ranges = sorted((_v(sym.since) or (0, 0, 0, 0), _v(sym.until) or (999, 0, 0, 0)) for sym in req.symbols)
    gaps = [(ranges[i][1], ranges[i + 1][0]) for i in range(len(ranges) - 1) if ranges[i][1] < ranges[i + 1][0]]
    assert gaps == KNOWN_GAPS.get(req.id, [])


@pytest.mark.parametrize("check_id, first", [
    ("cgroup_memory", "2.6.25"),
    ("nf_nat_ipv4", None),
    ("nf_nat_ipv6", "3.7"),
    ("namespaces", None),
    ("epoll", None),
])
def test_rename_chains_have_exactly_one_symbol(check_id, first):
    req = by_id(check_id)
    for version in VERSIONS:
        names = symbols_at(req, version)
        if first is None or version >= _v(first):
            assert len(names) == 1, (check_id, version, names)
        else:
            assert names == [], (check_id, version, names)


# Kernel history (research notes, appendix A): (check, version, the symbol that applies or None).
TIMELINE = [
    ("cgroup_memory", "2.6.24", None),
    ("cgroup_memory", "2.6.25", "CGROUP_MEM_RES_CTLR"),
    ("cgroup_memory", "3.5", "CGROUP_MEM_RES_CTLR"),
    ("cgroup_memory", "3.6", "MEMCG"),
    ("cgroup_memory", "6.12", "MEMCG"),
    ("file_capabilities", "2.6.24", "SECURITY_FILE_CAPABILITIES"),
    ("file_capabilities", "2.6.32", "SECURITY_FILE_CAPABILITIES"),
    ("file_capabilities", "2.6.33", None),
    ("file_capabilities", "2.6.38.6", None),
    ("devpts_multiple_instances", "2.6.29", "DEVPTS_MULTIPLE_INSTANCES"),
    ("devpts_multiple_instances", "4.6", "DEVPTS_MULTIPLE_INSTANCES"),
    ("devpts_multiple_instances", "4.7", None),
    ("cgroup_namespace", "2.6.39", "CGROUP_NS"),
    ("cgroup_namespace", "3.0", None),
    ("cgroup_namespace", "4.5", None),
    ("cgroup_namespace", "4.6", "CGROUPS"),
    ("nf_nat_ipv4", "3.6", "NF_NAT"),
    ("nf_nat_ipv4", "3.7", "NF_NAT_IPV4"),
    ("nf_nat_ipv4", "5.0", "NF_NAT_IPV4"),
    ("nf_nat_ipv4", "5.1", "NF_NAT"),
    ("nf_nat_ipv6", "3.6", None),
    ("nf_nat_ipv6", "3.7", "NF_NAT_IPV6"),
    ("nf_nat_ipv6", "5.0", "NF_NAT_IPV6"),
    ("nf_nat_ipv6", "5.1", "NF_NAT"),
    ("checkpoint_restore", "3.2", None),
    ("checkpoint_restore", "3.3", "CHECKPOINT_RESTORE"),
    ("cgroup_bpf", "4.9", None),
    ("cgroup_bpf", "4.10", "CGROUP_BPF"),
    ("cgroup_memory_v1", "6.10", None),
    ("cgroup_memory_v1", "6.11", "MEMCG_V1"),
    ("cgroup_cpuset_v1", "6.11", None),
    ("cgroup_cpuset_v1", "6.12", "CPUSETS_V1"),
    ("netfilter_xtables_legacy", "6.16", None),
    ("netfilter_xtables_legacy", "6.17", "NETFILTER_XTABLES_LEGACY"),
    ("cgroup_pids", "4.2", None),
    ("cgroup_pids", "4.3", "CGROUP_PIDS"),
]


@pytest.mark.parametrize("check_id, version, symbol", TIMELINE)
def test_timeline(check_id, version, symbol):
    assert symbols_at(by_id(check_id), parse_version(version)) == ([symbol] if symbol else [])


def test_builtin_features():
    assert by_id("file_capabilities").builtin_since == "2.6.33"
    assert by_id("devpts_multiple_instances").builtin_since == "4.7"


def test_cgroup_version_specific_checks():
    v1_only = set(req.id for req in REQS if req.cgroup == "v1")
    v2_only = set(req.id for req in REQS if req.cgroup == "v2")
    assert {"cgroup_memory_v1", "cgroup_cpuset_v1", "cgroup_device", "cgroup_cpuacct", "cgroup_freezer"} <= v1_only
    assert v2_only == {"cgroup_bpf"}
    # Controllers both hierarchies use are judged for both.
    for check_id in ("cgroups", "cgroup_memory", "cgroup_cpuset", "cgroup_pids", "cgroup_sched"):
        assert by_id(check_id).cgroup is None, check_id


def test_cpusets_only_with_smp():
    assert "SMP" in by_id("cgroup_cpuset").only_if
    assert "SMP" in by_id("cgroup_cpuset_v1").only_if


# ---------------------------------------------------------------- hints from the data

def _empty_config(tmp_path, version):
    path = tmp_path / "config"
    path.write_text("# Linux/x86 %s Kernel Configuration\n# CONFIG_NOTHING is not set\n" % version)
    return KernelConfig.from_file(str(path))


@pytest.mark.parametrize("version", ["2.6.24", "2.6.32", "2.6.38.6", "3.2", "4.4", "5.0", "6.1", "6.12", "6.17"])
def test_every_missing_hint_names_the_symbol(tmp_path, version):
    config = _empty_config(tmp_path, version)
    parsed = parse_version(version)
    for req in REQS:
        check = judge(req, config, parsed, ("v1", "v2"))
        if check["status"] != MISSING or check["symbol"] is None:
            continue
        assert check["symbol"] in check["hint"], (req.id, check)
        assert check["hint"].startswith("Set %s=y" % check["symbol"])
        for need in req.needs:
            exists = (not need.since or parsed >= _v(need.since)) and (not need.until or parsed < _v(need.until))
            assert ("CONFIG_%s" % need.name in check["hint"]) == exists, (req.id, need, check["hint"])
        assert check["reason"] == req.why


# Ranges that say when an option that exists anyway stands for the requirement: the file cannot
# overrule them (the catalogue's docstring). Listed here so that a new one is a decision.
MEANINGS = {
    "cgroup_namespace": ["CGROUPS"],          # cgroup namespaces are part of cgroup core from 4.6
    "nf_nat_ipv4": ["NF_NAT", "NF_NAT"],      # IPv4 NAT before 3.7 and from 5.1; only the core between
    "nf_nat_ipv6": ["NF_NAT"],                # both families in NF_NAT from 5.1
    "nft_nat": ["NFT_NAT"],                   # nft's nat module takes the chains in 5.1
    "nft_masq": ["NFT_MASQ"],                 # NFT_MASQ_IPV4 folded into NFT_MASQ in 5.1
}


def test_meaning_ranges_are_the_listed_ones():
    found = dict((req.id, [sym.name for sym in req.symbols if sym.gate == catalogue.MEANING]) for req in REQS)
    assert dict((key, names) for key, names in found.items() if names) == MEANINGS
    for req in REQS:
        for sym in req.symbols + req.needs:
            assert sym.gate in (catalogue.EXISTS, catalogue.MEANING), (req.id, sym)


def test_the_file_evidence_rule_is_written_in_the_docstring():
    doc = " ".join(catalogue.__doc__.split())
    assert "The file is the evidence" in doc and "is not set" in doc and "MEANING" in doc
    assert "builtin_since" in doc


@pytest.mark.parametrize("check_id, version, values, symbol", [
    ("netfilter_xt_target_checksum", "2.6.32", {"NETFILTER_XT_TARGET_CHECKSUM": "m"}, "NETFILTER_XT_TARGET_CHECKSUM"),
    ("netfilter_xt_target_checksum", "2.6.32", {}, None),
    ("cgroup_namespace", "4.5", {"CGROUPS": "y"}, None),
    ("file_capabilities", "2.6.38.6", {"SECURITY_FILE_CAPABILITIES": "n"}, None),
    ("ip_nf_target_masquerade", "6.1", {"NETFILTER_XT_TARGET_MASQUERADE": "m"}, "NETFILTER_XT_TARGET_MASQUERADE"),
    ("ip_nf_target_masquerade", "6.1", {"NETFILTER_XT_TARGET_MASQUERADE": "n"}, "NETFILTER_XT_TARGET_MASQUERADE"),
    ("ip_nf_target_masquerade", "6.1", {}, "IP_NF_TARGET_MASQUERADE"),
])
def test_chosen_symbol(check_id, version, values, symbol):
    chosen = catalogue.chosen_symbol(by_id(check_id), parse_version(version), values)
    assert (chosen.name if chosen else None) == symbol
