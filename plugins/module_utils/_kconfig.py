# -*- coding: utf-8 -*-
# Copyright: lxchost.prep contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Read a kernel .config: find it, decompress it by content, parse it, learn its version.

Private to lxchost.prep (leading underscore): other collections must not import it.
Every failure is a KconfigError whose text is fit for a module's ``msg``.

Hostile input is bounded (docs/RELIABILITY.md): a file is opened without blocking and read in
chunks within a time limit; compressed data is decompressed as a stream and given up at the size
cap, so a small bomb never expands in memory; lines end at \\n only, as Kconfig reads them.
``read_file`` gives the same bounds to other readers (cgroup_fstab reads fstab with it).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import errno
import itertools
import os
import re
import signal
import stat
import subprocess
import threading
import time
import zlib

# Magic numbers, checked on content, never on the file name.
_MAGIC = (
    (b"\x1f\x8b", "gzip"),
    (b"\xfd7zXZ\x00", "xz"),
    (b"BZh", "bzip2"),
    (b"\x28\xb5\x2f\xfd", "zstd"),
)

# Kernels refuse nothing bigger than this as a config; a larger file is not one. The bound is
# applied while reading and while decompressing: nothing past it is ever read or expanded.
_MAX_CONFIG_BYTES = 64 * 1024 * 1024
# A real config line is a few hundred bytes (CONFIG_CMDLINE at most 4 KiB) and a kernel has about
# 20,000 options: past these bounds the input is no config, and keeping it would cost memory.
_MAX_LINE_BYTES = 1024 * 1024
_MAX_SYMBOLS = 100000
# Values are kept as text, up to 4 bytes a character: their sum is bounded too (a real config's
# values add up to a few hundred KiB).
_MAX_VALUE_CHARS = 16 * 1024 * 1024
# Every read (open, read, decompress) of one file ends within this time, whatever the file does.
_READ_TIMEOUT = 60.0
_CHUNK = 64 * 1024
# zstd input is fed this many bytes at a time: one zstd byte can stand for 32 KiB of output (an RLE
# block), so one call never returns more than 8 MiB.
_ZSTD_FEED = 256
_ZSTD_MAX_WINDOW = 32 * 1024 * 1024
_XZ_MEMLIMIT = 128 * 1024 * 1024
# A digit string longer than this is no kernel version (and int() of 4300 digits raises).
_MAX_VERSION_DIGITS = 9
# File systems whose files report a size of 0 and may never end (/proc/kmsg, trace_pipe, ...):
# a user-given file of size 0 there is refused unread.
_ENDLESS_FILE_SYSTEMS = frozenset((
    "proc", "sysfs", "debugfs", "tracefs", "securityfs", "configfs", "pstore", "efivarfs", "bpf", "cgroup",
    "cgroup2", "fusectl", "binfmt_misc", "rpc_pipefs", "nfsd", "mqueue", "devpts", "devtmpfs",
))
# Kconfig trims nothing but the line's \n (and a \r before it); values are compared after
# removing the ASCII blanks around them, never Unicode "whitespace".
_BLANKS = " \t\r\f\v"

# 2.6.37 and later: "# Linux/x86_64 6.1.0 Kernel Configuration" (older 2.6: "# Linux kernel version: 2.6.32").
_HEADER_NEW = re.compile(r"^# Linux/\S+ ([0-9]+\.[0-9]+[^\s]*) Kernel Configuration[ \t\r]*$", re.M)
_HEADER_OLD = re.compile(r"^# Linux kernel version: ([0-9]+\.[0-9]+[^\s]*)[ \t\r]*$", re.M)
_VERSION = re.compile(r"^([0-9]+)\.([0-9]+)(?:\.([0-9]+))?(?:\.([0-9]+))?")
# Headers live in the first lines; do not scan a whole allmodconfig for them.
_HEADER_SCAN_BYTES = 4096
# One match per line that can set a value: lines end at \n only (str.splitlines also splits on
# \f, \v, \x1c-\x1e, \x85, \u2028 and \u2029, which would let a string value hide a CONFIG_ line).
_ENTRY = re.compile(r"^(?:CONFIG_([^=\n]*)(=)([^\n]*)|# CONFIG_([^\n]*))", re.M)


class KconfigError(Exception):
    """A problem with the kernel config that the user must fix; str() is the message."""


class ReadError(KconfigError):
    """A file that cannot be read within the bounds (it does not exist, blocks, never ends...)."""


def parse_version(text):
    """'2.6.38.6-rc1' -> (2, 6, 38, 6); '6.1' -> (6, 1, 0, 0); None when it is no version.

    ASCII digits only, at most 9 of them per number: anything else is no kernel version."""
    match = _VERSION.match(str(text).strip())
    if not match or any(part and len(part) > _MAX_VERSION_DIGITS for part in match.groups()):
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


def _collect(text, values):
    """Set values from the lines of text; return how many characters of values were stored."""
    stored = 0
    for name, sep, value, unset in _ENTRY.findall(text):
        if sep:
            value = values[name] = value.strip(_BLANKS)
            stored += len(value)
        else:
            unset = unset.rstrip(_BLANKS)
            if unset.endswith(" is not set"):
                values[unset[:-11]] = "n"
    return stored


def parse_values(text):
    """Map symbol (without CONFIG_) -> value: 'y', 'm', 'n' for '# ... is not set', else the raw value.

    A later line wins, as in Kconfig. Lines end at \\n only, as Kconfig reads them."""
    values = {}
    _collect(text, values)
    return values


# ---------------------------------------------------------------- bounded reading

class _TimeLimit(object):
    """Bound the time of a block: SIGALRM interrupts a read that blocks (in the main thread, where
    modules run); elsewhere check() between reads gives up at the deadline."""

    def __init__(self, seconds, message):
        self.seconds = seconds
        self.message = message
        self.armed = False
        self.deadline = None
        self.previous = self.previous_timer = self.started = None

    def __enter__(self):
        self.deadline = time.monotonic() + self.seconds
        if hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread():
            self.previous = signal.signal(signal.SIGALRM, self._expired)
            self.started = time.monotonic()
            self.previous_timer = signal.setitimer(signal.ITIMER_REAL, self.seconds)
            self.armed = True
        return self

    def _expired(self, _signum, _frame):
        raise ReadError(self.message)

    def check(self):
        if time.monotonic() > self.deadline:
            raise ReadError(self.message)

    def __exit__(self, *_exc_info):
        if self.armed:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, signal.SIG_DFL if self.previous is None else self.previous)
            delay, interval = self.previous_timer
            if delay:  # someone else's timer was running: let it run on
                signal.setitimer(signal.ITIMER_REAL, max(delay - (time.monotonic() - self.started), 0.001),
                                 interval)
        return False


def _time_message(what, path, seconds):
    return ("Reading %s %s took longer than %g seconds (a file that never ends, or a file system that does not "
            "answer); it was given up." % (what, path, seconds))


def _file_system_of(info, clock):
    """The type of the file system holding a file (from /proc/self/mountinfo), or None when unknown."""
    wanted = "%d:%d" % (os.major(info.st_dev), os.minor(info.st_dev))
    try:
        fd = os.open("/proc/self/mountinfo", os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError:
        return None
    try:
        table = b"".join(_read_chunks(fd, "/proc/self/mountinfo", "The mount table", 64 * 1024 * 1024, clock))
    except ReadError:
        return None
    finally:
        os.close(fd)
    for line in table.decode("utf-8", "surrogateescape").split("\n"):
        fields = line.split(" ")
        if len(fields) > 8 and fields[2] == wanted and "-" in fields[6:]:
            position = fields.index("-", 6)
            if position + 1 < len(fields):
                return fields[position + 1]
    return None


def _open_regular(path, what, clock, kernel_file=False, directory_hint=""):
    """A descriptor of the regular file at path, opened so that no read blocks; or ReadError.

    Directories, FIFOs, sockets and devices are refused before opening; so is a file of size 0 on
    the kernel's own file systems (/proc/kmsg looks like an empty regular file and never ends),
    unless kernel_file says the caller reads a known kernel file such as /proc/self/mounts."""
    try:
        info = os.stat(path)
    except ValueError:
        raise ReadError("%s %r is not a valid path (it holds a NUL byte)." % (what, path))
    except OSError as exc:
        if exc.errno in (errno.ENOENT, errno.ENOTDIR):
            raise ReadError("%s %s does not exist." % (what, path))
        if exc.errno == errno.ELOOP:
            raise ReadError("%s %s is a symbolic link that loops (or a chain of more than 40 links); point it "
                            "at a file." % (what, path))
        raise ReadError("%s %s cannot be read: %s." % (what, path, exc.strerror or exc))
    if stat.S_ISDIR(info.st_mode):
        raise ReadError("%s %s is a directory%s." % (what, path, directory_hint))
    if not stat.S_ISREG(info.st_mode):
        raise ReadError("%s %s is not a regular file (a FIFO, socket or device is never read, since reading it "
                        "could block)." % (what, path))
    if not kernel_file and info.st_size == 0:
        fstype = _file_system_of(info, clock)
        if fstype and (fstype in _ENDLESS_FILE_SYSTEMS or fstype.startswith("fuse")):
            raise ReadError("%s %s is a file of the kernel's %s file system that gives no size, like /proc/kmsg "
                            "which never ends: it is not read. Give the path of a file." % (what, path, fstype))
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC)
    except OSError as exc:
        raise ReadError("%s %s cannot be read: %s." % (what, path, exc.strerror or exc))
    if not stat.S_ISREG(os.fstat(fd).st_mode):  # swapped for something else since the stat
        os.close(fd)
        raise ReadError("%s %s is not a regular file (a FIFO, socket or device is never read, since reading it "
                        "could block)." % (what, path))
    return fd


def _too_large(subject, limit, after="", config=True):
    why = ": that is no kernel config" if config else "; it was not read"
    return "%s is larger than %d MiB%s%s." % (subject, limit // (1024 * 1024), after, why)


def _read_chunks(fd, path, what, limit, clock):
    """The file's bytes in chunks, never more than limit in all; a read that would block (a
    stream such as /proc/kmsg) or that goes on past the deadline is a ReadError."""
    total = 0
    while True:
        clock.check()
        try:
            chunk = os.read(fd, _CHUNK)
        except OSError as exc:
            if exc.errno in (errno.EAGAIN, errno.EWOULDBLOCK):
                raise ReadError("%s %s is a stream that would block (such as /proc/kmsg, which never ends), not a "
                                "file: it is not read." % (what, path))
            raise ReadError("%s %s cannot be read: %s." % (what, path, exc.strerror or exc))
        if not chunk:
            return
        total += len(chunk)
        if total > limit:
            raise ReadError(_too_large("%s %s" % (what, path), limit, config=what == "Kernel config"))
        yield chunk


def read_file(path, what, limit, kernel_file=False, timeout=None):
    """The bytes of the regular file at path, read without blocking, at most limit bytes, within
    timeout seconds (default _READ_TIMEOUT); else a ReadError whose text names what and path."""
    seconds = _READ_TIMEOUT if timeout is None else timeout
    data = bytearray()
    with _TimeLimit(seconds, _time_message(what, path, seconds)) as clock:
        fd = _open_regular(path, what, clock, kernel_file=kernel_file)
        try:
            for chunk in _read_chunks(fd, path, what, limit, clock):
                data += chunk
        finally:
            os.close(fd)
    return bytes(data)


def check_file(path, what, kernel_file=False, timeout=None):
    """Raise the ReadError read_file would raise for a file it refuses (missing, a directory, a
    FIFO or device, a kernel stream); reads nothing."""
    seconds = _READ_TIMEOUT if timeout is None else timeout
    with _TimeLimit(seconds, _time_message(what, path, seconds)) as clock:
        os.close(_open_regular(path, what, clock, kernel_file=kernel_file))


# ---------------------------------------------------------------- streaming decompression

class _ZlibStream(object):
    """One gzip member."""

    def __init__(self):
        self._obj = zlib.decompressobj(16 + zlib.MAX_WBITS)
        self.eof = False
        self.leftover = b""

    def feed(self, data):
        obj = self._obj
        while True:
            out = obj.decompress(data, _CHUNK)
            data = obj.unconsumed_tail
            if out:
                yield out
            if obj.eof:
                self.eof, self.leftover = True, obj.unused_data
                return
            if not data and len(out) < _CHUNK:
                return


class _BufferedStream(object):
    """One bzip2 or xz stream (the decompressors that take max_length and say needs_input)."""

    def __init__(self, obj):
        self._obj = obj
        self.eof = False
        self.leftover = b""

    def feed(self, data):
        obj = self._obj
        out = obj.decompress(data, _CHUNK)
        while True:
            if out:
                yield out
            if obj.eof:
                self.eof, self.leftover = True, obj.unused_data
                return
            if obj.needs_input:
                return
            out = obj.decompress(b"", _CHUNK)


class _ZstdStream(object):
    """One zstd frame, fed in small slices so that one call's output stays bounded."""

    def __init__(self, zstandard):
        self._obj = zstandard.ZstdDecompressor(max_window_size=_ZSTD_MAX_WINDOW).decompressobj()
        self.eof = False
        self.leftover = b""

    def feed(self, data):
        for start in range(0, len(data), _ZSTD_FEED):
            out = self._obj.decompress(data[start:start + _ZSTD_FEED])
            if out:
                yield out
            if self._obj.eof:
                self.eof, self.leftover = True, self._obj.unused_data + data[start + _ZSTD_FEED:]
                return


def _zstandard():
    try:
        import zstandard  # pylint: disable=import-outside-toplevel
    except ImportError:
        return None
    return zstandard


def _new_stream(compression, zstandard=None):
    if compression == "gzip":
        return _ZlibStream()
    if compression == "bzip2":
        import bz2  # pylint: disable=import-outside-toplevel
        return _BufferedStream(bz2.BZ2Decompressor())
    if compression == "xz":
        import lzma  # pylint: disable=import-outside-toplevel
        return _BufferedStream(lzma.LZMADecompressor(memlimit=_XZ_MEMLIMIT))
    return _ZstdStream(zstandard)


def _corrupt(path, compression, detail):
    return KconfigError("%s is %s-compressed but does not decompress (truncated or corrupt): %s"
                        % (path, compression, detail))


def _inflate(raw, compression, path, zstandard=None):
    """Decompressed chunks of raw (compressed chunks): stream after stream (gzip members, zstd
    frames...), zero padding between them allowed. Never holds more than one chunk of output."""
    stream = None
    finished = 0
    try:
        for data in raw:
            while data:
                if stream is None:
                    if finished:
                        data = data.lstrip(b"\x00")
                        if not data:
                            break
                    stream = _new_stream(compression, zstandard)
                yield from stream.feed(data)
                if not stream.eof:
                    break
                data, stream = stream.leftover, None
                finished += 1
        if stream is not None or not finished:
            raise _corrupt(path, compression, "the data ends inside a %s stream" % compression)
    except KconfigError:
        raise
    except Exception as exc:  # pylint: disable=broad-except  # zlib.error, OSError, LZMAError, ZstdError ...
        raise _corrupt(path, compression, exc)


def _zstd_command(fd, path, clock):
    """Decompressed chunks from the zstd command reading the file itself (no zstandard package)."""
    try:
        os.lseek(fd, 0, os.SEEK_SET)
        # Not run_command: it keeps all the output in memory, and a decompression bomb must be
        # read chunk by chunk and cut at the bound.
        proc = subprocess.Popen(  # pylint: disable=ansible-bad-function
            ["zstd", "-dcq", "--memory=%dMB" % (_ZSTD_MAX_WINDOW // (1024 * 1024))],
            stdin=fd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    except OSError:
        raise KconfigError(
            "%s is zstd-compressed, and this host can read zstd neither with the Python "
            "'zstandard' package nor with the 'zstd' command; install one of them, or pass "
            "a decompressed copy." % path)
    try:
        while True:
            clock.check()
            chunk = os.read(proc.stdout.fileno(), _CHUNK)
            if not chunk:
                break
            yield chunk
        error = proc.stderr.read(4096)
        if proc.wait() != 0:
            raise _corrupt(path, "zstd", error.decode("utf-8", "replace").strip())
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait()
        proc.stdout.close()
        proc.stderr.close()


class _Reader(object):
    """Parse a config fed in chunks, with the bounds: total size, line length, symbol count, no NUL."""

    def __init__(self, path, compression, keep=None):
        self.path = path
        self.compression = compression
        self.keep = keep  # a bytearray to copy the plain bytes into, or None
        self.values = {}
        self.head = bytearray()
        self.partial = bytearray()
        self.size = 0
        self.value_chars = 0

    def _after(self):
        return " after %s decompression" % self.compression if self.compression != "none" else ""

    def feed(self, data):
        for start in range(0, len(data), _CHUNK):
            self._feed(data[start:start + _CHUNK])

    def _feed(self, chunk):
        self.size += len(chunk)
        if self.size > _MAX_CONFIG_BYTES:
            raise KconfigError(_too_large(self.path, _MAX_CONFIG_BYTES, self._after() + (
                " (the rest was not decompressed)" if self.compression != "none" else "")))
        if b"\x00" in chunk:
            raise KconfigError("%s is binary data (%s), not a kernel config." % (
                self.path, "after %s decompression" % self.compression if self.compression != "none" else "NUL bytes"))
        if self.keep is not None:
            self.keep += chunk
        if len(self.head) < _HEADER_SCAN_BYTES:
            self.head += chunk[:_HEADER_SCAN_BYTES - len(self.head)]
        end = chunk.rfind(b"\n")
        if end < 0:
            self.partial += chunk
            self._check_line(len(self.partial))
            return
        if self.partial:
            self._check_line(len(self.partial) + chunk.find(b"\n"))
            self.partial += chunk[:end + 1]
            self._parse(self.partial)
        else:
            self._parse(chunk[:end + 1])
        self.partial = bytearray(chunk[end + 1:])

    def _check_line(self, length):
        if length > _MAX_LINE_BYTES:
            raise KconfigError("%s has a line longer than %d MiB%s: that is no kernel config." % (
                self.path, _MAX_LINE_BYTES // (1024 * 1024), self._after()))

    def _parse(self, block):
        # Chunks are cut after a \n, so no UTF-8 sequence is split.
        self.value_chars += _collect(block.decode("utf-8", "replace"), self.values)
        if self.value_chars > _MAX_VALUE_CHARS:
            limit = _MAX_VALUE_CHARS // (1024 * 1024)
            raise KconfigError("%s has more than %d MiB of option values%s (a kernel config has a few hundred KiB): "
                               "that is no kernel config." % (self.path, limit, self._after()))
        if len(self.values) > _MAX_SYMBOLS:
            raise KconfigError("%s sets more than %d different CONFIG_ options%s (a kernel has about 20000): that "
                               "is no kernel config." % (self.path, _MAX_SYMBOLS, self._after()))

    def finish(self):
        if self.partial:
            self._parse(self.partial)
            self.partial = bytearray()


def _read_config(path, keep=None):
    """A _Reader that has read the whole config at path (decompressed by content), or KconfigError."""
    what = "Kernel config"
    with _TimeLimit(_READ_TIMEOUT, _time_message(what, path, _READ_TIMEOUT)) as clock:
        fd = _open_regular(path, what, clock, directory_hint="; give the path of the config file in it (for "
                           "example %s/.config)" % path.rstrip("/"))
        try:
            raw = _read_chunks(fd, path, what, _MAX_CONFIG_BYTES, clock)
            first = next(raw, b"")
            if not first:
                raise KconfigError("Kernel config %s is empty." % path)
            compression = sniff_compression(first)
            reader = _Reader(path, compression, keep)
            if compression == "none":
                plain = itertools.chain([first], raw)
            elif compression == "zstd" and _zstandard() is None:
                plain = _zstd_command(fd, path, clock)
            else:
                plain = _inflate(itertools.chain([first], raw), compression, path, _zstandard())
            try:
                for chunk in plain:
                    reader.feed(chunk)
            finally:
                if hasattr(plain, "close"):
                    plain.close()
            reader.finish()
        finally:
            os.close(fd)
    return reader


def sniff_compression(data):
    for magic, name in _MAGIC:
        if data.startswith(magic):
            return name
    return "none"


def read_config_bytes(path):
    """Return (text, compression) of the config at path, or raise KconfigError saying why not."""
    keep = bytearray()
    reader = _read_config(path, keep)
    return keep.decode("utf-8", "replace"), reader.compression


class KernelConfig:
    """A parsed kernel config: where it came from, its values, and the version its header names."""

    def __init__(self, source, text, compression="none"):
        self._setup(source, compression, parse_values(text), header_version(text))

    def _setup(self, source, compression, values, header):
        self.source = source
        self.compression = compression
        self.values = values
        self.header_version = header
        if not self.values:
            raise KconfigError("%s has no CONFIG_ lines: it is not a kernel config%s." % (
                source, " (even after %s decompression)" % compression if compression != "none" else ""))

    @classmethod
    def from_file(cls, path):
        """Read and parse the config at path as a stream: bounded in time, size and memory."""
        reader = _read_config(path)
        config = cls.__new__(cls)
        config._setup(path, reader.compression, reader.values,
                      header_version(bytes(reader.head).decode("utf-8", "replace")))
        return config

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
