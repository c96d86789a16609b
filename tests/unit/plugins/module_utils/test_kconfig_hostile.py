# -*- coding: utf-8 -*-
# Copyright: lxchost.prep contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The config reader against hostile input: bombs, files that never end, hidden lines, huge numbers.

Memory is measured in a child process (its own peak resident size), so one test's
allocations cannot hide or inflate another's.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import bz2
import json
import lzma
import os
import shutil
import subprocess
import sys
import threading
import time
import zlib

import pytest

from ansible_collections.lxchost.prep.plugins.module_utils import _kconfig
from ansible_collections.lxchost.prep.plugins.module_utils._kconfig import (
    KconfigError,
    KernelConfig,
    header_version,
    parse_values,
    parse_version,
)
from ansible_collections.lxchost.prep.tests.unit.plugins.modules import module_process

MIB = 1024 * 1024
PEAK_LIMIT_MIB = 256
HEADER = b"#\n# Linux/x86 6.1.0 Kernel Configuration\n#\n"


# ---------------------------------------------------------------- 10. decompression bombs

def _stream(compressor, block, count):
    out = [compressor.compress(block) for _index in range(count)]
    out.append(compressor.flush())
    return b"".join(out)


def _zstd_stream(block, count):
    zstandard = pytest.importorskip("zstandard")
    return _stream(zstandard.ZstdCompressor(level=3).compressobj(), block, count)


LINES = HEADER + b"CONFIG_A=y\n" * (MIB // 11)   # about 1 MiB of config lines
NEWLINES = b"\n" * MIB
ONE_LINE = b"#" * MIB


def _bomb(kind):
    """(compressed bytes, expanded size in MiB) of one bomb."""
    if kind == "gzip-lines":
        return _stream(zlib.compressobj(6, zlib.DEFLATED, 31), LINES, 160), 160
    if kind == "gzip-members":
        member = zlib.compressobj(9, zlib.DEFLATED, 31)
        one = _stream(member, NEWLINES, 8)
        return one * 40, 320
    if kind == "bzip2-newlines":
        return _stream(bz2.BZ2Compressor(9), NEWLINES, 160), 160
    if kind == "bzip2-streams":
        return bz2.compress(LINES * 4, 1) * 40, 160
    if kind == "xz-lines":
        return _stream(lzma.LZMACompressor(preset=0), LINES, 160), 160
    if kind == "xz-one-line":
        return _stream(lzma.LZMACompressor(preset=0), ONE_LINE, 160), 160
    if kind == "zstd-lines":
        return _zstd_stream(LINES, 300), 300
    if kind == "zstd-frames":
        return _zstd_stream(NEWLINES, 16) * 20, 320
    raise ValueError(kind)


BOMBS = ["gzip-lines", "gzip-members", "bzip2-newlines", "bzip2-streams", "xz-lines", "xz-one-line", "zstd-lines",
         "zstd-frames"]

_MEASURE = r"""
import json, resource, sys
from ansible_collections.lxchost.prep.plugins.module_utils._kconfig import KconfigError, KernelConfig
try:
    KernelConfig.from_file(sys.argv[1])
    msg = None
except KconfigError as exc:
    msg = str(exc)
print(json.dumps(dict(msg=msg, peak_kib=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)))
"""


def measure(path):
    env = module_process.module_env()
    proc = subprocess.run([sys.executable, "-c", _MEASURE, path], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          env=env, timeout=300, check=False)
    assert proc.returncode == 0 and b"Traceback" not in proc.stderr, proc.stderr.decode()
    return json.loads(proc.stdout.decode())


@pytest.mark.parametrize("kind", BOMBS)
def test_a_decompression_bomb_is_refused_in_bounded_memory(tmp_path, kind):
    data, expanded = _bomb(kind)
    assert expanded * MIB > _kconfig._MAX_CONFIG_BYTES
    path = tmp_path / ("config-" + kind)
    path.write_bytes(data)
    result = measure(str(path))
    assert result["msg"] and str(path) in result["msg"], result
    assert "larger than" in result["msg"] or "longer than" in result["msg"], result
    assert result["peak_kib"] < PEAK_LIMIT_MIB * 1024, result


def test_a_bomb_through_the_module_fails_with_a_message_in_bounded_memory(tmp_path):
    data, _expanded = _bomb("zstd-lines")
    config = tmp_path / "config.zst"
    config.write_bytes(data)
    script = tmp_path / "peak.py"
    script.write_text(
        "import resource, runpy, sys\n"
        "try:\n"
        "    runpy.run_module('ansible_collections.lxchost.prep.plugins.modules.lxc_checkconfig', run_name='__main__')\n"
        "finally:\n"
        "    sys.stderr.write('PEAK %d\\n' % resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)\n")
    args = tmp_path / "args.json"
    args.write_text(json.dumps({"ANSIBLE_MODULE_ARGS": {"config": str(config)}}))
    env = module_process.module_env()
    proc = subprocess.run([sys.executable, str(script), str(args)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          env=env, timeout=300, check=False)
    result = json.loads(proc.stdout.decode())
    assert result["failed"] and "larger than" in result["msg"] and str(config) in result["msg"]
    peak_kib = int(proc.stderr.decode().split("PEAK ")[-1])
    assert peak_kib < PEAK_LIMIT_MIB * 1024


def test_a_bomb_through_the_zstd_command_is_cut_and_the_command_ended(tmp_path, monkeypatch):
    if not shutil.which("zstd"):
        pytest.skip("no zstd command on this host")
    data, _expanded = _bomb("zstd-frames")
    path = tmp_path / "config"
    path.write_bytes(data)
    monkeypatch.setitem(sys.modules, "zstandard", None)  # import zstandard -> ImportError: the command is used
    with pytest.raises(KconfigError) as info:
        KernelConfig.from_file(str(path))
    assert "larger than" in str(info.value)
    children = subprocess.run(["pgrep", "-a", "-P", str(os.getpid())], stdout=subprocess.PIPE, check=False).stdout
    assert b"zstd" not in children, children  # the command was ended, not left running


def test_a_plain_file_past_the_cap_is_refused_in_bounded_memory(tmp_path):
    path = tmp_path / "config"
    with open(str(path), "wb") as handle:
        for _index in range(80):
            handle.write(LINES)
    result = measure(str(path))
    assert "larger than" in result["msg"] and result["peak_kib"] < PEAK_LIMIT_MIB * 1024, result


def test_many_distinct_symbols_stay_bounded(tmp_path):
    path = tmp_path / "config"
    with open(str(path), "wb") as handle:
        handle.write(HEADER)
        for block in range(50):
            handle.write(b"".join(b"CONFIG_S%d_%d=y\n" % (block, i) for i in range(60000)))
    result = measure(str(path))
    assert result["msg"] and str(path) in result["msg"], result
    assert result["peak_kib"] < PEAK_LIMIT_MIB * 1024, result


def test_wide_characters_in_long_values_stay_bounded(tmp_path):
    """Text takes up to 4 bytes a character in memory: long values with one emoji each."""
    path = tmp_path / "config"
    value = b"x" * (MIB - 64) + "\U0001f600".encode("utf-8")
    with open(str(path), "wb") as handle:
        handle.write(HEADER)
        for index in range(60):
            handle.write(b"CONFIG_LONG_%d=%s\n" % (index, value))
    result = measure(str(path))
    assert result["msg"] and str(path) in result["msg"], result
    assert result["peak_kib"] < PEAK_LIMIT_MIB * 1024, result


def test_a_real_config_just_under_the_cap_is_still_read(tmp_path, monkeypatch):
    monkeypatch.setattr(_kconfig, "_MAX_CONFIG_BYTES", 4 * MIB)
    body = HEADER + b"".join(b"CONFIG_OPTION_%d=y\n" % i for i in range(20000))
    padding = 4 * MIB - len(body)
    body += (b"#" * 99 + b"\n") * (padding // 100) + b"#" * (padding % 100 - 1) + b"\n"
    assert len(body) == 4 * MIB
    for name, data in (("plain", body), ("gz", zlib.compress(body)), ("xz", lzma.compress(body)),
                       ("bz2", bz2.compress(body))):
        if name == "gz":
            data = _stream(zlib.compressobj(6, zlib.DEFLATED, 31), body, 1)
        path = tmp_path / name
        path.write_bytes(data)
        config = KernelConfig.from_file(str(path))
        assert config.value("OPTION_19999") == "y" and config.header_version == "6.1.0"


# ---------------------------------------------------------------- 11. files that never end

@pytest.mark.parametrize("name", ["/proc/kmsg", "/proc/self/status", "/proc/self/environ", "/sys/kernel/uevent_seqnum",
                                  "/dev/zero", "/dev/null", "/dev/stdin", "/proc/self/fd/0"])
def test_kernel_files_and_devices_are_refused_at_once(name):
    if not os.path.exists(name):
        pytest.skip("%s does not exist here" % name)
    started = time.monotonic()
    with pytest.raises(KconfigError) as info:
        KernelConfig.from_file(name)
    assert time.monotonic() - started < 5
    assert name in str(info.value)


def test_a_fifo_is_refused_without_blocking(tmp_path):
    fifo = tmp_path / "fifo"
    os.mkfifo(str(fifo))
    with pytest.raises(KconfigError) as info:
        KernelConfig.from_file(str(fifo))
    assert "not a regular file" in str(info.value)


class EndlessReads(object):
    """os.read as on a file that never ends: data for ever, or a read that blocks."""

    def __init__(self, monkeypatch, block=False):
        real_read = os.read
        chunk = b"CONFIG_A=y\n" * 5000

        def read(fd, size):
            if os.path.basename(os.readlink("/proc/self/fd/%d" % fd)).startswith("endless"):
                if block:
                    time.sleep(3600)
                return chunk[:size]
            return real_read(fd, size)

        monkeypatch.setattr(os, "read", read)


def test_a_file_that_never_ends_is_cut_at_the_size_bound(tmp_path, monkeypatch):
    path = tmp_path / "endless"
    path.write_bytes(HEADER)
    EndlessReads(monkeypatch)
    monkeypatch.setattr(_kconfig, "_MAX_CONFIG_BYTES", 2 * MIB)
    with pytest.raises(KconfigError) as info:
        KernelConfig.from_file(str(path))
    assert "larger than" in str(info.value)


def test_a_read_that_blocks_is_given_up_in_time(tmp_path, monkeypatch):
    path = tmp_path / "endless"
    path.write_bytes(HEADER)
    EndlessReads(monkeypatch, block=True)
    monkeypatch.setattr(_kconfig, "_READ_TIMEOUT", 1.0)
    started = time.monotonic()
    with pytest.raises(KconfigError) as info:
        KernelConfig.from_file(str(path))
    assert time.monotonic() - started < 10
    assert str(path) in str(info.value) and "seconds" in str(info.value)


def test_a_slow_endless_file_is_given_up_in_time_outside_the_main_thread(tmp_path, monkeypatch):
    path = tmp_path / "endless"
    path.write_bytes(HEADER)
    real_read = os.read

    def slow(fd, size):
        if os.path.basename(os.readlink("/proc/self/fd/%d" % fd)) == "endless":
            time.sleep(0.05)
            return b"# more\n" * 10
        return real_read(fd, size)

    monkeypatch.setattr(os, "read", slow)
    monkeypatch.setattr(_kconfig, "_READ_TIMEOUT", 1.0)
    outcome = []

    def worker():
        try:
            KernelConfig.from_file(str(path))
            outcome.append("read")
        except KconfigError as exc:
            outcome.append(str(exc))

    thread = threading.Thread(target=worker)
    thread.start()
    thread.join(30)
    assert not thread.is_alive() and outcome and "seconds" in outcome[0], outcome


# ---------------------------------------------------------------- 12. lines end at \n only

SEPARATORS = ["\f", "\v", "\x1c", "\x1d", "\x1e", "\x85", "\u2028", "\u2029", "\r"]


@pytest.mark.parametrize("sep", SEPARATORS, ids=[repr(s) for s in SEPARATORS])
def test_a_string_value_cannot_hide_a_config_line(sep):
    text = '# CONFIG_USER_NS is not set\nCONFIG_CMDLINE="x%sCONFIG_USER_NS=y%s"\n' % (sep, sep)
    assert parse_values(text)["USER_NS"] == "n"
    text = 'CONFIG_NAMESPACES=y\nCONFIG_CMDLINE="x%s# CONFIG_NAMESPACES is not set%s"\n' % (sep, sep)
    assert parse_values(text)["NAMESPACES"] == "y"
    text = 'CONFIG_DEFAULT_HOSTNAME="a%sCONFIG_VETH=m"\n' % sep
    assert "VETH" not in parse_values(text)


@pytest.mark.parametrize("sep", SEPARATORS + ["\udc85"], ids=[repr(s) for s in SEPARATORS + ["raw-0x85"]])
def test_a_hidden_line_stays_hidden_in_a_file(tmp_path, sep):
    data = ('#\n# Linux/x86 6.1.0 Kernel Configuration\n#\n# CONFIG_USER_NS is not set\n'
            'CONFIG_CMDLINE="x%sCONFIG_USER_NS=y%s"\n' % (sep, sep)).encode("utf-8", "surrogateescape")
    for name, packed in (("plain", data), ("gz", zlib.compress(data)), ("xz", lzma.compress(data))):
        if name == "gz":
            packed = _stream(zlib.compressobj(6, zlib.DEFLATED, 31), data, 1)
        path = tmp_path / name
        path.write_bytes(packed)
        assert KernelConfig.from_file(str(path)).value("USER_NS") == "n"


def test_a_hidden_line_cannot_fake_a_header():
    assert header_version('CONFIG_CMDLINE="\f# Linux/x86 9.9.9 Kernel Configuration\f"\n') is None


def test_a_hidden_line_through_the_module(tmp_path):
    values = ["NAMESPACES", "UTS_NS", "IPC_NS", "PID_NS", "NET_NS", "CGROUPS", "UNIX", "SIGNALFD", "EPOLL"]
    body = "".join("CONFIG_%s=y\n" % name for name in values)
    config = tmp_path / "config"
    config.write_bytes(("# Linux/x86 6.1.0 Kernel Configuration\n" + body + "# CONFIG_USER_NS is not set\n"
                        'CONFIG_CMDLINE="x\fCONFIG_USER_NS=y\f"\n').encode())
    rc, result, _err = module_process.run_module("lxc_checkconfig", tmp_path, {"config": str(config)})
    assert rc == 0
    user_ns = [c for c in result["checks"] if c["symbol"] == "CONFIG_USER_NS"][0]
    assert user_ns["status"] == "missing" and user_ns["value"] == "n"


# ---------------------------------------------------------------- 13. numbers

HUGE = ["9" * 5000, "6." + "9" * 5000, "6.1." + "1" * 4301, "2.6.38." + "7" * 100000, "1" * 20 + ".1",
        "6.1.0-" + "9" * 5000]


HUGE_IDS = ["5000-digits", "minor", "patch", "sublevel-100k", "20-digits", "suffix-digits"]


@pytest.mark.parametrize("text", HUGE, ids=HUGE_IDS)
def test_parse_version_never_raises_on_huge_numbers(text):
    parsed = parse_version(text)
    if text.startswith("6.1.0-"):
        assert parsed == (6, 1, 0, 0)
    else:
        assert parsed is None


@pytest.mark.parametrize("text", ["\u0666.\u0661", "\uff16.\uff11", "6.\u0661"])
def test_parse_version_takes_ascii_digits_only(text):
    assert parse_version(text) is None


@pytest.mark.parametrize("version", ["9" * 5000, "6." + "9" * 5000, "6.1." + "1" * 4301, "x" * 100000,
                                     "6.1\n" + "9" * 5000, "\u0666.\u0661"])
def test_the_module_refuses_a_huge_kernel_version(tmp_path, version):
    config = tmp_path / "config"
    config.write_bytes(b"# Linux/x86 6.1.0 Kernel Configuration\nCONFIG_NAMESPACES=y\n")
    rc, result, _err = module_process.run_module("lxc_checkconfig", tmp_path, {"config": str(config),
                                                                               "kernel_version": version})
    assert rc == 1 and result["failed"] and "kernel_version" in result["msg"], result
    assert len(result["msg"]) < 1000


def test_a_huge_version_in_a_config_header_is_no_version(tmp_path):
    config = tmp_path / "config"
    config.write_bytes(b"# Linux/x86 " + b"9" * 5000 + b".1 Kernel Configuration\nCONFIG_NAMESPACES=y\n")
    rc, result, _err = module_process.run_module("lxc_checkconfig", tmp_path, {"config": str(config)})
    assert rc == 1 and result["failed"] and "kernel_version" in result["msg"], result
