# -*- coding: utf-8 -*-
# Copyright: lxchost.prep contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests for _kconfig: reading, decompressing, parsing and versioning kernel configs.

Real files in tmp_path, real compressors; nothing is mocked.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import bz2
import gzip
import json
import lzma
import os
import sys
from pathlib import Path

import pytest

from ansible_collections.lxchost.prep.plugins.module_utils import _kconfig
from ansible_collections.lxchost.prep.plugins.module_utils._kconfig import (
    KconfigError,
    KernelConfig,
    find_running_config,
    format_version,
    header_version,
    parse_values,
    parse_version,
    read_config_bytes,
    running_config_candidates,
    sniff_compression,
)

FIXTURES = Path(__file__).resolve().parents[3] / "fixtures" / "configs"

NEW_HEADER = """#
# Automatically generated file; DO NOT EDIT.
# Linux/x86 6.1.0 Kernel Configuration
#
"""
OLD_HEADER = """#
# Automatically generated make config: don't edit
# Linux kernel version: 2.6.32
# Fri Mar  5 12:00:00 2010
#
"""
BODY = """CONFIG_NAMESPACES=y
CONFIG_UTS_NS=y
# CONFIG_USER_NS is not set
CONFIG_VETH=m
CONFIG_LOCALVERSION="-custom"
CONFIG_NR_CPUS=64
CONFIG_PHYSICAL_START=0x1000000
CONFIG_DEFAULT_HOSTNAME="(none)"
"""
SAMPLE = (NEW_HEADER + BODY).encode()


def _zstd(data):
    zstandard = pytest.importorskip("zstandard")
    return zstandard.ZstdCompressor().compress(data)


COMPRESSORS = {
    "gzip": gzip.compress,
    "xz": lzma.compress,
    "bzip2": bz2.compress,
    "zstd": _zstd,
}


def _write(tmp_path, name, data):
    path = tmp_path / name
    path.write_bytes(data)
    return str(path)


def _error(func, *args):
    with pytest.raises(KconfigError) as info:
        func(*args)
    message = str(info.value)
    assert "Traceback" not in message
    assert message.strip(), "empty error message"
    return message


# ---------------------------------------------------------------- versions

@pytest.mark.parametrize("text, expected", [
    ("2.6.9", (2, 6, 9, 0)),
    ("2.6.38.6", (2, 6, 38, 6)),
    ("2.6.38.6-rc1", (2, 6, 38, 6)),
    ("3.0", (3, 0, 0, 0)),
    ("4.19.0-rc1", (4, 19, 0, 0)),
    ("6.1.0-18-amd64", (6, 1, 0, 0)),
    ("6.18.44-fc-v657", (6, 18, 44, 0)),
    ("10.1.0", (10, 1, 0, 0)),
    (" 6.1 ", (6, 1, 0, 0)),
])
def test_parse_version(text, expected):
    assert parse_version(text) == expected


@pytest.mark.parametrize("text", ["junk", "", "6", "v6.1", "six.one", ".1.2", "-6.1"])
def test_parse_version_junk_is_none(text):
    assert parse_version(text) is None


def test_parse_version_orders_numerically():
    # String comparison gets these wrong (lxc-checkconfig's [[ $m < 33 ]] did).
    assert parse_version("2.6.9") < parse_version("2.6.33") < parse_version("3.0")
    assert parse_version("3.2") < parse_version("3.10") < parse_version("4.0")
    assert parse_version("9.99") < parse_version("10.1.0")
    assert parse_version("2.6.38") < parse_version("2.6.38.6") < parse_version("2.6.39")


@pytest.mark.parametrize("version, text", [
    ((2, 6, 38, 6), "2.6.38.6"),
    ((6, 1, 0, 0), "6.1.0"),
    ((10, 1, 0, 0), "10.1.0"),
    ((2, 6, 9, 0), "2.6.9"),
])
def test_format_version(version, text):
    assert format_version(version) == text
    assert parse_version(format_version(version)) == version


# ---------------------------------------------------------------- headers

@pytest.mark.parametrize("header, expected", [
    ("# Linux/x86 6.1.0 Kernel Configuration", "6.1.0"),
    ("# Linux/x86_64 2.6.38.6 Kernel Configuration", "2.6.38.6"),
    ("# Linux/arm64 6.12.0-rc3 Kernel Configuration", "6.12.0-rc3"),
    ("# Linux/i386 3.2.0-4-686-pae Kernel Configuration", "3.2.0-4-686-pae"),
    ("# Linux/x86 10.1.0 Kernel Configuration", "10.1.0"),
    ("# Linux kernel version: 2.6.32", "2.6.32"),
    ("# Linux kernel version: 2.6.9", "2.6.9"),
    ("# Linux kernel version: 2.6.26.8", "2.6.26.8"),
])
def test_header_version_both_styles(header, expected):
    text = "#\n# Automatically generated file; DO NOT EDIT.\n%s\n#\nCONFIG_X=y\n" % header
    assert header_version(text) == expected


def test_header_version_crlf():
    assert header_version("#\r\n# Linux/x86 4.9.0 Kernel Configuration\r\n#\r\n") == "4.9.0"


@pytest.mark.parametrize("text", [
    "CONFIG_NAMESPACES=y\n",
    "# Linux kernel configuration fragment\nCONFIG_NAMESPACES=y\n",
    "# Linux/x86 Kernel Configuration\n",  # no version in it
    "#\n# Automatically generated file; DO NOT EDIT.\n# Linux/x86 six Kernel Configuration\n",
    "",
])
def test_header_absent(text):
    assert header_version(text) is None


def test_header_only_in_the_first_lines():
    # A header-like line deep in a file (a comment in a fragment) is not the header.
    text = "CONFIG_A=y\n" * 1000 + "# Linux/x86 6.1.0 Kernel Configuration\n"
    assert header_version(text) is None


# ---------------------------------------------------------------- values

def test_parse_values_kinds():
    values = parse_values(BODY)
    assert values["NAMESPACES"] == "y"
    assert values["VETH"] == "m"
    assert values["USER_NS"] == "n"
    assert values["LOCALVERSION"] == '"-custom"'
    assert values["NR_CPUS"] == "64"
    assert values["PHYSICAL_START"] == "0x1000000"
    assert values["DEFAULT_HOSTNAME"] == '"(none)"'
    assert "CONFIG_NAMESPACES" not in values  # keys carry no prefix


def test_parse_values_ignores_comments_and_indented_lines():
    text = ("#CONFIG_A=y\n"
            "# CONFIG_B=y\n"
            "  CONFIG_C=y\n"
            "XCONFIG_D=y\n"
            "# CONFIG_E is not set, really\n"
            "CONFIG_F=y\n")
    assert parse_values(text) == {"F": "y"}


def test_parse_values_crlf_line_endings():
    values = parse_values("CONFIG_A=y\r\nCONFIG_B=m\r\n# CONFIG_C is not set\r\n")
    assert values == {"A": "y", "B": "m", "C": "n"}


def test_parse_values_set_line_wins_over_not_set():
    # A fragment appended to a config: the explicit value is what counts.
    assert parse_values("# CONFIG_A is not set\nCONFIG_A=y\n")["A"] == "y"


def test_kernel_config_value_lookup(tmp_path):
    config = KernelConfig.from_file(_write(tmp_path, "config", SAMPLE))
    assert config.value("NAMESPACES") == "y"
    assert config.value("VETH") == "m"
    assert config.value("USER_NS") == "n"
    assert config.value("NEVER_MENTIONED") is None
    assert config.header_version == "6.1.0"
    assert config.compression == "none"
    assert config.source == str(tmp_path / "config")


def test_kernel_config_old_header(tmp_path):
    config = KernelConfig.from_file(_write(tmp_path, "config", (OLD_HEADER + BODY).encode()))
    assert config.header_version == "2.6.32"


def test_kernel_config_no_header(tmp_path):
    config = KernelConfig.from_file(_write(tmp_path, "frag", BODY.encode()))
    assert config.header_version is None
    assert config.value("NAMESPACES") == "y"


def test_kernel_config_invalid_utf8_is_tolerated(tmp_path):
    data = SAMPLE + b'CONFIG_CMDLINE="caf\xe9"\n'
    config = KernelConfig.from_file(_write(tmp_path, "config", data))
    assert config.value("NAMESPACES") == "y"


# ---------------------------------------------------------------- compression

@pytest.mark.parametrize("compression", sorted(COMPRESSORS))
def test_decompress_detected_by_content_not_name(tmp_path, compression):
    data = COMPRESSORS[compression](SAMPLE)
    # Deliberately misleading names: a .txt that is compressed, a .gz that is xz, ...
    names = {"gzip": "config.xz", "xz": "config.gz", "bzip2": "config.zst", "zstd": "config.txt"}
    path = _write(tmp_path, names[compression], data)
    assert sniff_compression(data) == compression
    text, found = read_config_bytes(path)
    assert found == compression
    assert text == SAMPLE.decode()
    config = KernelConfig.from_file(path)
    assert config.compression == compression
    assert config.value("VETH") == "m"
    assert config.header_version == "6.1.0"


def test_plain_file_named_gz_is_read_plain(tmp_path):
    path = _write(tmp_path, "config.gz", SAMPLE)
    assert read_config_bytes(path) == (SAMPLE.decode(), "none")


def test_zstd_multiple_frames(tmp_path):
    data = _zstd(SAMPLE[:60]) + _zstd(SAMPLE[60:])
    text, compression = read_config_bytes(_write(tmp_path, "config", data))
    assert (text, compression) == (SAMPLE.decode(), "zstd")


def test_gzip_multiple_members(tmp_path):
    data = gzip.compress(SAMPLE[:60]) + gzip.compress(SAMPLE[60:])
    assert read_config_bytes(_write(tmp_path, "config", data)) == (SAMPLE.decode(), "gzip")


def test_zstd_without_python_package_uses_the_command(tmp_path, monkeypatch):
    """When 'zstandard' is not importable the zstd command is used (when installed)."""
    import shutil
    if not shutil.which("zstd"):
        pytest.skip("no zstd command on this host")
    data = _zstd(SAMPLE)
    monkeypatch.setitem(sys.modules, "zstandard", None)  # import zstandard -> ImportError
    assert read_config_bytes(_write(tmp_path, "config", data)) == (SAMPLE.decode(), "zstd")
    truncated = _write(tmp_path, "trunc", data[: len(data) // 2])
    message = _error(read_config_bytes, truncated)
    assert "zstd-compressed but does not decompress" in message


def test_zstd_with_neither_package_nor_command(tmp_path, monkeypatch):
    data = _zstd(SAMPLE)
    monkeypatch.setitem(sys.modules, "zstandard", None)
    monkeypatch.setenv("PATH", str(tmp_path / "empty-bin"))
    message = _error(read_config_bytes, _write(tmp_path, "config", data))
    assert "zstandard" in message and "zstd" in message and "install" in message


# ---------------------------------------------------------------- bad input

def test_missing_file(tmp_path):
    path = str(tmp_path / "nope")
    message = _error(KernelConfig.from_file, path)
    assert message == "Kernel config %s does not exist." % path


def test_directory(tmp_path):
    message = _error(KernelConfig.from_file, str(tmp_path))
    assert "is a directory" in message and ".config" in message


def test_empty_file(tmp_path):
    path = _write(tmp_path, "config", b"")
    assert _error(KernelConfig.from_file, path) == "Kernel config %s is empty." % path


def test_binary_junk_with_nul(tmp_path):
    path = _write(tmp_path, "config", bytes(range(256)) * 40)
    message = _error(KernelConfig.from_file, path)
    assert "binary data" in message and path in message


def test_binary_junk_without_nul(tmp_path):
    path = _write(tmp_path, "config", bytes(range(1, 256)) * 40)
    message = _error(KernelConfig.from_file, path)
    assert "no CONFIG_ lines" in message


def test_elf_binary(tmp_path):
    path = _write(tmp_path, "vmlinux", b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 200)
    assert "binary data" in _error(KernelConfig.from_file, path)


def test_text_without_config_lines(tmp_path):
    path = _write(tmp_path, "config", b"# just a comment\nhello world\n")
    message = _error(KernelConfig.from_file, path)
    assert message == "%s has no CONFIG_ lines: it is not a kernel config." % path


def test_only_not_set_lines_is_still_a_config(tmp_path):
    # allnoconfig-like: every option off is a valid (if useless) config.
    path = _write(tmp_path, "config", b"# CONFIG_NAMESPACES is not set\n")
    assert KernelConfig.from_file(path).value("NAMESPACES") == "n"


@pytest.mark.parametrize("compression", sorted(COMPRESSORS))
def test_compressed_binary_junk(tmp_path, compression):
    path = _write(tmp_path, "config", COMPRESSORS[compression](b"\x00\x01\x02" * 500))
    message = _error(KernelConfig.from_file, path)
    assert "binary data" in message and compression in message


@pytest.mark.parametrize("compression", sorted(COMPRESSORS))
def test_compressed_text_without_config_lines(tmp_path, compression):
    path = _write(tmp_path, "config", COMPRESSORS[compression](b"hello\n" * 50))
    message = _error(KernelConfig.from_file, path)
    assert "no CONFIG_ lines" in message and ("after %s decompression" % compression) in message


def _truncated_cases():
    cases = []
    for compression in sorted(COMPRESSORS):
        for cut in ("half", "last-byte", "magic-only"):
            cases.append(pytest.param(compression, cut, id="%s-%s" % (compression, cut)))
    return cases


@pytest.mark.parametrize("compression, cut", _truncated_cases())
def test_truncated_compressed(tmp_path, compression, cut):
    # Realistic size, so the stream spans several blocks.
    body = SAMPLE + b"".join(b"CONFIG_OPTION_%d=y\n" % i for i in range(20000))
    data = COMPRESSORS[compression](body)
    magic = [m for m, name in _kconfig._MAGIC if name == compression][0]
    end = {"half": len(data) // 2, "last-byte": len(data) - 1, "magic-only": len(magic)}[cut]
    path = _write(tmp_path, "config", data[:end])
    message = _error(KernelConfig.from_file, path)
    assert "%s-compressed but does not decompress (truncated or corrupt)" % compression in message
    assert path in message


@pytest.mark.parametrize("compression", sorted(COMPRESSORS))
def test_corrupt_compressed(tmp_path, compression):
    data = bytearray(COMPRESSORS[compression](SAMPLE * 20))
    # Keep the magic so the format is recognised, flip bytes in the middle.
    for offset in range(len(data) // 3, len(data) // 3 + 16):
        data[offset] ^= 0xA5
    path = _write(tmp_path, "config", bytes(data))
    message = _error(KernelConfig.from_file, path)
    assert "%s-compressed but does not decompress" % compression in message


def test_magic_followed_by_garbage(tmp_path):
    for magic, name in _kconfig._MAGIC:
        path = _write(tmp_path, "config-" + name, magic + b"garbage" * 30)
        message = _error(KernelConfig.from_file, path)
        assert "%s-compressed but does not decompress" % name in message


def test_too_large(tmp_path, monkeypatch):
    monkeypatch.setattr(_kconfig, "_MAX_CONFIG_BYTES", 1024)
    path = _write(tmp_path, "config", SAMPLE * 100)
    assert "larger than" in _error(KernelConfig.from_file, path)
    gz = _write(tmp_path, "config.gz", gzip.compress(SAMPLE * 100))
    assert "larger than" in _error(KernelConfig.from_file, gz)


def _unreadable_as(uid, gid, path):
    """Run read_config_bytes(path) in a forked child that dropped root; return (kind, text)."""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # child: no exec needed, the module is already imported
        try:
            os.close(read_end)
            os.setgroups([])
            os.setgid(gid)
            os.setuid(uid)
            try:
                read_config_bytes(path)
                out = ["ok", ""]
            except KconfigError as exc:
                out = ["error", str(exc)]
            except BaseException as exc:  # pylint: disable=broad-except
                out = ["crash", repr(exc)]
            os.write(write_end, json.dumps(out).encode())
        finally:
            os._exit(0)
    os.close(write_end)
    chunks = []
    while True:
        chunk = os.read(read_end, 65536)
        if not chunk:
            break
        chunks.append(chunk)
    os.close(read_end)
    os.waitpid(pid, 0)
    return json.loads(b"".join(chunks).decode())


@pytest.fixture
def world_dir(tmp_path_factory):
    """A directory others may traverse (pytest's own tmp root is 0700)."""
    import tempfile
    path = tempfile.mkdtemp(prefix="kconfig-perm-")
    os.chmod(path, 0o755)
    yield Path(path)
    import shutil
    shutil.rmtree(path, ignore_errors=True)


def test_unreadable_file(world_dir):
    path = world_dir / "config"
    path.write_bytes(SAMPLE)
    path.chmod(0)
    if os.geteuid() != 0:
        assert "cannot be read" in _error(read_config_bytes, str(path))
        return
    # Root reads a mode-000 file; drop to nobody in a forked child to see the real refusal.
    kind, text = _unreadable_as(65534, 65534, str(path))
    assert kind == "error", (kind, text)
    assert text == "Kernel config %s cannot be read: Permission denied." % path


def test_file_in_unsearchable_directory(world_dir):
    private = world_dir / "private"
    private.mkdir()
    path = private / "config"
    path.write_bytes(SAMPLE)
    private.chmod(0o700)
    if os.geteuid() != 0:
        message = _error(read_config_bytes, str(path))
    else:
        kind, message = _unreadable_as(65534, 65534, str(path))
        assert kind == "error", (kind, message)
    assert "Permission denied" in message


def test_messages_never_contain_tracebacks(tmp_path):
    """Every bad input: a KconfigError (never another exception) with a clean message."""
    bad = {
        "missing": None,
        "empty": b"",
        "nul": b"\x00" * 10,
        "junk": b"\xff\xfe\xfd" * 100,
        "gz-trunc": gzip.compress(SAMPLE)[:20],
        "xz-trunc": lzma.compress(SAMPLE)[:20],
        "bz2-trunc": bz2.compress(SAMPLE)[:20],
        "zst-trunc": _zstd(SAMPLE)[:8],
    }
    for name, data in bad.items():
        path = str(tmp_path / name) if data is None else _write(tmp_path, name, data)
        message = _error(KernelConfig.from_file, path)
        assert "\n" not in message, message
        assert path in message


# ---------------------------------------------------------------- running kernel

def test_running_config_candidates_order(tmp_path):
    release = "6.1.0-18-amd64"
    root = str(tmp_path)
    candidates = running_config_candidates(release, root)
    rel = [os.path.relpath(c, root) for c in candidates]
    assert rel[0] == "proc/config.gz"
    assert rel[1] == "boot/config-%s" % release
    for expected in ("lib/modules/%s/build/.config", "usr/lib/modules/%s/config",
                     "usr/src/linux-%s/.config", "usr/src/linux-headers-%s/.config",
                     "usr/lib/ostree-boot/config-%s", "usr/lib/kernel/config-%s"):
        assert expected % release in rel
    assert all(c.startswith(root) for c in candidates)


@pytest.mark.parametrize("relative", [
    "proc/config.gz",
    "boot/config-{r}",
    "lib/modules/{r}/config",
    "usr/lib/modules/{r}/config",
    "lib/modules/{r}/build/.config",
    "usr/src/linux-headers-{r}/.config",
    "usr/src/linux-{r}/.config",
    "usr/lib/ostree-boot/config-{r}",
    "usr/lib/kernel/config-{r}",
])
def test_find_running_config_each_place(tmp_path, relative):
    release = "6.1.0-18-amd64"
    path = tmp_path / relative.format(r=release)
    path.parent.mkdir(parents=True)
    path.write_bytes(SAMPLE)
    assert find_running_config(release, str(tmp_path)) == str(path)


def test_find_running_config_prefers_proc_then_boot(tmp_path):
    release = "5.10.0-9-amd64"
    for relative in ("proc/config.gz", "boot/config-%s" % release, "usr/src/linux-%s/.config" % release):
        path = tmp_path / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(gzip.compress(SAMPLE))
    assert find_running_config(release, str(tmp_path)) == str(tmp_path / "proc/config.gz")
    (tmp_path / "proc/config.gz").unlink()
    assert find_running_config(release, str(tmp_path)) == str(tmp_path / "boot" / ("config-" + release))


def test_find_running_config_skips_directories_and_other_releases(tmp_path):
    release = "6.1.0-18-amd64"
    (tmp_path / "boot" / ("config-" + release)).mkdir(parents=True)  # a directory is no config
    (tmp_path / "boot" / "config-6.1.0-17-amd64").write_bytes(SAMPLE)  # another kernel's
    with pytest.raises(KconfigError):
        find_running_config(release, str(tmp_path))


def test_find_running_config_nothing_found(tmp_path):
    release = "6.1.0-18-amd64"
    message = _error(find_running_config, release, str(tmp_path))
    assert release in message
    assert "IKCONFIG_PROC" in message          # how to fix: build with it,
    assert "/boot/config-%s" % release in message  # or install the config,
    assert "'config' option" in message        # or pass a path.
    assert "Traceback" not in message
    assert str(tmp_path / "proc/config.gz") in message  # says where it looked


# ---------------------------------------------------------------- committed fixtures

def _fixture_configs(bad):
    if not FIXTURES.is_dir():
        return []
    return sorted(p for p in FIXTURES.iterdir()
                  if p.is_file() and not p.name.startswith(".") and p.name.startswith("bad-") == bad
                  and p.suffix.lower() not in (".md", ".txt", ".json", ".yml", ".yaml"))


def _none_yet():
    return [pytest.param(None, marks=pytest.mark.skip(reason="no fixture configs under tests/fixtures/configs"))]


@pytest.mark.parametrize("path", _fixture_configs(bad=False) or _none_yet(), ids=lambda p: p.name if p else "none")
def test_fixture_configs_parse(path):
    config = KernelConfig.from_file(str(path))
    assert config.values, path
    assert all(not name.startswith("CONFIG_") for name in config.values)
    assert set(config.values.values()) & {"y", "m", "n"}
    if config.header_version is not None:
        assert parse_version(config.header_version) is not None, config.header_version
    if path.name.startswith(("handmade-", "linux-", "debian-", "synthetic-")):
        assert config.header_version is not None, path.name
    expected_compression = "xz" if path.name.endswith(".xz") else "none"
    assert config.compression == expected_compression


# What each bad fixture must be refused with (tests/fixtures/configs/README.md).
BAD_FIXTURES = {
    "bad-empty.config": "is empty.",
    "bad-binary-junk.bin": "is binary data",
    "bad-truncated.config.gz": "is gzip-compressed but does not decompress (truncated or corrupt)",
    "bad-corrupt.config.xz": "is xz-compressed but does not decompress (truncated or corrupt)",
    "bad-no-config-lines.config": "has no CONFIG_ lines: it is not a kernel config.",
}


@pytest.mark.parametrize("path", _fixture_configs(bad=True) or _none_yet(), ids=lambda p: p.name if p else "none")
def test_bad_fixture_configs_refused(path):
    if path.name == "bad-header-no-version.config":
        config = KernelConfig.from_file(str(path))  # readable; only its version is unknown
        assert config.header_version is None and config.values
        return
    message = _error(KernelConfig.from_file, str(path))
    assert str(path) in message
    assert BAD_FIXTURES[path.name] in message, message


def test_parse_values_later_line_wins_as_in_kconfig():
    # A fragment appended to a config overrides it either way.
    assert parse_values("CONFIG_A=y\n# CONFIG_A is not set\n# CONFIG_B is not set\nCONFIG_B=m\n") == {"A": "n", "B": "m"}
