# -*- coding: utf-8 -*-
# Copyright: lxchost.prep contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What site.yml leaves on machines that boot: the VMs run the kernel built once on the builder,
booted through GRUB, with the previous kernel still installed and the default; cgroups are
mounted as each kind of host needs (the classic v1 line on the sysvinit host, cgroup2 on the
systemd host); lxc-net runs (lxcbr0, NAT, dnsmasq); the proof container got an address on the
bridge and reached the host; side_effect.yml's broken kernel fell back.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import glob
import json
import os
import re

import pytest
import testinfra.utils.ansible_runner

RUNNER = testinfra.utils.ansible_runner.AnsibleRunner(os.environ["MOLECULE_INVENTORY_FILE"])
VMS = RUNNER.get_hosts("lxc_hosts")
BUILDER = RUNNER.get_hosts("kernel_builders")[0]
REPORT_DIR = os.path.join(os.environ["MOLECULE_EPHEMERAL_DIRECTORY"], "fleet-report")
BOOT_RECORD = "/var/lib/lxchost-prep/kernel-boot.json"
CLASSIC_LINE = "cgroup /var/local/cgroup cgroup defaults 0 0"
CGROUP2_LINE = "cgroup2 /var/local/cgroup cgroup2 defaults 0 0"


def _host(name):
    return testinfra.get_host("ansible://%s?ansible_inventory=%s" % (name, os.environ["MOLECULE_INVENTORY_FILE"]))


def _kind(host):
    return "legacy" if host.check_output("cat /proc/1/comm") == "init" else "systemd"


def _report(mode, which):
    paths = sorted(glob.glob(os.path.join(REPORT_DIR, "fleet-report-%s-*.json" % mode)))
    assert paths, "no %s report in %s" % (mode, REPORT_DIR)
    with open(paths[which]) as handle:
        report = json.load(handle)
    return dict((row["host"], row) for row in report["hosts"])


@pytest.fixture(scope="module")
def builds():
    """The builder's builds: the good one (converge) and the one without virtio-blk (side effect)."""
    builder = _host(BUILDER)
    found = {}
    for info in builder.check_output("ls /var/tmp/kernel-build/packages/*/build-info.json").split():
        record = json.loads(builder.file(info).content_string)
        found[record["release"]] = record
    return found


@pytest.fixture(scope="module")
def good_release():
    """The release converge booted: every VM runs it (the side effect's kernel fell back to it)."""
    releases = set(json.loads(_host(name).file(BOOT_RECORD).content_string).get("running") for name in VMS)
    assert len(releases) == 1, releases
    return releases.pop()


def test_two_kinds_of_vm():
    kinds = sorted(_kind(_host(name)) for name in VMS)
    assert kinds == ["legacy", "systemd"]


def test_built_once_plus_the_broken_variant(builds, good_release):
    # converge, idempotence and the check runs built once; the side effect built its variant.
    assert len(builds) == 2, sorted(builds)
    assert good_release in builds
    broken = [r for r in builds if r != good_release][0]
    builder = _host(BUILDER)
    config = builder.file("/var/tmp/kernel-build/packages/%s/config" % builds[broken]["fingerprint"][:16]).content_string
    assert "# CONFIG_VIRTIO_BLK is not set" in config
    assert builder.check_output("stat -c %%U /var/tmp/kernel-build/packages/%s" % builds[good_release]["fingerprint"][:16]) == "kbuild"


@pytest.mark.parametrize("name", VMS)
def test_vm_runs_the_built_kernel_booted_by_grub(name, good_release):
    host = _host(name)
    assert host.check_output("uname -r") == good_release
    cmdline = host.file("/proc/cmdline").content_string
    assert cmdline.startswith("BOOT_IMAGE=/boot/vmlinuz-%s " % good_release), cmdline  # GRUB booted it
    assert " panic=10" in cmdline
    saved = host.check_output("grub-editenv list")
    assert re.search(r"saved_entry=\S*gnulinux-%s-advanced-" % re.escape(good_release), saved), saved
    assert not re.search(r"next_entry=\S", saved), saved  # the one-shot boot was consumed


@pytest.mark.parametrize("name", VMS)
def test_previous_kernel_still_installed_with_its_grub_entry(name):
    host = _host(name)
    stock = host.check_output("dpkg-query -W -f '${Package}\\n' 'linux-image-*-cloud-amd64'").split()
    assert stock, "the distribution kernel was removed"
    grub = host.file("/boot/grub/grub.cfg").content_string
    for package in stock:
        release = package[len("linux-image-"):]
        assert "gnulinux-%s-advanced-" % release in grub


@pytest.mark.parametrize("name", VMS)
def test_running_kernel_ready_and_modules_loaded(name):
    host = _host(name)
    result = host.ansible("lxchost.prep.lxc_checkconfig", "", check=False)
    assert result["ready"] is True, result.get("missing_required")
    modules = result["runtime"]["modules"]
    for check in ("veth", "bridge"):
        assert modules[check]["loaded"] is True, modules.get(check)


def test_cgroups_mounted_as_each_kind_needs():
    for name in VMS:
        host = _host(name)
        fstab = host.file("/etc/fstab").content_string.splitlines()
        mount = host.mount_point("/var/local/cgroup")
        assert mount.exists
        if _kind(host) == "legacy":
            # Nothing holds the v1 controllers on a sysvinit host: the classic line, all controllers.
            assert fstab.count(CLASSIC_LINE) == 1, fstab
            assert mount.filesystem == "cgroup"
            assert "memory" in mount.options and "cpuset" in mount.options, mount.options
        else:
            assert fstab.count(CGROUP2_LINE) == 1, fstab
            assert mount.filesystem == "cgroup2"


@pytest.mark.parametrize("name", VMS)
def test_lxc_net_runs(name):
    host = _host(name)
    assert "10.0.3.1/24" in host.check_output("ip -4 -o addr show dev lxcbr0")
    assert host.file("/proc/sys/net/ipv4/ip_forward").content_string.strip() == "1"
    rules = host.check_output("nft list ruleset 2>/dev/null || iptables-save -t nat")
    assert "masquerade" in rules.lower(), rules
    assert host.process.filter(comm="dnsmasq"), "dnsmasq does not run"


@pytest.mark.parametrize("name", VMS)
def test_proof_got_an_address_and_reached_the_host(name):
    row = _report("run", -1)[name]
    assert row["status"] == "ok", row
    assert row["network"] == "lxc-net"
    text = "\n".join(row["proof"])
    assert re.search(r"inet 10\.0\.3\.\d+/24", text), text
    assert "reached the host's bridge address 10.0.3.1" in text, text
    assert row["planned_changes"] == []  # the idempotence run changed nothing


def test_check_report_on_fresh_vms_planned_the_build_and_the_boot():
    rows = _report("check", 0)
    for name in VMS:
        row = rows[name]
        assert row["status"] == "ok", row
        assert row["kernel_plan"] == "build", row
        assert row["network"] == "lxc-net", row


def test_broken_kernel_fell_back_and_stays_off(builds, good_release):
    host = _host(VMS[0])
    record = json.loads(host.file(BOOT_RECORD).content_string)
    assert record["result"] == "fell_back", record
    assert record["running"] == good_release and record["previous"] == good_release
    assert record["release"] != good_release and record["release"] in builds
    # Still installed (nothing removed), never the default.
    assert host.package("linux-image-%s" % record["release"]).is_installed
