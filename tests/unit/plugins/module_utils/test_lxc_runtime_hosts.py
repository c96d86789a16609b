# -*- coding: utf-8 -*-
# Copyright: lxchost.prep contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the running kernel runs with, judged on recorded host trees (tests/unit/fixtures/hosts/).

One test group per case LXC users keep running into: the memory controller off at boot on a
Raspberry Pi, Ubuntu 24.04's AppArmor restriction of user namespaces, Debian 10's
unprivileged_userns_clone=0, CentOS 7 without user_namespace.enable=1, hybrid and cgroup2-only
hosts, an SELinux host whose cgroup mounts carry seclabel.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from pathlib import Path

import pytest

from ansible_collections.lxchost.prep.plugins.module_utils import _lxc_catalogue as catalogue
from ansible_collections.lxchost.prep.plugins.module_utils._host_facts import cgroup_facts
from ansible_collections.lxchost.prep.plugins.module_utils._lxc_checker import check_kernel, failure
from ansible_collections.lxchost.prep.tests.unit.plugins.module_utils.host_trees import (
    TREES,
    add_boot_parameters,
    host_root,
    manifest,
    set_controller,
)

DISABLED, ENABLED, MISSING, NOT_APPLICABLE = (catalogue.DISABLED, catalogue.ENABLED, catalogue.MISSING,
                                              catalogue.NOT_APPLICABLE)
RUNTIME_IDS = [check.id for check in catalogue.RUNTIME_CHECKS]


def judge(tmp_path, name, profile="privileged", user="root", prepare=None, **tree):
    root, release = host_root(tmp_path, name, **tree)
    if prepare:
        prepare(root)
    return check_kernel(runtime_root=root, release=release, profile=profile, user=user)


def check_of(result, check_id):
    return [c for c in result["checks"] if c["id"] == check_id][0]


def statuses(result, ids):
    return dict((check_id, check_of(result, check_id)["status"]) for check_id in ids)


# ---------------------------------------------------------------- every tree

@pytest.mark.parametrize("name", TREES)
@pytest.mark.parametrize("profile", catalogue.PROFILES)
def test_every_tree_is_judged_whole(tmp_path, name, profile):
    result = judge(tmp_path, name, profile)
    assert result["runtime"]["kernel_release"] == manifest(name)["release"]
    assert [c["id"] for c in result["checks"]][-len(RUNTIME_IDS):] == RUNTIME_IDS
    for check in result["checks"]:
        assert check["status"] in catalogue.STATUSES
        if check["status"] != ENABLED and check["status"] != catalogue.MODULE:
            assert check["reason"], check
        if check["status"] in (MISSING, DISABLED) and check["level"] != catalogue.OPTIONAL:
            assert check["hint"], check
    assert result["ready"] is (not result["blockers"])
    assert [b["id"] for b in result["blockers"]] == result["missing_required"]


# ---------------------------------------------------------------- Raspberry Pi: cgroup_disable=memory

RPI = "rpi4-bookworm-cgroup-disable-memory"


def test_raspberry_pi_memory_controller_disabled_names_the_parameter(tmp_path):
    result = judge(tmp_path, RPI)
    memory = check_of(result, "cgroup_memory")
    assert memory["status"] == DISABLED and memory["symbol"] == "CONFIG_MEMCG" and memory["value"] == "y"
    assert "cgroup_disable=memory" in memory["reason"]
    assert "cmdline.txt" in memory["hint"] and "cgroup_enable=memory" in memory["hint"]
    assert "the later parameter wins" in memory["hint"]
    assert result["runtime"]["boot_parameters"] == ["cgroup_disable=memory"]
    assert result["runtime"]["controllers"]["memory"] is False
    # Built in but off: not ready for what recommended checks promise, so fail_on: recommended fails,
    # naming the parameter; the privileged profile is still ready.
    assert "cgroup_memory" in result["missing_recommended"] and result["ready"] is True
    message = failure(result, "recommended")
    assert "cgroup_disable=memory" in message and message.endswith("(recommended): cgroup_memory.")
    assert failure(result, "required") is None
    assert "Cgroup memory controller: DISABLED (Built in, but switched off at boot by cgroup_disable=memory" \
        in result["report"]
    assert result["lxc_kernel"]["status"]["cgroup_memory"] == DISABLED
    # Swap accounting needs the memory controller: it does not apply.
    assert check_of(result, "swap_accounting")["status"] == NOT_APPLICABLE


def test_raspberry_pi_a_later_cgroup_enable_wins(tmp_path):
    def enable(root):
        add_boot_parameters(root, "cgroup_enable=memory")
        set_controller(root, "memory", True)
        (Path(root) / "sys/fs/cgroup/cgroup.controllers").write_text("cpuset cpu io memory pids\n")

    result = judge(tmp_path, RPI, prepare=enable)
    assert result["runtime"]["boot_parameters"] == ["cgroup_disable=memory", "cgroup_enable=memory"]
    assert check_of(result, "cgroup_memory")["status"] == ENABLED
    assert "cgroup_memory" not in result["missing_recommended"]
    assert failure(result, "recommended") is None


def test_raspberry_pi_an_earlier_cgroup_enable_does_not_count(tmp_path):
    def enable_first(root):
        cmdline = Path(root) / "proc" / "cmdline"
        cmdline.write_text("cgroup_enable=memory " + cmdline.read_text())

    memory = check_of(judge(tmp_path, RPI, prepare=enable_first), "cgroup_memory")
    assert memory["status"] == DISABLED
    assert "The cgroup_enable=memory before it does not count: the later parameter wins." in memory["reason"]


def test_memory_off_without_a_parameter_says_the_kernel_needs_cgroup_enable(tmp_path):
    def no_parameter(root):
        cmdline = Path(root) / "proc" / "cmdline"
        cmdline.write_text(cmdline.read_text().replace("cgroup_disable=memory ", ""))

    memory = check_of(judge(tmp_path, RPI, prepare=no_parameter), "cgroup_memory")
    assert memory["status"] == DISABLED
    assert "no cgroup_disable=" in memory["reason"] and "cgroup_enable=memory" in memory["reason"]


def test_the_grub_hint_off_a_raspberry_pi(tmp_path):
    memory = check_of(judge(tmp_path, RPI, remove=("proc/device-tree/model",)), "cgroup_memory")
    assert "GRUB_CMDLINE_LINUX in /etc/default/grub" in memory["hint"] and "update-grub" in memory["hint"]


def test_a_config_file_is_never_judged_disabled(tmp_path):
    """The same kernel's config given as a file: its verdicts only, the host is not read."""
    root, _release = host_root(tmp_path, RPI)
    result = check_kernel(config=str(Path(root) / "boot" / "config-6.6.51+rpt-rpi-v8"), runtime_root=root)
    assert check_of(result, "cgroup_memory")["status"] == ENABLED
    assert result["runtime"] is None
    for check_id in RUNTIME_IDS:
        check = check_of(result, check_id)
        assert check["status"] == NOT_APPLICABLE and check["reason"].startswith("Judged only for the running kernel")


# ---------------------------------------------------------------- Ubuntu 24.04: AppArmor and user namespaces

UBUNTU_24 = "ubuntu-24.04-apparmor-userns"
USERNS_IDS = ["user_namespace_boot", "max_user_namespaces", "unprivileged_userns_clone",
              "apparmor_restrict_unprivileged_userns"]


def test_ubuntu_24_04_privileged_ignores_user_namespace_switches(tmp_path):
    result = judge(tmp_path, UBUNTU_24)
    assert result["ready"] is True and result["blockers"] == []
    for check_id in USERNS_IDS + ["newuidmap", "subuid_range"]:
        check = check_of(result, check_id)
        assert check["status"] == NOT_APPLICABLE and check["reason"] == (
            "Only judged for unprivileged containers (profile: unprivileged).")
    assert ("Not judged for privileged containers: user_namespace_boot, max_user_namespaces, "
            "unprivileged_userns_clone, apparmor_restrict_unprivileged_userns, newuidmap, newgidmap, subuid_range, "
            "subgid_range") in result["report"]
    apparmor = check_of(result, "apparmor_for_lxc")
    assert apparmor["status"] == ENABLED and "/usr/sbin/apparmor_parser" in apparmor["reason"]


def test_ubuntu_24_04_apparmor_restriction_blocks_an_unprivileged_user(tmp_path):
    result = judge(tmp_path, UBUNTU_24, profile="unprivileged", user="ubuntu")
    restrict = check_of(result, "apparmor_restrict_unprivileged_userns")
    assert restrict["status"] == DISABLED and restrict["level"] == catalogue.REQUIRED
    assert "kernel.apparmor_restrict_unprivileged_userns = 1" in restrict["reason"]
    assert "user ubuntu cannot use user namespaces" in restrict["reason"]
    assert "userns," in restrict["hint"] and "/etc/sysctl.d/" in restrict["hint"]
    assert result["ready"] is False
    assert [b["id"] for b in result["blockers"]] == ["apparmor_restrict_unprivileged_userns"]
    assert statuses(result, ["max_user_namespaces", "unprivileged_userns_clone", "newuidmap", "newgidmap",
                             "subuid_range", "subgid_range"]) == dict(
        max_user_namespaces=ENABLED, unprivileged_userns_clone=ENABLED, newuidmap=ENABLED, newgidmap=ENABLED,
        subuid_range=ENABLED, subgid_range=ENABLED)
    assert check_of(result, "user_namespace")["level"] == catalogue.REQUIRED  # the profile's level
    assert "Result: NOT ready for LXC (unprivileged containers)" in result["report"]


def test_ubuntu_24_04_root_is_spared_but_owns_no_subordinate_ids(tmp_path):
    result = judge(tmp_path, UBUNTU_24, profile="unprivileged", user="root")
    restrict = check_of(result, "apparmor_restrict_unprivileged_userns")
    assert restrict["status"] == ENABLED and "stops only users other than root" in restrict["reason"]
    assert check_of(result, "newuidmap")["status"] == NOT_APPLICABLE
    assert [b["id"] for b in result["blockers"]] == ["subuid_range", "subgid_range"]
    assert "/etc/subuid gives root no range" in check_of(result, "subuid_range")["reason"]
    assert "usermod --add-subuids 100000-165535 root" in check_of(result, "subuid_range")["hint"]


def test_ubuntu_24_04_is_cgroup2_only(tmp_path):
    result = judge(tmp_path, UBUNTU_24)
    assert result["cgroup_mode"] == "v2" and result["runtime"]["cgroup"]["mode"] == "v2"
    for check_id in ("cgroup_device", "cgroup_cpuacct", "cgroup_freezer", "cgroup_memory_v1", "cgroup_cpuset_v1"):
        assert check_of(result, check_id)["status"] == NOT_APPLICABLE, check_id


# ---------------------------------------------------------------- Debian 10: unprivileged_userns_clone=0

DEBIAN_10 = "debian-10-userns-clone-0"


def test_debian_10_userns_clone_off_blocks_users_other_than_root(tmp_path):
    result = judge(tmp_path, DEBIAN_10, profile="unprivileged", user="debian")
    clone = check_of(result, "unprivileged_userns_clone")
    assert clone["status"] == DISABLED and "kernel.unprivileged_userns_clone = 0" in clone["reason"]
    assert "kernel.unprivileged_userns_clone=1" in clone["hint"]
    assert [b["id"] for b in result["blockers"]] == [
        "unprivileged_userns_clone", "newuidmap", "newgidmap", "subuid_range", "subgid_range"]
    assert "newuidmap is not installed" in check_of(result, "newuidmap")["reason"]
    assert "uidmap" in check_of(result, "newuidmap")["hint"]
    assert "/etc/subuid does not exist" in check_of(result, "subuid_range")["reason"]


def test_debian_10_root_may_create_user_namespaces(tmp_path):
    clone = check_of(judge(tmp_path, DEBIAN_10, profile="unprivileged"), "unprivileged_userns_clone")
    assert clone["status"] == ENABLED and "root" in clone["reason"]


def test_debian_10_is_hybrid_and_judged_for_cgroup_v1(tmp_path):
    result = judge(tmp_path, DEBIAN_10)
    assert result["runtime"]["cgroup"]["mode"] == "hybrid"
    assert result["cgroup_mode"] == "v1" and "host runs cgroup hybrid" in result["cgroup_mode_reason"]
    assert check_of(result, "cgroup_bpf")["status"] == NOT_APPLICABLE
    assert check_of(result, "cgroup_device")["status"] == ENABLED


def test_debian_10_swap_accounting_is_off_until_swapaccount_1(tmp_path):
    swap = check_of(judge(tmp_path, DEBIAN_10), "swap_accounting")
    assert swap["status"] == DISABLED and "CONFIG_MEMCG_SWAP_ENABLED is not set" in swap["reason"]
    assert "swapaccount=1" in swap["hint"] and swap["level"] == catalogue.OPTIONAL
    on = check_of(judge(tmp_path / "on", DEBIAN_10, prepare=lambda root: add_boot_parameters(root, "swapaccount=1")),
                  "swap_accounting")
    assert on["status"] == ENABLED and "swapaccount=1" in on["reason"]
    off = check_of(judge(tmp_path / "off", DEBIAN_10,
                         prepare=lambda root: add_boot_parameters(root, "swapaccount=1 swapaccount=0")),
                   "swap_accounting")
    assert off["status"] == DISABLED and "swapaccount=0" in off["reason"]


def test_debian_10_apparmor_without_apparmor_parser_stops_lxc(tmp_path):
    ok = check_of(judge(tmp_path, DEBIAN_10), "apparmor_for_lxc")
    assert ok["status"] == ENABLED and "/sbin/apparmor_parser" in ok["reason"]
    result = judge(tmp_path / "bare", DEBIAN_10, remove=("sbin/apparmor_parser",))
    apparmor = check_of(result, "apparmor_for_lxc")
    assert apparmor["status"] == MISSING and apparmor["level"] == catalogue.RECOMMENDED
    assert "apparmor_parser is not installed (package apparmor)" in apparmor["reason"]
    assert "lxc-start refuses to start containers" in apparmor["reason"]
    assert "apparmor package" in apparmor["hint"]
    # The kernel itself is fine: the package is what is missing (lxchost.prep.lxc_userland installs it).
    assert result["ready"] is True and "apparmor_for_lxc" in result["missing_recommended"]
    assert failure(result, "recommended").endswith("(recommended): apparmor_for_lxc.")


def test_apparmor_without_mount_mediation_is_a_decision_left_to_the_user(tmp_path):
    result = judge(tmp_path, DEBIAN_10, remove=("sys/kernel/security/apparmor/features/mount/mask",))
    # The tree had only the one file there: features/mount is gone with it.
    apparmor = check_of(result, "apparmor_for_lxc")
    assert apparmor["status"] == MISSING and "lxc.apparmor.allow_incomplete = 1" in apparmor["reason"]
    assert "decision left to you" in apparmor["hint"]


def test_apparmor_switched_off_at_boot_is_not_used(tmp_path):
    result = judge(tmp_path, DEBIAN_10, files={"sys/module/apparmor/parameters/enabled": "N\n"})
    apparmor = check_of(result, "apparmor_for_lxc")
    assert apparmor["status"] == NOT_APPLICABLE and "not enabled at boot" in apparmor["reason"]


def test_cgroup_no_v1_keeps_a_controller_out_of_a_v1_host(tmp_path):
    def no_v1_memory(root):
        add_boot_parameters(root, "cgroup_no_v1=memory")
        mounts = Path(root) / "proc" / "self" / "mounts"
        mounts.write_text("".join(line for line in mounts.read_text().splitlines(True)
                                  if "/sys/fs/cgroup/memory " not in line))

    memory = check_of(judge(tmp_path, DEBIAN_10, prepare=no_v1_memory), "cgroup_memory")
    assert memory["status"] == DISABLED and "cgroup_no_v1=memory" in memory["reason"]
    assert "cgroup v2" in memory["hint"]


# ---------------------------------------------------------------- CentOS 7: user_namespace.enable=1, SELinux

CENTOS_7 = "centos-7-selinux"


def test_centos_7_without_user_namespace_enable(tmp_path):
    result = judge(tmp_path, CENTOS_7, profile="unprivileged")
    boot = check_of(result, "user_namespace_boot")
    assert boot["status"] == DISABLED
    assert "user_namespace.enable is N" in boot["reason"] and "does not set it" in boot["reason"]
    assert "user_namespace.enable=1" in boot["hint"] and "grubby" in boot["hint"]
    assert check_of(result, "max_user_namespaces")["status"] == DISABLED
    assert "user.max_user_namespaces = 0" in check_of(result, "max_user_namespaces")["reason"]
    assert check_of(result, "user_namespace")["status"] == ENABLED   # built in all along
    assert [b["id"] for b in result["blockers"]] == ["user_namespace_boot", "max_user_namespaces",
                                                     "subuid_range", "subgid_range"]
    assert check_of(result, "newuidmap")["status"] == NOT_APPLICABLE   # root writes its own maps
    assert result["runtime"]["module_parameters"] == {"user_namespace.enable": "N"}


def test_centos_7_with_user_namespaces_switched_on(tmp_path):
    result = judge(tmp_path, CENTOS_7, profile="unprivileged", files={
        "sys/module/user_namespace/parameters/enable": "Y\n",
        "proc/sys/user/max_user_namespaces": "15000\n",
        "etc/subuid": "root:100000:65536\n",
        "etc/subgid": "root:100000:65536\n",
    }, prepare=lambda root: add_boot_parameters(root, "user_namespace.enable=1"))
    assert statuses(result, ["user_namespace_boot", "max_user_namespaces", "subuid_range", "subgid_range"]) == dict(
        user_namespace_boot=ENABLED, max_user_namespaces=ENABLED, subuid_range=ENABLED, subgid_range=ENABLED)
    assert result["blockers"] == [] and result["ready"] is True
    assert "user_namespace.enable=1" in result["runtime"]["boot_parameters"]


def test_centos_7_selinux_and_seclabel_mounts(tmp_path):
    result = judge(tmp_path, CENTOS_7)
    selinux = check_of(result, "selinux_state")
    assert selinux["status"] == ENABLED and "enforcing" in selinux["reason"]
    cgroup = result["runtime"]["cgroup"]
    assert cgroup["mode"] == "v1"
    assert "seclabel" not in cgroup["v1_bound_controllers"]
    assert not [mount for mount in cgroup["v1_mounts"] if "seclabel" in mount["controllers"]]
    assert check_of(result, "cgroup_namespace")["status"] == NOT_APPLICABLE  # 3.10: before 4.6
    assert check_of(result, "apparmor_for_lxc")["status"] == NOT_APPLICABLE


def test_centos_7_facts_feed_the_fstab_plan(tmp_path):
    root, _release = host_root(tmp_path, CENTOS_7)
    facts = cgroup_facts(root)
    assert facts["v1_bound_controllers"] == ["blkio", "cpu", "cpuacct", "cpuset", "devices", "freezer", "hugetlb",
                                             "memory", "net_cls", "net_prio", "perf_event"]


# ---------------------------------------------------------------- hybrid and cgroup2-only hosts

def test_ubuntu_20_04_hybrid_is_ready_for_both_profiles(tmp_path):
    for profile in catalogue.PROFILES:
        result = judge(tmp_path / profile, "ubuntu-20.04-hybrid", profile)
        assert result["ready"] is True, result["blockers"]
        assert result["runtime"]["cgroup"]["mode"] == "hybrid" and result["cgroup_mode"] == "v1"
    subgid = check_of(result, "subgid_range")   # /etc/subgid names root by its uid
    assert subgid["status"] == ENABLED and "root owns 65536 ids" in subgid["reason"]


def test_systemd_cgroup_layout_parameter_is_named(tmp_path):
    result = judge(tmp_path, "ubuntu-20.04-hybrid",
                   prepare=lambda root: add_boot_parameters(root, "systemd.unified_cgroup_hierarchy=0"))
    assert "systemd.unified_cgroup_hierarchy=0 on the kernel command line" in result["cgroup_mode_reason"]


def test_arch_cgroup2_only_does_not_miss_v1_options(tmp_path):
    result = judge(tmp_path, "arch-cgroup2-only", profile="unprivileged", user="arch")
    assert result["cgroup_mode"] == "v2"
    for check_id in ("cgroup_memory_v1", "cgroup_cpuset_v1"):
        check = check_of(result, check_id)
        assert check["status"] == NOT_APPLICABLE and check["value"] is None, check
        assert check_id not in result["missing_recommended"]
    assert result["ready"] is True
    assert statuses(result, ["apparmor_for_lxc", "selinux_state"]) == dict(
        apparmor_for_lxc=NOT_APPLICABLE, selinux_state=NOT_APPLICABLE)
    # The same kernel judged for a cgroup v1 host would miss them.
    v1 = check_kernel(runtime_root=host_root(tmp_path / "v1", "arch-cgroup2-only")[0], release="6.17.5-arch1-1",
                      cgroup_mode="v1")
    assert statuses(v1, ["cgroup_memory_v1", "cgroup_cpuset_v1"]) == dict(
        cgroup_memory_v1=MISSING, cgroup_cpuset_v1=MISSING)


def test_a_controller_the_cgroup2_root_does_not_offer(tmp_path):
    memory = check_of(judge(tmp_path, "arch-cgroup2-only",
                            files={"sys/fs/cgroup/cgroup.controllers": "cpuset cpu io pids\n"}), "cgroup_memory")
    assert memory["status"] == DISABLED and "does not offer it" in memory["reason"]


def test_a_kernel_whose_proc_cgroups_lists_v1_controllers_only_still_names_the_parameter(tmp_path):
    """From 6.12-era kernels on, /proc/cgroups may leave out a controller cgroup v1 cannot have (no MEMCG_V1):
    on the cgroup2 host the root's cgroup.controllers shows it off, and cgroup_disable=memory is still named."""
    def drop_memory(root):
        path = Path(root) / "proc" / "cgroups"
        path.write_text("".join(line for line in path.read_text().splitlines(True) if not line.startswith("memory")))

    result = judge(tmp_path, RPI, prepare=drop_memory)
    memory = check_of(result, "cgroup_memory")
    assert "memory" not in result["runtime"]["controllers"]
    assert memory["status"] == DISABLED
    assert memory["reason"] == ("Built in, but switched off at boot by cgroup_disable=memory on the kernel command "
                                "line (the cgroup2 root does not offer it).")
    assert "cgroup_disable=memory" in failure(result, "recommended")


def test_a_subordinate_id_file_that_is_a_fifo_is_named_not_read(tmp_path):
    """/etc/subuid replaced by a FIFO (a hostile or broken host): the check says so, nothing blocks."""
    import os
    root, release = host_root(tmp_path, "arch-cgroup2-only", remove=("etc/subuid",))
    os.mkfifo(str(Path(root) / "etc" / "subuid"))
    result = check_kernel(runtime_root=root, release=release, profile="unprivileged", user="arch")
    subuid = check_of(result, "subuid_range")
    assert subuid["status"] == MISSING and "is not a regular file" in subuid["reason"]
    assert [b["id"] for b in result["blockers"]] == ["subuid_range"]
