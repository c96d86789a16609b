# -*- coding: utf-8 -*-
# Copyright: lxchost.prep contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Read a kernel .config: find it, decompress it by content, parse it, learn its version.

Private to lxchost.prep (leading underscore): other collections must not import it.
Every failure is a KconfigError whose text is fit for a module's ``msg``.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import errno
import os
import re
import stat
import subprocess

# Magic numbers, checked on content, never on the file name.
_MAGIC = (
    (b"\x1f\x8b", "gzip"),
    (b"\xfd7zXZ\x00", "xz"),
    (b"BZh", "bzip2"),
    (b"\x28\xb5\x2f\xfd", "zstd"),
)

# Kernels refuse nothing bigger than this as a config; a larger file is not one.
_MAX_CONFIG_BYTES = 64 * 1024 * 1024

# 2.6.37 and later: "# Linux/x86_64 6.1.0 Kernel Configuration" (older 2.6: "# Linux kernel version: 2.6.32").
_HEADER_NEW = re.compile(r"^# Linux/\S+ (\d+\.\d+[^\s]*) Kernel Configuration\s*$", re.M)
_HEADER_OLD = re.compile(r"^# Linux kernel version: (\d+\.\d+[^\s]*)\s*$", re.M)
_VERSION = re.compile(r"^(\d+)\.(\d+)(?:\.(\d+))?(?:\.(\d+))?")
# Headers live in the first lines; do not scan a whole allmodconfig for them.
_HEADER_SCAN_BYTES = 4096


class KconfigError(Exception):
    """A problem with the kernel config that the user must fix; str() is the message."""


def parse_version(text):
    """'2.6.38.6-rc1' -> (2, 6, 38, 6); '6.1' -> (6, 1, 0, 0); None when it is no version."""
    match = _VERSION.match(str(text).strip())
    if not match:
        return None
    return tuple(int(part or 0) for part in match.groups())


def format_version(version):
    """(2, 6, 38, 6) -> '2.6.38.6'; (6, 1, 0, 0) -> '6.1.0'."""
    parts = list(version[:3]) + [part for part in version[3:] if part]
    return ".".join(str(part) for part in parts)


def header_version(text):
    """The version string a config's own header names, or None (either header style)."""
    head = text[:_HEADER_SCAN_BYTES]
    for pattern in (_HEADER_NEW, _HEADER_OLD):
        match = pattern.search(head)
        if match:
            return match.group(1)
    return None


def parse_values(text):
    """Map symbol (without CONFIG_) -> value: 'y', 'm', 'n' for '# ... is not set', else the raw value.

    A later line wins, as in Kconfig. Plain string tests, no regex: this is the hot loop
    (an allmodconfig has 10,000 lines)."""
    values = {}
    for line in text.splitlines():
        if line.startswith("CONFIG_"):
            name, sep, value = line.partition("=")
            if sep:
                values[name[7:]] = value.strip()
        elif line.startswith("# CONFIG_") and line.rstrip().endswith(" is not set"):
            values[line.rstrip()[9:-11]] = "n"
    return values


def _decompress_zstd(data, path):
    try:
        import zstandard  # pylint: disable=import-outside-toplevel
    except ImportError:
        zstandard = None
    if zstandard is not None:
        try:
            out, rest = [], data
            while rest:  # frame by frame: a truncated frame must fail, not yield b""
                dobj = zstandard.ZstdDecompressor().decompressobj()
                out.append(dobj.decompress(rest))
                if not dobj.eof:
                    raise zstandard.ZstdError("the data ends inside a zstd frame")
                rest = dobj.unused_data
            return b"".join(out)
        except zstandard.ZstdError as exc:
            raise KconfigError("%s is zstd-compressed but does not decompress (truncated or corrupt): %s"
                               % (path, exc))
    try:
        proc = subprocess.run(["zstd", "-dcq"], input=data, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, check=False)
    except OSError:
        raise KconfigError(
            "%s is zstd-compressed, and this host can read zstd neither with the Python "
            "'zstandard' package nor with the 'zstd' command; install one of them, or pass "
            "a decompressed copy." % path)
    if proc.returncode != 0:
        raise KconfigError("%s is zstd-compressed but does not decompress (truncated or corrupt): %s"
                           % (path, proc.stderr.decode("utf-8", "replace").strip()))
    return proc.stdout


def _decompress(data, compression, path):
    if compression == "zstd":
        return _decompress_zstd(data, path)
    try:
        if compression == "gzip":
            import gzip  # pylint: disable=import-outside-toplevel
            return gzip.decompress(data)
        if compression == "xz":
            import lzma  # pylint: disable=import-outside-toplevel
            return lzma.decompress(data)
        import bz2  # pylint: disable=import-outside-toplevel
        return bz2.decompress(data)
    except Exception as exc:  # pylint: disable=broad-except  # EOFError, BadGzipFile, LZMAError, OSError ...
        raise KconfigError("%s is %s-compressed but does not decompress (truncated or corrupt): %s"
                           % (path, compression, exc))


def sniff_compression(data):
    for magic, name in _MAGIC:
        if data.startswith(magic):
            return name
    return "none"


def read_config_bytes(path):
    """Return (text, compression) of the config at path, or raise KconfigError saying why not."""
    try:
        info = os.stat(path)
    except OSError as exc:
        if exc.errno in (errno.ENOENT, errno.ENOTDIR):
            raise KconfigError("Kernel config %s does not exist." % path)
        raise KconfigError("Kernel config %s cannot be read: %s." % (path, exc.strerror or exc))
    if stat.S_ISDIR(info.st_mode):
        raise KconfigError("Kernel config %s is a directory; give the path of the config file in it "
                           "(for example %s/.config)." % (path, path.rstrip("/")))
    if not stat.S_ISREG(info.st_mode):
        raise KconfigError("Kernel config %s is not a regular file (a FIFO, socket or device is never "
                           "read, since reading it could block)." % path)
    try:
        with open(path, "rb") as handle:
            data = handle.read(_MAX_CONFIG_BYTES + 1)
    except (IOError, OSError) as exc:
        raise KconfigError("Kernel config %s cannot be read: %s." % (path, exc.strerror or exc))
    if not data:
        raise KconfigError("Kernel config %s is empty." % path)
    compression = sniff_compression(data)
    if compression != "none":
        data = _decompress(data, compression, path)
    if len(data) > _MAX_CONFIG_BYTES:
        raise KconfigError("%s is larger than %d MiB: that is no kernel config."
                           % (path, _MAX_CONFIG_BYTES // (1024 * 1024)))
    if b"\x00" in data:
        raise KconfigError("%s is binary data (%s), not a kernel config." % (
            path, "after %s decompression" % compression if compression != "none" else "NUL bytes"))
    return data.decode("utf-8", "replace"), compression


class KernelConfig:
    """A parsed kernel config: where it came from, its values, and the version its header names."""

    def __init__(self, source, text, compression="none"):
        self.source = source
        self.compression = compression
        self.values = parse_values(text)
        self.header_version = header_version(text)
        if not self.values:
            raise KconfigError("%s has no CONFIG_ lines: it is not a kernel config%s." % (
                source, " (even after %s decompression)" % compression if compression != "none" else ""))

    @classmethod
    def from_file(cls, path):
        text, compression = read_config_bytes(path)
        return cls(path, text, compression)

    def value(self, symbol):
        """'y', 'm', 'n', a raw string value, or None when the config never mentions the symbol."""
        return self.values.get(symbol)


def running_config_candidates(release, root="/"):
    """Where distributions keep the running kernel's config, most authoritative first."""
    paths = (
        "proc/config.gz",
        "boot/config-%s" % release,
        "lib/modules/%s/config" % release,
        "usr/lib/modules/%s/config" % release,
        "lib/modules/%s/build/.config" % release,
        "usr/src/linux-headers-%s/.config" % release,
        "usr/src/linux-%s/.config" % release,
        "usr/lib/ostree-boot/config-%s" % release,
        "usr/lib/kernel/config-%s" % release,
    )
    return [os.path.join(root, path) for path in paths]


def find_running_config(release, root="/"):
    """The first readable config of the running kernel; never loads the 'configs' module."""
    candidates = running_config_candidates(release, root)
    for path in candidates:
        if os.path.isfile(path):
            return path
    raise KconfigError(
        "No config found for the running kernel %s (looked in %s). Enable CONFIG_IKCONFIG_PROC, "
        "install the kernel's config (for example the package that ships /boot/config-%s), or "
        "pass the path of a config with the 'config' option. (The 'configs' module is never "
        "loaded for you.)" % (release, ", ".join(candidates), release))
