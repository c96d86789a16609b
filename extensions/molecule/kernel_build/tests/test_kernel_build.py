# -*- coding: utf-8 -*-
# Copyright: lxchost.prep contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the kernel_build scenario leaves behind: one build of linux-source-6.1 at tinyconfig plus
the LXC options, as .deb packages, compiled by the unprivileged build user with ccache, whose
kernel config passes lxchost.prep.lxc_checkconfig. The idempotence step (0 changed) and the
shared check-mode test prove that later runs compile nothing."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os

import pytest
import testinfra.utils.ansible_runner

HOSTS = testinfra.utils.ansible_runner.AnsibleRunner(os.environ["MOLECULE_INVENTORY_FILE"]).get_hosts("all")
ROOT = "/var/tmp/kernel-build"
BUILD_USER = "kbuild"


@pytest.fixture(scope="module")
def last_build(host):
    return json.loads(host.file(ROOT + "/last-build.json").content_string)


@pytest.fixture(scope="module")
def image_deb(host, last_build):
    debs = host.check_output("ls %s/linux-image-*.deb" % last_build["packages"]).split()
    assert len(debs) == 1, debs
    return debs[0]


@pytest.mark.parametrize("name", HOSTS)
def test_exactly_one_build_was_made(host, name, last_build):
    assert host.check_output("ls %s/packages" % ROOT).split() == [last_build["fingerprint"][:16]]
    assert len(host.check_output("ls %s/logs/*.log" % ROOT).split()) == 1
    assert last_build["release"].startswith(last_build["inputs"]["version"] + "-lxc-")
    assert last_build["inputs"]["version"].startswith("6.1.")


def test_packages_are_debs_of_the_release(host, last_build, image_deb):
    release = last_build["release"]
    assert host.check_output("dpkg-deb -f %s Package" % image_deb) == "linux-image-%s" % release
    contents = host.check_output("dpkg-deb -c %s" % image_deb)
    assert "./boot/vmlinuz-%s" % release in contents
    assert "./boot/config-%s" % release in contents
    # bindeb-pkg makes linux-headers only with CONFIG_MODULES, which this tinyconfig kernel lacks.
    listing = host.check_output("ls %s/" % last_build["packages"]).split()
    assert [name.split("_")[0] for name in listing if name.endswith(".deb")] == [
        "linux-image-%s" % release, "linux-libc-dev"], listing


def test_packaged_config_passes_the_checker(host, last_build, image_deb):
    release = last_build["release"]
    extracted = "/var/tmp/kernel-build-verify"
    host.check_output("rm -rf {0} && mkdir -p {0} && dpkg-deb -x {1} {0}".format(extracted, image_deb))
    config = "%s/boot/config-%s" % (extracted, release)
    result = host.ansible("lxchost.prep.lxc_checkconfig", "config=%s fail_on=recommended cgroup_mode=both" % config,
                          check=False)
    assert not result.get("failed"), result.get("msg")
    assert result["ready"] is True and result["kernel_version"].startswith("6.1.")
    assert result["missing_required"] == [] and result["missing_recommended"] == []
    text = host.file(config).content_string
    for line in ("CONFIG_VETH=y", "CONFIG_BRIDGE=y", "CONFIG_NET_NS=y", "CONFIG_CGROUP_BPF=y",
                 "CONFIG_NETFILTER_XT_TARGET_CHECKSUM=y"):
        assert line in text.splitlines(), line
    # The packaged config is the one the role checked and kept next to the packages.
    assert text == host.file(last_build["config"]).content_string


def test_compiled_by_the_unprivileged_user(host, last_build):
    user = host.user(BUILD_USER)
    assert user.exists and user.uid != 0
    info = host.file(last_build["packages"] + "/build-info.txt").content_string
    assert "built_by=%s" % BUILD_USER in info
    objects = host.check_output("find %s/build -name vmlinux -o -name 'fork.o'" % ROOT).split()
    assert objects, "no build tree"
    for path in objects:
        assert host.file(path).user == BUILD_USER, path
    assert host.check_output("find %s/build -user root | head -n 5" % ROOT) == ""


def test_compiled_with_ccache(host, last_build):
    log = host.file("%s/logs/build-%s.log" % (ROOT, last_build["fingerprint"][:16])).content_string
    assert "CC=ccache gcc" in log
    stats = dict(line.split("\t", 1) for line in host.check_output(
        "sudo -u %s env CCACHE_DIR=/var/cache/kernel-build/ccache ccache --print-stats" % BUILD_USER).splitlines()
        if "\t" in line)
    assert int(stats["cache_miss"]) > 500, stats  # the cold build filled the cache
    assert host.file("/var/cache/kernel-build/ccache").user == BUILD_USER
    assert "max_size = 5G" in host.file("/var/cache/kernel-build/ccache/ccache.conf").content_string


def test_nothing_installed_in_a_container(host, last_build):
    assert not host.package("linux-image-%s" % last_build["release"]).is_installed
