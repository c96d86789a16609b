# -*- coding: utf-8 -*-
# Copyright: lxchost.prep contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Two kernels compared (baseline): what changes in readiness from one config to another, on real
configs and on the running kernel of a recorded host tree."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from pathlib import Path

import pytest

from ansible_collections.lxchost.prep.plugins.module_utils import _lxc_catalogue as catalogue
from ansible_collections.lxchost.prep.plugins.module_utils._kconfig import KconfigError
from ansible_collections.lxchost.prep.plugins.module_utils._lxc_checker import check_kernel
from ansible_collections.lxchost.prep.tests.unit.plugins.module_utils.host_trees import host_root

FIXTURES = Path(__file__).resolve().parents[3] / "fixtures" / "configs"
DISTRO = Path(__file__).resolve().parents[2] / "fixtures" / "distro-configs"
MET = ("enabled", "module", "not_applicable")
PAIRS = [
    (FIXTURES / "handmade-2.6.38.6.config", FIXTURES / "linux-6.1-defconfig.config"),
    (DISTRO / "debian10-buster-4.19.249-arm64.config.xz", DISTRO / "ubuntu24.04-noble-6.8.1-x86_64.config.xz"),
    (DISTRO / "arch-6.17.5-x86_64.config.xz", FIXTURES / "linux-6.1-tinyconfig.config"),
    (FIXTURES / "linux-6.1-tinyconfig.config", FIXTURES / "linux-6.1-tinyconfig-lxc.config"),
]


def statuses(result):
    return dict((c["id"], c["status"]) for c in result["checks"] if c["group"] != "host")


@pytest.mark.parametrize("old, new", PAIRS, ids=["%s->%s" % (o.name, n.name) for o, n in PAIRS])
@pytest.mark.parametrize("profile", catalogue.PROFILES)
def test_the_comparison_is_the_two_verdicts_side_by_side(old, new, profile):
    compared = check_kernel(config=str(new), baseline=str(old), profile=profile)["baseline"]
    before = statuses(check_kernel(config=str(old), profile=profile))
    after = statuses(check_kernel(config=str(new), profile=profile))
    assert compared["became_missing"] == [i for i in after if after[i] == "missing" and before[i] in MET]
    assert compared["became_enabled"] == [i for i in after if before[i] == "missing" and after[i] in ("enabled", "module")]
    assert [(c["id"], c["before"], c["after"]) for c in compared["changes"]] == [
        (i, before[i], after[i]) for i in after if before[i] != after[i]]
    assert compared["config_source"] == str(old)
    assert compared["ready"] is check_kernel(config=str(old), profile=profile)["ready"]


def test_a_summary_a_user_can_read():
    compared = check_kernel(config=str(FIXTURES / "linux-6.1-tinyconfig-lxc.config"),
                            baseline=str(FIXTURES / "linux-6.1-tinyconfig.config"))["baseline"]
    assert compared["became_enabled"] and "namespaces" in compared["became_enabled"]
    assert compared["summary"].startswith("compared with %s (kernel 6.1.192): gains namespaces, "
                                          % (FIXTURES / "linux-6.1-tinyconfig.config"))
    assert "; loses nothing; ready for LXC neither before nor after" in compared["summary"]  # SIGNALFD stays off


def test_the_newer_kernel_loses_what_it_lacks():
    compared = check_kernel(config=str(FIXTURES / "linux-6.1-tinyconfig.config"),
                            baseline=str(FIXTURES / "linux-6.1-tinyconfig-lxc.config"))["baseline"]
    assert "veth" in compared["became_missing"] and compared["became_enabled"] == []
    assert "ready for LXC neither before nor after" in compared["summary"]


def test_no_baseline_no_comparison():
    assert check_kernel(config=str(FIXTURES / "handmade-4.4.config"))["baseline"] is None


def test_baseline_running_against_a_kernel_not_booted_yet(tmp_path):
    """On a Debian 10 host: what would the Ubuntu 24.04 kernel's config gain or lose against the running one?"""
    root, release = host_root(tmp_path, "debian-10-userns-clone-0")
    new = DISTRO / "ubuntu24.04-noble-6.8.1-x86_64.config.xz"
    result = check_kernel(config=str(new), baseline="running", runtime_root=root, release=release)
    compared = result["baseline"]
    assert compared["config_source"] == "the running kernel's config %s/boot/config-%s" % (root, release)
    assert compared["kernel_version"] == "4.19.0"   # the running kernel's release, as for the running kernel
    assert result["runtime"] is None                 # the config given is judged as a file
    assert compared["summary"].startswith("compared with the running kernel's config ")
    base = check_kernel(runtime_root=root, release=release, cgroup_mode="both")
    before = dict((c["id"], c["status"]) for c in base["checks"] if c["group"] != "host")
    after = statuses(result)
    # The running kernel's config verdicts (what the host switches off is not part of a comparison of kernels).
    assert compared["became_enabled"] == [i for i in after if before[i] == "missing" and after[i] in ("enabled", "module")]


def test_baseline_running_needs_a_config_to_compare():
    with pytest.raises(KconfigError) as info:
        check_kernel(baseline="running")
    assert "give that config in config" in str(info.value)


def test_a_baseline_that_cannot_be_read_says_so(tmp_path):
    with pytest.raises(KconfigError) as info:
        check_kernel(config=str(FIXTURES / "handmade-4.4.config"), baseline=str(tmp_path / "nope"))
    assert str(tmp_path / "nope") in str(info.value)
