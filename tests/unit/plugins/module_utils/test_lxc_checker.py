# -*- coding: utf-8 -*-
# Copyright: lxchost.prep contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests for _lxc_checker: version gates, verdicts, runtime facts, report and fact.

Configs are real files written to tmp_path; the "running host" is a fake root tree
(runtime_root) with proc/, sys/, lib/modules/ and usr/bin/ laid out like a real one.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import gzip
import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ansible_collections.lxchost.prep.tests.unit.plugins.module_utils.lxc_checkconfig_ids import LXC_CHECKCONFIG_IDS
from ansible_collections.lxchost.prep.plugins.module_utils import _lxc_catalogue as catalogue
from ansible_collections.lxchost.prep.plugins.module_utils._kconfig import (
    KconfigError,
    KernelConfig,
    parse_version,
)
from ansible_collections.lxchost.prep.plugins.module_utils._host_facts import cgroup_facts
from ansible_collections.lxchost.prep.plugins.module_utils._lxc_checker import (
    CGROUP_MODES,
    ENABLED,
    MISSING,
    MODULE,
    NOT_APPLICABLE,
    check_kernel,
    judge,
)

FIXTURES = Path(__file__).resolve().parents[3] / "fixtures" / "configs"
STATUSES = catalogue.STATUSES
CHECK_KEYS = {"id", "label", "group", "level", "symbol", "value", "status", "hint", "reason"}
RESULT_KEYS = {"ready", "profile", "kernel_version", "config_source", "compression", "cgroup_mode", "checks",
               "missing_required", "missing_recommended", "blockers", "runtime", "report", "lxc_kernel"}
FACT_KEYS = {"ready", "profile", "kernel_version", "config_source", "cgroup_mode", "missing_required",
             "missing_recommended", "status", "runtime_status", "blockers"}
ALL_IDS = [req.id for req in catalogue.REQUIREMENTS] + [check.id for check in catalogue.RUNTIME_CHECKS]

# What every LXC host has: a config with these set passes every *required* check from 2.6.24 on.
BASE = {
    "NAMESPACES": "y", "UTS_NS": "y", "IPC_NS": "y", "PID_NS": "y", "NET_NS": "y", "USER_NS": "y",
    "CGROUPS": "y", "UNIX": "y", "SIGNALFD": "y", "EPOLL": "y", "SMP": "y",
}


def write_config(directory, version=None, values=None, style="new", name="config", compress=None):
    """A kernel config file: header for `version` (new or old style, or none) and `values`."""
    lines = ["#", "# Automatically generated file; DO NOT EDIT."]
    if version and style == "new":
        lines.append("# Linux/x86 %s Kernel Configuration" % version)
    elif version and style == "old":
        lines.append("# Linux kernel version: %s" % version)
    lines.append("#")
    for symbol, value in sorted((values or {}).items()):
        if value == "n":
            lines.append("# CONFIG_%s is not set" % symbol)
        elif value is not None:
            lines.append("CONFIG_%s=%s" % (symbol, value))
    data = ("\n".join(lines) + "\n").encode()
    if compress:
        data = compress(data)
    path = Path(directory) / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return str(path)


def run(tmp_path, version, values=None, **kwargs):
    style = "old" if version and parse_version(version) < (2, 6, 37, 0) else "new"
    merged = dict(BASE)
    merged.update(values or {})
    return check_kernel(config=write_config(tmp_path, version, merged, style), **kwargs)


def check_of(result, check_id):
    matches = [c for c in result["checks"] if c["id"] == check_id]
    assert len(matches) == 1, check_id
    return matches[0]


# ---------------------------------------------------------------- version gates

GATES = [
    # (check id, version, extra values, expected status, expected symbol)
    # File capabilities: an option until 2.6.32, always on from 2.6.33 (b3a222e52e4d).
    ("file_capabilities", "2.6.32", {"SECURITY_FILE_CAPABILITIES": "y"}, ENABLED, "CONFIG_SECURITY_FILE_CAPABILITIES"),
    ("file_capabilities", "2.6.32", {"SECURITY_FILE_CAPABILITIES": "n"}, MISSING, "CONFIG_SECURITY_FILE_CAPABILITIES"),
    ("file_capabilities", "2.6.32", {}, MISSING, "CONFIG_SECURITY_FILE_CAPABILITIES"),
    ("file_capabilities", "2.6.33", {}, NOT_APPLICABLE, None),
    ("file_capabilities", "2.6.38.6", {"SECURITY_FILE_CAPABILITIES": "n"}, NOT_APPLICABLE, None),
    # Memory controller renamed in 3.6 (c255a458). A name the file sets exists in that kernel
    # (a vendor's backport or a name kept), whatever the version: the file is the evidence.
    ("cgroup_memory", "3.5", {"CGROUP_MEM_RES_CTLR": "y"}, ENABLED, "CONFIG_CGROUP_MEM_RES_CTLR"),
    ("cgroup_memory", "3.5", {"MEMCG": "y"}, ENABLED, "CONFIG_MEMCG"),
    ("cgroup_memory", "3.5", {}, MISSING, "CONFIG_CGROUP_MEM_RES_CTLR"),
    ("cgroup_memory", "3.6", {"MEMCG": "y"}, ENABLED, "CONFIG_MEMCG"),
    ("cgroup_memory", "3.6", {"CGROUP_MEM_RES_CTLR": "y"}, ENABLED, "CONFIG_CGROUP_MEM_RES_CTLR"),
    ("cgroup_memory", "3.6", {"CGROUP_MEM_RES_CTLR": "n"}, MISSING, "CONFIG_CGROUP_MEM_RES_CTLR"),
    ("cgroup_memory", "3.6", {}, MISSING, "CONFIG_MEMCG"),
    ("cgroup_memory", "2.6.25", {"CGROUP_MEM_RES_CTLR": "y"}, ENABLED, "CONFIG_CGROUP_MEM_RES_CTLR"),
    # IPv4 NAT: NF_NAT before 3.7, NF_NAT_IPV4 from 3.7 to 5.0, NF_NAT again from 5.1 (3bf195ae6037).
    ("nf_nat_ipv4", "3.6", {"NF_NAT": "m"}, MODULE, "CONFIG_NF_NAT"),
    ("nf_nat_ipv4", "3.7", {"NF_NAT": "m"}, MISSING, "CONFIG_NF_NAT_IPV4"),
    ("nf_nat_ipv4", "3.7", {"NF_NAT_IPV4": "y"}, ENABLED, "CONFIG_NF_NAT_IPV4"),
    ("nf_nat_ipv4", "5.0", {"NF_NAT_IPV4": "m", "NF_NAT": "m"}, MODULE, "CONFIG_NF_NAT_IPV4"),
    ("nf_nat_ipv4", "5.1", {"NF_NAT": "m"}, MODULE, "CONFIG_NF_NAT"),
    ("nf_nat_ipv4", "5.1", {"NF_NAT_IPV4": "y"}, ENABLED, "CONFIG_NF_NAT_IPV4"),  # the file says it exists
    ("nf_nat_ipv4", "5.1", {"NF_NAT_IPV4": "n"}, MISSING, "CONFIG_NF_NAT_IPV4"),
    ("nf_nat_ipv6", "3.6", {"NF_NAT": "y"}, NOT_APPLICABLE, None),
    ("nf_nat_ipv6", "3.7", {"NF_NAT_IPV6": "m"}, MODULE, "CONFIG_NF_NAT_IPV6"),
    ("nf_nat_ipv6", "5.0", {"NF_NAT_IPV6": "n", "NF_NAT": "y"}, MISSING, "CONFIG_NF_NAT_IPV6"),
    ("nf_nat_ipv6", "5.1", {"NF_NAT": "y"}, ENABLED, "CONFIG_NF_NAT"),
    # devpts instances: an option until 4.6, always on from 4.7 (eedf265aa003).
    ("devpts_multiple_instances", "4.6", {"DEVPTS_MULTIPLE_INSTANCES": "y"}, ENABLED, "CONFIG_DEVPTS_MULTIPLE_INSTANCES"),
    ("devpts_multiple_instances", "4.6", {}, MISSING, "CONFIG_DEVPTS_MULTIPLE_INSTANCES"),
    ("devpts_multiple_instances", "4.7", {}, NOT_APPLICABLE, None),
    ("devpts_multiple_instances", "4.9", {"DEVPTS_MULTIPLE_INSTANCES": "n"}, NOT_APPLICABLE, None),
    # MEMCG_V1 from 6.11 (e93d4166b40a), cgroup v1 only.
    ("cgroup_memory_v1", "6.10", {"MEMCG": "y"}, NOT_APPLICABLE, None),
    ("cgroup_memory_v1", "6.11", {"MEMCG": "y"}, MISSING, "CONFIG_MEMCG_V1"),
    ("cgroup_memory_v1", "6.11", {"MEMCG": "y", "MEMCG_V1": "y"}, ENABLED, "CONFIG_MEMCG_V1"),
    # CPUSETS_V1 from 6.12, and only with SMP.
    ("cgroup_cpuset_v1", "6.11", {"CPUSETS": "y"}, NOT_APPLICABLE, None),
    ("cgroup_cpuset_v1", "6.12", {"CPUSETS": "y"}, MISSING, "CONFIG_CPUSETS_V1"),
    ("cgroup_cpuset_v1", "6.12", {"CPUSETS": "y", "CPUSETS_V1": "y"}, ENABLED, "CONFIG_CPUSETS_V1"),
    ("cgroup_cpuset_v1", "6.12", {"SMP": "n"}, NOT_APPLICABLE, None),
    ("cgroup_cpuset", "6.1", {"SMP": "n"}, NOT_APPLICABLE, None),
    ("cgroup_cpuset", "6.1", {"CPUSETS": "y"}, ENABLED, "CONFIG_CPUSETS"),
    # Legacy xtables split in 6.17 (9fce66583f06).
    ("netfilter_xtables_legacy", "6.16", {}, NOT_APPLICABLE, None),
    ("netfilter_xtables_legacy", "6.17", {}, MISSING, "CONFIG_NETFILTER_XTABLES_LEGACY"),
    ("netfilter_xtables_legacy", "6.17", {"NETFILTER_XTABLES_LEGACY": "m"}, MODULE, "CONFIG_NETFILTER_XTABLES_LEGACY"),
    # ns_cgroup until 2.6.39, gone in 3.0 (a77aea92010a), cgroup namespaces part of cgroups from 4.6.
    ("cgroup_namespace", "2.6.39", {"CGROUP_NS": "y"}, ENABLED, "CONFIG_CGROUP_NS"),
    ("cgroup_namespace", "2.6.39", {}, MISSING, "CONFIG_CGROUP_NS"),
    ("cgroup_namespace", "3.0", {"CGROUP_NS": "y"}, ENABLED, "CONFIG_CGROUP_NS"),  # kept by its vendor
    ("cgroup_namespace", "3.0", {}, NOT_APPLICABLE, None),
    ("cgroup_namespace", "4.5", {}, NOT_APPLICABLE, None),
    ("cgroup_namespace", "4.6", {}, ENABLED, "CONFIG_CGROUPS"),
    # MASQUERADE: from 5.2 IP_NF_TARGET_MASQUERADE only selects NETFILTER_XT_TARGET_MASQUERADE; either passes.
    ("ip_nf_target_masquerade", "5.1", {"NETFILTER_XT_TARGET_MASQUERADE": "y"}, ENABLED,
     "CONFIG_NETFILTER_XT_TARGET_MASQUERADE"),  # backported: the file says it exists
    ("ip_nf_target_masquerade", "5.1", {}, MISSING, "CONFIG_IP_NF_TARGET_MASQUERADE"),
    ("ip_nf_target_masquerade", "5.2", {"NETFILTER_XT_TARGET_MASQUERADE": "m"}, MODULE,
     "CONFIG_NETFILTER_XT_TARGET_MASQUERADE"),
    ("ip_nf_target_masquerade", "6.1", {"IP_NF_TARGET_MASQUERADE": "y", "NETFILTER_XT_TARGET_MASQUERADE": "m"}, ENABLED,
     "CONFIG_IP_NF_TARGET_MASQUERADE"),
    ("ip_nf_target_masquerade", "6.1", {"IP_NF_TARGET_MASQUERADE": "m", "NETFILTER_XT_TARGET_MASQUERADE": "y"}, ENABLED,
     "CONFIG_NETFILTER_XT_TARGET_MASQUERADE"),
    ("ip_nf_target_masquerade", "6.1", {}, MISSING, "CONFIG_IP_NF_TARGET_MASQUERADE"),
    # Backports: the file has an option mainline added later (CentOS 5's EVENTFD, RHEL 6's CHECKSUM).
    ("eventfd", "2.6.18", {"EVENTFD": "y"}, ENABLED, "CONFIG_EVENTFD"),
    ("eventfd", "2.6.18", {}, NOT_APPLICABLE, None),
    ("netfilter_xt_target_checksum", "2.6.32", {"NETFILTER_XT_TARGET_CHECKSUM": "m"}, MODULE,
     "CONFIG_NETFILTER_XT_TARGET_CHECKSUM"),
    ("netfilter_xt_target_checksum", "2.6.32", {"NETFILTER_XT_TARGET_CHECKSUM": "n"}, MISSING,
     "CONFIG_NETFILTER_XT_TARGET_CHECKSUM"),
    ("netfilter_xt_target_checksum", "2.6.32", {}, NOT_APPLICABLE, None),
    # A range that says what an option means is never overruled by the file (CGROUPS before 4.6).
    ("cgroup_namespace", "4.5", {"CGROUPS": "y"}, NOT_APPLICABLE, None),
    ("nft_nat", "4.19", {"NFT_NAT": "m"}, MISSING, "CONFIG_NFT_CHAIN_NAT_IPV4"),
    # Others with a first version.
    ("checkpoint_restore", "3.2", {}, NOT_APPLICABLE, None),
    ("checkpoint_restore", "3.3", {"CHECKPOINT_RESTORE": "y"}, ENABLED, "CONFIG_CHECKPOINT_RESTORE"),
    ("cgroup_bpf", "4.9", {}, NOT_APPLICABLE, None),
    ("cgroup_bpf", "4.10", {}, MISSING, "CONFIG_CGROUP_BPF"),
    ("time_namespace", "5.5", {}, NOT_APPLICABLE, None),
    ("time_namespace", "5.6", {"TIME_NS": "y"}, ENABLED, "CONFIG_TIME_NS"),
]


@pytest.mark.parametrize("check_id, version, values, status, symbol", GATES,
                         ids=["%s-%s-%s" % (g[0], g[1], g[3]) for g in GATES])
def test_version_gate(tmp_path, check_id, version, values, status, symbol):
    result = run(tmp_path, version, values, cgroup_mode="both")
    check = check_of(result, check_id)
    assert (check["status"], check["symbol"]) == (status, symbol), check
    assert result["kernel_version"] == ".".join(version.split(".") + ["0"] * (3 - len(version.split("."))))
    if status == NOT_APPLICABLE:
        assert check["reason"] and check["value"] is None
    if status == MISSING:
        assert check["hint"] and check["symbol"] in check["hint"]
        assert check_id in result["missing_required"] + result["missing_recommended"] + result["missing_optional"]
    else:
        assert check_id not in result["missing_required"] + result["missing_recommended"]


def test_builtin_reason_names_the_version(tmp_path):
    check = check_of(run(tmp_path, "2.6.38.6"), "file_capabilities")
    assert check["reason"] == "Always built in since 2.6.33: there is no option to set."
    check = check_of(run(tmp_path, "4.9"), "devpts_multiple_instances")
    assert "4.7" in check["reason"]


def test_removed_reason_names_the_version(tmp_path):
    check = check_of(run(tmp_path, "3.2"), "cgroup_namespace")
    assert check["reason"] == "The option was removed in kernel 3.0."


def test_gate_uses_the_config_version_not_the_host(tmp_path):
    """A 4.4 config judged on a host running 6.x: its own (4.4) gates apply."""
    result = run(tmp_path, "4.4", {"DEVPTS_MULTIPLE_INSTANCES": "y", "NF_NAT_IPV4": "y", "MEMCG": "y"})
    assert result["kernel_version"] == "4.4.0"
    assert check_of(result, "devpts_multiple_instances")["status"] == ENABLED
    assert check_of(result, "nf_nat_ipv4")["symbol"] == "CONFIG_NF_NAT_IPV4"
    assert check_of(result, "cgroup_memory_v1")["status"] == NOT_APPLICABLE


def test_old_header_style_is_used_for_the_gates(tmp_path):
    path = write_config(tmp_path, "2.6.32", dict(BASE, SECURITY_FILE_CAPABILITIES="y"), style="old")
    result = check_kernel(config=path)
    assert result["kernel_version"] == "2.6.32"
    assert check_of(result, "file_capabilities")["status"] == ENABLED


def test_four_part_version(tmp_path):
    result = run(tmp_path, "2.6.38.6", {"CGROUP_MEM_RES_CTLR": "y", "CGROUP_NS": "y"})
    assert result["kernel_version"] == "2.6.38.6"
    assert check_of(result, "cgroup_memory")["status"] == ENABLED
    assert check_of(result, "cgroup_namespace")["status"] == ENABLED


def test_two_digit_major(tmp_path):
    result = run(tmp_path, "10.1.0", {"MEMCG": "y", "MEMCG_V1": "y", "NF_NAT": "y"})
    assert result["kernel_version"] == "10.1.0"
    assert check_of(result, "cgroup_memory")["symbol"] == "CONFIG_MEMCG"
    assert check_of(result, "nf_nat_ipv4")["status"] == ENABLED


# ---------------------------------------------------------------- predating features

def test_required_feature_predating_kernel_is_missing(tmp_path):
    result = run(tmp_path, "2.6.23", {"PID_NS": None, "NET_NS": None, "CGROUPS": None})
    for check_id, first in (("pid_namespace", "2.6.24"), ("network_namespace", "2.6.24"), ("cgroups", "2.6.24")):
        check = check_of(result, check_id)
        assert check["status"] == MISSING, check
        assert check["symbol"] is None
        assert check["hint"] == "This kernel predates the feature: LXC needs kernel %s or later." % first
        assert check_id in result["missing_required"]
    assert result["ready"] is False
    assert "Result: NOT ready for LXC (privileged containers); not met (required): " in result["report"]


def test_optional_feature_predating_kernel_is_not_applicable(tmp_path):
    result = run(tmp_path, "2.6.23")
    for check_id in ("devpts_multiple_instances", "file_capabilities", "checkpoint_restore",
                     "netlink_diag", "time_namespace"):
        check = check_of(result, check_id)
        assert check["status"] == NOT_APPLICABLE, check
        assert check["reason"].startswith("Does not exist before kernel "), check


# ---------------------------------------------------------------- values

def test_module_value(tmp_path):
    result = run(tmp_path, "6.1", {"VETH": "m", "VLAN_8021Q": "m", "BRIDGE": "y"})
    veth = check_of(result, "veth")
    assert (veth["status"], veth["value"], veth["symbol"]) == (MODULE, "m", "CONFIG_VETH")
    assert "veth" in veth["hint"] and "modprobe" in veth["hint"]
    assert "8021q" in check_of(result, "vlan")["hint"]
    bridge = check_of(result, "bridge")
    assert (bridge["status"], bridge["value"], bridge["hint"]) == (ENABLED, "y", None)
    assert "veth" not in result["missing_recommended"]


def test_not_set_and_absent_values(tmp_path):
    result = run(tmp_path, "6.1", {"VETH": "n"})
    assert check_of(result, "veth")["value"] == "n"
    assert check_of(result, "macvlan")["value"] is None  # never mentioned
    assert check_of(result, "veth")["status"] == check_of(result, "macvlan")["status"] == MISSING


def test_required_module_still_ready(tmp_path):
    result = run(tmp_path, "6.1", {"UNIX": "m"})
    assert check_of(result, "unix_sockets")["status"] == MODULE
    assert result["ready"] is True


def test_missing_required(tmp_path):
    result = run(tmp_path, "6.1", {"NAMESPACES": "n", "IPC_NS": None})
    assert result["ready"] is False
    assert result["missing_required"] == ["namespaces", "ipc_namespace"]
    assert result["report"].splitlines()[-1] == ("Result: NOT ready for LXC (privileged containers); not met "
                                                 "(required): namespaces, ipc_namespace")
    assert [b["id"] for b in result["blockers"]] == ["namespaces", "ipc_namespace"]
    assert result["blockers"][0]["status"] == MISSING and result["blockers"][0]["hint"].startswith("Set CONFIG_")


# ---------------------------------------------------------------- cgroup mode for a file

@pytest.mark.parametrize("mode, judged, v1_status, v2_status", [
    ("auto", "v1 and v2", MISSING, MISSING),
    ("both", "v1 and v2", MISSING, MISSING),
    ("v1", "v1", MISSING, NOT_APPLICABLE),
    ("v2", "v2", NOT_APPLICABLE, MISSING),
])
def test_cgroup_mode_for_a_file(tmp_path, mode, judged, v1_status, v2_status):
    result = run(tmp_path, "6.12", cgroup_mode=mode)
    assert result["cgroup_mode"] == judged
    assert result["runtime"] is None
    for check_id in ("cgroup_device", "cgroup_cpuacct", "cgroup_freezer", "cgroup_memory_v1", "cgroup_cpuset_v1"):
        assert check_of(result, check_id)["status"] == v1_status, check_id
    assert check_of(result, "cgroup_bpf")["status"] == v2_status
    if v1_status == NOT_APPLICABLE:
        assert "Only used with cgroup v1" in check_of(result, "cgroup_device")["reason"]
    if mode == "auto":
        assert "a config file" in result["cgroup_mode_reason"]


def test_bad_cgroup_mode(tmp_path):
    with pytest.raises(KconfigError) as info:
        run(tmp_path, "6.1", cgroup_mode="v3")
    assert "cgroup_mode" in str(info.value) and "v3" in str(info.value)
    assert set(CGROUP_MODES) == {"auto", "v1", "v2", "both"}


# ---------------------------------------------------------------- kernel_version option

def test_kernel_version_override_warns_on_mismatch(tmp_path):
    path = write_config(tmp_path, "6.1.0", dict(BASE, DEVPTS_MULTIPLE_INSTANCES="y"))
    result = check_kernel(config=path, kernel_version="4.4")
    assert result["kernel_version"] == "4.4.0"
    assert check_of(result, "devpts_multiple_instances")["status"] == ENABLED  # 4.4's gates
    assert result["warnings"] == ["kernel_version 4.4 differs from the version 6.1.0 in the header of %s; "
                                  "using 4.4." % path]


@pytest.mark.parametrize("given_version", ["6.1", "6.1.0", "6.1.0-18-amd64"])
def test_kernel_version_matching_header_no_warning(tmp_path, given_version):
    path = write_config(tmp_path, "6.1.0", BASE)
    result = check_kernel(config=path, kernel_version=given_version)
    assert result["warnings"] == []
    assert result["kernel_version"] == "6.1.0"


def test_kernel_version_for_headerless_fragment(tmp_path):
    path = write_config(tmp_path, None, dict(BASE, SECURITY_FILE_CAPABILITIES="y", CGROUP_MEM_RES_CTLR="y"))
    result = check_kernel(config=path, kernel_version="2.6.32")
    assert result["warnings"] == []
    assert result["kernel_version"] == "2.6.32"
    assert check_of(result, "file_capabilities")["status"] == ENABLED
    assert check_of(result, "cgroup_memory")["status"] == ENABLED


def test_headerless_without_kernel_version_says_how(tmp_path):
    path = write_config(tmp_path, None, BASE)
    with pytest.raises(KconfigError) as info:
        check_kernel(config=path)
    message = str(info.value)
    assert path in message and "kernel_version" in message and "Traceback" not in message


@pytest.mark.parametrize("bad", ["junk", "v6", "six"])
def test_bad_kernel_version(tmp_path, bad):
    path = write_config(tmp_path, "6.1.0", BASE)
    with pytest.raises(KconfigError) as info:
        check_kernel(config=path, kernel_version=bad)
    assert repr(bad) in str(info.value) and "2.6.38.6" in str(info.value)


# ---------------------------------------------------------------- result shape

def test_result_shape(tmp_path):
    path = write_config(tmp_path, "6.1.0", dict(BASE, VETH="m"), compress=gzip.compress, name="config.txt")
    result = check_kernel(config=path)
    assert RESULT_KEYS <= set(result)
    assert result["config_source"] == path
    assert result["compression"] == "gzip"
    assert result["runtime"] is None
    assert [c["id"] for c in result["checks"]] == ALL_IDS
    for check in result["checks"]:
        assert set(check) == CHECK_KEYS, check
        assert check["status"] in STATUSES
        assert check["value"] in ("y", "m", "n", None)
        assert check["level"] in catalogue.LEVELS
        assert check["symbol"] is None or check["symbol"].startswith("CONFIG_")
        if check["status"] in (MISSING, MODULE):
            assert check["hint"], check
        if check["status"] == NOT_APPLICABLE:
            assert check["reason"], check
        if check["status"] == ENABLED:
            assert check["hint"] is None
    for key, level in (("missing_required", "required"), ("missing_recommended", "recommended"),
                       ("missing_optional", "optional")):
        assert result[key] == [c["id"] for c in result["checks"]
                               if c["level"] == level and c["status"] in (MISSING, catalogue.DISABLED)]


def test_fact_shape(tmp_path):
    result = run(tmp_path, "6.1", {"VETH": "m"})
    fact = result["lxc_kernel"]
    assert set(fact) == FACT_KEYS
    for key in FACT_KEYS - {"status", "runtime_status", "blockers"}:
        assert fact[key] == result[key]
    assert fact["status"] == dict((c["id"], c["status"]) for c in result["checks"] if c["group"] != "host")
    assert sorted(fact["status"]) == sorted(req.id for req in catalogue.REQUIREMENTS)
    assert fact["runtime_status"] == dict((c.id, NOT_APPLICABLE) for c in catalogue.RUNTIME_CHECKS)
    assert fact["blockers"] == [b["id"] for b in result["blockers"]] == []
    assert fact["status"]["veth"] == MODULE


def test_result_is_json_serialisable(tmp_path):
    import json
    json.dumps(run(tmp_path, "6.1"))


# ---------------------------------------------------------------- report

def test_report_sections_and_lines(tmp_path):
    result = run(tmp_path, "4.4", {"VETH": "m", "DEVPTS_MULTIPLE_INSTANCES": "y"})
    lines = result["report"].splitlines()
    assert lines[0] == "Kernel configuration: %s" % result["config_source"]
    assert lines[1] == "Kernel version: 4.4.0"
    assert lines[2] == "Profile: privileged containers"
    assert lines[3].startswith("Cgroup checks for: v1 and v2")
    titles = [line for line in lines if line.startswith("--- ")]
    assert titles == ["--- %s ---" % title for _group, title in catalogue.GROUPS] + ["--- What to do ---"]
    for check in result["checks"]:
        if check["group"] != "host":
            assert sum(1 for line in lines if line.startswith(check["label"] + ": ")) >= 1, check["label"]
    # The running host is not judged for a file: one line says so instead of each runtime check.
    host = lines.index("--- Running host ---")
    assert lines[host + 1].startswith("Not judged: Judged only for the running kernel")
    assert "Veth pair device: enabled (module)" in lines
    assert "Multiple /dev/pts instances: enabled" in lines
    assert "Namespaces: enabled" in lines
    assert any(line.startswith("Cgroup memory controller: missing") for line in lines)
    assert "\x1b[" not in result["report"]  # no colour codes in logs
    assert "cgroup_memory: Set CONFIG_MEMCG=y" in "\n".join(lines[lines.index("--- What to do ---"):])
    assert lines[-1].startswith("Result: ready for LXC (privileged containers); not met (recommended): ")


def test_report_required_and_not_applicable_wording(tmp_path):
    result = run(tmp_path, "6.1", {"PID_NS": "n"})
    lines = result["report"].splitlines()
    assert "Pid namespace: required" in lines
    assert any(line.startswith("File capabilities: not applicable (Always built in since 2.6.33") for line in lines)
    assert lines[-1] == "Result: NOT ready for LXC (privileged containers); not met (required): pid_namespace"


def test_report_all_good(tmp_path):
    everything = dict((sym.name, "y") for req in catalogue.REQUIREMENTS for sym in req.symbols)
    result = run(tmp_path, "6.17", everything)
    assert result["missing_required"] == result["missing_recommended"] == []
    assert result["report"].splitlines()[-1] == "Result: ready for LXC (privileged containers)"
    assert "--- What to do ---" not in result["report"]


def test_report_names_compression(tmp_path):
    path = write_config(tmp_path, "6.1.0", BASE, compress=gzip.compress)
    assert check_kernel(config=path)["report"].splitlines()[0] == "Kernel configuration: %s (gzip)" % path


# ---------------------------------------------------------------- running kernel: a fake root

RELEASE = "6.1.0-18-amd64"
# lxc-checkconfig 5.0.2's checks (issue #2's id list).

MOUNTS = {
    "v1": [
        "tmpfs /sys/fs/cgroup tmpfs ro,nosuid,nodev,noexec,mode=755 0 0",
        "cgroup /sys/fs/cgroup/systemd cgroup rw,nosuid,nodev,noexec,relatime,xattr,"
        "release_agent=/lib/systemd/systemd-cgroups-agent,name=systemd 0 0",
        "cgroup /sys/fs/cgroup/cpu,cpuacct cgroup rw,nosuid,nodev,noexec,relatime,cpu,cpuacct 0 0",
        "cgroup /sys/fs/cgroup/memory cgroup rw,nosuid,nodev,noexec,relatime,memory 0 0",
        "cgroup /sys/fs/cgroup/freezer cgroup rw,nosuid,nodev,noexec,relatime,freezer 0 0",
    ],
    "hybrid": [
        "tmpfs /sys/fs/cgroup tmpfs ro,nosuid,nodev,noexec,mode=755 0 0",
        "cgroup2 /sys/fs/cgroup/unified cgroup2 rw,nosuid,nodev,noexec,relatime,nsdelegate 0 0",
        "cgroup /sys/fs/cgroup/systemd cgroup rw,nosuid,nodev,noexec,relatime,xattr,name=systemd 0 0",
        "cgroup /sys/fs/cgroup/cpu,cpuacct cgroup rw,nosuid,nodev,noexec,relatime,cpu,cpuacct 0 0",
        "cgroup /sys/fs/cgroup/devices cgroup rw,nosuid,nodev,noexec,relatime,devices 0 0",
    ],
    "v2": [
        "cgroup2 /sys/fs/cgroup cgroup2 rw,nosuid,nodev,noexec,relatime,nsdelegate,memory_recursiveprot 0 0",
    ],
    "none": [],
}
PROC_CGROUPS = """#subsys_name\thierarchy\tnum_cgroups\tenabled
cpuset\t0\t1\t1
cpu\t3\t40\t1
cpuacct\t3\t40\t1
memory\t4\t70\t1
devices\t5\t40\t0
freezer\t6\t1\t1
"""


def fake_root(tmp_path, mode="v2", config_values=None, config_place="boot", release=RELEASE,
              modules_dep=True, loaded=("veth",), cgroup_ns=True, helpers="setuid"):
    root = tmp_path / "root"
    root.mkdir(parents=True)
    values = dict(BASE)
    values.update(config_values or {})
    if config_place == "proc":
        write_config(root / "proc", "6.1.0", values, name="config.gz", compress=gzip.compress)
    elif config_place == "boot":
        write_config(root / "boot", "6.1.0", values, name="config-" + release)
    (root / "proc" / "self" / "ns").mkdir(parents=True)
    (root / "proc" / "self" / "mounts").write_text(
        "\n".join(["proc /proc proc rw,nosuid,nodev,noexec,relatime 0 0"] + MOUNTS[mode]) + "\n")
    (root / "proc" / "cgroups").write_text(PROC_CGROUPS)
    (root / "proc" / "modules").write_text(
        "".join("%s 36864 0 - Live 0xffffffffc0a00000\n" % name for name in loaded))
    if cgroup_ns:
        (root / "proc" / "self" / "ns" / "cgroup").write_text("")
    if mode == "v2":
        controllers = root / "sys" / "fs" / "cgroup" / "cgroup.controllers"
        controllers.parent.mkdir(parents=True)
        controllers.write_text("cpuset cpu io memory hugetlb pids rdma misc\n")
    if mode == "hybrid":
        controllers = root / "sys" / "fs" / "cgroup" / "unified" / "cgroup.controllers"
        controllers.parent.mkdir(parents=True)
        controllers.write_text("\n")
    if modules_dep:
        dep = root / "lib" / "modules" / release / "modules.dep"
        dep.parent.mkdir(parents=True)
        dep.write_text("kernel/drivers/net/veth.ko.xz:\n"
                       "kernel/net/8021q/8021q.ko.xz: kernel/net/802/garp.ko.xz\n"
                       "kernel/net/netfilter/nf_nat.ko.xz: kernel/net/netfilter/nf_conntrack.ko.xz\n"
                       "kernel/net/netfilter/xt_CHECKSUM.ko.xz: kernel/net/netfilter/x_tables.ko.xz\n")
    if helpers:
        bindir = root / "usr" / "bin"
        bindir.mkdir(parents=True)
        for name in ("newuidmap", "newgidmap"):
            path = bindir / name
            path.write_bytes(b"#!/bin/sh\n")
            path.chmod(0o4755 if helpers == "setuid" else 0o755)
    return str(root)


@pytest.mark.parametrize("mode, judged", [("v1", "v1"), ("hybrid", "v1"), ("v2", "v2"), ("none", "v1 and v2")])
def test_running_cgroup_mode_auto(tmp_path, mode, judged):
    root = fake_root(tmp_path, mode)
    result = check_kernel(runtime_root=root, release=RELEASE)
    assert result["runtime"]["cgroup"]["mode"] == mode
    assert result["cgroup_mode"] == judged
    assert check_of(result, "cgroup_bpf")["status"] == (NOT_APPLICABLE if judged == "v1" else MISSING)
    assert check_of(result, "cgroup_device")["status"] == (NOT_APPLICABLE if judged == "v2" else MISSING)
    assert ("host runs cgroup %s" % mode in result["cgroup_mode_reason"]) or mode == "none"


@pytest.mark.parametrize("asked, judged", [("v1", "v1"), ("v2", "v2"), ("both", "v1 and v2")])
def test_running_cgroup_mode_asked_beats_host(tmp_path, asked, judged):
    root = fake_root(tmp_path, "v2")
    result = check_kernel(runtime_root=root, release=RELEASE, cgroup_mode=asked)
    assert result["cgroup_mode"] == judged
    assert result["runtime"]["cgroup"]["mode"] == "v2"  # the fact is still reported


def test_runtime_facts_v1(tmp_path):
    root = fake_root(tmp_path, "v1")
    cgroup = check_kernel(runtime_root=root, release=RELEASE)["runtime"]["cgroup"]
    assert cgroup["v1_mounts"] == [
        {"path": "/sys/fs/cgroup/systemd", "controllers": ["name=systemd"]},
        {"path": "/sys/fs/cgroup/cpu,cpuacct", "controllers": ["cpu", "cpuacct"]},
        {"path": "/sys/fs/cgroup/memory", "controllers": ["memory"]},
        {"path": "/sys/fs/cgroup/freezer", "controllers": ["freezer"]},
    ]
    assert cgroup["v2_mounts"] == []
    assert cgroup["v1_bound_controllers"] == ["cpu", "cpuacct", "freezer", "memory"]
    assert cgroup["v1_available_controllers"] == ["cpuset", "cpu", "cpuacct", "memory", "freezer"]  # devices: 0
    assert cgroup["v2_controllers"] == []


def test_runtime_facts_hybrid(tmp_path):
    cgroup = cgroup_facts(fake_root(tmp_path, "hybrid"))
    assert cgroup["mode"] == "hybrid"
    assert cgroup["v2_mounts"] == ["/sys/fs/cgroup/unified"]
    assert cgroup["v1_bound_controllers"] == ["cpu", "cpuacct", "devices"]
    assert cgroup["v2_controllers"] == []


def test_runtime_facts_v2(tmp_path):
    cgroup = cgroup_facts(fake_root(tmp_path, "v2"))
    assert cgroup["mode"] == "v2"
    assert cgroup["v1_mounts"] == [] and cgroup["v1_bound_controllers"] == []
    assert cgroup["v2_mounts"] == ["/sys/fs/cgroup"]
    assert cgroup["v2_controllers"] == ["cpuset", "cpu", "io", "memory", "hugetlb", "pids", "rdma", "misc"]


def test_runtime_facts_none(tmp_path):
    cgroup = cgroup_facts(fake_root(tmp_path, "none"))
    assert cgroup == dict(mode="none", v1_mounts=[], v2_mounts=[], v1_bound_controllers=[],
                          v1_available_controllers=["cpuset", "cpu", "cpuacct", "memory", "freezer"],
                          v2_controllers=[])


def test_runtime_facts_without_proc(tmp_path):
    """A root without proc/ at all (a chroot): facts say so, nothing raises."""
    cgroup = cgroup_facts(str(tmp_path))
    assert cgroup["mode"] == "none" and cgroup["v1_available_controllers"] == []


def test_mount_path_with_space(tmp_path):
    root = tmp_path / "r"
    (root / "proc" / "self").mkdir(parents=True)
    (root / "proc" / "self" / "mounts").write_text(
        "cgroup2 /mnt/my\\040cgroup cgroup2 rw,relatime 0 0\n")
    assert cgroup_facts(str(root))["v2_mounts"] == ["/mnt/my cgroup"]


def test_seclabel_is_not_a_controller(tmp_path):
    root = tmp_path / "r"
    (root / "proc" / "self").mkdir(parents=True)
    (root / "proc" / "self" / "mounts").write_text(
        "cgroup /sys/fs/cgroup/cpu,cpuacct cgroup rw,seclabel,nosuid,nodev,noexec,relatime,cpu,cpuacct 0 0\n")
    assert cgroup_facts(str(root))["v1_bound_controllers"] == ["cpu", "cpuacct"]


def test_named_v1_hierarchy_on_a_v2_host_is_not_v1(tmp_path):
    root = tmp_path / "r"
    (root / "proc" / "self").mkdir(parents=True)
    (root / "proc" / "self" / "mounts").write_text(
        "cgroup2 /sys/fs/cgroup cgroup2 rw,nosuid,nodev,noexec,relatime 0 0\n"
        "cgroup /sys/fs/cgroup/systemd cgroup rw,nosuid,nodev,noexec,relatime,xattr,name=systemd 0 0\n")
    assert cgroup_facts(str(root))["mode"] in ("v2", "hybrid")


def test_runtime_other_facts(tmp_path):
    root = fake_root(tmp_path, "v2")
    runtime = check_kernel(runtime_root=root, release=RELEASE)["runtime"]
    assert runtime["kernel_release"] == RELEASE
    assert runtime["cgroup_namespace"] is True
    # setuid means setuid root: the tests run as root, so the file is root's.
    assert runtime["userns_helpers"]["newuidmap"] == {"path": "/usr/bin/newuidmap", "setuid": os.geteuid() == 0,
                                                      "file_capabilities": False}
    assert runtime["userns_helpers"]["newgidmap"]["setuid"] is (os.geteuid() == 0)


def test_runtime_helpers_absent_or_not_setuid(tmp_path):
    runtime = check_kernel(runtime_root=fake_root(tmp_path, "v2", helpers=None, cgroup_ns=False),
                           release=RELEASE)["runtime"]
    assert runtime["userns_helpers"] == {"newuidmap": None, "newgidmap": None}
    assert runtime["cgroup_namespace"] is False
    report = check_kernel(runtime_root=fake_root(tmp_path / "b", "v2", helpers="plain"), release=RELEASE,
                          profile="unprivileged", user="lxcuser")["report"]
    assert ("newuidmap (setuid root): required (/usr/bin/newuidmap is neither setuid root nor given file "
            "capabilities.") in report


def test_runtime_modules(tmp_path):
    root = fake_root(tmp_path, "v2", {"VETH": "m", "VLAN_8021Q": "m", "BRIDGE": "m", "MACVLAN": "y",
                                      "NF_NAT": "m"}, loaded=("veth", "nf_nat"))
    result = check_kernel(runtime_root=root, release=RELEASE)
    modules = result["runtime"]["modules"]
    assert modules["veth"] == {"modules": ["veth"], "available": True, "loaded": True}
    assert modules["vlan"] == {"modules": ["8021q"], "available": True, "loaded": False}
    assert modules["bridge"] == {"modules": ["bridge"], "available": False, "loaded": False}
    assert modules["nf_nat_ipv4"]["available"] is True and modules["nf_nat_ipv4"]["loaded"] is True
    assert "macvlan" not in modules  # built in: no module to look for
    lines = result["report"].splitlines()
    assert "Module for veth: loaded" in lines
    assert "Module for vlan: not loaded" in lines
    assert "Module for bridge: module file missing" in lines
    # The verdicts themselves do not change with runtime facts.
    assert check_of(result, "bridge")["status"] == MODULE


def test_runtime_modules_without_modules_dep(tmp_path):
    root = fake_root(tmp_path, "v2", {"VETH": "m"}, modules_dep=False, loaded=())
    result = check_kernel(runtime_root=root, release=RELEASE)
    assert result["runtime"]["modules"]["veth"] == {"modules": ["veth"], "available": None, "loaded": False}
    assert "Module for veth: unknown (no modules.dep)" in result["report"].splitlines()


def test_running_config_source_and_proc_config_gz(tmp_path):
    root = fake_root(tmp_path, "v2", config_place="proc")
    result = check_kernel(runtime_root=root, release=RELEASE)
    assert result["config_source"] == os.path.join(root, "proc/config.gz")
    assert result["compression"] == "gzip"
    root2 = fake_root(tmp_path / "b", "v2", config_place="boot")
    assert check_kernel(runtime_root=root2, release=RELEASE)["config_source"] == \
        os.path.join(root2, "boot", "config-" + RELEASE)


def test_running_kernel_version_comes_from_release(tmp_path):
    # The config's header says 6.1.0; the running kernel's release is what counts.
    root = fake_root(tmp_path, "v2", config_place="boot", release="6.12.9-custom")
    result = check_kernel(runtime_root=root, release="6.12.9-custom")
    assert result["kernel_version"] == "6.12.9"
    assert check_of(result, "cgroup_cpuset_v1")["status"] == NOT_APPLICABLE  # v2 host
    assert result["runtime"]["kernel_release"] == "6.12.9-custom"


def test_running_kernel_version_override(tmp_path):
    root = fake_root(tmp_path, "v1")
    result = check_kernel(runtime_root=root, release=RELEASE, kernel_version="4.4")
    assert result["kernel_version"] == "4.4.0"
    assert len(result["warnings"]) == 1 and "4.4" in result["warnings"][0]


def test_running_unparsable_release(tmp_path):
    root = fake_root(tmp_path, "v2", release="weird")
    with pytest.raises(KconfigError) as info:
        check_kernel(runtime_root=root, release="weird")
    assert "'weird'" in str(info.value) and "kernel_version" in str(info.value)


def test_running_nothing_found(tmp_path):
    root = fake_root(tmp_path, "v2", config_place=None)
    with pytest.raises(KconfigError) as info:
        check_kernel(runtime_root=root, release=RELEASE)
    message = str(info.value)
    assert "No config found for the running kernel %s" % RELEASE in message
    assert "'config' option" in message


def test_running_report_section(tmp_path):
    root = fake_root(tmp_path, "hybrid", helpers=None)
    lines = check_kernel(runtime_root=root, release=RELEASE)["report"].splitlines()
    assert "--- Running host ---" in lines
    assert "Cgroup mode: hybrid" in lines
    assert "Cgroup v2 mount points: /sys/fs/cgroup/unified" in lines
    assert "Cgroup v1 mount points: /sys/fs/cgroup/systemd, /sys/fs/cgroup/cpu,cpuacct, /sys/fs/cgroup/devices" in lines
    assert "Cgroup namespace: yes" in lines
    assert any(line.startswith("Not judged for privileged containers: ") and "newuidmap" in line for line in lines)
    assert lines.index("--- Running host ---") < len(lines) - 2
    assert lines[-1].startswith("Result: ")


def test_file_never_gets_runtime_facts(tmp_path):
    """A config file is judged alone, even when a host tree (runtime_root) is right there."""
    root = fake_root(tmp_path, "v2", {"VETH": "m"})
    config = write_config(tmp_path / "other", "4.4", dict(BASE, VETH="m"))
    result = check_kernel(config=config, runtime_root=root, release=RELEASE)
    assert result["runtime"] is None
    assert result["cgroup_mode"] == "v1 and v2"   # not the host's v2
    assert result["kernel_version"] == "4.4.0"    # not the host's release
    assert "Cgroup mode:" not in result["report"]
    assert [c["status"] for c in result["checks"] if c["group"] == "host"] == [NOT_APPLICABLE] * len(
        catalogue.RUNTIME_CHECKS)
    assert result["lxc_kernel"]["config_source"] == config


# ---------------------------------------------------------------- properties

_ALL_SYMBOLS = sorted(set(sym.name for req in catalogue.REQUIREMENTS for sym in req.symbols)
                      | set(n for req in catalogue.REQUIREMENTS for n in req.only_if))
_VERSIONS = st.builds(lambda a, b, c: (a, b, c, 0),
                      st.sampled_from([2, 3, 4, 5, 6, 7, 10]), st.integers(0, 40), st.integers(0, 40))


class _Config(KernelConfig):
    def __init__(self, values):  # pylint: disable=super-init-not-called
        self.values = values


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(version=_VERSIONS,
       values=st.dictionaries(st.sampled_from(_ALL_SYMBOLS), st.sampled_from(["y", "m", "n", '"x"', "1"])),
       cgroups=st.sampled_from([("v1",), ("v2",), ("v1", "v2")]))
def test_judge_properties(version, values, cgroups):
    config = _Config(values)
    for req in catalogue.REQUIREMENTS:
        check = judge(req, config, version, cgroups)
        assert check["status"] in STATUSES
        assert check["value"] in ("y", "m", "n", None)
        builtin = req.builtin_since and version >= parse_version(req.builtin_since)
        if check["symbol"] is not None:
            name = check["symbol"][len("CONFIG_"):]
            # The file-evidence rule, restated: an option the file mentions exists, unless its range
            # says what it means; the version decides for the others; nothing once built in.
            valid = [s for s in req.symbols if not builtin and (
                (s.gate == catalogue.EXISTS and s.name in values)
                or ((s.since is None or version >= parse_version(s.since))
                    and (s.until is None or version < parse_version(s.until))))]
            assert name in [s.name for s in valid]
            # Enabled/module exactly when one of the valid symbols is y/m.
            on = any(values.get(s.name) in ("y", "m") for s in valid)
            assert (check["status"] in (ENABLED, MODULE)) == on or check["status"] == NOT_APPLICABLE
        else:
            assert check["status"] in (MISSING, NOT_APPLICABLE)
            assert check["status"] == NOT_APPLICABLE or catalogue.level_for(req, "privileged") == catalogue.REQUIRED


# ---------------------------------------------------------------- committed fixtures

def _fixtures():
    """The good fixture configs (bad-* ones are refused: test_kconfig covers them)."""
    if not FIXTURES.is_dir():
        return []
    return sorted(p for p in FIXTURES.iterdir() if p.is_file() and not p.name.startswith((".", "bad-"))
                  and p.suffix.lower() not in (".md", ".txt", ".json", ".yml", ".yaml"))


@pytest.mark.parametrize("path", _fixtures() or [pytest.param(None, marks=pytest.mark.skip(
    reason="no fixture configs committed yet under tests/fixtures/configs"))],
    ids=lambda p: p.name if p else "none")
def test_fixture_judged(path):
    parsed = KernelConfig.from_file(str(path))
    kwargs = {} if parsed.header_version else {"kernel_version": "6.1"}
    result = check_kernel(config=str(path), **kwargs)
    assert result["runtime"] is None
    version = parse_version(result["kernel_version"])
    if parsed.header_version:
        assert version[:3] == parse_version(parsed.header_version)[:3]
    status = result["lxc_kernel"]["status"]
    assert set(status.values()) <= set(STATUSES)
    # Built-in features are never "missing", whatever the config says.
    if version >= (2, 6, 33, 0):
        assert status["file_capabilities"] == NOT_APPLICABLE
    if version >= (4, 7, 0, 0):
        assert status["devpts_multiple_instances"] == NOT_APPLICABLE
    for check in result["checks"]:
        if check["symbol"] and parsed.value(check["symbol"][len("CONFIG_"):]) in ("y", "m"):
            assert check["status"] in (ENABLED, MODULE, NOT_APPLICABLE), check


# Era fixtures (tests/fixtures/configs/README.md): what each one is made to exercise, judged with
# the kernel history in the research notes. (check id -> (status, symbol or None)); cgroup "both".
ERA_EXPECTATIONS = {
    "handmade-2.6.26.config": ("2.6.26", {
        "file_capabilities": (MISSING, "CONFIG_SECURITY_FILE_CAPABILITIES"),  # not set, still an option
        "cgroup_memory": (ENABLED, "CONFIG_CGROUP_MEM_RES_CTLR"),
        "cgroup_namespace": (ENABLED, "CONFIG_CGROUP_NS"),
        "devpts_multiple_instances": (NOT_APPLICABLE, None),  # 2.6.29
        "fhandle": (NOT_APPLICABLE, None),                    # 2.6.39
        "checkpoint_restore": (NOT_APPLICABLE, None),         # 3.3
        "nf_nat_ipv4": (MODULE, "CONFIG_NF_NAT"),              # before the 3.7 split
        "nf_nat_ipv6": (NOT_APPLICABLE, None),
        "cgroup_sched": (MISSING, "CONFIG_CGROUP_SCHED"),
    }),
    "handmade-2.6.32.config": ("2.6.32", {
        "file_capabilities": (ENABLED, "CONFIG_SECURITY_FILE_CAPABILITIES"),
        "devpts_multiple_instances": (ENABLED, "CONFIG_DEVPTS_MULTIPLE_INSTANCES"),
        "cgroup_memory": (ENABLED, "CONFIG_CGROUP_MEM_RES_CTLR"),
        "cgroup_namespace": (ENABLED, "CONFIG_CGROUP_NS"),
        "fhandle": (NOT_APPLICABLE, None),
    }),
    "handmade-2.6.38.6.config": ("2.6.38.6", {
        "file_capabilities": (NOT_APPLICABLE, None),  # the false "missing" lxc printed on 2.6.37/38
        "devpts_multiple_instances": (ENABLED, "CONFIG_DEVPTS_MULTIPLE_INSTANCES"),
        "cgroup_memory": (ENABLED, "CONFIG_CGROUP_MEM_RES_CTLR"),
        "cgroup_namespace": (ENABLED, "CONFIG_CGROUP_NS"),
        "netfilter_xt_target_checksum": (MODULE, "CONFIG_NETFILTER_XT_TARGET_CHECKSUM"),
        "macvlan": (MISSING, "CONFIG_MACVLAN"),
        "user_namespace": (MISSING, "CONFIG_USER_NS"),
    }),
    "handmade-3.2.config": ("3.2.0", {
        "cgroup_namespace": (NOT_APPLICABLE, None),
        "checkpoint_restore": (NOT_APPLICABLE, None),
        "unix_diag": (NOT_APPLICABLE, None),
        "seccomp_filter": (NOT_APPLICABLE, None),
        "packet_diag": (NOT_APPLICABLE, None),
        "netlink_diag": (NOT_APPLICABLE, None),
        "cgroup_memory": (ENABLED, "CONFIG_CGROUP_MEM_RES_CTLR"),
        "fhandle": (ENABLED, "CONFIG_FHANDLE"),
        "nf_nat_ipv4": (MODULE, "CONFIG_NF_NAT"),
    }),
    "handmade-4.4.config": ("4.4.0", {
        "devpts_multiple_instances": (ENABLED, "CONFIG_DEVPTS_MULTIPLE_INSTANCES"),
        "nf_nat_ipv4": (MODULE, "CONFIG_NF_NAT_IPV4"),
        "nf_nat_ipv6": (MODULE, "CONFIG_NF_NAT_IPV6"),
        "cgroup_memory": (ENABLED, "CONFIG_MEMCG"),
        "cgroup_namespace": (NOT_APPLICABLE, None),  # 3.0 .. 4.5: no option
        "cgroup_bpf": (NOT_APPLICABLE, None),
    }),
    "handmade-4.9.config": ("4.9.0", {
        "devpts_multiple_instances": (NOT_APPLICABLE, None),
        "nf_nat_ipv4": (MODULE, "CONFIG_NF_NAT_IPV4"),
        "nf_nat_ipv6": (MISSING, "CONFIG_NF_NAT_IPV6"),
        "checkpoint_restore": (MISSING, "CONFIG_CHECKPOINT_RESTORE"),
        "cgroup_namespace": (ENABLED, "CONFIG_CGROUPS"),
        "cgroup_bpf": (NOT_APPLICABLE, None),
    }),
    "handmade-5.0.config": ("5.0.0", {
        "nf_nat_ipv4": (MODULE, "CONFIG_NF_NAT_IPV4"),
        "nf_nat_ipv6": (MODULE, "CONFIG_NF_NAT_IPV6"),
        "cgroup_bpf": (ENABLED, "CONFIG_CGROUP_BPF"),
        "devpts_multiple_instances": (NOT_APPLICABLE, None),
        "macvlan": (MISSING, "CONFIG_MACVLAN"),
        "fuse": (MISSING, "CONFIG_FUSE_FS"),
    }),
    "handmade-6.12-cgroupv1-trap.config": ("6.12.0", {
        "cgroup_memory": (ENABLED, "CONFIG_MEMCG"),
        "cgroup_cpuset": (ENABLED, "CONFIG_CPUSETS"),
        "cgroup_memory_v1": (MISSING, "CONFIG_MEMCG_V1"),
        "cgroup_cpuset_v1": (MISSING, "CONFIG_CPUSETS_V1"),
        "netfilter_xtables_legacy": (NOT_APPLICABLE, None),
    }),
    "handmade-6.17-xtables-legacy.config": ("6.17.0", {
        "netfilter_xtables_legacy": (MISSING, "CONFIG_NETFILTER_XTABLES_LEGACY"),
        "cgroup_memory_v1": (ENABLED, "CONFIG_MEMCG_V1"),
        "cgroup_cpuset_v1": (ENABLED, "CONFIG_CPUSETS_V1"),
    }),
    "synthetic-10.1.0-two-digit-major.config": ("10.1.0", {
        "devpts_multiple_instances": (NOT_APPLICABLE, None),
        "file_capabilities": (NOT_APPLICABLE, None),
        "cgroup_memory": (ENABLED, "CONFIG_MEMCG"),
    }),
    "linux-6.1-tinyconfig.config": ("6.1.192", {
        "namespaces": (MISSING, "CONFIG_NAMESPACES"),
        "cgroup_cpuset": (NOT_APPLICABLE, None),  # no SMP
        "cgroup_memory_v1": (NOT_APPLICABLE, None),
    }),
}


def _era_cases():
    cases = []
    for name, (version, expected) in sorted(ERA_EXPECTATIONS.items()):
        marks = () if (FIXTURES / name).is_file() else (pytest.mark.skip(reason="fixture %s not committed" % name),)
        cases.append(pytest.param(name, version, expected, marks=marks, id=name))
    return cases


@pytest.mark.parametrize("name, version, expected", _era_cases())
def test_era_fixture(name, version, expected):
    result = check_kernel(config=str(FIXTURES / name), cgroup_mode="both")
    assert result["kernel_version"] == version
    got = dict((c["id"], (c["status"], c["symbol"])) for c in result["checks"])
    assert dict((k, got[k]) for k in expected) == expected


def test_era_fixture_6_12_on_a_v2_host():
    path = FIXTURES / "handmade-6.12-cgroupv1-trap.config"
    if not path.is_file():
        pytest.skip("fixture not committed")
    result = check_kernel(config=str(path), cgroup_mode="v2")
    assert "cgroup_memory_v1" not in result["missing_recommended"]
    assert "cgroup_cpuset_v1" not in result["missing_recommended"]
    v1 = check_kernel(config=str(path), cgroup_mode="v1")
    assert {"cgroup_memory_v1", "cgroup_cpuset_v1"} <= set(v1["missing_recommended"])


@pytest.mark.parametrize("name", ["linux-6.1-allmodconfig.config.xz", "debian-6.1-amd64.config.xz",
                                  "debian-6.1-cloud-amd64.config.xz", "debian-6.1-arm64.config.xz"])
def test_distribution_configs_are_ready(name):
    path = FIXTURES / name
    if not path.is_file():
        pytest.skip("fixture not committed")
    result = check_kernel(config=str(path))
    assert result["compression"] == "xz"
    assert result["ready"] is True
    assert result["missing_required"] == [] and result["missing_recommended"] == []


def test_tinyconfig_lxc_passes_every_lxc_checkconfig_check():
    """The tinyconfig with every LXC option switched on: all of lxc-checkconfig's own checks pass."""
    path = FIXTURES / "linux-6.1-tinyconfig-lxc.config"
    if not path.is_file():
        pytest.skip("fixture not committed")
    status = check_kernel(config=str(path))["lxc_kernel"]["status"]
    assert dict((i, status[i]) for i in LXC_CHECKCONFIG_IDS if status[i] == MISSING) == {}


def test_headerless_fixture_needs_kernel_version():
    path = FIXTURES / "no-header-fragment.config"
    if not path.is_file():
        pytest.skip("fixture not committed")
    with pytest.raises(KconfigError) as info:
        check_kernel(config=str(path))
    assert "kernel_version" in str(info.value)
    assert check_kernel(config=str(path), kernel_version="5.0")["kernel_version"] == "5.0.0"


def test_header_without_version_says_how_to_pass_it():
    path = FIXTURES / "bad-header-no-version.config"
    if not path.is_file():
        pytest.skip("fixture not committed")
    with pytest.raises(KconfigError) as info:
        check_kernel(config=str(path))
    message = str(info.value)
    assert message.startswith("Cannot tell which kernel version %s is for" % path)
    assert "kernel_version: 2.6.38.6" in message
    assert check_kernel(config=str(path), kernel_version="6.12")["kernel_version"] == "6.12.0"
