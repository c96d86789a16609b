# -*- coding: utf-8 -*-
# Copyright: lxchost.prep contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The kernel path on machines that boot: the VMs run the kernel built once on the builder, booted
through GRUB, with the previous kernel still installed; side_effect.yml's kernel without its disk
driver fell back and is not tried again. What every VM scenario checks (cgroups, lxc-net, the
proof) is in ../resources/vm/test_vm_common.py.
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


def _host(name):
    return testinfra.get_host("ansible://%s?ansible_inventory=%s" % (name, os.environ["MOLECULE_INVENTORY_FILE"]))


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


def test_built_once_plus_the_broken_variant(builds, good_release):
    # converge, idempotence and the check runs built once; the side effect built its variant.
    assert len(builds) == 2, sorted(builds)
    assert good_release in builds
    broken = [r for r in builds if r != good_release][0]
    builder = _host(BUILDER)
    config = builder.file("/var/tmp/kernel-build/packages/%s/config" % builds[broken]["fingerprint"][:16]).content_string
    assert "# CONFIG_VIRTIO_BLK is not set" in config
    assert builder.check_output("stat -c %%U /var/tmp/kernel-build/packages/%s" % builds[good_release]["fingerprint"][:16]) == "kbuild"


def test_compiled_by_the_unprivileged_user_with_ccache(builds, good_release):
    builder = _host(BUILDER)
    fingerprint = builds[good_release]["fingerprint"][:16]
    assert "built_by=kbuild" in builder.file("/var/tmp/kernel-build/packages/%s/build-info.txt" % fingerprint).content_string
    assert "CC=ccache gcc" in builder.file("/var/tmp/kernel-build/logs/build-%s.log" % fingerprint).content_string
    assert builder.check_output("find /var/tmp/kernel-build/build -user root | head -n 5") == ""
    stats = dict(line.split("\t", 1) for line in builder.check_output(
        "sudo -u kbuild env CCACHE_DIR=/var/cache/kernel-build/ccache ccache --print-stats").splitlines() if "\t" in line)
    # The first build filled the cache (a cold cache: every object a miss); the variant without
    # virtio-blk (side effect) took what had not changed from it.
    hits = int(stats.get("direct_cache_hit", 0)) + int(stats.get("preprocessed_cache_hit", 0))
    assert int(stats["cache_miss"]) > 100 and hits > 100, stats


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
def test_running_kernel_ready_with_every_recommended_option(name):
    host = _host(name)
    result = host.ansible("lxchost.prep.lxc_checkconfig", "fail_on=recommended", check=False)
    # ansible-core 2.19 leaves "failed" out of the result testinfra reads: a failure shows by its msg.
    assert not result.get("failed") and "msg" not in result, result.get("msg")
    assert result["ready"] is True and result["missing_recommended"] == [], result.get("missing_recommended")


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
