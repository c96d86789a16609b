# -*- coding: utf-8 -*-
# Copyright: lxchost.prep contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Differential test: our checker against the real lxc-checkconfig, on every config fixture.

For each fixture the real /usr/bin/lxc-checkconfig runs with CONFIG=<file> (plain text; it only
reads plain or gzip), its "Label: verdict" lines are mapped to our check ids, and every check
both tools make must get the same verdict:

    lxc "enabled"               <=> ours enabled or module
    lxc "missing" / "required"  <=> ours missing
    lxc prints no line          <=> ours not_applicable

except where lxc-checkconfig is known to be wrong or to mean something else. Each of those
exemptions is an entry in docs/differential.md (its key below is the entry's anchor), applies
only under its precise condition, and must still fire on at least one fixture (a stale exemption
fails the suite). Any other disagreement is a bug in our checker or in a fixture.

Nothing is mocked: real files, the real script. Without lxc-checkconfig the tests skip, except
when CI is set: there a test that cannot run must fail.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import bz2
import collections
import gzip
import lzma
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from ansible_collections.lxchost.prep.tests.unit.plugins.module_utils.lxc_checkconfig_ids import LXC_CHECKCONFIG_IDS
from ansible_collections.lxchost.prep.plugins.module_utils._kconfig import KconfigError, parse_version
from ansible_collections.lxchost.prep.plugins.module_utils._lxc_checker import check_kernel

LXC_CHECKCONFIG = "/usr/bin/lxc-checkconfig"
FIXTURES = Path(__file__).resolve().parents[3] / "fixtures" / "configs"
# The real distribution configs (xz; their versions are their headers'): compared the same way.
DISTRO_CONFIGS = sorted((Path(__file__).resolve().parents[2] / "fixtures" / "distro-configs").glob("*.config.xz"))
DOC = "docs/differential.md"

# Every fixture the differential runs on, with the kernel version it really is. Version-less
# fixtures get that version passed as kernel_version (our checker refuses to guess; lxc assumes
# "latest" or stumbles, see the exemptions).
FIXTURE_VERSIONS = {
    "linux-6.1-tinyconfig.config": "6.1.192",
    "linux-6.1-tinyconfig-lxc.config": "6.1.192",
    "linux-6.1-defconfig.config": "6.1.192",
    "linux-6.1-allmodconfig.config.xz": "6.1.192",
    "debian-6.1-amd64.config.xz": "6.1.192",
    "debian-6.1-cloud-amd64.config.xz": "6.1.192",
    "debian-6.1-arm64.config.xz": "6.1.192",
    "handmade-2.6.26.config": "2.6.26",
    "handmade-2.6.32.config": "2.6.32",
    "handmade-2.6.32-rhel6-backports.config": "2.6.32",
    "handmade-2.6.38.6.config": "2.6.38.6",
    "handmade-3.2.config": "3.2.0",
    "handmade-4.4.config": "4.4.0",
    "handmade-4.9.config": "4.9.0",
    "handmade-5.0.config": "5.0.0",
    "handmade-6.12-cgroupv1-trap.config": "6.12.0",
    "handmade-6.17-xtables-legacy.config": "6.17.0",
    "synthetic-10.1.0-two-digit-major.config": "10.1.0",
}
# No version in the file: (version we pass, why that one).
VERSIONLESS = {
    "no-header-fragment.config": "6.17.0",      # lxc assumes "latest"; 6.17 is our newest era
    "bad-header-no-version.config": "6.12.0",   # the 6.12 fixture with its version cut out
}
BAD_INPUTS = (
    "bad-empty.config",
    "bad-binary-junk.bin",
    "bad-truncated.config.gz",
    "bad-corrupt.config.xz",
    "bad-no-config-lines.config",
)

# lxc-checkconfig's labels (lxc 5.0.x; older/newer spellings where they differ) -> our check ids.
LXC_LABELS = {
    "Namespaces": "namespaces",
    "Utsname namespace": "uts_namespace",
    "Ipc namespace": "ipc_namespace",
    "Pid namespace": "pid_namespace",
    "User namespace": "user_namespace",
    "Network namespace": "network_namespace",
    "Multiple /dev/pts instances": "devpts_multiple_instances",
    "Cgroups": "cgroups",
    "Cgroup device": "cgroup_device",
    "Cgroup sched": "cgroup_sched",
    "Cgroup cpu account": "cgroup_cpuacct",
    "Cgroup memory controller": "cgroup_memory",
    "Cgroup cpuset": "cgroup_cpuset",
    "Veth pair device": "veth",
    "Macvlan": "macvlan",
    "Vlan": "vlan",
    "Bridges": "bridge",
    "Advanced netfilter": "netfilter_advanced",
    "CONFIG_NF_NAT_IPV4": "nf_nat_ipv4",
    "CONFIG_NF_NAT_IPV6": "nf_nat_ipv6",
    "CONFIG_IP_NF_TARGET_MASQUERADE": "ip_nf_target_masquerade",
    "CONFIG_IP6_NF_TARGET_MASQUERADE": "ip6_nf_target_masquerade",
    "CONFIG_NETFILTER_XT_TARGET_CHECKSUM": "netfilter_xt_target_checksum",
    "CONFIG_NETFILTER_XT_MATCH_COMMENT": "netfilter_xt_match_comment",
    "FUSE (for use with lxcfs)": "fuse",
    "checkpoint restore": "checkpoint_restore",
    "CONFIG_FHANDLE": "fhandle",
    "CONFIG_EVENTFD": "eventfd",
    "CONFIG_EPOLL": "epoll",
    "CONFIG_UNIX_DIAG": "unix_diag",
    "CONFIG_INET_DIAG": "inet_diag",
    "CONFIG_PACKET_DIAG": "packet_diag",
    "CONFIG_NETLINK_DIAG": "netlink_diag",
    "File capabilities": "file_capabilities",
}
# Lines about the running host, printed even when CONFIG= names another kernel's config:
# no verdict about the file (docs/differential.md#runtime-facts).
RUNTIME_LABELS = frozenset((
    "Cgroup namespace",
    "Cgroup ns_cgroup",
    "Cgroup v1 mount points",
    "Cgroup v2 mount points",
    "Cgroup v1 systemd controller",
    "Cgroup v1 freezer controller",
    "Cgroup v1 clone_children flag",
    "Namespace limits",
))
# Prose with a colon in it, not a check.
PROSE_LABELS = frozenset(("WARNING", "Warning", "Note ", "usage ", "Kernel configuration found at"))

# The ids the checker must report (the issue's list); the differential covers the subset above.
ISSUE_IDS = LXC_CHECKCONFIG_IDS + (
    "seccomp", "seccomp_filter", "cgroup_pids", "cgroup_freezer", "cgroup_bpf", "posix_mqueue",
    "cgroup_memory_v1", "cgroup_cpuset_v1", "netfilter_xtables_legacy",
)

ANSI = re.compile(r"\x1b\[[0-9;]*m")
LINE = re.compile(r"^(\S[^:]*):\s*(.*)$")
# How a broken version in lxc's `[ $KVER_MAJOR -lt 4 ]` tests shows on stderr (dash / bash / busybox).
SHELL_TEST_ERROR = re.compile(r"unexpected operator|integer expression expected|Illegal number|"
                              r"too many arguments|bad number")


def version_of(text):
    return parse_version(text)


# ---------------------------------------------------------------- running lxc-checkconfig

LxcRun = collections.namedtuple("LxcRun", "verdicts runtime_labels unknown_labels assumed_latest "
                                          "version_errors stdout stderr returncode")


def require_lxc_checkconfig():
    if os.path.isfile(LXC_CHECKCONFIG) and os.access(LXC_CHECKCONFIG, os.X_OK):
        return
    message = "%s is not installed (Debian package lxc; `make setup` installs it)" % LXC_CHECKCONFIG
    if os.environ.get("CI"):
        pytest.fail(message + ": CI is set, and the differential test must run there.")
    pytest.skip(message)


def lxc_release():
    """The installed lxc's version as a tuple, from `lxc-start --version` (lxc-checkconfig prints it too)."""
    lxc_start = shutil.which("lxc-start") or "/usr/bin/lxc-start"
    out = subprocess.run([lxc_start, "--version"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         universal_newlines=True, check=False).stdout
    version = version_of(out.strip())
    assert version, "cannot read lxc's version from %r" % out
    return version


def run_lxc_checkconfig(path):
    """Run the real script on a plain or gzip config; parse what it says."""
    env = {"CONFIG": str(path), "PATH": os.environ.get("PATH", "/usr/sbin:/usr/bin:/sbin:/bin"),
           "LANG": "C", "LC_ALL": "C"}
    proc = subprocess.run([LXC_CHECKCONFIG], env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, universal_newlines=True, check=False, timeout=120)
    stdout = ANSI.sub("", proc.stdout)
    verdicts, runtime, unknown = {}, set(), set()
    for line in stdout.splitlines():
        match = LINE.match(line)
        if not match:
            continue          # section titles, " - /sys/fs/cgroup/..." mount lists, helper notes
        label, rest = match.group(1), match.group(2)
        if label in LXC_LABELS:
            # "enabled", "missing", "required", with ", loaded" / ", not loaded" from lsmod.
            verdicts[LXC_LABELS[label]] = rest.split(",", 1)[0].strip()
        elif label in RUNTIME_LABELS:
            runtime.add(label)
        elif label not in PROSE_LABELS:
            unknown.add(label)
    return LxcRun(verdicts, runtime, unknown, "assuming latest" in stdout,
                  bool(SHELL_TEST_ERROR.search(proc.stderr)), stdout, proc.stderr, proc.returncode)


# ---------------------------------------------------------------- what "the same verdict" means

ENABLED_STATUSES = ("enabled", "module")
FILE_CAPS_ALWAYS_ON = version_of("2.6.33")

# Kernel release that introduced an option lxc-checkconfig checks without a version gate
# (docs/differential.md#unversioned-options).
INTRODUCED = {
    "netfilter_xt_target_checksum": version_of("2.6.35"),
    "fhandle": version_of("2.6.39"),
    "checkpoint_restore": version_of("3.3"),
    "unix_diag": version_of("3.3"),
    "packet_diag": version_of("3.6"),
    "ip6_nf_target_masquerade": version_of("3.7"),
    "netlink_diag": version_of("3.10"),
}


def same_verdict(check_id, theirs, status, version):
    """(agrees, equivalence key or None) for one check."""
    if theirs is None:
        return status == "not_applicable", None
    if theirs == "enabled":
        if status in ENABLED_STATUSES:
            return True, None
        # From 2.6.33 file capabilities are always on; lxc prints a hard-coded "enabled" without
        # reading the config, we say not_applicable (docs/differential.md#file-caps-hardcoded).
        if check_id == "file_capabilities" and status == "not_applicable" and version >= FILE_CAPS_ALWAYS_ON:
            return True, "file-caps-hardcoded"
        return False, None
    if theirs in ("missing", "required"):
        return status == "missing", None
    return False, None        # an empty or unknown verdict is never an agreement


Ctx = collections.namedtuple("Ctx", "check_id theirs status version run lxc")
# applies(ctx) -> bool. right_symbol(ctx) -> the option lxc-checkconfig should have looked at
# (None: nothing to look at). An exemption must not blind the test: where it names a symbol, our
# verdict is still checked against lxc's own test (`grep "CONFIG_X=[y|m]"`) on that symbol.
Exemption = collections.namedtuple("Exemption", "key lxc_since lxc_until applies right_symbol")


def lxc_is_set(config_text, symbol):
    """lxc-checkconfig 5.0's is_set: `grep "CONFIG_X=[y|m]"` anywhere in a line."""
    return re.search("CONFIG_%s=[y|m]" % re.escape(symbol), config_text) is not None


def _old_header(c):
    # Pre-2.6.37 header not recognised: lxc checks the config as "latest" (lxc 8525b5e51, c1e61eac4).
    if not (c.run.assumed_latest and c.version < version_of("2.6.37")):
        return False
    if c.check_id == "cgroup_memory":      # looked for MEMCG instead of CGROUP_MEM_RES_CTLR
        return c.version < version_of("3.6") and c.theirs == "missing" and c.status in ENABLED_STATUSES
    if c.check_id == "file_capabilities":  # hard-coded "enabled" instead of reading the option
        return c.version < FILE_CAPS_ALWAYS_ON and c.theirs == "enabled" and c.status == "missing"
    if c.check_id == "devpts_multiple_instances":  # skipped as if >= 4.7
        return c.theirs is None and c.status != "not_applicable"
    return False


def _old_header_symbol(c):
    return {"cgroup_memory": "CGROUP_MEM_RES_CTLR", "file_capabilities": "SECURITY_FILE_CAPABILITIES",
            "devpts_multiple_instances": "DEVPTS_MULTIPLE_INSTANCES"}[c.check_id]


def _version_parse_errors(c):
    # Two-digit major or a versionless banner: every `[ $KVER_MAJOR -op N ]` errors out (false), so
    # the memory check falls back to CGROUP_MEM_RES_CTLR on a MEMCG kernel.
    return (c.run.version_errors and c.check_id == "cgroup_memory" and c.version >= version_of("3.6")
            and c.theirs == "missing" and c.status in ENABLED_STATUSES)


def _nf_nat_gate(c):
    # `[ MAJOR -gt 3 ] && [ MINOR -gt 6 ] && [ MAJOR -lt 5 ]` (lxc 5017adb35): 3.7-4.6 and 5.0 have
    # NF_NAT_IPV4/6 but lxc never looks at them.
    return (c.check_id in ("nf_nat_ipv4", "nf_nat_ipv6") and c.theirs is None
            and c.status != "not_applicable"
            and (version_of("3.7") <= c.version < version_of("4.7") or version_of("5.0") <= c.version < version_of("5.1")))


def _nf_nat_gate_symbol(c):
    return {"nf_nat_ipv4": "NF_NAT_IPV4", "nf_nat_ipv6": "NF_NAT_IPV6"}[c.check_id]


def _nf_nat_not_checked(c):
    # lxc knows only the 3.7-5.0 names: plain NF_NAT (IPv4 NAT before 3.7, both since 5.1) is
    # never checked.
    if c.theirs is not None or c.status == "not_applicable":
        return False
    if c.check_id == "nf_nat_ipv4":
        return c.version < version_of("3.7") or c.version >= version_of("5.1")
    return c.check_id == "nf_nat_ipv6" and c.version >= version_of("5.1")


def _unversioned_options(c):
    # lxc checks options that did not exist yet in this kernel: "missing", ours not_applicable.
    introduced = INTRODUCED.get(c.check_id)
    return (introduced is not None and c.version < introduced
            and c.theirs == "missing" and c.status == "not_applicable")


def _devpts_prefix(c):
    # `is_enabled DEVPTS_MULTIPLE_INSTANCES` without CONFIG_, grep anchored since lxc 003efe6db
    # (v6.0.0): never matches, "missing" on every kernel < 4.7.
    return (c.check_id == "devpts_multiple_instances" and c.version < version_of("4.7")
            and c.theirs == "missing" and c.status in ENABLED_STATUSES)


EXEMPTIONS = (
    Exemption("old-header", version_of("3.1"), None, _old_header, _old_header_symbol),
    Exemption("version-parse-errors", None, None, _version_parse_errors, lambda c: "MEMCG"),
    Exemption("nf-nat-gate", version_of("5.0"), None, _nf_nat_gate, _nf_nat_gate_symbol),
    Exemption("nf-nat-not-checked", version_of("5.0"), None, _nf_nat_not_checked, lambda c: "NF_NAT"),
    Exemption("unversioned-options", None, None, _unversioned_options, lambda c: None),
    Exemption("devpts-prefix", version_of("6.0"), None, _devpts_prefix, lambda c: "DEVPTS_MULTIPLE_INSTANCES"),
)
# Keys that are not per-check exemptions but must fire too (see docs/differential.md).
EQUIVALENCES = ("file-caps-hardcoded", "runtime-facts")


def exemption_in_force(exemption, lxc):
    return ((exemption.lxc_since is None or lxc >= exemption.lxc_since)
            and (exemption.lxc_until is None or lxc < exemption.lxc_until))


def compare(name, version_text, run, ours, lxc, config_text):
    """(disagreements as text, set of exemption/equivalence keys that fired)."""
    version = version_of(version_text)
    statuses = dict((check["id"], check["status"]) for check in ours["checks"])
    levels = dict((check["id"], check["level"]) for check in ours["checks"])
    fired, problems = set(), []
    if run.runtime_labels:
        fired.add("runtime-facts")
    for check_id in sorted(set(LXC_LABELS.values())):
        theirs, status = run.verdicts.get(check_id), statuses[check_id]
        if theirs == "required" and levels[check_id] != "required":
            problems.append("%s: lxc-checkconfig calls it required, our level is %s"
                            % (check_id, levels[check_id]))
        agrees, equivalence = same_verdict(check_id, theirs, status, version)
        if agrees:
            if equivalence:
                fired.add(equivalence)
            continue
        ctx = Ctx(check_id, theirs, status, version, run, lxc)
        exemptions = [ex for ex in EXEMPTIONS if exemption_in_force(ex, lxc) and ex.applies(ctx)]
        for exemption in exemptions:
            fired.add(exemption.key)
            symbol = exemption.right_symbol(ctx)
            if symbol and lxc_is_set(config_text, symbol) != (status in ENABLED_STATUSES):
                problems.append("%s: exempted as %s, but lxc's own test on the right option CONFIG_%s "
                                "says %s, we say %s (%s, kernel %s)"
                                % (check_id, exemption.key, symbol,
                                   "enabled" if lxc_is_set(config_text, symbol) else "missing",
                                   status, name, version_text))
        if exemptions:
            continue
        problems.append("%s: lxc-checkconfig says %s, we say %s (%s, kernel %s)"
                        % (check_id, "no line" if theirs is None else repr(theirs), status, name,
                           version_text))
    return problems, fired


# ---------------------------------------------------------------- running both on the fixtures

def fixture_text(name):
    data = (FIXTURES / name).read_bytes()
    return (lzma.decompress(data) if name.endswith(".xz") else data).decode("utf-8", "replace")


def plain_copy(name, directory):
    """lxc-checkconfig reads plain or gzip only: hand it xz fixtures decompressed."""
    source = FIXTURES / name
    if not name.endswith(".xz"):
        return source
    target = directory / name[:-len(".xz")]
    target.write_bytes(lzma.decompress(source.read_bytes()))
    return target


@pytest.fixture(scope="module")
def lxc():
    require_lxc_checkconfig()
    return lxc_release()


@pytest.fixture(scope="module")
def differential(lxc, tmp_path_factory):
    """name -> (version, lxc run, our result, disagreements, fired keys), for every fixture."""
    directory = tmp_path_factory.mktemp("plain-configs")
    results = {}
    for name, version in sorted(list(FIXTURE_VERSIONS.items()) + list(VERSIONLESS.items())):
        run = run_lxc_checkconfig(plain_copy(name, directory))
        ours = check_kernel(config=str(FIXTURES / name),
                            kernel_version=VERSIONLESS.get(name))
        problems, fired = compare(name, version, run, ours, lxc, fixture_text(name))
        results[name] = (version, run, ours, problems, fired)
    return results


def test_fixture_list_is_complete():
    """Every config fixture is either compared with lxc-checkconfig or a declared bad input."""
    on_disk = set(p.name for p in FIXTURES.iterdir() if p.name != "README.md")
    declared = set(FIXTURE_VERSIONS) | set(VERSIONLESS) | set(BAD_INPUTS)
    assert on_disk == declared, "undeclared: %s; declared but absent: %s" % (
        sorted(on_disk - declared), sorted(declared - on_disk))


@pytest.mark.parametrize("name", sorted(list(FIXTURE_VERSIONS) + list(VERSIONLESS)))
def test_same_verdicts_as_lxc_checkconfig(differential, name):
    version, run, ours, problems, _fired = differential[name]
    assert run.returncode == 0, run.stderr
    assert not problems, (
        "our checker and lxc-checkconfig disagree on %s outside the documented upstream bugs (%s):\n  %s"
        % (name, DOC, "\n  ".join(problems)))


@pytest.mark.parametrize("path", DISTRO_CONFIGS, ids=[p.name for p in DISTRO_CONFIGS])
def test_real_distribution_configs_same_verdicts(lxc, tmp_path, path):
    """The twelve real distribution configs: the same verdicts as lxc-checkconfig on every shared
    check, with no exemption but those documented (no new one was needed)."""
    plain = tmp_path / path.name[:-len(".xz")]
    plain.write_bytes(lzma.decompress(path.read_bytes()))
    run = run_lxc_checkconfig(plain)
    ours = check_kernel(config=str(path))
    problems, fired = compare(path.name, ours["kernel_version"], run, ours, lxc, plain.read_text(errors="replace"))
    assert run.returncode == 0 and not run.unknown_labels
    assert not problems, "\n  ".join(problems)
    assert fired <= {"file-caps-hardcoded", "nf-nat-not-checked", "runtime-facts"}


@pytest.mark.parametrize("name", sorted(FIXTURE_VERSIONS))
def test_version_read_from_header(differential, name):
    """Our checker reads each fixture's true version (the exemptions are keyed on it)."""
    version, _run, ours, _problems, _fired = differential[name]
    assert version_of(ours["kernel_version"])[:3] == version_of(version)[:3]


def test_every_lxc_check_was_compared(differential):
    """Each mapped lxc label was printed for at least one fixture, so no mapping is dead."""
    seen = set()
    for _version, run, _ours, _problems, _fired in differential.values():
        seen.update(run.verdicts)
    assert seen == set(LXC_LABELS.values())


def test_lxc_output_fully_understood(differential):
    """A label we do not know means lxc-checkconfig changed: map it, or call it runtime."""
    unknown = dict((name, sorted(run.unknown_labels)) for name, (_v, run, _o, _p, _f) in differential.items()
                   if run.unknown_labels)
    assert not unknown


def test_exemptions_not_stale(differential, lxc):
    """Every exemption in force for this lxc version still fires on some fixture."""
    fired = set()
    for _version, _run, _ours, _problems, keys in differential.values():
        fired |= keys
    expected = set(ex.key for ex in EXEMPTIONS if exemption_in_force(ex, lxc)) | set(EQUIVALENCES)
    assert expected - fired == set(), "stale exemptions (never needed): %s" % sorted(expected - fired)


def test_exemptions_documented():
    """Each exemption key is a heading anchor in docs/differential.md."""
    doc = (FIXTURES.parents[2] / DOC).read_text()
    anchors = set(re.findall(r'^#+ .*?\{#([a-z0-9-]+)\}\s*$', doc, re.M)) | set(
        re.findall(r'<a id="([a-z0-9-]+)"></a>', doc))
    keys = set(ex.key for ex in EXEMPTIONS) | set(EQUIVALENCES) | {"garbage-input", "compression"}
    assert keys <= anchors, "undocumented: %s" % sorted(keys - anchors)


def test_issue_ids_reported():
    """Every check id of the issue's list is in our results (for a file, any version)."""
    for name in ("handmade-2.6.26.config", "linux-6.1-defconfig.config", "handmade-6.17-xtables-legacy.config"):
        ids = [check["id"] for check in check_kernel(config=str(FIXTURES / name))["checks"]]
        assert len(ids) == len(set(ids))
        assert set(ISSUE_IDS) <= set(ids), "%s: missing %s" % (name, sorted(set(ISSUE_IDS) - set(ids)))


def test_versionless_configs_need_kernel_version(differential):
    """lxc-checkconfig guesses (or trips over) a missing version; we refuse and say what to pass."""
    for name in VERSIONLESS:
        with pytest.raises(KconfigError, match="kernel_version"):
            check_kernel(config=str(FIXTURES / name))
    assert differential["no-header-fragment.config"][1].assumed_latest
    assert differential["bad-header-no-version.config"][1].version_errors


# ---------------------------------------------------------------- compression and bad input

def _zstd(data):
    try:
        import zstandard  # pylint: disable=import-outside-toplevel
    except ImportError:
        zstandard = None
    if zstandard is not None:
        return zstandard.ZstdCompressor().compress(data)
    if shutil.which("zstd"):
        return subprocess.run(["zstd", "-q", "-c"], input=data, stdout=subprocess.PIPE, check=True).stdout
    pytest.skip("neither the zstandard module nor the zstd command is available")


COMPRESSORS = {
    "gzip": lambda data: gzip.compress(data, mtime=0),
    "xz": lzma.compress,
    "bzip2": bz2.compress,
    "zstd": _zstd,
}


@pytest.mark.parametrize("compression", sorted(COMPRESSORS))
@pytest.mark.parametrize("name", ["handmade-2.6.38.6.config", "handmade-4.4.config", "linux-6.1-defconfig.config"])
def test_compressed_copy_same_verdicts(tmp_path, name, compression):
    """The same config compressed any way gives our checker the same verdicts as plain text."""
    plain = FIXTURES / name
    packed = tmp_path / (name + ".packed")
    packed.write_bytes(COMPRESSORS[compression](plain.read_bytes()))
    want = check_kernel(config=str(plain))
    got = check_kernel(config=str(packed))
    assert got["compression"] == compression
    assert got["kernel_version"] == want["kernel_version"]
    assert [(c["id"], c["status"]) for c in got["checks"]] == [(c["id"], c["status"]) for c in want["checks"]]


@pytest.mark.parametrize("name", ["handmade-4.4.config", "linux-6.1-tinyconfig-lxc.config"])
def test_gzip_compared_with_lxc_checkconfig(lxc, tmp_path, name):
    """lxc-checkconfig reads gzip itself: the gzip copy must compare exactly like the plain file."""
    packed = tmp_path / (name + ".gz")
    packed.write_bytes(gzip.compress((FIXTURES / name).read_bytes(), mtime=0))
    plain_run, packed_run = run_lxc_checkconfig(FIXTURES / name), run_lxc_checkconfig(packed)
    assert packed_run.verdicts == plain_run.verdicts
    problems, _fired = compare(name, FIXTURE_VERSIONS[name], packed_run, check_kernel(config=str(packed)), lxc,
                               fixture_text(name))
    assert not problems


@pytest.mark.parametrize("name", BAD_INPUTS)
def test_bad_input_refused_where_lxc_checkconfig_reports_all_missing(lxc, name):
    """Garbage in: lxc-checkconfig prints a full report (everything missing, exit 0); we refuse
    with a message (docs/differential.md#garbage-input)."""
    with pytest.raises(KconfigError) as err:
        check_kernel(config=str(FIXTURES / name))
    assert str(FIXTURES / name) in str(err.value)
    run = run_lxc_checkconfig(FIXTURES / name)
    assert run.returncode == 0
    assert run.verdicts.get("namespaces") == "required"
    # Every verdict read from the file is negative; only the hard-coded file-caps line says "enabled".
    assert set(v for k, v in run.verdicts.items() if k != "file_capabilities") <= {"missing", "required"}


def test_lxc_checkconfig_cannot_read_xz(lxc, tmp_path):
    """Why xz fixtures are decompressed first: lxc-checkconfig greps xz bytes and finds nothing
    (docs/differential.md#compression)."""
    name = "linux-6.1-tinyconfig-lxc.config"
    packed = tmp_path / (name + ".xz")
    packed.write_bytes(lzma.compress((FIXTURES / name).read_bytes()))
    run = run_lxc_checkconfig(packed)
    assert run.returncode == 0 and run.assumed_latest
    assert run.verdicts["namespaces"] == "required"
    ours = check_kernel(config=str(packed))
    assert ours["compression"] == "xz" and dict((c["id"], c["status"]) for c in ours["checks"])["namespaces"] == "enabled"
