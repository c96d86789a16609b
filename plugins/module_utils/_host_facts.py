# -*- coding: utf-8 -*-
# Copyright: lxchost.prep contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Facts about the running host, read from /proc, /sys and /etc: the one place that reads them.

Private to lxchost.prep. The lxc_checkconfig module judges the running kernel with them, and the
cgroup_fstab module decides its mount from the same cgroup facts and mount table. Nothing here
judges or changes anything: every function reads, and says what it found (or None when the host
does not have the file). ``root`` is the host's root directory; tests pass a recorded tree.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import re
import stat

from ansible_collections.lxchost.prep.plugins.module_utils._fstab import normalize_path, unescape
from ansible_collections.lxchost.prep.plugins.module_utils._kconfig import ReadError, read_file

# No kernel table is this big; past it the file is refused unread.
KERNEL_FILE_MAX_BYTES = 64 * 1024 * 1024

# Mount options of a cgroup v1 line or mount that are not controllers, as fstab(5) and
# /proc/self/mounts spell them: generic mount options, cgroup v1's own flags, SELinux's seclabel
# (the kernel adds it to every mount on an SELinux host), and the keywords none (no controller)
# and all (every controller). One list for reading the mount table and for reading fstab options.
V1_MOUNT_FLAGS = frozenset((
    "defaults", "rw", "ro", "suid", "nosuid", "dev", "nodev", "exec", "noexec", "auto", "noauto",
    "nofail", "user", "nouser", "users", "owner", "group", "async", "sync", "dirsync", "mand", "nomand",
    "atime", "noatime", "relatime", "norelatime", "strictatime", "diratime", "nodiratime", "lazytime",
    "nosymfollow", "_netdev", "seclabel",
    "clone_children", "noprefix", "xattr", "cpuset_v2_mode", "favordynmods", "nofavordynmods",
    "all", "none",
))

# Where programs are installed (usr-merged or not).
_BIN_DIRECTORIES = ("usr/bin", "bin", "usr/sbin", "sbin")
# /etc/subuid, /etc/subgid and /etc/passwd are files anyone with root can make huge.
ETC_FILE_MAX_BYTES = 16 * 1024 * 1024
# A sysctl or a module parameter is one short line.
SMALL_FILE_MAX_BYTES = 64 * 1024
# dpkg's database of installed packages: a few MB on a full desktop; past this it is not read.
DPKG_STATUS_MAX_BYTES = 64 * 1024 * 1024


def _path(root, relative):
    return os.path.join(root, relative.lstrip("/"))


def read_kernel_file(root, relative, limit=KERNEL_FILE_MAX_BYTES):
    """The text of a file of the kernel (/proc, /sys), or None when the host does not have it."""
    try:
        data = read_file(_path(root, relative), "The kernel file", limit, kernel_file=True)
    except ReadError:
        return None
    return data.decode("utf-8", "surrogateescape")


def mount_table(root="/"):
    """[dict(src, path, fstype, opts)] of /proc/self/mounts, paths unescaped and normalized.

    Raises ReadError (with a message for the user) when the table cannot be read."""
    data = read_file(_path(root, "proc/self/mounts"), "The mount table", KERNEL_FILE_MAX_BYTES, kernel_file=True)
    entries = []
    for line in data.decode("utf-8", "surrogateescape").split("\n"):
        fields = line.split(" ")
        if len(fields) >= 4:
            entries.append(dict(src=unescape(fields[0]), path=normalize_path(unescape(fields[1])),
                                fstype=fields[2], opts=fields[3]))
    return entries


def mounted_at(path, root="/"):
    """What the mount table shows at path, in canonical form (the last, topmost mount): dict
    src, fstype, opts, or None. The kernel's table holds canonical paths already."""
    found = None
    for entry in mount_table(root):
        if entry["path"] == path:
            found = dict(src=entry["src"], fstype=entry["fstype"], opts=entry["opts"])
    return found


def kernel_filesystems(root="/"):
    """The file systems the kernel knows (/proc/filesystems); empty when it cannot be read."""
    text = read_kernel_file(root, "proc/filesystems") or ""
    return set(line.split("\t")[-1].strip() for line in text.split("\n") if line.strip())


def v1_mount_controllers(options):
    """The controllers (and name=NAME entries) of a cgroup v1 mount, from its options."""
    return [item for item in options.split(",")
            if item and item not in V1_MOUNT_FLAGS and not item.startswith("release_agent=")]


def controller_states(root="/"):
    """Controllers /proc/cgroups lists: {name: enabled (bool)}; a controller switched off at boot
    (cgroup_disable=) is listed with enabled 0."""
    controllers = {}
    for line in (read_kernel_file(root, "proc/cgroups") or "").splitlines():
        fields = line.split()
        if len(fields) >= 4 and not line.startswith("#"):
            controllers[fields[0]] = fields[3] == "1"
    return controllers


def cgroup_facts(root="/"):
    """cgroup mode and hierarchies, from mount types (never by creating a cgroup).

    A root without a mount table (a chroot without /proc) has mode none; a mount table that is
    there but cannot be read raises ReadError."""
    v1_mounts, v2_mounts = [], []
    table = mount_table(root) if os.path.exists(_path(root, "proc/self/mounts")) else []
    for entry in table:
        if entry["fstype"] == "cgroup2":
            v2_mounts.append(entry["path"])
        elif entry["fstype"] == "cgroup":
            v1_mounts.append(dict(path=entry["path"], controllers=v1_mount_controllers(entry["opts"])))
    available = [name for name, enabled in controller_states(root).items() if enabled]
    bound = sorted(set(ctl for mount in v1_mounts for ctl in mount["controllers"]
                       if not ctl.startswith("name=")))
    v2_controllers = []
    if v2_mounts:
        v2_controllers = (read_kernel_file(root, os.path.join(v2_mounts[0], "cgroup.controllers")) or "").split()
    if bound and v2_mounts:
        mode = "hybrid"
    elif bound or (v1_mounts and not v2_mounts):
        mode = "v1"
    elif v2_mounts:
        mode = "v2"
    else:
        mode = "none"
    return dict(mode=mode, v1_mounts=v1_mounts, v2_mounts=v2_mounts, v1_bound_controllers=bound,
                v1_available_controllers=available, v2_controllers=v2_controllers)


def program_path(name, root="/"):
    """Where a program is installed ("/usr/sbin/apparmor_parser"), or None."""
    for directory in _BIN_DIRECTORIES:
        if os.path.isfile(os.path.join(root, directory, name)):
            return "/" + os.path.join(directory, name)
    return None


def helper_facts(name, root="/"):
    """Where an id-mapping helper (newuidmap, newgidmap) is, and how it gets its privilege: setuid
    (the setuid bit on a file owned by root) or file capabilities; or None when it is not installed."""
    found = program_path(name, root)
    if found is None:
        return None
    path = _path(root, found)
    info = os.stat(path)
    try:
        file_caps = bool(os.getxattr(path, "security.capability"))
    except (AttributeError, OSError):
        file_caps = False
    return dict(path=found, setuid=bool(info.st_mode & stat.S_ISUID) and info.st_uid == 0,
                file_capabilities=file_caps)


def module_index(release, root="/"):
    """Module names that exist for this release (modules.dep), or None when unknown."""
    text = read_kernel_file(root, os.path.join("lib/modules", release, "modules.dep"))
    if text is None:
        return None
    names = set()
    for line in text.splitlines():
        path = line.split(":", 1)[0]
        base = os.path.basename(path).split(".ko", 1)[0]
        names.add(base.replace("-", "_"))
    return names


def loaded_modules(root="/"):
    """Names of the loaded modules (/proc/modules)."""
    return set(line.split(" ", 1)[0] for line in (read_kernel_file(root, "proc/modules") or "").splitlines() if line)


def cgroup_namespace(root="/"):
    """Whether the kernel has cgroup namespaces (/proc/self/ns/cgroup)."""
    return os.path.exists(_path(root, "proc/self/ns/cgroup"))


def boot_parameters(root="/"):
    """The kernel command line (/proc/cmdline) as [(name, value)], in order (value None for a bare
    word). Double quotes group a value with blanks, as the kernel reads them; what follows "--"
    is for init, not the kernel."""
    text = read_kernel_file(root, "proc/cmdline", SMALL_FILE_MAX_BYTES) or ""
    words, word, quoted, started = [], [], False, False
    for char in text:
        if char == '"':
            quoted, started = not quoted, True
        elif char.isspace() and not quoted:
            if started:
                words.append("".join(word))
            word, started = [], False
        else:
            word.append(char)
            started = True
    if started:
        words.append("".join(word))
    parameters = []
    for item in words:
        if item == "--":
            break
        name, sep, value = item.partition("=")
        parameters.append((name, value if sep else None))
    return parameters


def sysctl(name, root="/"):
    """A sysctl's value as text (user.max_user_namespaces -> "15000"), or None where the kernel has none."""
    text = read_kernel_file(root, "proc/sys/" + name.replace(".", "/"), SMALL_FILE_MAX_BYTES)
    return None if text is None else text.strip()


def module_parameter(name, root="/"):
    """A built-in module's parameter (user_namespace.enable -> "N"), from /sys/module; None when absent."""
    module, _dot, parameter = name.partition(".")
    text = read_kernel_file(root, "sys/module/%s/parameters/%s" % (module, parameter), SMALL_FILE_MAX_BYTES)
    return None if text is None else text.strip()


def subordinate_ids(path, root="/"):
    """The ranges of /etc/subuid or /etc/subgid as [(owner, first, count)]; None when the file does
    not exist. Lines that are not owner:first:count are skipped. Raises ReadError when the file is
    there but cannot be read (a FIFO, a directory, too large)."""
    full = _path(root, path)
    if not os.path.lexists(full):
        return None
    data = read_file(full, "The subordinate id file", ETC_FILE_MAX_BYTES)
    ranges = []
    for line in data.decode("utf-8", "replace").splitlines():
        fields = line.strip().split(":")
        if len(fields) == 3 and fields[1].isdigit() and fields[2].isdigit():
            ranges.append((fields[0], int(fields[1]), int(fields[2])))
    return ranges


def user_id(user, root="/"):
    """The uid of a user from /etc/passwd (as text, the way /etc/subuid may name it), or None."""
    try:
        data = read_file(_path(root, "etc/passwd"), "The user database", ETC_FILE_MAX_BYTES)
    except ReadError:
        return None
    for line in data.decode("utf-8", "replace").splitlines():
        fields = line.split(":")
        if len(fields) > 2 and fields[0] == user:
            return fields[2]
    return None


def apparmor_facts(root="/"):
    """AppArmor in the running kernel: enabled (Y/N from /sys/module/apparmor, None when the kernel
    has no AppArmor), whether securityfs shows it, whether it mediates mounts (features/mount/mask,
    the file LXC looks at), where apparmor_parser is."""
    security = _path(root, "sys/kernel/security/apparmor")
    return dict(
        enabled=module_parameter("apparmor.enabled", root),
        securityfs=os.path.isdir(security),
        mount_mediation=os.path.exists(os.path.join(security, "features", "mount", "mask")),
        parser=program_path("apparmor_parser", root) or (
            "/lib/apparmor/apparmor_parser" if os.path.isfile(_path(root, "lib/apparmor/apparmor_parser")) else None),
    )


def selinux_mode(root="/"):
    """"enforcing" or "permissive" from /sys/fs/selinux/enforce, or None without SELinux."""
    text = read_kernel_file(root, "sys/fs/selinux/enforce", SMALL_FILE_MAX_BYTES)
    if text is None:
        return None
    return "enforcing" if text.strip() == "1" else "permissive"


def hardware_model(root="/"):
    """The device tree's model ("Raspberry Pi 4 Model B Rev 1.5"), or None on hosts without one."""
    for relative in ("proc/device-tree/model", "sys/firmware/devicetree/base/model"):
        text = read_kernel_file(root, relative, SMALL_FILE_MAX_BYTES)
        if text:
            return text.strip("\x00\n ")
    return None


def _os_release_fields(root):
    """KEY=value pairs of os-release(5) (/etc/os-release, else /usr/lib/os-release), unquoted."""
    for relative in ("etc/os-release", "usr/lib/os-release"):
        try:
            data = read_file(_path(root, relative), "The os-release file", SMALL_FILE_MAX_BYTES)
        except ReadError:
            continue
        fields = {}
        for line in data.decode("utf-8", "replace").splitlines():
            key, sep, value = line.strip().partition("=")
            if not sep or key.startswith("#"):
                continue
            value = value.strip()
            if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
                value = value[1:-1].replace('\\"', '"').replace("\\\\", "\\")
            fields[key] = value
        return fields
    return {}


def system_facts(root="/"):
    """The operating system, from os-release(5): name (its first word: "Debian", "Rocky", "Alpine"),
    id, version (Debian's point release from /etc/debian_version, else VERSION_ID), major version,
    codename, pretty_name. Values are None where the host does not say."""
    fields = _os_release_fields(root)
    name = (fields.get("NAME") or fields.get("ID") or "").split()
    version = fields.get("VERSION_ID") or None
    if fields.get("ID") == "debian":
        try:
            point = read_file(_path(root, "etc/debian_version"), "The Debian version file", SMALL_FILE_MAX_BYTES)
        except ReadError:
            point = b""
        point = point.decode("utf-8", "replace").strip()
        if point[:1].isdigit():
            version = point
    codename = fields.get("VERSION_CODENAME") or None
    if codename is None and "(" in fields.get("VERSION", ""):
        codename = fields["VERSION"].partition("(")[2].rstrip(")").strip() or None
    return dict(
        name=name[0] if name else None,
        id=fields.get("ID") or None,
        version=version,
        major_version=version.split(".")[0] if version else None,
        codename=codename,
        pretty_name=fields.get("PRETTY_NAME") or None,
    )


def ip_forward_facts(root="/"):
    """Whether /proc/sys/net/ipv4/ip_forward exists and can be written (lxc-net writes it to route for
    its bridge; a container guest's /proc/sys is read-only), and its value."""
    path = _path(root, "proc/sys/net/ipv4/ip_forward")
    value = read_kernel_file(root, "proc/sys/net/ipv4/ip_forward", SMALL_FILE_MAX_BYTES)
    return dict(exists=os.path.exists(path), writable=os.access(path, os.W_OK),
                value=value.strip() if value is not None else None)


def init_system(root="/"):
    """"systemd" when systemd runs the host (sd_booted(3): /run/systemd/system exists), else "other"."""
    return "systemd" if os.path.isdir(_path(root, "run/systemd/system")) else "other"


def installed_packages(names, root="/"):
    """Which of the Debian packages names are installed, from dpkg's status file: name -> its
    version when dpkg has it installed ("Status: install ok installed", any architecture), else
    None. An empty dict where the host has no dpkg database (not Debian) or it cannot be read."""
    try:
        data = read_file(_path(root, "var/lib/dpkg/status"), "dpkg's status file", DPKG_STATUS_MAX_BYTES)
    except ReadError:
        return {}
    text = data.decode("utf-8", "replace")
    found = dict((name, None) for name in names)
    wanted = "|".join(re.escape(name) for name in names)
    for match in re.finditer(r"^Package: (%s)[ \t]*$" % wanted, text, re.MULTILINE):
        end = text.find("\n\n", match.end())
        stanza = text[match.end():end if end >= 0 else len(text)]
        # Status: want flag status (dpkg-query's db:Status-Status is the third word)
        status = re.search(r"^Status: \S+ \S+ (\S+)", stanza, re.MULTILINE)
        version = re.search(r"^Version: (\S+)", stanza, re.MULTILINE)
        if status and status.group(1) == "installed":
            found[match.group(1)] = version.group(1) if version else ""
    return found
