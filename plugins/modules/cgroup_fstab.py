#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: lxchost.prep contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: cgroup_fstab
short_description: Keep one cgroup line in fstab and its mount, fit for the host's cgroup era
version_added: 1.0.0
description:
  - Decides which cgroup file system a mount point can take on this host (O(mode=auto)), or checks
    that a forced O(mode) can work, before touching anything.
  - Keeps exactly one line for the mount point in fstab, editing only that line - comments, blank
    lines, tabs, other entries and a missing final newline are kept byte for byte. 4-field lines
    (without dump and pass) are read, rewritten and removed like any other.
  - With O(state=mounted), creates the mount point only when nothing is mounted there (never
    changing the mode of a mounted cgroup root) and mounts it from fstab (C(mount PATH)), so the
    line that will be used at boot is the one tried. If that mount fails, fstab is restored to its
    previous bytes and the failure says so.
  - Reports a real before/after diff of fstab, in check mode too; check mode never creates or
    changes a file.
author:
  - lxchost.prep contributors (@lxchost)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
    details: Decides, reads and diffs as in a real run; writes, creates and mounts nothing.
  diff_mode:
    support: full
    details: The diff of fstab, and of the mount at the path when that changes.
  platform:
    platforms: linux
options:
  path:
    description: The mount point.
    type: path
    default: /var/local/cgroup
  state:
    description:
      - C(mounted) - the fstab line and the mount.
      - C(present) - the fstab line only. A line that could not be mounted on this host is still written
        (with a warning), so a host can be prepared for the kernel it will boot.
      - C(absent) - unmount a cgroup mounted at O(path) and remove every line for O(path) from fstab.
        The directory is left in place.
    type: str
    choices: [mounted, present, absent]
    default: mounted
  mode:
    description:
      - C(auto) - from the host's cgroup facts - the v1 line with O(v1_options) when it can be mounted
        (a legacy host, where no controller is bound elsewhere, gets the classic
        C(cgroup PATH cgroup defaults 0 0)); else C(cgroup2) when the kernel has it; else a named v1
        hierarchy without controllers (C(none,name=lxchost)). The decision and its reason are returned.
      - C(v1) or C(v2) - that cgroup version. With O(state=mounted) the module fails, before touching
        anything, when the mount cannot work on this host, and says why and what to do.
    type: str
    choices: [auto, v1, v2]
    default: auto
  v1_options:
    description:
      - The options of a cgroup v1 line - C(defaults) (every controller in one hierarchy, as the classic
        line), a controller list such as C(cpuset,memory), or a named hierarchy such as C(none,name=lxc).
    type: str
    default: defaults
  conflicts:
    description:
      - What to do when fstab has several lines for O(path), or a line for O(path) that is not a cgroup
        entry (another file system, a malformed line).
      - C(fail) - fail with the lines quoted, changing nothing. C(fix) - keep one line, at the place of the
        first, and drop the others (with O(state=absent), drop them all).
    type: str
    choices: [fail, fix]
    default: fail
  backup:
    description: Keep a copy of fstab, with a timestamp in its name, before changing it.
    type: bool
    default: false
  fstab:
    description:
      - The fstab file. It must exist; it is never created. Another file than C(/etc/fstab) is passed to
        C(mount -T).
    type: path
    default: /etc/fstab
  cgroup_facts:
    description:
      - The host's cgroup facts as M(lxchost.prep.lxc_checkconfig) returns them in C(runtime.cgroup).
      - When omitted, they are gathered with the same code (the mounted cgroup file systems and
        C(/proc/cgroups)).
    type: dict
notes:
  - cgroupfs-mount(8) warns against cgroup lines in fstab on hosts where systemd or cgroupfs-mount mount
    the cgroups; modern LXC uses C(/sys/fs/cgroup) only. This module makes a line that works, it does not
    make it needed.
seealso:
  - module: ansible.posix.mount
    description: The general fstab module; it has no diff, matches lines by mount point without removing
      duplicates, cannot remove a 4-field line and creates a missing fstab even in check mode.
  - module: lxchost.prep.lxc_checkconfig
    description: Returns the cgroup facts this module decides from.
"""

EXAMPLES = r"""
- name: The cgroup mount the host can take, at the seed's place
  lxchost.prep.cgroup_fstab:
    path: /var/local/cgroup
  register: cgroup_fstab_result

- name: Say what was decided
  ansible.builtin.debug:
    msg: "{{ cgroup_fstab_result.line }}: {{ cgroup_fstab_result.reason }}"

- name: The classic line in fstab only (a host about to boot a legacy kernel)
  lxchost.prep.cgroup_fstab:
    mode: v1
    state: present

- name: A v1 hierarchy with two controllers, repairing duplicate lines
  lxchost.prep.cgroup_fstab:
    mode: v1
    v1_options: net_cls,net_prio
    conflicts: fix
    backup: true

- name: Unmount and remove the line
  lxchost.prep.cgroup_fstab:
    state: absent
"""

RETURN = r"""
mode:
  description: The cgroup version of the line (v1 or v2); null with O(state=absent).
  returned: success
  type: str
  sample: v2
reason:
  description: Why that mount was chosen (or accepted, for a forced mode).
  returned: success
  type: str
  sample: "auto: a cgroup v1 mount with options 'defaults' would fail here (...); the kernel has cgroup2, ..."
line:
  description: The fstab line for the mount point (as written, or as it would be); null with O(state=absent).
  returned: success
  type: str
  sample: cgroup2 /var/local/cgroup cgroup2 defaults 0 0
entry:
  description: The fields of that line.
  returned: success and state is not absent
  type: dict
  sample: {src: cgroup2, path: /var/local/cgroup, fstype: cgroup2, opts: defaults, dump: "0", passno: "0"}
fstab_changed:
  description: Whether fstab was (in check mode, would be) changed.
  returned: success
  type: bool
mounted:
  description: Whether the planned file system is mounted at the path after the task (predicted in check mode).
  returned: success
  type: bool
actions:
  description: What was done (in check mode, what would be done), in order.
  returned: success
  type: list
  elements: str
  sample: ["rewrite fstab line 3", "create directory /var/local/cgroup", "mount /var/local/cgroup"]
backup_file:
  description: The copy of fstab made before changing it.
  returned: changed and O(backup=true)
  type: str
  sample: /etc/fstab.2301.2026-01-01@10:00:00~
cgroup_facts:
  description: The cgroup facts the decision used.
  returned: success
  type: dict
"""

import os

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common.text.converters import to_bytes, to_native

from ansible_collections.lxchost.prep.plugins.module_utils._cgroup_plan import (
    PlanError,
    decide,
    mounted_matches,
)
from ansible_collections.lxchost.prep.plugins.module_utils._fstab import (
    CGROUP_TYPES,
    FstabError,
    ensure_entry,
    find_lines,
    format_entry,
    normalize_path,
    remove_entries,
    unescape,
)
from ansible_collections.lxchost.prep.plugins.module_utils._lxc_checker import cgroup_facts

ENTRY_FIELDS = ("src", "path", "fstype", "opts", "dump", "passno")


def read_text(path):
    with open(path, "rb") as handle:
        return handle.read().decode("utf-8", "surrogateescape")


def kernel_filesystems():
    try:
        text = read_text("/proc/filesystems")
    except (IOError, OSError):
        return set()
    return set(line.split()[-1] for line in text.splitlines() if line.strip())


def mounted_at(path):
    """What /proc/self/mounts shows at path (the last, topmost mount): dict fstype, opts, or None."""
    wanted = normalize_path(path)
    found = None
    for line in read_text("/proc/self/mounts").splitlines():
        fields = line.split()
        if len(fields) >= 4 and normalize_path(unescape(fields[1])) == wanted:
            found = dict(src=unescape(fields[0]), fstype=fields[2], opts=fields[3])
    return found


def write_fstab(module, fstab, text):
    """Replace fstab atomically (same owner, mode and SELinux context)."""
    tmp = "%s.lxchost-%d.tmp" % (fstab, os.getpid())
    with open(tmp, "wb") as handle:
        handle.write(to_bytes(text, errors="surrogate_or_strict"))
    module.atomic_move(tmp, fstab)


def fail_if_unwritable(module, fstab):
    directory = os.path.dirname(os.path.abspath(fstab))
    if not os.access(fstab, os.W_OK) or not os.access(directory, os.W_OK):
        module.fail_json(msg="%s must change but cannot be written (read-only file system, or no write "
                         "permission on it or on %s). Nothing was changed." % (fstab, directory))


def run(module, argv, what):
    rc, out, err = module.run_command(argv)
    return None if rc == 0 else "%s failed (exit %d): %s" % (what, rc, (err or out).strip())


class Task(object):
    """One run: read the host, plan, then apply in an order that can be undone."""

    def __init__(self, module):
        self.module = module
        self.params = module.params
        self.path = normalize_path(module.params["path"])
        self.fstab = module.params["fstab"]
        self.actions = []
        self.diffs = []
        self.result = dict(changed=False, fstab_changed=False, actions=self.actions, mode=None,
                           reason=None, line=None)

    def fail(self, msg, **extra):
        self.result.update(extra)
        self.module.fail_json(msg=msg, **self.result)

    def preflight(self):
        if not os.path.isfile(self.fstab):
            self.fail("%s does not exist (or is not a regular file). It is never created here: create it "
                      "(even empty) first. Nothing was changed." % self.fstab)
        if os.path.lexists(self.path) and not os.path.isdir(self.path):
            self.fail("The mount point %s exists and is not a directory. Move it away, or choose another "
                      "path. Nothing was changed." % self.path)
        self.old_text = read_text(self.fstab)
        self.mounted = mounted_at(self.path)
        facts = self.params["cgroup_facts"] or cgroup_facts()
        self.result["cgroup_facts"] = facts
        return facts

    def plan(self, facts):
        state = self.params["state"]
        mode = self.params["mode"]
        try:
            plan = decide(mode, facts, kernel_filesystems(), self.path, self.params["v1_options"])
        except PlanError as exc:
            if state != "present":
                self.fail("%s Nothing was changed." % exc)
            plan = self._unchecked_plan(mode)
            self.module.warn("%s The line is written anyway because state=present; it will fail to mount "
                             "on this host as it runs now (add nofail to the options to keep a failing "
                             "mount from stopping the boot)." % exc)
        self.result.update(mode=plan["mode"], reason=plan["reason"], entry=plan["entry"],
                           line=format_entry(self._entry_tuple(plan)))
        return plan

    def _unchecked_plan(self, mode):
        if mode == "v2":
            return dict(mode="v2", entry=dict(src="cgroup2", path=self.path, fstype="cgroup2", opts="defaults",
                                              dump="0", passno="0"), reason="cgroup2 as asked (fstab only).")
        options = self.params["v1_options"]
        return dict(mode="v1", entry=dict(src="cgroup", path=self.path, fstype="cgroup", opts=options,
                                          dump="0", passno="0"),
                    reason="cgroup v1 with options %r as asked (fstab only)." % options)

    @staticmethod
    def _entry_tuple(plan):
        return tuple(plan["entry"][key] for key in ENTRY_FIELDS)

    def new_fstab(self, plan):
        fix = self.params["conflicts"] == "fix"
        try:
            if plan is None:
                return remove_entries(self.old_text, self.path, fix=fix)
            return ensure_entry(self.old_text, self._entry_tuple(plan), fix=fix)
        except FstabError as exc:
            self.fail(str(exc))

    def note_fstab(self, new_text):
        if new_text == self.old_text:
            return
        before = set(index for index, _fields in find_lines(self.old_text, self.path))
        self.actions.append("edit fstab lines for %s (%d before, %d after)" % (
            self.path, len(before), len(find_lines(new_text, self.path))))
        self.result["fstab_changed"] = True
        self.diffs.append(dict(before=self.old_text, after=new_text,
                               before_header=self.fstab, after_header=self.fstab))
        fail_if_unwritable(self.module, self.fstab)

    def note_mount(self, before, after):
        if before != after:
            self.diffs.append(dict(before="%s\n" % before, after="%s\n" % after,
                                   before_header="mount at %s" % self.path,
                                   after_header="mount at %s" % self.path))

    def _describe_mount(self, mounted):
        if mounted is None:
            return "nothing mounted"
        return "%s on %s type %s (%s)" % (mounted["src"], self.path, mounted["fstype"], mounted["opts"])

    def commit_fstab(self, new_text):
        if not self.result["fstab_changed"] or self.module.check_mode:
            return
        if self.params["backup"]:
            self.result["backup_file"] = self.module.backup_local(self.fstab)
        try:
            write_fstab(self.module, self.fstab, new_text)
        except (IOError, OSError) as exc:
            self.fail("Writing %s failed: %s. Nothing was changed." % (self.fstab, to_native(exc)))

    def restore_fstab(self, error, created_dir, remount=False):
        """Undo after a failed mount: old fstab bytes back, the directory we made removed,
        and what we unmounted mounted again."""
        notes = []
        if self.result["fstab_changed"]:
            try:
                write_fstab(self.module, self.fstab, self.old_text)
                notes.append("%s was restored to its previous content" % self.fstab)
            except (IOError, OSError) as exc:
                notes.append("restoring %s FAILED too (%s): fix it by hand%s" % (
                    self.fstab, to_native(exc),
                    ", from %s" % self.result["backup_file"] if self.result.get("backup_file") else ""))
        if created_dir:
            try:
                os.rmdir(self.path)
                notes.append("the directory %s, created for the mount, was removed" % self.path)
            except OSError:
                pass
        if remount:
            again = run(self.module, self.mount_argv(), "mounting it again")
            notes.append("the previous mount at %s %s" % (
                self.path, "was mounted again" if again is None else "is NOT back: %s" % again))
        self.fail("%s. %s." % (error.rstrip("."), "; ".join(notes) if notes else "fstab was not changed"),
                  changed=False, fstab_changed=False)

    def mounted_state(self, plan, facts, new_text):
        wanted = mounted_matches(self.mounted, plan, facts)
        if self.mounted and self.mounted["fstype"] not in CGROUP_TYPES:
            self.fail("%s is mounted at %s (type %s), not a cgroup file system; it is not unmounted here. "
                      "Nothing was changed." % (self.mounted["src"], self.path, self.mounted["fstype"]))
        self.note_fstab(new_text)
        must_unmount = self.mounted is not None and not wanted
        must_mount = not wanted
        if must_unmount:
            self.actions.append("unmount %s (%s)" % (self.path, self._describe_mount(self.mounted)))
        create_dir = not os.path.exists(self.path)
        if create_dir:
            self.actions.append("create directory %s" % self.path)
        if must_mount:
            self.actions.append("mount %s" % self.path)
            self.note_mount(self._describe_mount(self.mounted), "%s on %s type %s (%s)" % (
                plan["entry"]["src"], self.path, plan["entry"]["fstype"], plan["entry"]["opts"]))
        self.result["mounted"] = True
        if self.module.check_mode:
            return
        self.commit_fstab(new_text)
        if must_unmount:
            error = run(self.module, [self.module.get_bin_path("umount", required=True), self.path],
                        "Unmounting %s" % self.path)
            if error:
                self.restore_fstab(error, False)
        if create_dir:
            try:
                os.makedirs(self.path, 0o755)
            except OSError as exc:
                self.restore_fstab("Creating %s failed: %s" % (self.path, to_native(exc)), False)
        if must_mount:
            error = run(self.module, self.mount_argv(), "Mounting %s from %s" % (self.path, self.fstab))
            if error:
                self.restore_fstab(error, create_dir, remount=must_unmount)

    def mount_argv(self):
        """mount(8) from the fstab line itself: what will happen at boot is what is tried."""
        argv = [self.module.get_bin_path("mount", required=True)]
        if os.path.abspath(self.fstab) != "/etc/fstab":
            argv += ["-T", self.fstab]
        return argv + [self.path]

    def absent_state(self, new_text):
        unmount = self.mounted is not None and self.mounted["fstype"] in CGROUP_TYPES
        if self.mounted is not None and not unmount:
            self.module.warn("%s is mounted at %s (type %s), not a cgroup: left mounted." % (
                self.mounted["src"], self.path, self.mounted["fstype"]))
        if unmount:
            self.actions.append("unmount %s" % self.path)
            self.note_mount(self._describe_mount(self.mounted), "nothing mounted")
        self.note_fstab(new_text)
        self.result["mounted"] = False
        if self.module.check_mode:
            return
        if unmount:
            error = run(self.module, [self.module.get_bin_path("umount", required=True), self.path],
                        "Unmounting %s" % self.path)
            if error:
                self.fail("%s. Nothing was changed." % error)
        self.commit_fstab(new_text)

    def main(self):
        state = self.params["state"]
        facts = self.preflight()
        if state == "absent":
            self.absent_state(self.new_fstab(None))
        else:
            plan = self.plan(facts)
            new_text = self.new_fstab(plan)
            if state == "mounted":
                self.mounted_state(plan, facts, new_text)
            else:
                self.note_fstab(new_text)
                self.result["mounted"] = mounted_matches(self.mounted, plan, facts)
                self.commit_fstab(new_text)
        self.result["changed"] = bool(self.actions)
        if self.module._diff and self.diffs:
            self.result["diff"] = self.diffs
        self.module.exit_json(**self.result)


def main():
    module = AnsibleModule(
        argument_spec=dict(
            path=dict(type="path", default="/var/local/cgroup"),
            state=dict(type="str", default="mounted", choices=["mounted", "present", "absent"]),
            mode=dict(type="str", default="auto", choices=["auto", "v1", "v2"]),
            v1_options=dict(type="str", default="defaults"),
            conflicts=dict(type="str", default="fail", choices=["fail", "fix"]),
            backup=dict(type="bool", default=False),
            fstab=dict(type="path", default="/etc/fstab"),
            cgroup_facts=dict(type="dict"),
        ),
        supports_check_mode=True,
    )
    Task(module).main()


if __name__ == "__main__":
    main()
