# -*- coding: utf-8 -*-
# Copyright: lxchost.prep contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Which cgroup line goes into fstab, on each kind of host (facts as _host_facts.cgroup_facts gives them)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.lxchost.prep.plugins.module_utils._cgroup_plan import (
    PlanError,
    decide,
    lxc_view,
    mounted_matches,
    v1_obstacle,
    v1_request,
)
from ansible_collections.lxchost.prep.plugins.module_utils._host_facts import (
    V1_MOUNT_FLAGS,
    cgroup_facts,
    v1_mount_controllers,
)

PATH = "/var/local/cgroup"
V1_ALL = ["cpuset", "cpu", "cpuacct", "blkio", "memory", "devices", "freezer", "net_cls", "perf_event",
          "net_prio", "hugetlb", "pids"]

# Debian squeeze, 2.6.38, lxc 0.7: nothing mounted, controllers enabled.
LEGACY = dict(mode="none", v1_mounts=[], v2_mounts=[], v1_bound_controllers=[],
              v1_available_controllers=V1_ALL[:8], v2_controllers=[])
LEGACY_FS = {"cgroup", "ext4", "proc"}

# Debian 9 era: systemd binds each controller to its own hierarchy, no cgroup2 mounted.
SYSTEMD_V1 = dict(mode="v1", v1_mounts=[dict(path="/sys/fs/cgroup/systemd", controllers=["name=systemd"])]
                  + [dict(path="/sys/fs/cgroup/%s" % ctl, controllers=[ctl]) for ctl in ("cpu", "memory", "pids")],
                  v2_mounts=[], v1_bound_controllers=["cpu", "memory", "pids"],
                  v1_available_controllers=V1_ALL, v2_controllers=[])

# These build machines: hybrid, controllers bound, cgroup2 at /sys/fs/cgroup/unified.
HYBRID = dict(SYSTEMD_V1, mode="hybrid", v2_mounts=["/sys/fs/cgroup/unified"])

# Debian 11+: unified.
UNIFIED = dict(mode="v2", v1_mounts=[], v2_mounts=["/sys/fs/cgroup"], v1_bound_controllers=[],
               v1_available_controllers=V1_ALL, v2_controllers=["cpuset", "cpu", "io", "memory", "pids"])
MODERN_FS = {"cgroup", "cgroup2", "ext4"}


def test_legacy_host_gets_exactly_the_classic_line():
    plan = decide("auto", LEGACY, LEGACY_FS, PATH)
    assert plan["mode"] == "v1"
    assert plan["entry"] == dict(src="cgroup", path=PATH, fstype="cgroup", opts="defaults", dump="0", passno="0")
    assert "legacy host" in plan["reason"]


def test_v1_host_with_only_a_named_hierarchy_is_legacy_too():
    facts = dict(LEGACY, mode="v1", v1_mounts=[dict(path="/sys/fs/cgroup/systemd", controllers=["name=systemd"])])
    assert decide("auto", facts, LEGACY_FS, PATH)["entry"]["opts"] == "defaults"


@pytest.mark.parametrize("facts", [HYBRID, SYSTEMD_V1])
def test_bound_controllers_with_cgroup2_kernel_get_cgroup2(facts):
    plan = decide("auto", facts, MODERN_FS, PATH)
    assert plan["mode"] == "v2" and plan["entry"]["src"] == "cgroup2" and plan["entry"]["fstype"] == "cgroup2"
    assert "EBUSY" in plan["reason"] and "/sys/fs/cgroup/cpu" in plan["reason"]


def test_bound_controllers_without_cgroup2_get_a_named_hierarchy():
    plan = decide("auto", SYSTEMD_V1, {"cgroup"}, PATH)
    assert plan["mode"] == "v1" and plan["entry"]["opts"] == "none,name=lxchost"
    assert "no cgroup2" in plan["reason"]


def test_unified_host_gets_cgroup2():
    plan = decide("auto", UNIFIED, MODERN_FS, PATH)
    assert plan["entry"]["fstype"] == "cgroup2" and "unified" in plan["reason"]


def test_auto_keeps_free_controllers_as_asked():
    plan = decide("auto", HYBRID, MODERN_FS, PATH, v1_options="net_cls,net_prio")
    assert plan["mode"] == "v1" and plan["entry"]["opts"] == "net_cls,net_prio"


def test_forced_v1_refused_with_reason_and_remedy():
    with pytest.raises(PlanError) as err:
        decide("v1", HYBRID, MODERN_FS, PATH)
    msg = str(err.value)
    assert "cpu at /sys/fs/cgroup/cpu" in msg and "EBUSY" in msg
    assert "mode v2 or auto" in msg and "none,name=lxchost" in msg


def test_forced_v1_on_unified_host_refused_for_v2_held_controllers():
    with pytest.raises(PlanError) as err:
        decide("v1", UNIFIED, MODERN_FS, PATH, v1_options="memory")
    assert "cgroup2 hierarchy" in str(err.value)
    # A named hierarchy takes no controller: the kernel allows it.
    assert decide("v1", UNIFIED, MODERN_FS, PATH, v1_options="none,name=lxc")["mode"] == "v1"


def test_forced_v2_refused_on_kernel_without_cgroup2():
    with pytest.raises(PlanError) as err:
        decide("v2", LEGACY, LEGACY_FS, PATH)
    assert "4.5" in str(err.value)


def test_unknown_controller_and_empty_request_are_obstacles():
    assert "does not enable" in v1_obstacle("bogus", HYBRID)
    assert "no controller and no hierarchy name" in v1_obstacle("none", HYBRID)


def test_same_hierarchy_can_be_shared():
    assert v1_obstacle("cpu", HYBRID) is None
    assert v1_obstacle("cpu,memory", HYBRID) is not None
    assert v1_obstacle("none,name=systemd", HYBRID) is None


def test_name_taken_by_a_hierarchy_with_controllers_is_an_obstacle():
    facts = dict(LEGACY, mode="v1", v1_mounts=[dict(path="/x", controllers=["cpu", "name=foo"])],
                 v1_bound_controllers=["cpu"])
    assert "name foo" in v1_obstacle("none,name=foo", facts)


def test_auto_is_stable_once_mounted():
    """After converge our own mount is in the facts: the decision must not flip (idempotence)."""
    classic_mounted = dict(LEGACY, mode="v1", v1_mounts=[dict(path=PATH, controllers=LEGACY["v1_available_controllers"])],
                           v1_bound_controllers=sorted(LEGACY["v1_available_controllers"]))
    assert decide("auto", classic_mounted, LEGACY_FS, PATH)["entry"]["opts"] == "defaults"
    mounted_v2 = dict(HYBRID, v2_mounts=HYBRID["v2_mounts"] + [PATH])
    assert decide("auto", mounted_v2, MODERN_FS, PATH)["mode"] == "v2"


def test_mounted_matches():
    plan_v2 = decide("auto", HYBRID, MODERN_FS, PATH)
    assert mounted_matches(dict(src="cgroup2", fstype="cgroup2", opts="rw,relatime"), plan_v2, HYBRID)
    assert not mounted_matches(dict(src="cgroup", fstype="cgroup", opts="rw,cpu"), plan_v2, HYBRID)
    assert not mounted_matches(None, plan_v2, HYBRID)
    plan_named = decide("v1", HYBRID, MODERN_FS, PATH, v1_options="none,name=lxchost")
    assert mounted_matches(dict(src="cgroup", fstype="cgroup", opts="rw,relatime,name=lxchost"), plan_named, HYBRID)
    plan_classic = decide("auto", LEGACY, LEGACY_FS, PATH)
    everything = "rw,relatime," + ",".join(LEGACY["v1_available_controllers"])
    assert mounted_matches(dict(src="cgroup", fstype="cgroup", opts=everything), plan_classic, LEGACY)
    assert not mounted_matches(dict(src="cgroup", fstype="cgroup", opts="rw,cpu"), plan_classic, LEGACY)


def test_v1_request_reads_flags_and_names():
    assert v1_request("defaults", ["cpu", "memory"]) == ({"cpu", "memory"}, None)
    assert v1_request("rw,nosuid,cpu,memory", ["cpu"]) == ({"cpu", "memory"}, None)
    assert v1_request("none,name=lxc", ["cpu"]) == (set(), "lxc")


def _fake_proc(tmp_path, mounts, cgroups):
    (tmp_path / "proc").mkdir()
    (tmp_path / "proc" / "self").mkdir()
    (tmp_path / "proc" / "self" / "mounts").write_text(mounts)
    (tmp_path / "proc" / "cgroups").write_text(cgroups)
    return str(tmp_path)


def test_decides_from_the_checkers_own_facts(tmp_path):
    """The facts come from _host_facts.cgroup_facts; this pins the contract between the two."""
    root = _fake_proc(
        tmp_path,
        "cgroup /sys/fs/cgroup/cpu cgroup rw,relatime,cpu 0 0\n"
        "cgroup /sys/fs/cgroup/systemd cgroup rw,relatime,name=systemd 0 0\n"
        "cgroup2 /sys/fs/cgroup/unified cgroup2 rw,relatime 0 0\n",
        "#subsys_name\thierarchy\tnum_cgroups\tenabled\ncpu\t1\t2\t1\nmemory\t0\t1\t1\n")
    facts = cgroup_facts(root)
    assert facts["mode"] == "hybrid"
    plan = decide("auto", facts, MODERN_FS, PATH)
    assert plan["mode"] == "v2" and "cpu at /sys/fs/cgroup/cpu" in plan["reason"]
    assert decide("auto", facts, MODERN_FS, PATH, v1_options="memory")["mode"] == "v1"


# LXC 5 looks for a v1 hierarchy only at /sys/fs/cgroup/<controllers as /proc/self/cgroup names them>
# (seen on a Debian 12 sysvinit VM: "cpuset,cpu,... not mounted", container in the root cgroup).
def test_legacy_classic_line_is_also_shown_where_lxc_looks():
    plan = decide("auto", LEGACY, LEGACY_FS, PATH)
    view = lxc_view(plan, LEGACY)
    assert view["needed"] is True
    # The kernel's order (/proc/cgroups), not alphabetical: that is how /proc/self/cgroup names it.
    assert view["path"] == "/sys/fs/cgroup/" + ",".join(V1_ALL[:8])
    assert "root cgroup" in view["reason"]


def test_lxc_view_still_needed_once_bound_there():
    """After the role ran: the same hierarchy at the path and under /sys/fs/cgroup (idempotence)."""
    ctls = V1_ALL[:8]
    facts = dict(LEGACY, mode="v1", v1_bound_controllers=sorted(ctls),
                 v1_mounts=[dict(path=PATH, controllers=list(ctls)),
                            dict(path="/sys/fs/cgroup/" + ",".join(ctls), controllers=list(ctls))])
    plan = decide("auto", facts, LEGACY_FS, PATH)
    assert plan["entry"]["opts"] == "defaults"
    view = lxc_view(plan, facts)
    assert view["needed"] is True and view["path"] == "/sys/fs/cgroup/" + ",".join(ctls)


def test_lxc_view_controller_list_in_kernel_order():
    plan = decide("v1", LEGACY, LEGACY_FS, PATH, v1_options="memory,cpuset")
    assert lxc_view(plan, LEGACY)["path"] == "/sys/fs/cgroup/cpuset,memory"


@pytest.mark.parametrize("facts,fs", [(UNIFIED, MODERN_FS), (HYBRID, MODERN_FS)])
def test_no_lxc_view_for_cgroup2(facts, fs):
    plan = decide("auto", facts, fs, PATH)
    view = lxc_view(plan, facts)
    assert view == dict(needed=False, path=None, reason=view["reason"]) and "cgroup2" in view["reason"]


def test_no_lxc_view_for_a_named_hierarchy():
    plan = decide("auto", SYSTEMD_V1, LEGACY_FS, PATH)
    assert plan["entry"]["opts"] == "none,name=lxchost"
    assert lxc_view(plan, SYSTEMD_V1)["needed"] is False


def test_no_lxc_view_where_the_host_owns_sys_fs_cgroup():
    """Free controllers asked for on a systemd v1 host: /sys/fs/cgroup is systemd's, LXC uses that."""
    plan = decide("v1", SYSTEMD_V1, LEGACY_FS, PATH, v1_options="net_cls")
    view = lxc_view(plan, SYSTEMD_V1)
    assert view["needed"] is False and "/sys/fs/cgroup/systemd" in view["reason"]


def test_seclabel_is_a_flag_when_reading_a_mount_and_fstab_options():
    """SELinux adds seclabel to every mount: it is one of the flags, never a controller, both in the
    mount table's options and in fstab's (one list of flags, in _host_facts)."""
    assert "seclabel" in V1_MOUNT_FLAGS
    assert v1_mount_controllers("rw,seclabel,nosuid,nodev,noexec,relatime,cpu,cpuacct") == ["cpu", "cpuacct"]
    assert v1_request("rw,relatime,seclabel,name=lxchost", ()) == (set(), "lxchost")
    plan_named = decide("v1", HYBRID, MODERN_FS, PATH, v1_options="none,name=lxchost")
    assert mounted_matches(dict(src="cgroup", fstype="cgroup", opts="rw,seclabel,relatime,name=lxchost"),
                           plan_named, HYBRID)
    plan_seed = decide("auto", LEGACY, LEGACY_FS, PATH)
    everything = "rw,seclabel,relatime," + ",".join(LEGACY["v1_available_controllers"])
    assert mounted_matches(dict(src="cgroup", fstype="cgroup", opts=everything), plan_seed, LEGACY)
