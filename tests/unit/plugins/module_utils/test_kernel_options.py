# -*- coding: utf-8 -*-
# Copyright: lxchost.prep contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests for _kernel_options: the catalogue turned into settings, fragments, the audit of
what olddefconfig dropped, and Kconfig's dependencies read from a small tree laid out on disk.

The round-trip test ties the plan to the checker: whatever the plan switches on for a kernel
version, lxc_checkconfig must then find nothing required or recommended missing.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from pathlib import Path

import pytest

from ansible_collections.lxchost.prep.plugins.module_utils import _lxc_catalogue as catalogue
from ansible_collections.lxchost.prep.plugins.module_utils._kconfig import (
    KconfigError,
    KernelConfig,
    format_version,
    parse_version,
)
from ansible_collections.lxchost.prep.plugins.module_utils._kernel_options import (
    RULES_VERSION,
    catalogue_digest,
    check_symbol,
    config_args,
    config_changes,
    dropped,
    explain_dropped,
    kconfig_dependencies,
    lxc_settings,
    plan,
    read_fragment,
    rebuild_reasons,
    srcarch,
)
from ansible_collections.lxchost.prep.plugins.module_utils._lxc_checker import check_kernel

FIXTURES = Path(__file__).resolve().parents[3] / "fixtures" / "configs"
DEFAULT_LEVELS = ("required", "recommended")
BOTH = ("v1", "v2")

# Every version boundary the catalogue names, the release before each, and a spread of history.
_POINTS = set(["2.6.24", "2.6.32", "2.6.38.6", "3.2", "3.10", "4.4", "4.9", "5.4", "5.10", "6.1",
               "6.6", "6.12", "6.17"])
for _req in catalogue.REQUIREMENTS:
    for _sym in _req.symbols:
        _POINTS.update(v for v in (_sym.since, _sym.until) if v)
VERSIONS = sorted(set(format_version(parse_version(v)) for v in _POINTS if parse_version(v) >= (2, 6, 24)),
                  key=parse_version)


def symbols(settings):
    return [name for name, _req_id in settings]


def write_config(path, version, values):
    lines = ["#", "# Linux/x86 %s Kernel Configuration" % version, "#"]
    lines += ["# CONFIG_%s is not set" % k if v == "n" else "CONFIG_%s=%s" % (k, v) for k, v in sorted(values.items())]
    path.write_text("\n".join(lines) + "\n")
    return str(path)


def test_modern_kernel_gets_modern_names_and_needs_first():
    names = symbols(lxc_settings("6.1.192", DEFAULT_LEVELS, BOTH, {"SMP": "y"}))
    assert "NF_NAT" in names and "NF_NAT_IPV4" not in names
    assert "MEMCG" in names and "CGROUP_MEM_RES_CTLR" not in names
    assert "DEVPTS_MULTIPLE_INSTANCES" not in names  # built in since 4.7
    assert "MEMCG_V1" not in names  # only from 6.11
    assert names.index("NET") < names.index("NET_NS")
    assert names.index("BPF_SYSCALL") < names.index("CGROUP_BPF")
    assert len(names) == len(set(names))
    assert "MACVLAN" not in names  # optional level not asked for


def test_classic_guide_kernel_2_6_38_6_gets_its_own_names():
    names = symbols(lxc_settings("2.6.38.6", DEFAULT_LEVELS, BOTH, {"SMP": "y"}))
    assert "CGROUP_MEM_RES_CTLR" in names and "MEMCG" not in names
    assert "DEVPTS_MULTIPLE_INSTANCES" in names
    assert "SECURITY_FILE_CAPABILITIES" not in names  # always on since 2.6.33
    assert "CGROUP_PIDS" not in names and "SECCOMP_FILTER" not in names
    assert "NF_NAT" in names  # NF_NAT_IPV4 only from 3.7


def test_cgroup_versions_and_only_if_are_honoured():
    v2 = symbols(lxc_settings("6.12", DEFAULT_LEVELS, ("v2",), {"SMP": "y"}))
    assert "CGROUP_BPF" in v2 and "CGROUP_DEVICE" not in v2 and "CPUSETS_V1" not in v2
    v1 = symbols(lxc_settings("6.12", DEFAULT_LEVELS, ("v1",), {"SMP": "y"}))
    assert "CPUSETS_V1" in v1 and "MEMCG_V1" in v1 and "CGROUP_BPF" not in v1
    no_smp = symbols(lxc_settings("6.12", DEFAULT_LEVELS, BOTH, {"SMP": "n"}))
    assert "CPUSETS" not in no_smp and "CPUSETS_V1" not in no_smp


def test_levels_select_what_is_switched_on():
    required = symbols(lxc_settings("6.1", ("required",), BOTH, {}))
    assert "NAMESPACES" in required and "VETH" not in required
    everything = symbols(lxc_settings("6.1", catalogue.LEVELS, BOTH, {}))
    assert "MACVLAN" in everything and "CHECKPOINT_RESTORE" in everything


@pytest.mark.parametrize("bad, message", [("6.x", "not a kernel version"), ("", "not a kernel version")])
def test_bad_version_is_refused(bad, message):
    with pytest.raises(KconfigError, match=message):
        lxc_settings(bad, DEFAULT_LEVELS, BOTH, {})


def test_bad_level_is_refused():
    with pytest.raises(KconfigError, match="Unknown LXC option level"):
        lxc_settings("6.1", ("mandatory",), BOTH, {})


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("cgroup", ["v1", "v2", "both"])
def test_what_the_plan_switches_on_passes_the_checker(tmp_path, version, cgroup):
    """Round trip through the checker: the plan is complete for every version it knows."""
    versions = BOTH if cgroup == "both" else (cgroup,)
    settings = plan(version, DEFAULT_LEVELS, versions, {"SMP": "y"})
    values = dict((s["symbol"], s["value"]) for s in settings)
    values["SMP"] = "y"
    path = write_config(tmp_path / "config", version, values)
    result = check_kernel(config=path, cgroup_mode=cgroup)
    assert result["missing_required"] == [] and result["missing_recommended"] == [], (version, result["report"])


def test_plan_on_the_tinyconfig_fixture_keeps_the_fixture_version_rules():
    values = KernelConfig.from_file(str(FIXTURES / "linux-6.1-tinyconfig.config")).values
    names = [s["symbol"] for s in plan("6.1.0", DEFAULT_LEVELS, BOTH, values)]
    assert "CPUSETS" not in names  # tinyconfig has no SMP
    assert "VETH" in names


def test_fragments_then_lxc_then_user_options(tmp_path):
    fragment = tmp_path / "frag.config"
    fragment.write_text("# my fragment\n\nCONFIG_VETH=m\n# CONFIG_BRIDGE is not set\nCONFIG_LOCALVERSION=\"-x\"\n")
    settings = plan("6.1", DEFAULT_LEVELS, BOTH, {}, [str(fragment)], {"CONFIG_INET": True, "FUSE_FS": False})
    by_symbol = dict((s["symbol"], s) for s in settings)
    assert by_symbol["VETH"]["value"] == "y" and by_symbol["VETH"]["source"] == "LXC: veth"
    assert by_symbol["LOCALVERSION"] == dict(symbol="LOCALVERSION", value='"-x"', source="fragment %s" % fragment)
    assert by_symbol["INET"]["value"] == "y"
    assert by_symbol["FUSE_FS"] == dict(symbol="FUSE_FS", value="n", source="kernel_build_config_options")
    # The first position is kept, so the order of the file is stable.
    assert [s["symbol"] for s in settings][:3] == ["VETH", "BRIDGE", "LOCALVERSION"]
    args = config_args(settings)
    assert args[:6] == ["--set-val", "VETH", "y", "--set-val", "BRIDGE", "y"]
    assert ["--disable", "FUSE_FS"] == args[args.index("FUSE_FS") - 1:args.index("FUSE_FS") + 1]


def test_user_option_turns_on_smp_so_cpusets_follow():
    names = [s["symbol"] for s in plan("6.1", DEFAULT_LEVELS, BOTH, {"SMP": "n"}, (), {"SMP": "y"})]
    assert "CPUSETS" in names


@pytest.mark.parametrize("line", ["CONFIG_VETH", "VETH=y", "CONFIG_VETH=", "CONFIG VETH=y", "<<<<<<< HEAD"])
def test_broken_fragment_names_file_and_line(tmp_path, line):
    fragment = tmp_path / "broken.config"
    fragment.write_text("CONFIG_NET=y\n%s\n" % line)
    with pytest.raises(KconfigError, match=r"broken.config, line 2 is not a kernel config line"):
        read_fragment(str(fragment))


def test_missing_fragment_is_named(tmp_path):
    with pytest.raises(KconfigError, match="nope.config cannot be read"):
        read_fragment(str(tmp_path / "nope.config"))


@pytest.mark.parametrize("name", ["VETH", "CONFIG_VETH"])
def test_symbol_names(name):
    assert check_symbol(name) == "VETH"


@pytest.mark.parametrize("name", ["CONFIG_", "VE TH", "VETH=y", ""])
def test_bad_symbol_names(name):
    with pytest.raises(KconfigError, match="not a kernel config option name"):
        check_symbol(name)


def test_dropped_compares_requests_with_the_final_config():
    settings = [dict(symbol="VETH", value="y", source="a"), dict(symbol="BRIDGE", value="m", source="b"),
                dict(symbol="FOO", value="n", source="c"), dict(symbol="LOG_BUF_SHIFT", value="17", source="d"),
                dict(symbol="NET", value="y", source="e"), dict(symbol="BAR", value="n", source="f")]
    final = {"VETH": "m", "BRIDGE": "y", "FOO": "y", "LOG_BUF_SHIFT": "14", "BAR": "n"}
    lost = dropped(settings, final)
    assert [(item["symbol"], item["got"]) for item in lost] == [("FOO", "y"), ("LOG_BUF_SHIFT", "14"), ("NET", None)]


def test_config_changes_reads_like_a_changelog():
    old = {"VETH": "n", "BRIDGE": "m", "NET": "y", "LOG_BUF_SHIFT": "14", "FOO": "y", "GONE": "n"}
    new = {"VETH": "y", "BRIDGE": "y", "NET": "y", "LOG_BUF_SHIFT": "17", "LOCALVERSION": '"-x"', "GONE": "n"}
    assert config_changes(old, new) == ["CONFIG_BRIDGE: m -> y", "-CONFIG_FOO", '+CONFIG_LOCALVERSION="-x"',
                                        "CONFIG_LOG_BUF_SHIFT: 14 -> 17", "+CONFIG_VETH"]
    assert config_changes(new, new) == []
    many = config_changes({}, dict(("S%02d" % i, "y") for i in range(20)), limit=3)
    assert many == ["+CONFIG_S00", "+CONFIG_S01", "+CONFIG_S02", "and 17 more"]


@pytest.mark.parametrize("machine, arch", [("x86_64", "x86"), ("i686", "x86"), ("aarch64", "arm64"),
                                           ("armv7l", "arm"), ("ppc64le", "powerpc"), ("sparc64", "sparc64")])
def test_srcarch(machine, arch):
    assert srcarch(machine) == arch


@pytest.fixture
def kconfig_tree(tmp_path):
    """A tiny kernel tree: if-blocks, help text that starts with 'if', a continued line, two arches."""
    (tmp_path / "Kconfig").write_text(
        'mainmenu "Linux"\n'
        'config MULTIUSER\n\tbool "Multiple users"\n'
        'config NAMESPACES\n\tbool "Namespaces"\n\tdepends on MULTIUSER\n\thelp\n'
        '\t  if you say Y here, containers work.\n\t  endif this is help too\n\n'
        '\t  More help.\n'
        'config NET_NS\n\tbool "Net ns"\n\tdepends on NAMESPACES && \\\n\t\tNET\n'
        'config CHOSEN\n\tbool "a choice member"\n')
    net = tmp_path / "net" / "netfilter"
    net.mkdir(parents=True)
    (net / "Kconfig").write_text(
        'menu "Core Netfilter Configuration"\n'
        'if NETFILTER_XTABLES\n'
        'config NETFILTER_XT_TARGET_CHECKSUM\n\ttristate "CHECKSUM target support"\n'
        '\tdepends on IP_NF_MANGLE || IP6_NF_MANGLE\n\tdepends on NETFILTER_ADVANCED # a comment\n'
        'endif # NETFILTER_XTABLES\n'
        'config OUTSIDE_IF\n\ttristate "x"\n\tdepends on NETFILTER\n'
        'endmenu\n')
    for arch, dep in (("x86", "X86_64"), ("arm64", "ARM64_ONLY")):
        (tmp_path / "arch" / arch).mkdir(parents=True)
        (tmp_path / "arch" / arch / "Kconfig").write_text('config SECCOMP\n\tbool "seccomp"\n\tdepends on %s\n' % dep)
    (tmp_path / "Documentation").mkdir()
    (tmp_path / "Documentation" / "Kconfig").write_text("config NAMESPACES\n\tdepends on DOCS_ONLY\n")
    return str(tmp_path)


def test_kconfig_dependencies_reads_entries_ifs_and_only_this_arch(kconfig_tree):
    found = kconfig_dependencies(kconfig_tree, ["NAMESPACES", "NET_NS", "NETFILTER_XT_TARGET_CHECKSUM",
                                                "OUTSIDE_IF", "SECCOMP", "CHOSEN", "NOPE"], "x86")
    assert found == {
        "NAMESPACES": ["MULTIUSER"],
        "NET_NS": ["NAMESPACES && NET"],
        "NETFILTER_XT_TARGET_CHECKSUM": ["NETFILTER_XTABLES", "IP_NF_MANGLE || IP6_NF_MANGLE", "NETFILTER_ADVANCED"],
        "OUTSIDE_IF": ["NETFILTER"],
        "SECCOMP": ["X86_64"],
        "CHOSEN": [],
    }
    assert kconfig_dependencies(kconfig_tree, ["SECCOMP"], "arm64") == {"SECCOMP": ["ARM64_ONLY"]}


def test_explain_dropped_names_option_and_unmet_dependency(kconfig_tree):
    values = {"NETFILTER_XTABLES": "y", "NETFILTER_ADVANCED": "y", "IP6_NF_MANGLE": "n", "X86_64": "y"}
    lost = [dict(symbol=s, wanted="y", got=None, source="LXC: x")
            for s in ("NETFILTER_XT_TARGET_CHECKSUM", "NAMESPACES", "NOPE", "CHOSEN", "SECCOMP")]
    deps = kconfig_dependencies(kconfig_tree, [item["symbol"] for item in lost], "x86")
    lines = explain_dropped(lost, values, deps, "6.1.192")
    assert lines[0] == (
        "CONFIG_NETFILTER_XT_TARGET_CHECKSUM=y (from LXC: x) became not set: it depends on NETFILTER_XTABLES && "
        "(IP_NF_MANGLE || IP6_NF_MANGLE) && NETFILTER_ADVANCED; not enabled here: CONFIG_IP_NF_MANGLE, "
        "CONFIG_IP6_NF_MANGLE.")
    assert lines[1].endswith("it depends on MULTIUSER; not enabled here: CONFIG_MULTIUSER.")
    assert "there is no option NOPE in kernel 6.1.192" in lines[2]
    assert "no 'depends on'" in lines[3]
    assert "which looks met" in lines[4]


def test_catalogue_digest_is_a_stable_sha256_of_the_catalogue():
    digest = catalogue_digest()
    assert len(digest) == 64 and int(digest, 16) >= 0
    assert catalogue_digest() == digest
    assert catalogue_digest(catalogue.REQUIREMENTS, catalogue.LEVELS, RULES_VERSION) == digest


def test_catalogue_digest_follows_what_makes_a_config_not_the_texts():
    reqs = list(catalogue.REQUIREMENTS)
    digest = catalogue_digest(reqs)
    veth = next(i for i, req in enumerate(reqs) if req.id == "veth")
    reworded = reqs[:veth] + [reqs[veth]._replace(why="Another text.", label="VETH", menu="Elsewhere")] + reqs[veth + 1:]
    assert catalogue_digest(reworded) == digest
    for change in (dict(levels=(("privileged", "optional"), ("unprivileged", "optional"))),
                   dict(symbols=(catalogue.Symbol("VETH", "6.2", None, catalogue.EXISTS),)),
                   dict(symbols=(catalogue.Symbol("VETH", None, None, catalogue.MEANING),)),
                   dict(needs=(catalogue.Symbol("INET", None, None, catalogue.EXISTS),)), dict(only_if=("SMP",)),
                   dict(cgroup="v2"), dict(builtin_since="7.0")):
        changed = reqs[:veth] + [reqs[veth]._replace(**change)] + reqs[veth + 1:]
        assert catalogue_digest(changed) != digest, change
    assert catalogue_digest(reqs[:veth] + reqs[veth + 1:]) != digest
    assert catalogue_digest(list(reversed(reqs))) != digest  # the order is the order switched on
    assert catalogue_digest(reqs, rules_version=RULES_VERSION + 1) != digest
    assert catalogue_digest(reqs, levels=("required", "recommended")) != digest


INPUTS = dict(version="6.1.176", config_sha256="a" * 64, patches=[], compiler="gcc (Debian 12.2.0-14) 12.2.0",
              method="bindeb-pkg", localversion="-lxc")


def test_rebuild_reasons_without_an_earlier_build():
    assert rebuild_reasons({}, INPUTS, "buildbox") == ["no earlier build on buildbox"]
    assert rebuild_reasons(None, INPUTS, "buildbox", ["+CONFIG_VETH"]) == ["no earlier build on buildbox"]


def test_rebuild_reasons_same_inputs_give_none():
    assert rebuild_reasons(dict(INPUTS), INPUTS, "buildbox") == []


@pytest.mark.parametrize("change, changes, reason", [
    (dict(version="6.1.192"), [], "version 6.1.176 -> 6.1.192"),
    (dict(config_sha256="b" * 64), [], "config changed"),
    (dict(config_sha256="b" * 64), ["+CONFIG_VETH", "CONFIG_BRIDGE: m -> y"],
     "config changed: +CONFIG_VETH, CONFIG_BRIDGE: m -> y"),
    (dict(patches=["c" * 40]), [], "patches changed"),
    (dict(compiler="gcc (Debian 12.2.0-14+deb12u1) 12.2.0"), [], "compiler gcc (Debian 12.2.0-14+deb12u1) 12.2.0"),
    (dict(method="make-kpkg"), [], "method make-kpkg"),
    (dict(localversion="-lxc2"), [], "localversion -lxc -> -lxc2"),
])
def test_rebuild_reasons_name_each_input_that_differs(change, changes, reason):
    new = dict(INPUTS, **change)
    assert rebuild_reasons(INPUTS, new, "buildbox", changes) == [reason]


def test_rebuild_reasons_in_a_fixed_order():
    new = dict(INPUTS, version="6.1.192", config_sha256="b" * 64, method="make-kpkg", compiler="gcc 13")
    assert rebuild_reasons(INPUTS, new, "h", ["+CONFIG_VETH"]) == [
        "version 6.1.176 -> 6.1.192", "config changed: +CONFIG_VETH", "compiler gcc 13", "method make-kpkg"]


# ---------------------------------------------------------------- one plan: the checker's fix fragment

def test_the_checkers_fragment_is_the_missing_part_of_the_build_plan(tmp_path):
    """lxc_checkconfig's fragment and the kernel_build role's plan are one plan: the fragment is the plan's
    LXC settings for the missing checks, minus what the config has on already."""
    path = str(FIXTURES / "linux-6.1-defconfig.config")
    values = KernelConfig.from_file(path).values
    result = check_kernel(config=path, profile="unprivileged")
    missing = set(c["id"] for c in result["checks"] if c["status"] == "missing" and c["level"] in DEFAULT_LEVELS)
    planned = [(item["symbol"], item["source"][len("LXC: "):]) for item in
               plan("6.1.192", DEFAULT_LEVELS, BOTH, values, profile="unprivileged")]
    expected = ["CONFIG_%s=y" % symbol for symbol, req_id in planned
                if req_id in missing and values.get(symbol) not in ("y", "m")]
    fragment = [line for line in result["fragment"].splitlines() if not line.startswith("#")]
    assert fragment == expected and fragment


@pytest.mark.parametrize("name", ["linux-6.1-tinyconfig.config", "linux-6.1-defconfig.config", "handmade-2.6.26.config",
                                  "handmade-5.0.config", "handmade-6.12-cgroupv1-trap.config"])
def test_the_fragment_switches_on_every_missing_option(name, tmp_path):
    """A fragment merge_config.sh can read (no comment it would take for a setting), which, laid over the
    config, leaves no fixable check of its levels missing."""
    path = FIXTURES / name
    result = check_kernel(config=str(path))
    lines = result["fragment"].splitlines()
    assert lines and not [line for line in lines if line.startswith("# CONFIG_")]
    fragment = tmp_path / "lxc.config"
    fragment.write_text(result["fragment"])
    overlay = dict(KernelConfig.from_file(str(path)).values)
    overlay.update(read_fragment(str(fragment)))
    merged = tmp_path / "merged.config"
    merged.write_text(path.read_text().splitlines(True)[0] + "".join(
        l for l in path.read_text().splitlines(True)[1:6] if l.startswith("# Linux")) +
        "".join("CONFIG_%s=%s\n" % (symbol, value) for symbol, value in sorted(overlay.items()) if value != "n"))
    again = check_kernel(config=str(merged), kernel_version=result["kernel_version"])
    fixable = [c["id"] for c in result["checks"] if c["status"] == "missing" and c["symbol"]
               and c["level"] in DEFAULT_LEVELS]
    still = [c["id"] for c in again["checks"] if c["id"] in fixable and c["status"] == "missing"]
    assert fixable and still == []
    assert again["fragment"] == "" or not [l for l in again["fragment"].splitlines() if not l.startswith("#")]


def test_no_fragment_when_nothing_is_missing(tmp_path):
    everything = dict((sym.name, "y") for req in catalogue.REQUIREMENTS for sym in req.symbols)
    path = tmp_path / "config"
    path.write_text("# Linux/x86 6.17.0 Kernel Configuration\n" + "".join(
        "CONFIG_%s=y\n" % name for name in sorted(everything)))
    assert check_kernel(config=str(path))["fragment"] == ""
