# -*- coding: utf-8 -*-
# Copyright: lxchost.prep contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Decide which cgroup mount a host can take, and say why.

Input is the checker's runtime cgroup facts (_host_facts.cgroup_facts: mode, v1_mounts,
v2_mounts, v1_bound_controllers, v1_available_controllers, v2_controllers) plus the file
systems the kernel knows (/proc/filesystems). No I/O here.

The kernel rule behind every decision: a v1 controller belongs to one hierarchy at a time.
Mounting a v1 hierarchy works when its controllers are free (or it is exactly an existing
hierarchy, which is then shared); otherwise mount(2) fails with EBUSY ("cgroup already
mounted on /sys/fs/cgroup/cpu"). A cgroup2 mount always shares the one unified hierarchy.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.lxchost.prep.plugins.module_utils._host_facts import V1_MOUNT_FLAGS

MODES = ("auto", "v1", "v2")
# Where LXC 5 and later look for cgroup hierarchies, and the tmpfs source name used there.
SYSFS_CGROUP = "/sys/fs/cgroup"
SYSFS_CGROUP_SRC = "cgroup_root"
CLASSIC_V1_OPTIONS = "defaults"
NAMED_FALLBACK_OPTIONS = "none,name=lxchost"

# What _host_facts.cgroup_facts returns: every key, with these types.
FACT_MODES = ("v1", "hybrid", "v2", "none")
_FACT_LISTS = ("v2_mounts", "v1_bound_controllers", "v1_available_controllers", "v2_controllers")
FACT_KEYS = ("mode", "v1_mounts") + _FACT_LISTS


class PlanError(Exception):
    """A mount this host cannot take, with the reason and the remedy."""


def _show(value):
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _names(value):
    return isinstance(value, list) and all(isinstance(item, str) and item for item in value)


def facts_problem(facts):
    """Why facts are not cgroup facts as _host_facts.cgroup_facts returns them (a phrase), or None.

    Every key must be there, with its type (lists of names, v1_mounts a list of dicts with a path
    and a list of controllers) and a known mode: a decision from anything else would be a guess."""
    if not isinstance(facts, dict):
        return "it is %s, not a dict" % _show(facts)
    missing = [key for key in FACT_KEYS if key not in facts]
    if missing:
        return "it lacks %s" % ", ".join(missing)
    if not isinstance(facts["mode"], str) or facts["mode"] not in FACT_MODES:
        return "its mode is %s, not one of %s" % (_show(facts["mode"]), ", ".join(FACT_MODES))
    for key in _FACT_LISTS:
        if not _names(facts[key]):
            return "its %s is %s, not a list of names" % (key, _show(facts[key]))
    if not isinstance(facts["v1_mounts"], list):
        return "its v1_mounts is %s, not a list" % _show(facts["v1_mounts"])
    for mount in facts["v1_mounts"]:
        if not isinstance(mount, dict) or not isinstance(mount.get("path"), str) or not mount.get("path") \
                or not _names(mount.get("controllers")):
            return "its v1_mounts holds %s, not a dict with a path and a list of controllers" % _show(mount)
    return None


def options_problem(options):
    """Why options cannot be the options field of a cgroup v1 line (a phrase), or None."""
    if not isinstance(options, str) or not options.strip():
        return "v1_options is empty"
    if len(options) > 4095:
        return "v1_options is %d characters long; the kernel takes at most 4095 bytes of mount options" % len(options)
    odd = [char for char in options if char.isspace() or ord(char) < 32 or ord(char) == 127]
    if odd:
        return ("v1_options %s holds %s: options are separated by commas only, and a blank would split the fstab "
                "line" % (_show(options), "a space" if odd[0] == " " else "a tab" if odd[0] == "\t" else
                          "a control or blank character %r" % odd[0]))
    if "" in options.split(","):
        return "v1_options %s has an empty item (a comma at either end, or two commas)" % _show(options)
    try:
        options.encode("utf-8")
    except UnicodeEncodeError:
        return "v1_options %s holds characters that are not text" % _show(options)
    return None


def v1_request(options, available):
    """(controllers, name) a v1 mount with these options asks for.

    No controller named and no "none" means every controller the kernel enables (/proc/cgroups),
    as mount(8) -t cgroup does."""
    items = [item for item in options.split(",") if item]
    names = [item[len("name="):] for item in items if item.startswith("name=")]
    controllers = set(item for item in items
                      if item not in V1_MOUNT_FLAGS and "=" not in item and not item.startswith("x-"))
    if not controllers and "none" not in items:
        controllers = set(available)
    return controllers, (names[-1] if names else None)


def _mount_request(mount):
    controllers = set(ctl for ctl in mount["controllers"] if not ctl.startswith("name="))
    names = [ctl[len("name="):] for ctl in mount["controllers"] if ctl.startswith("name=")]
    return controllers, (names[0] if names else None)


def v1_obstacle(options, facts):
    """Why a v1 mount with these options would fail on this host, or None when it can work."""
    available = set(facts.get("v1_available_controllers") or ())
    controllers, name = v1_request(options, available)
    for mount in facts.get("v1_mounts") or ():
        if _mount_request(mount) == (controllers, name):
            return None  # the very same hierarchy: the kernel shares it
    if not controllers and not name:
        return ("options %r name no controller and no hierarchy name (a v1 mount needs one or the "
                "other)" % options)
    unknown = sorted(controllers - available)
    if unknown:
        return "the kernel does not enable the controller(s) %s (see /proc/cgroups)" % ", ".join(unknown)
    holders = []
    for mount in facts.get("v1_mounts") or ():
        held, held_name = _mount_request(mount)
        if held & controllers:
            holders.append("%s at %s" % (", ".join(sorted(held & controllers)), mount["path"]))
        elif name and held_name == name:
            holders.append("the name %s at %s (with other controllers)" % (name, mount["path"]))
    if facts.get("mode") == "v2":
        in_v2 = sorted(controllers & set(facts.get("v2_controllers") or ()))
        if in_v2:
            holders.append("%s in the cgroup2 hierarchy at %s" % (
                ", ".join(in_v2), ", ".join(facts.get("v2_mounts") or ())))
    if holders:
        return ("a controller can be in one hierarchy only, and these are taken: %s (mount would fail "
                "with EBUSY, 'already mounted')" % "; ".join(holders))
    return None


def _v2_obstacle(facts, filesystems):
    if facts.get("v2_mounts") or "cgroup2" in filesystems:
        return None
    return "the kernel does not know cgroup2 (not in /proc/filesystems; cgroup2 needs Linux 4.5 or later)"


def _entry(src_type, path, options):
    return dict(src=src_type, path=path, fstype=src_type, opts=options, dump="0", passno="0")


def decide(mode, facts, filesystems, path, v1_options=CLASSIC_V1_OPTIONS):
    """The fstab entry for path, the mode it is (v1 or v2), and why; or PlanError.

    mode auto never picks a mount bound to fail; a forced mode that cannot work raises PlanError
    with the reason and the remedy."""
    filesystems = set(filesystems)
    host = facts.get("mode", "none")
    if mode not in MODES:
        raise PlanError("mode must be one of %s, not %r." % (", ".join(MODES), mode))
    if mode == "v2":
        obstacle = _v2_obstacle(facts, filesystems)
        if obstacle:
            raise PlanError("cgroup2 cannot be mounted on this host: %s. Use mode v1 (a kernel from the "
                            "cgroup v1 era) or boot a newer kernel." % obstacle)
        return dict(mode="v2", entry=_entry("cgroup2", path, "defaults"),
                    reason="cgroup2 as asked (the host runs cgroup %s)." % host)
    if mode == "v1":
        obstacle = _v1_kernel_obstacle(filesystems, facts) or v1_obstacle(v1_options, facts)
        if obstacle:
            raise PlanError(
                "a cgroup v1 mount with options %r cannot work on this host (cgroup %s): %s. Use mode v2 or "
                "auto, or v1 options that name free controllers or a new hierarchy name (for example %r)."
                % (v1_options, host, obstacle, NAMED_FALLBACK_OPTIONS))
        return dict(mode="v1", entry=_entry("cgroup", path, v1_options),
                    reason="cgroup v1 with options %r as asked; it can work here (host: cgroup %s)."
                    % (v1_options, host))
    return _decide_auto(facts, filesystems, path, v1_options, host)


def _v1_kernel_obstacle(filesystems, facts):
    if filesystems and "cgroup" not in filesystems and not facts.get("v1_mounts"):
        return "the kernel does not know the cgroup (v1) file system (not in /proc/filesystems)"
    return None


def _decide_auto(facts, filesystems, path, v1_options, host):
    if host == "v2":
        return dict(mode="v2", entry=_entry("cgroup2", path, "defaults"),
                    reason="auto: the host runs cgroup v2 (unified) at %s, where systemd holds the controllers; "
                    "a v1 mount would be wrong here, so cgroup2 is mounted." % ", ".join(facts["v2_mounts"]))
    v1_blocked = _v1_kernel_obstacle(filesystems, facts) or v1_obstacle(v1_options, facts)
    bound = facts.get("v1_bound_controllers") or []
    if not v1_blocked:
        if not bound:
            why = ("no cgroup v1 controller is bound to a hierarchy yet (a legacy host, cgroup %s), so one "
                   "v1 hierarchy with options %r can take them" % (host, v1_options))
        else:
            why = ("the host (cgroup %s) already binds %s, but options %r ask only for what is free or for an "
                   "existing hierarchy" % (host, ", ".join(bound), v1_options))
        return dict(mode="v1", entry=_entry("cgroup", path, v1_options), reason="auto: %s." % why)
    if not _v2_obstacle(facts, filesystems):
        return dict(mode="v2", entry=_entry("cgroup2", path, "defaults"),
                    reason="auto: a cgroup v1 mount with options %r would fail here (%s); the kernel has cgroup2, "
                    "which can always be mounted, so cgroup2 is used." % (v1_options, v1_blocked))
    if not v1_obstacle(NAMED_FALLBACK_OPTIONS, facts):
        return dict(mode="v1", entry=_entry("cgroup", path, NAMED_FALLBACK_OPTIONS),
                    reason="auto: a cgroup v1 mount with options %r would fail here (%s) and the kernel has no "
                    "cgroup2, so a named v1 hierarchy without controllers (%s) is mounted."
                    % (v1_options, v1_blocked, NAMED_FALLBACK_OPTIONS))
    raise PlanError("no cgroup mount can work on this host: v1 with %r fails (%s) and %s. Set mode and "
                    "v1 options by hand." % (v1_options, v1_blocked, _v2_obstacle(facts, filesystems)))


def mounted_matches(mounted, plan, facts):
    """Is what /proc/self/mounts shows at the path (dict fstype, opts) the planned mount?"""
    if mounted is None:
        return False
    entry = plan["entry"]
    if mounted["fstype"] != entry["fstype"]:
        return False
    if entry["fstype"] == "cgroup2":
        return True
    want = v1_request(entry["opts"], facts.get("v1_available_controllers") or ())
    have = v1_request(mounted["opts"], ())
    return want == have


def lxc_view(plan, facts):
    """Whether a v1 hierarchy at plan's path must also be seen under /sys/fs/cgroup for LXC.

    LXC 5 and later (Debian 12's lxc) look for a v1 hierarchy only at /sys/fs/cgroup/<controllers>,
    named as /proc/self/cgroup names it: its controllers in the kernel's order (the order of
    /proc/cgroups), joined by commas. A hierarchy mounted elsewhere only, as the classic guide's
    /var/local/cgroup, is ignored, and containers stay in the root cgroup. Where nothing else uses
    /sys/fs/cgroup (a legacy host), the same hierarchy is shown there too: a tmpfs on /sys/fs/cgroup
    and a bind mount of the path on /sys/fs/cgroup/<controllers>.

    Returns dict(needed, path, reason); path is None when not needed."""
    entry = plan["entry"]
    if plan["mode"] != "v1":
        return dict(needed=False, path=None,
                    reason="a cgroup2 mount shares the one unified hierarchy, which LXC finds at %s."
                    % SYSFS_CGROUP)
    available = list(facts.get("v1_available_controllers") or ())
    controllers, name = v1_request(entry["opts"], available)
    if name or not controllers:
        return dict(needed=False, path=None,
                    reason="a named v1 hierarchy (%s) is not a hierarchy LXC places containers in."
                    % entry["opts"])
    if SYSFS_CGROUP in (facts.get("v2_mounts") or ()):
        return dict(needed=False, path=None,
                    reason="cgroup2 is mounted at %s, where LXC looks first." % SYSFS_CGROUP)
    others = [mount["path"] for mount in facts.get("v1_mounts") or ()
              if mount["path"].startswith(SYSFS_CGROUP + "/") and _mount_request(mount) != (controllers, None)]
    if others:
        return dict(needed=False, path=None,
                    reason="%s already holds the host's own v1 hierarchies (%s), which LXC uses."
                    % (SYSFS_CGROUP, ", ".join(others)))
    ordered = [ctl for ctl in available if ctl in controllers] + sorted(controllers - set(available))
    view = "%s/%s" % (SYSFS_CGROUP, ",".join(ordered))
    return dict(needed=True, path=view,
                reason="LXC 5 and later look for v1 hierarchies only under %s, so this one is also bound at %s "
                "(on a tmpfs at %s); without that, containers run in the root cgroup, unlimited."
                % (SYSFS_CGROUP, view, SYSFS_CGROUP))
