# -*- coding: utf-8 -*-
# Copyright: lxchost.prep contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The lxc_checkconfig module run the way Ansible runs it: a separate Python process given an
args file ({"ANSIBLE_MODULE_ARGS": {...}}), printing one JSON result on stdout."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import gzip
import json
import lzma
import os
from pathlib import Path

import pytest

from ansible_collections.lxchost.prep.tests.unit.plugins.modules import module_process

FIXTURES = Path(__file__).resolve().parents[3] / "fixtures" / "configs"

BASE = {
    "NAMESPACES": "y", "UTS_NS": "y", "IPC_NS": "y", "PID_NS": "y", "NET_NS": "y", "USER_NS": "y",
    "CGROUPS": "y", "UNIX": "y", "SIGNALFD": "y", "EPOLL": "y", "SMP": "y",
}


def write_config(directory, version, values, name="config", compress=None):
    lines = ["#", "# Automatically generated file; DO NOT EDIT."]
    if version:
        lines.append("# Linux/x86 %s Kernel Configuration" % version)
    lines.append("#")
    for symbol, value in sorted(values.items()):
        lines.append("# CONFIG_%s is not set" % symbol if value == "n" else "CONFIG_%s=%s" % (symbol, value))
    data = ("\n".join(lines) + "\n").encode()
    path = Path(directory) / name
    path.write_bytes(compress(data) if compress else data)
    return str(path)


def run_module(tmp_path, args, check_mode=False):
    return module_process.run_module("lxc_checkconfig", tmp_path, args, check_mode)


def assert_full_result(result):
    for key in ("ready", "kernel_version", "config_source", "checks", "missing_required",
                "missing_recommended", "report", "ansible_facts"):
        assert key in result, key
    fact = result["ansible_facts"]["lxc_kernel"]
    assert fact["ready"] == result["ready"]
    assert fact["kernel_version"] == result["kernel_version"]
    assert set(fact["status"]) | set(fact["runtime_status"]) == set(c["id"] for c in result["checks"])
    assert fact["profile"] == result["profile"]
    assert "lxc_kernel" not in result  # only as a fact
    assert "warnings" not in result or isinstance(result["warnings"], list)


@pytest.fixture
def good_config(tmp_path):
    values = dict(BASE)
    values.update(VETH="m", BRIDGE="y", MEMCG="y", CGROUP_DEVICE="y")
    return write_config(tmp_path, "6.1.0", values)


def test_a_config_file_says_nothing_about_the_system(tmp_path, good_config):
    rc, result, _err = run_module(tmp_path, {"config": good_config})
    assert rc == 0 and result["system"] is None and result["runtime"] is None


def test_good_config(tmp_path, good_config):
    rc, result, _err = run_module(tmp_path, {"config": good_config})
    assert rc == 0
    assert result["changed"] is False
    assert not result.get("failed")
    assert_full_result(result)
    assert result["ready"] is True
    assert result["kernel_version"] == "6.1.0"
    assert result["config_source"] == good_config
    assert result["runtime"] is None
    veth = [c for c in result["checks"] if c["id"] == "veth"][0]
    assert (veth["status"], veth["value"], veth["symbol"]) == ("module", "m", "CONFIG_VETH")
    assert result["report"].splitlines()[-1].startswith("Result: ready for LXC")


def test_compressed_config_by_content(tmp_path):
    path = write_config(tmp_path, "4.4.0", dict(BASE, DEVPTS_MULTIPLE_INSTANCES="y"), name="config.gz",
                        compress=lzma.compress)  # named .gz, is xz
    rc, result, _err = run_module(tmp_path, {"config": path})
    assert rc == 0 and result["compression"] == "xz" and result["kernel_version"] == "4.4.0"
    assert result["ansible_facts"]["lxc_kernel"]["status"]["devpts_multiple_instances"] == "enabled"


BAD_INPUTS = [
    ("missing", None, "does not exist"),
    ("directory", "DIR", "is a directory"),
    ("empty", b"", "is empty"),
    ("junk", b"\x7fELF" + bytes(range(256)) * 8, "binary data"),
    ("truncated-gzip", gzip.compress(b"CONFIG_NAMESPACES=y\n" * 500)[:40], "does not decompress"),
    ("corrupt-xz", b"\xfd7zXZ\x00" + b"\x01" * 64, "does not decompress"),
    ("no-config-lines", b"hello\nworld\n", "no CONFIG_ lines"),
    ("no-header", b"CONFIG_NAMESPACES=y\n", "kernel_version"),
]


@pytest.mark.parametrize("name, data, expected", BAD_INPUTS, ids=[b[0] for b in BAD_INPUTS])
def test_bad_input_fails_with_msg(tmp_path, name, data, expected):
    path = tmp_path / name
    if data == "DIR":
        path.mkdir()
    elif data is not None:
        path.write_bytes(data)
    rc, result, _err = run_module(tmp_path, {"config": str(path)})
    assert rc == 1
    assert result["failed"] is True
    assert expected in result["msg"], result["msg"]
    assert str(path) in result["msg"]
    assert "Traceback" not in result["msg"] and "exception" not in result
    assert "checks" not in result


def test_bad_kernel_version_option(tmp_path, good_config):
    rc, result, _err = run_module(tmp_path, {"config": good_config, "kernel_version": "latest"})
    assert rc == 1 and result["failed"] is True and "'latest'" in result["msg"]


@pytest.mark.parametrize("args, expected", [
    ({"cgroup_mode": "v3"}, "cgroup_mode"),
    ({"fail_on": "always"}, "fail_on"),
    ({"bogus": 1}, "bogus"),
])
def test_bad_options(tmp_path, good_config, args, expected):
    args = dict(args, config=good_config)
    rc, result, _err = run_module(tmp_path, args)
    assert rc == 1 and result["failed"] is True and expected in result["msg"]


def test_kernel_version_override_warns(tmp_path, good_config):
    rc, result, _err = run_module(tmp_path, {"config": good_config, "kernel_version": "4.4"})
    assert rc == 0
    assert result["kernel_version"] == "4.4.0"
    # ansible-core 2.19 returns warnings as structured summaries, older ones as strings.
    warnings = [w if isinstance(w, str) else json.dumps(w) for w in result.get("warnings", [])]
    assert any("kernel_version 4.4 differs from the version 6.1.0" in w for w in warnings), warnings


def test_cgroup_mode_option(tmp_path, good_config):
    _rc, v2, _err = run_module(tmp_path, {"config": good_config, "cgroup_mode": "v2"})
    assert v2["cgroup_mode"] == "v2"
    assert v2["ansible_facts"]["lxc_kernel"]["status"]["cgroup_device"] == "not_applicable"
    _rc, v1, _err = run_module(tmp_path, {"config": good_config, "cgroup_mode": "v1"})
    assert v1["ansible_facts"]["lxc_kernel"]["status"]["cgroup_bpf"] == "not_applicable"


# ---------------------------------------------------------------- fail_on

@pytest.fixture
def configs(tmp_path):
    everything = dict(BASE)
    from ansible_collections.lxchost.prep.plugins.module_utils._lxc_catalogue import REQUIREMENTS
    for req in REQUIREMENTS:
        for sym in req.symbols:
            everything[sym.name] = "y"
    only_recommended = dict(everything, VETH="n")      # veth is recommended
    only_optional = dict(everything, MACVLAN="n")      # macvlan is optional
    required = dict(everything, PID_NS="n")            # pid namespace is required
    return dict(
        clean=write_config(tmp_path, "6.17.0", everything, name="clean"),
        recommended=write_config(tmp_path, "6.17.0", only_recommended, name="recommended"),
        optional=write_config(tmp_path, "6.17.0", only_optional, name="optional"),
        required=write_config(tmp_path, "6.17.0", required, name="required"),
    )


@pytest.mark.parametrize("fail_on, config, fails", [
    ("never", "required", False),
    ("never", "recommended", False),
    ("required", "required", True),
    ("required", "recommended", False),
    ("required", "optional", False),
    ("required", "clean", False),
    ("recommended", "required", True),
    ("recommended", "recommended", True),
    ("recommended", "optional", False),
    ("recommended", "clean", False),
    (None, "required", False),  # default: never
])
def test_fail_on(tmp_path, configs, fail_on, config, fails):
    args = {"config": configs[config]}
    if fail_on:
        args["fail_on"] = fail_on
    rc, result, _err = run_module(tmp_path, args)
    assert bool(result.get("failed")) is fails, result.get("msg")
    assert rc == (1 if fails else 0)
    assert result["changed"] is False
    assert_full_result(result)  # the full result either way
    if fails:
        missing = {"required": ["pid_namespace"], "recommended": ["veth"]}[config]
        assert result["msg"].endswith(": %s." % ", ".join(missing)), result["msg"]
        assert "(%s)" % fail_on in result["msg"]
        assert result["ansible_facts"]["lxc_kernel"]["ready"] is (config != "required")
    assert result["ready"] is (config != "required")


def test_fail_on_recommended_lists_required_first(tmp_path, configs):
    path = write_config(tmp_path, "6.17.0", dict(BASE, PID_NS="n"), name="both")
    rc, result, _err = run_module(tmp_path, {"config": path, "fail_on": "recommended"})
    assert rc == 1
    listed = result["msg"].rsplit(": ", 1)[1].rstrip(".").split(", ")
    assert listed[0] == "pid_namespace"
    assert set(listed) == set(result["missing_required"] + result["missing_recommended"])


# ---------------------------------------------------------------- check mode

@pytest.mark.parametrize("fail_on", ["never", "required"])
def test_check_mode_same_result(tmp_path, configs, fail_on):
    args = {"config": configs["required"], "fail_on": fail_on}
    rc, normal, _err = run_module(tmp_path, args)
    rc_check, checked, _err = run_module(tmp_path, args, check_mode=True)
    assert rc == rc_check
    assert checked["changed"] is False
    for key in ("ready", "checks", "report", "ansible_facts", "missing_required", "failed", "msg"):
        assert checked.get(key) == normal.get(key), key
    assert "skipped" not in checked


def test_check_mode_bad_input(tmp_path):
    rc, result, _err = run_module(tmp_path, {"config": str(tmp_path / "nope")}, check_mode=True)
    assert rc == 1 and "does not exist" in result["msg"]


def test_module_leaves_no_files(tmp_path, good_config):
    before = sorted(os.listdir(str(tmp_path)))
    run_module(tmp_path, {"config": good_config})
    after = sorted(n for n in os.listdir(str(tmp_path)) if not n.startswith("args-"))
    assert after == [n for n in before if not n.startswith("args-")]


# ---------------------------------------------------------------- fixtures and the running kernel

@pytest.mark.parametrize("name", ["debian-6.1-amd64.config.xz", "handmade-2.6.38.6.config",
                                  "linux-6.1-tinyconfig.config"])
def test_fixture_through_the_module(tmp_path, name):
    path = FIXTURES / name
    if not path.is_file():
        pytest.skip("fixture not committed")
    rc, result, _err = run_module(tmp_path, {"config": str(path), "fail_on": "required"})
    assert_full_result(result)
    if name == "linux-6.1-tinyconfig.config":
        assert rc == 1 and result["failed"] and "namespaces" in result["msg"]
    else:
        assert rc == 0 and result["ready"] is True
    if name == "handmade-2.6.38.6.config":
        assert result["kernel_version"] == "2.6.38.6"
        assert result["ansible_facts"]["lxc_kernel"]["status"]["file_capabilities"] == "not_applicable"


def test_running_kernel(tmp_path):
    """No config option: this host's own kernel, with runtime facts (or a clear msg when none)."""
    rc, result, _err = run_module(tmp_path, {})
    # The host's system comes back either way (site.yml's OS guard reads it, also when no config is found).
    assert set(result["system"]) == set(("name", "id", "version", "major_version", "codename", "pretty_name"))
    if os.path.exists("/etc/os-release") or os.path.exists("/usr/lib/os-release"):
        assert result["system"]["id"], result["system"]
    if rc == 1:
        assert result["msg"].startswith("No config found for the running kernel %s" % os.uname()[2])
        return
    assert_full_result(result)
    assert isinstance(result["runtime"], dict)
    assert result["runtime"]["kernel_release"] == os.uname()[2]
    assert result["runtime"]["init"] in ("systemd", "other")
    assert set(result["runtime"]["ip_forward"]) == set(("exists", "writable", "value"))
    assert result["runtime"]["cgroup"]["mode"] in ("v1", "hybrid", "v2", "none")
    assert "--- Running host ---" in result["report"]


# ---------------------------------------------------------------- profiles

def test_profile_decides_the_level_of_user_namespaces(tmp_path):
    path = write_config(tmp_path, "6.1.0", dict(BASE, USER_NS="n"), name="no-userns")
    rc, privileged, _err = run_module(tmp_path, {"config": path, "fail_on": "required"})
    assert rc == 0 and privileged["ready"] is True and privileged["profile"] == "privileged"
    assert "user_namespace" in privileged["missing_recommended"]
    rc, unprivileged, _err = run_module(tmp_path, {"config": path, "fail_on": "required", "profile": "unprivileged",
                                                   "unprivileged_user": "lxc"})
    assert rc == 1 and unprivileged["ready"] is False
    assert unprivileged["msg"].endswith("lacks what LXC needs for unprivileged containers (required): user_namespace.")
    assert [b["id"] for b in unprivileged["blockers"]] == ["user_namespace"]
    assert unprivileged["ansible_facts"]["lxc_kernel"]["blockers"] == ["user_namespace"]
    assert "Profile: unprivileged containers" in unprivileged["report"]


def test_bad_profile(tmp_path, good_config):
    rc, result, _err = run_module(tmp_path, {"config": good_config, "profile": "rootless"})
    assert rc == 1 and "profile" in result["msg"]


def test_fragment_follows_the_levels_asked(tmp_path):
    path = write_config(tmp_path, "6.1.0", dict(BASE, VETH="n", MACVLAN="n"), name="frag")
    _rc, default, _err = run_module(tmp_path, {"config": path})
    assert "CONFIG_VETH=y" in default["fragment"] and "CONFIG_MACVLAN=y" not in default["fragment"]
    _rc, everything, _err = run_module(tmp_path, {"config": path, "fragment_levels": ["optional"]})
    assert "CONFIG_MACVLAN=y" in everything["fragment"] and "CONFIG_VETH=y" not in everything["fragment"]
    rc, bad, _err = run_module(tmp_path, {"config": path, "fragment_levels": ["urgent"]})
    assert rc == 1 and "fragment_levels" in bad["msg"]


def test_baseline_option(tmp_path, good_config):
    older = write_config(tmp_path, "6.1.0", dict(BASE, VETH="n"), name="older")
    rc, result, _err = run_module(tmp_path, {"config": good_config, "baseline": older})
    assert rc == 0 and result["baseline"]["became_enabled"] == ["cgroup_device", "cgroup_memory", "veth", "bridge"]
    assert result["baseline"]["became_missing"] == []
    assert result["baseline"]["config_source"] == older and "gains" in result["baseline"]["summary"]
    rc, result, _err = run_module(tmp_path, {"baseline": "running"})
    assert rc == 1 and "give that config in config" in result["msg"]
