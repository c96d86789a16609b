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
    changes a file (and takes no lock).
  - Hostile input gets a clear message and loses nothing (see C(docs/RELIABILITY.md)). Every input is
    checked before anything is touched. fstab is read and written whole, byte for byte (bytes that are
    not UTF-8 included; the diff shows them escaped), replaced atomically, and locked for the time of a
    run, so runs at the same time on one fstab each keep their line. A failure says what was changed
    and what was not, and a write that fails leaves no temporary file.
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
    details:
      - The diff of fstab, and of the mount at the path when that changes.
      - When fstab and its new content are larger than 64 KiB together, the diff shows only the changed
        lines with 3 lines around them, and is cut at 64 KiB; its header says so.
  platform:
    platforms: linux
options:
  path:
    description:
      - The mount point, an absolute path.
      - Used in its canonical form - C(..), C(.), C(//) and symbolic links resolved as far as the path
        exists - to find its lines in fstab (whatever their spelling) and its mount in the mount table,
        and in the line written.
      - Refused, before anything is done - C(/), the system's own directories (C(/bin), C(/boot),
        C(/boot/efi), C(/dev) and its standard mounts, C(/etc), C(/home), C(/lib*), C(/media), C(/mnt),
        C(/opt), C(/root), C(/run), C(/sbin), C(/srv), C(/tmp), C(/usr) and its standard directories,
        C(/var) and its standard directories including C(/var/local) itself), and anything under
        C(/proc) or C(/sys) (systemd's cgroups at C(/sys/fs/cgroup) included), whether named so or
        reached through a symbolic link.
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
      - Refused when empty, with an empty item (C(cpu,,memory), a comma at either end), with a blank or
        control character, or longer than 4095 characters.
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
      - The fstab file, an absolute path. It must exist and be a regular file; it is never created.
        Another file than C(/etc/fstab) is passed to C(mount -T).
      - A symbolic link (or a chain of them) is followed - the file it points to is replaced, keeping
        its owner, mode and extended attributes (SELinux context included), and the link stays. A
        backup is made next to that file.
      - Changed by one run at a time - a run holds an exclusive lock (C(flock)) on the file from the
        read to the last write; a run that waits more than 60 seconds for it fails, changing nothing.
        No lock file is made.
    type: path
    default: /etc/fstab
  cgroup_facts:
    description:
      - The host's cgroup facts as M(lxchost.prep.lxc_checkconfig) returns them in C(runtime.cgroup).
      - When omitted, they are gathered with the same code (the mounted cgroup file systems and
        C(/proc/cgroups)).
      - Checked before anything is done - every key (C(mode), C(v1_mounts), C(v2_mounts),
        C(v1_bound_controllers), C(v1_available_controllers), C(v2_controllers)) with its type, and a mode
        among C(v1), C(hybrid), C(v2) and C(none); anything else is refused.
    type: dict
notes:
  - A fstab with hard links is replaced by a new file (a warning says so); its other names keep the old
    content. A fstab that is itself a mount point (a bind-mounted file) cannot be replaced and is refused.
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
- name: The cgroup mount the host can take, at the classic guide's place
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
  sample: ["edit fstab lines for /var/local/cgroup (0 before, 1 after)", "create directory /var/local/cgroup",
           "mount /var/local/cgroup"]
backup_file:
  description: The copy of fstab made before changing it.
  returned: changed and O(backup=true)
  type: str
  sample: /etc/fstab.2301.2026-01-01@10:00:00~
cgroup_facts:
  description: The cgroup facts the decision used.
  returned: success
  type: dict
lxc_view:
  description:
    - Whether LXC needs the v1 hierarchy at O(path) to be seen under C(/sys/fs/cgroup) as well, and the fstab lines
      that serve that now. LXC 5 and later look for v1 hierarchies only at C(/sys/fs/cgroup/<controllers>); a
      hierarchy mounted only elsewhere, as the classic line at C(/var/local/cgroup), leaves containers in the
      root cgroup. This module does not mount anything there; the C(lxchost.prep.cgroup_mount) role does, with
      M(ansible.posix.mount).
  returned: success
  type: dict
  contains:
    needed:
      description: A tmpfs on C(/sys/fs/cgroup) and a bind mount of O(path) on RV(lxc_view.path) are needed.
      type: bool
    path:
      description: Where LXC looks for this hierarchy; null when not needed.
      type: str
    reason:
      description: Why it is needed or not.
      type: str
    fstab_binds:
      description: The mount points of the fstab lines that bind O(path) under C(/sys/fs/cgroup) now.
      type: list
      elements: str
    fstab_root:
      description: Whether fstab has the tmpfs line C(cgroup_root /sys/fs/cgroup tmpfs ...) the role writes.
      type: bool
  sample:
    needed: true
    path: /sys/fs/cgroup/cpuset,cpu,cpuacct,blkio,memory,devices,freezer,net_cls,perf_event,net_prio,pids
    reason: LXC 5 and later look for v1 hierarchies only under /sys/fs/cgroup, ...
    fstab_binds: []
    fstab_root: false
"""

import errno
import fcntl
import os
import posixpath
import stat
import tempfile
import time

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.lxchost.prep.plugins.module_utils._cgroup_plan import (
    SYSFS_CGROUP,
    SYSFS_CGROUP_SRC,
    PlanError,
    decide,
    facts_problem,
    lxc_view,
    mounted_matches,
    options_problem,
)
from ansible_collections.lxchost.prep.plugins.module_utils._fstab import (
    CGROUP_TYPES,
    FstabError,
    controller_safe,
    diff_excerpt,
    edit_entry,
    edit_removal,
    fields_of,
    format_entry,
    normalize_path,
    split_lines,
)
from ansible_collections.lxchost.prep.plugins.module_utils._host_facts import (
    cgroup_facts,
    kernel_filesystems,
    mount_table,
    mounted_at,
)
from ansible_collections.lxchost.prep.plugins.module_utils._kconfig import ReadError, check_file, read_file

ENTRY_FIELDS = ("src", "path", "fstype", "opts", "dump", "passno")

# No fstab is this big; past it the file is refused unread (and a diff of it is cut anyway).
FSTAB_MAX_BYTES = 256 * 1024 * 1024
# How long a run waits for another run's lock on fstab before it gives up, changing nothing.
LOCK_TIMEOUT = 60.0

# Mount points that belong to the system: a cgroup mounted there would hide what is in them (and
# state=absent would unmount them). Anything under /proc or /sys is the kernel's (and systemd's
# cgroups at /sys/fs/cgroup). Compared lexically and after symbolic links are resolved.
SYSTEM_MOUNT_POINTS = frozenset((
    "/bin", "/boot", "/boot/efi", "/dev", "/dev/hugepages", "/dev/mqueue", "/dev/pts", "/dev/shm", "/efi", "/etc",
    "/home", "/lib", "/lib32", "/lib64", "/libx32", "/lost+found", "/media", "/mnt", "/opt", "/root", "/run",
    "/run/lock", "/run/shm", "/run/user", "/sbin", "/snap", "/srv", "/tmp", "/usr", "/usr/bin", "/usr/include",
    "/usr/lib", "/usr/lib32", "/usr/lib64", "/usr/libexec", "/usr/libx32", "/usr/local", "/usr/local/bin",
    "/usr/local/lib", "/usr/local/sbin", "/usr/local/share", "/usr/sbin", "/usr/share", "/usr/src", "/var",
    "/var/backups", "/var/cache", "/var/lib", "/var/local", "/var/lock", "/var/log", "/var/mail", "/var/opt",
    "/var/run", "/var/spool", "/var/tmp",
))
KERNEL_TREES = ("/proc", "/sys")
# Paths on these are never stat()ed to resolve links: a server that does not answer hangs stat.
_REMOTE_TYPES = frozenset(("nfs", "nfs4", "cifs", "smb3", "smbfs", "ceph", "glusterfs", "9p", "afs", "ncpfs",
                           "lustre", "davfs", "sshfs", "gfs2", "ocfs2"))
_PATH_MAX = 4096


def decode(data):
    return data.decode("utf-8", "surrogateescape")


def encode(text):
    return text.encode("utf-8", "surrogateescape")


def controller_safe_result(value):
    """Every string of a result fit for the controller (see _fstab.controller_safe)."""
    if isinstance(value, dict):
        return dict((controller_safe_result(key), controller_safe_result(item)) for key, item in value.items())
    if isinstance(value, (list, tuple)):
        return [controller_safe_result(item) for item in value]
    if isinstance(value, str):
        return controller_safe(value)
    return value


def remote_mount_points():
    try:
        table = mount_table()
    except ReadError:
        return ()
    return [entry["path"] for entry in table
            if entry["fstype"] in _REMOTE_TYPES or entry["fstype"].startswith(("fuse", "nfs"))]


class Canon(object):
    """The canonical form of a mount point: .., . and // resolved, and symbolic links resolved as
    far as the path exists (as os.path.realpath does). Directories are resolved once (a cache),
    so a line costs at most one lstat of its own last component. Paths at or under a remote or
    FUSE mount are taken as they are: stat there can hang when the server does not answer."""

    # A directory with more entries than this is not listed: its lines get one lstat each.
    LISTING_LIMIT = 100000

    def __init__(self, avoid=()):
        self.avoid = frozenset(avoid)
        self.links = {}
        self.dirs = {}

    def _avoided(self, path):
        while self.avoid:
            if path in self.avoid:
                return True
            if path == "/":
                return False
            path = posixpath.dirname(path)
        return False

    def _link(self, path):
        if path not in self.links:
            target = None
            if not self._avoided(path):
                try:
                    if stat.S_ISLNK(os.lstat(path).st_mode):
                        target = os.readlink(path)
                except (OSError, ValueError):
                    target = None
            self.links[path] = target
        return self.links[path]

    def _walk(self, path):
        """Component by component, as the kernel resolves a path (.. after a link included)."""
        resolved = "/"
        todo = [part for part in reversed(path.split("/")) if part]
        hops = 0
        while todo:
            name = todo.pop()
            if name == ".":
                continue
            if name == "..":
                resolved = posixpath.dirname(resolved)
                continue
            candidate = "/" + name if resolved == "/" else resolved + "/" + name
            target = self._link(candidate) if hops < 40 else None
            if target is None:
                resolved = candidate
                continue
            hops += 1
            if target.startswith("/"):
                resolved = "/"
            todo.extend(part for part in reversed(target.split("/")) if part)
        return resolved

    def _directory(self, path):
        """(canonical form, the names of the symbolic links in it) of a directory; the names are
        None when they are not known (too many entries): each name is then lstat()ed."""
        if path not in self.dirs:
            canonical = self._walk(path)
            links = frozenset()
            if not self._avoided(canonical) and os.path.isdir(canonical):
                links = set()
                try:
                    for count, entry in enumerate(os.scandir(canonical)):
                        if count >= self.LISTING_LIMIT:
                            links = None
                            break
                        if entry.is_symlink():
                            links.add(entry.name)
                except OSError:
                    links = None
            self.dirs[path] = (canonical, links)
        return self.dirs[path]

    def __call__(self, path):
        if not path.startswith("/"):
            return path
        if ".." in path.split("/"):
            return self._walk(path)
        lexical = normalize_path(path)
        if lexical == "/":
            return lexical
        head, name = lexical.rsplit("/", 1)
        parent, links = self._directory(head or "/")
        candidate = "/" + name if parent == "/" else parent + "/" + name
        if links is not None:
            return self._walk(candidate) if name in links else candidate
        return self._walk(candidate) if self._link(candidate) is not None else candidate


class LockTimeout(Exception):
    pass


class FstabLock(object):
    """An exclusive flock(2) on the fstab file itself, from the read to the last write.

    A write replaces the file (a new inode): the new file is locked before it is renamed into
    place, so the lock passes to it without a gap; a run that waited on the replaced file sees
    that and locks the new one. No lock file is left anywhere."""

    def __init__(self, path):
        self.path = path
        self.fd = None

    def _same_file(self, fd):
        try:
            here, there = os.fstat(fd), os.stat(self.path)
        except OSError:
            return False
        return (here.st_dev, here.st_ino) == (there.st_dev, there.st_ino)

    def acquire(self, timeout):
        deadline = time.monotonic() + timeout
        delay = 0.005
        while True:
            fd = os.open(self.path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC)
            try:
                while True:
                    try:
                        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                        break
                    except OSError as exc:
                        if exc.errno not in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EINTR):
                            raise
                    if time.monotonic() > deadline:
                        raise LockTimeout()
                    time.sleep(delay)
                    delay = min(delay * 2, 0.1)
                if self._same_file(fd):
                    self.fd, fd = fd, None
                    return
            finally:
                if fd is not None:
                    os.close(fd)

    def adopt(self, fd):
        """fd, locked by us, is the file at path now: hold the lock there."""
        old, self.fd = self.fd, fd
        if old is not None:
            os.close(old)

    def release(self):
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None


def _copy_attributes(like, fd, info):
    """Owner, mode and extended attributes (the SELinux context among them) of like, onto fd."""
    try:
        os.fchown(fd, info.st_uid, info.st_gid)
    except OSError as exc:
        if exc.errno != errno.EPERM:
            raise
    os.fchmod(fd, stat.S_IMODE(info.st_mode))
    try:
        names = os.listxattr(like)
    except OSError:
        names = []
    for name in names:
        try:
            os.setxattr(fd, name, os.getxattr(like, name))
        except OSError as exc:
            if exc.errno not in (errno.EPERM, errno.EACCES, errno.ENOTSUP, errno.EOPNOTSUPP, errno.ENODATA,
                                 errno.EINVAL):
                raise


def write_file(target, data, like, lock=None):
    """Put data at target atomically: a temporary file next to it, with like's owner, mode and
    extended attributes, written, synced and renamed over target. On any error the temporary
    file is removed, target is untouched, and OSError is raised. With lock, the new file is
    locked before the rename and the lock passes to it."""
    directory, name = os.path.split(target)
    info = os.stat(like)
    fd, tmp = tempfile.mkstemp(prefix=".%s." % name, suffix=".lxchost.tmp", dir=directory or ".")
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]
        _copy_attributes(like, fd, info)
        os.fsync(fd)
        if lock is not None:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        os.rename(tmp, target)
    except BaseException:
        os.close(fd)
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    if lock is not None:
        lock.adopt(fd)
    else:
        os.close(fd)
    try:
        dir_fd = os.open(directory or ".", os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
    except OSError:
        pass  # the rename is done; a directory that cannot be synced is no failure


def run(module, argv, what):
    rc, out, err = module.run_command(argv)
    return None if rc == 0 else "%s failed (exit %d): %s" % (what, rc, (err or out).strip())


def path_problem(raw):
    """Why raw cannot be a mount point (a sentence without the final period), or None."""
    if not raw:
        return "path is empty: give the absolute path of the mount point, such as /var/local/cgroup"
    if "\x00" in raw:
        return "path %r holds a NUL byte, which no path can hold" % raw
    try:
        size = len(encode(raw))
    except UnicodeEncodeError:
        return "path %r holds characters that no file name can hold" % raw
    if not raw.startswith("/"):
        return ("path %r is relative: give an absolute path, such as /var/local/cgroup (a relative one would be "
                "mounted relative to whatever directory mount(8) runs in)" % raw)
    if size >= _PATH_MAX:
        return "path is %d bytes long; a path has at most %d" % (size, _PATH_MAX - 1)
    return None


def system_path_problem(raw, lexical, canonical):
    for candidate in (lexical, canonical):
        how = " (through a symbolic link)" if candidate == canonical and canonical != lexical else ""
        if candidate == "/":
            return ("path %s is the root file system (/)%s: a cgroup mounted there would hide the whole system. "
                    "Give a directory of its own, such as /var/local/cgroup" % (raw, how))
        if candidate in SYSTEM_MOUNT_POINTS:
            return ("path %s is %s%s, a directory of the system itself: a cgroup mounted there would hide what it "
                    "holds. Give a directory of its own, such as /var/local/cgroup" % (raw, candidate, how))
        for tree in KERNEL_TREES:
            if candidate == tree or candidate.startswith(tree + "/"):
                return ("path %s is under %s%s, the kernel's own file system (systemd mounts the cgroups at "
                        "/sys/fs/cgroup): it is never mounted over here. Give a directory of its own, such as "
                        "/var/local/cgroup" % (raw, tree, how))
    return None


def fstab_problem(raw):
    if not raw:
        return "fstab is empty: give the absolute path of the fstab file (normally /etc/fstab)"
    if "\x00" in raw:
        return "fstab %r holds a NUL byte, which no path can hold" % raw
    try:
        encode(raw)
    except UnicodeEncodeError:
        return "fstab %r holds characters that no file name can hold" % raw
    if not raw.startswith("/"):
        return "fstab %r is relative: give an absolute path (normally /etc/fstab)" % raw
    return None


class Task(object):
    """One run: check the input, read the host, plan, then apply in an order that can be undone,
    and say exactly what was changed and what was not."""

    def __init__(self, module):
        self.module = module
        self.params = module.params
        self.fstab = module.params["fstab"]
        self.path = None
        self.actions = []
        self.edit = None
        self.mount_diff = None
        self.lock = None
        self.written = False
        self.mounted_before = False
        self.created = []
        self.hard_links = 1
        self.warned_links = False
        self.result = dict(changed=False, fstab_changed=False, actions=self.actions, mode=None,
                           reason=None, line=None)

    def fail(self, msg, **extra):
        self.result.update(extra)
        self.module.fail_json(msg=controller_safe(msg), **controller_safe_result(self.result))

    def warn(self, text):
        self.module.warn(controller_safe(text))

    # -- input, before anything is read or changed

    def validate(self):
        params = self.params
        problem = path_problem(params["path"]) or fstab_problem(self.fstab) or options_problem(params["v1_options"])
        if not problem and params["cgroup_facts"] is not None:
            why = facts_problem(params["cgroup_facts"])
            if why:
                problem = ("cgroup_facts is not what lxchost.prep.lxc_checkconfig returns in runtime.cgroup: %s. "
                           "Pass that dict as it is, or leave cgroup_facts out to have the facts gathered" % why)
        if problem:
            self.fail("%s. Nothing was changed." % problem)
        raw = params["path"]
        lexical = normalize_path(raw)
        try:
            self.canon = Canon(remote_mount_points())
        except ReadError as exc:
            self.fail("%s Nothing was changed." % exc)
        self.path = self.canon(lexical)
        problem = system_path_problem(raw, lexical, self.path)
        if problem:
            self.fail("%s. Nothing was changed." % problem)
        for spelling in (lexical, self.path):
            if os.path.lexists(spelling) and not os.path.isdir(spelling):
                self.fail("The mount point %s exists and is not a directory (or is a symbolic link to none). Move "
                          "it away, or choose another path. Nothing was changed." % spelling)

    def inspect_fstab(self):
        fstab = self.fstab
        try:
            info = os.stat(fstab)
        except OSError as exc:
            if exc.errno in (errno.ENOENT, errno.ENOTDIR):
                if os.path.islink(fstab):
                    self.fail("fstab %s is a symbolic link to %s, which does not exist. It is never created here: "
                              "fix the link, or create the file (even empty) first. Nothing was changed."
                              % (fstab, os.path.realpath(fstab)))
                self.fail("fstab %s does not exist. It is never created here: create it (even empty) first. "
                          "Nothing was changed." % fstab)
            if exc.errno == errno.ELOOP:
                self.fail("fstab %s is a symbolic link that loops (or a chain of more than 40 links): point it at "
                          "the fstab file. Nothing was changed." % fstab)
            self.fail("fstab %s cannot be read: %s. Nothing was changed." % (fstab, exc.strerror or exc))
        if stat.S_ISDIR(info.st_mode):
            self.fail("fstab %s is a directory, not a file: give the path of the fstab file. Nothing was changed."
                      % fstab)
        if not stat.S_ISREG(info.st_mode):
            self.fail("fstab %s is not a regular file (a FIFO, socket or device is never read or written here). "
                      "Nothing was changed." % fstab)
        try:
            check_file(fstab, "fstab")
        except ReadError as exc:
            self.fail("%s Nothing was changed." % exc)
        # Written through a symbolic link: the file it points to is replaced, the link stays.
        self.real_fstab = os.path.realpath(fstab)
        self.hard_links = info.st_nlink

    def take_lock(self):
        lock = FstabLock(self.real_fstab)
        try:
            lock.acquire(LOCK_TIMEOUT)
        except LockTimeout:
            self.fail("Another run (or another program) holds the lock on %s and has not let go of it for %g "
                      "seconds: fstab is changed by one run at a time. Run again when it is done. Nothing was "
                      "changed." % (self.real_fstab, LOCK_TIMEOUT))
        except OSError as exc:
            if exc.errno in (errno.ENOLCK, errno.EOPNOTSUPP, errno.ENOTSUP, errno.EBADF, errno.EINVAL):
                self.warn("%s cannot be locked on its file system (%s): runs on it at the same time could lose a "
                          "line." % (self.real_fstab, exc.strerror or exc))
                return
            self.fail("Cannot take the lock on %s: %s. Nothing was changed." % (self.real_fstab, exc.strerror or exc))
        self.lock = lock

    def remove_stale_temporary_files(self):
        """Temporary files of this module next to fstab, left by a run that was killed while it
        wrote: while this run holds the lock, no other run can be writing one, so they are stale."""
        directory, name = os.path.split(self.real_fstab)
        try:
            names = os.listdir(directory)
        except OSError:
            return
        for entry in names:
            if entry.startswith("." + name + ".") and entry.endswith(".lxchost.tmp"):
                stale = os.path.join(directory, entry)
                try:
                    if stat.S_ISREG(os.lstat(stale).st_mode):
                        os.unlink(stale)
                        self.warn("Removed %s, a temporary file left by an interrupted run." % stale)
                except OSError:
                    pass

    def preflight(self):
        try:
            data = read_file(self.fstab, "fstab", FSTAB_MAX_BYTES)
            self.mounted = mounted_at(self.path)
        except ReadError as exc:
            self.fail("%s Nothing was changed." % exc)
        self.old_text = decode(data)  # encode(old_text) gives the very bytes back
        facts = self.params["cgroup_facts"]
        if facts is None:
            facts = cgroup_facts()
        self.result["cgroup_facts"] = facts
        return facts

    # -- plan

    def plan(self, facts):
        state = self.params["state"]
        mode = self.params["mode"]
        try:
            plan = decide(mode, facts, kernel_filesystems(), self.path, self.params["v1_options"])
        except PlanError as exc:
            if state != "present":
                self.fail("%s Nothing was changed." % exc)
            plan = self._unchecked_plan(mode)
            self.warn("%s The line is written anyway because state=present; it will fail to mount on this host as "
                      "it runs now (add nofail to the options to keep a failing mount from stopping the boot)."
                      % exc)
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
                return edit_removal(self.old_text, self.path, fix=fix, canon=self.canon)
            return edit_entry(self.old_text, self._entry_tuple(plan), fix=fix, canon=self.canon)
        except FstabError as exc:
            self.fail(str(exc))

    def note_fstab(self, edit):
        if not edit.changed:
            return
        self.edit = edit
        self.actions.append("edit fstab lines for %s (%d before, %d after)" % (self.path, edit.before, edit.after))
        self.result["fstab_changed"] = True
        directory = os.path.dirname(self.real_fstab)
        if not os.access(self.real_fstab, os.W_OK) or not os.access(directory, os.W_OK):
            self.fail("%s must change but cannot be written (read-only file system, or no write permission on it "
                      "or on %s). Nothing was changed." % (self.real_fstab, directory))

    def note_mount(self, before, after):
        if before != after:
            self.mount_diff = dict(before="%s\n" % before, after="%s\n" % after,
                                   before_header="mount at %s" % self.path, after_header="mount at %s" % self.path)

    def _describe_mount(self, mounted):
        if mounted is None:
            return "nothing mounted"
        return "%s on %s type %s (%s)" % (mounted["src"], self.path, mounted["fstype"], mounted["opts"])

    # -- apply: each step returns None, or what went wrong (a sentence without the final period)

    def backup(self):
        if not self.result["fstab_changed"] or not self.params["backup"]:
            return None
        name = "%s.%d.%s" % (self.real_fstab, os.getpid(), time.strftime("%Y-%m-%d@%H:%M:%S~"))
        try:
            write_file(name, encode(self.old_text), like=self.real_fstab)
        except OSError as exc:
            return "Backing up %s to %s failed: %s" % (self.real_fstab, name, exc.strerror or exc)
        self.result["backup_file"] = name
        return None

    def nothing_changed(self):
        if self.result.get("backup_file"):
            return "Nothing was changed (the backup %s, made first, is kept)." % self.result["backup_file"]
        return "Nothing was changed."

    def write_fstab(self, data):
        try:
            write_file(self.real_fstab, data, like=self.real_fstab, lock=self.lock)
        except OSError as exc:
            if exc.errno == errno.EBUSY:
                return ("Writing %s failed: %s (it is a mount point itself, a file bind-mounted from elsewhere, "
                        "which cannot be replaced: edit the file it is bound from)" % (self.real_fstab, exc.strerror))
            return "Writing %s failed: %s" % (self.real_fstab, exc.strerror or exc)
        if self.hard_links > 1 and not self.warned_links:
            self.warned_links = True
            self.warn("%s had %d hard links: it was replaced by a new file, and its other names still show the old "
                      "content." % (self.real_fstab, self.hard_links))
        return None

    def commit_fstab(self):
        """Back up and write the new fstab; on failure, fail saying that nothing was changed."""
        if not self.result["fstab_changed"] or self.module.check_mode:
            return
        error = self.backup() or self.write_fstab(encode(self.edit.text))
        if error:
            self.fail("%s. %s" % (error, self.nothing_changed()), changed=False, fstab_changed=False,
                      mounted=self.mounted_before, actions=[])
        self.written = True

    def undo(self, error, created_dir=False, unmounted=False):
        """After a failed step: put back what this run changed, then fail saying what was undone
        and exactly what is left changed."""
        notes, left = [], []
        fstab_changed = False
        if self.written:
            restore_error = self.write_fstab(encode(self.old_text))
            if restore_error is None:
                notes.append("%s was restored to its previous content" % self.real_fstab)
            else:
                fstab_changed = True
                left.append("fstab")
                notes.append("restoring %s FAILED too (%s), so the new line %r stays in it: remove it by hand%s" % (
                    self.real_fstab, restore_error.split(": ", 1)[-1], self.result["line"],
                    " (the previous content is in %s)" % self.result["backup_file"]
                    if self.result.get("backup_file") else ""))
        for directory in reversed(self.created if created_dir else []):
            try:
                os.rmdir(directory)
                notes.append("the directory %s, created for the mount, was removed" % directory)
            except OSError as exc:
                left.append("directory %s" % directory)
                notes.append("the directory %s, created for the mount, stays (removing it failed: %s)" % (
                    directory, exc.strerror or exc))
        if unmounted:
            again = run(self.module, self.mount_argv(), "mounting it again")
            if again is None:
                notes.append("the previous mount at %s was mounted again" % self.path)
            else:
                left.append("unmounted")
                notes.append("the previous mount at %s is NOT back: %s" % (self.path, again))
        summary = "%s." % "; ".join(notes) if notes else "fstab was not changed."
        if left:
            summary += " Left changed: %s." % ", ".join(
                "fstab has the new line" if item == "fstab" else "%s is unmounted" % self.path
                if item == "unmounted" else "the %s exists" % item for item in left)
        else:
            summary += " Everything this run changed was undone."
        self.fail("%s. %s" % (error.rstrip("."), summary), changed=bool(left), fstab_changed=fstab_changed,
                  mounted=False)

    def mounted_state(self, plan, facts, edit):
        wanted = mounted_matches(self.mounted, plan, facts)
        if self.mounted and self.mounted["fstype"] not in CGROUP_TYPES:
            self.fail("%s is mounted at %s (type %s), not a cgroup file system; it is not unmounted here. "
                      "Nothing was changed." % (self.mounted["src"], self.path, self.mounted["fstype"]))
        self.mounted_before = wanted
        self.note_fstab(edit)
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
        self.commit_fstab()
        if must_unmount:
            error = run(self.module, [self.module.get_bin_path("umount", required=True), self.path],
                        "Unmounting %s" % self.path)
            if error:
                self.undo(error)
        if create_dir:
            try:
                self.make_directories()
            except OSError as exc:
                self.undo("Creating %s failed: %s" % (self.path, exc.strerror or exc), created_dir=True)
        if must_mount:
            error = run(self.module, self.mount_argv(), "Mounting %s from %s" % (self.path, self.fstab))
            if error:
                self.undo(error, created_dir=create_dir, unmounted=must_unmount)

    def make_directories(self):
        """mkdir -p, remembering each directory made (to remove them again if the mount fails)."""
        missing = []
        path = self.path
        while not os.path.lexists(path):
            missing.append(path)
            path = posixpath.dirname(path)
        for directory in reversed(missing):
            os.mkdir(directory, 0o755)
            self.created.append(directory)

    def mount_argv(self):
        """mount(8) from the fstab line itself: what will happen at boot is what is tried."""
        argv = [self.module.get_bin_path("mount", required=True)]
        if normalize_path(os.path.abspath(self.fstab)) != "/etc/fstab":
            argv += ["-T", self.fstab]
        return argv + [self.path]

    def absent_state(self, edit):
        unmount = self.mounted is not None and self.mounted["fstype"] in CGROUP_TYPES
        if self.mounted is not None and not unmount:
            self.warn("%s is mounted at %s (type %s), not a cgroup: left mounted." % (
                self.mounted["src"], self.path, self.mounted["fstype"]))
        if unmount:
            self.actions.append("unmount %s" % self.path)
            self.note_mount(self._describe_mount(self.mounted), "nothing mounted")
        self.note_fstab(edit)
        self.result["mounted"] = False
        if self.module.check_mode:
            return
        error = self.backup()
        if error:
            self.fail("%s. %s" % (error, self.nothing_changed()), changed=False, fstab_changed=False, mounted=unmount,
                      actions=[])
        if unmount:
            error = run(self.module, [self.module.get_bin_path("umount", required=True), self.path],
                        "Unmounting %s" % self.path)
            if error:
                self.fail("%s. %s" % (error, self.nothing_changed()), changed=False, fstab_changed=False, mounted=True,
                          actions=[])
        if self.result["fstab_changed"]:
            error = self.write_fstab(encode(edit.text))
            if error and unmount:
                self.fail("%s was unmounted (that is done), but %s%s: fstab still has its line for %s, so it "
                          "will be mounted again at boot. Fix that and run again, or remove the line by hand."
                          % (self.path, error[0].lower(), error[1:], self.path), changed=True, fstab_changed=False,
                          mounted=False, actions=["unmount %s" % self.path])
            if error:
                self.fail("%s. %s" % (error, self.nothing_changed()), changed=False, fstab_changed=False, actions=[])

    def lxc_view(self, plan, facts):
        """lxc_view: what LXC needs under /sys/fs/cgroup (see _cgroup_plan.lxc_view), and the fstab lines
        that serve it now: bind mounts of the path under /sys/fs/cgroup, and the tmpfs line there when it
        is the one this collection writes."""
        view = lxc_view(plan, facts) if plan is not None else dict(
            needed=False, path=None, reason="state=absent: the cgroup line is removed.")
        binds, root = [], False
        for line in split_lines(self.old_text):
            fields = fields_of(line)
            if not fields or len(fields) < 4:
                continue
            if fields[1] == SYSFS_CGROUP and fields[0] == SYSFS_CGROUP_SRC and fields[2] == "tmpfs":
                root = True
            elif fields[1].startswith(SYSFS_CGROUP + "/") and normalize_path(fields[0]) == self.path \
                    and "bind" in fields[3].split(","):
                binds.append(fields[1])
        view.update(fstab_binds=binds, fstab_root=root)
        self.result["lxc_view"] = view

    def apply(self):
        state = self.params["state"]
        facts = self.preflight()
        if state == "absent":
            self.lxc_view(None, facts)
            self.absent_state(self.new_fstab(None))
        else:
            plan = self.plan(facts)
            self.lxc_view(plan, facts)
            edit = self.new_fstab(plan)
            if state == "mounted":
                self.mounted_state(plan, facts, edit)
            else:
                self.result["mounted"] = self.mounted_before = mounted_matches(self.mounted, plan, facts)
                self.note_fstab(edit)
                self.commit_fstab()
        self.result["changed"] = bool(self.actions)
        if self.module._diff:
            diffs = []
            if self.edit is not None:
                before, after, note = diff_excerpt(self.edit)
                header = self.fstab if note is None else "%s (%s)" % (self.fstab, note)
                diffs.append(dict(before=before, after=after, before_header=header, after_header=header))
            if self.mount_diff:
                diffs.append(self.mount_diff)
            if diffs:
                self.result["diff"] = diffs

    def main(self):
        self.validate()
        self.inspect_fstab()
        if not self.module.check_mode:
            self.take_lock()
        try:
            if self.lock is not None:
                self.remove_stale_temporary_files()
            self.apply()
        finally:
            if self.lock is not None:
                self.lock.release()
        self.module.exit_json(**controller_safe_result(self.result))


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
