# -*- coding: utf-8 -*-
# Copyright: lxchost.prep contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""cgroup_fstab against hostile input and hostile hosts: nothing lost, no lie, no hang.

One section per class of docs/RELIABILITY.md. The module runs in this process (mount(8),
umount(8) and the mount table are stand-ins) or, where a real kernel matters (a full file
system, a real cgroup mount), in a private mount namespace that is thrown away afterwards.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import errno
import fcntl
import json
import os
import shutil
import subprocess
import sys
import threading
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ansible.module_utils import basic

from ansible_collections.lxchost.prep.plugins.module_utils import _host_facts as host_facts
from ansible_collections.lxchost.prep.plugins.modules import cgroup_fstab
from ansible_collections.lxchost.prep.tests.unit.plugins.modules import module_process
from ansible_collections.lxchost.prep.tests.unit.plugins.modules.test_cgroup_fstab import (
    HYBRID,
    ORIGINAL,
    Host,
    run_module,
)

UNIFIED = dict(mode="v2", v1_mounts=[], v2_mounts=["/sys/fs/cgroup"], v1_bound_controllers=[],
               v1_available_controllers=["cpu", "memory"], v2_controllers=["cpu", "memory"])


def assert_refused(result, *words):
    """The run failed before changing anything, saying so and naming `words`. Python 3.12 and
    later refuse a NUL byte in a syslog message, and AnsibleModule logs its arguments to syslog
    before the module runs: there ansible-core itself refuses such an argument, with its own
    message (the run still changes nothing)."""
    assert result["failed"], result
    if sys.version_info >= (3, 12) and "\x00" in result.get("msg_to_log", ""):
        assert "Failed to log to syslog (embedded null character)" in result["msg"], result
        return
    for word in words + ("Nothing was changed",):
        assert word in result["msg"], result


def v2_line(path):
    return ("cgroup2 %s cgroup2 defaults 0 0" % path).encode()


@pytest.fixture
def paths(tmp_path):
    fstab = tmp_path / "fstab"
    fstab.write_bytes(ORIGINAL)
    return dict(fstab=fstab, mnt=tmp_path / "cgroup", root=tmp_path)


def args_for(paths, **extra):
    args = dict(path=str(paths["mnt"]), fstab=str(paths["fstab"]), cgroup_facts=HYBRID)
    args.update(extra)
    return args


def assert_controller_safe(value):
    """What the controller accepts: every string valid UTF-8 (no lone surrogates)."""
    if isinstance(value, dict):
        for key, item in value.items():
            assert_controller_safe(key)
            assert_controller_safe(item)
    elif isinstance(value, list):
        for item in value:
            assert_controller_safe(item)
    elif isinstance(value, str):
        value.encode("utf-8")  # raises UnicodeEncodeError on a lone surrogate


def leftovers(directory, *expected):
    """Files next to fstab that should not be there (temporary files, 0-byte files)."""
    return sorted(name for name in os.listdir(str(directory)) if name not in expected)


# ---------------------------------------------------------------- 1. fstab is a symbolic link

@pytest.mark.parametrize("link_kind", ["relative", "absolute", "chain"])
def test_symlinked_fstab_is_written_through_the_link(tmp_path, monkeypatch, capsys, link_kind):
    real_dir = tmp_path / "real"
    real_dir.mkdir()
    real = real_dir / "fstab.real"
    real.write_bytes(ORIGINAL)
    os.chmod(str(real), 0o640)
    if os.geteuid() == 0:
        os.chown(str(real), 1234, 5678)
    try:
        os.setxattr(str(real), "user.lxchost", b"kept")
        has_xattr = True
    except OSError:
        has_xattr = False
    etc = tmp_path / "etc"
    etc.mkdir()
    link = etc / "fstab"
    if link_kind == "relative":
        os.symlink("../real/fstab.real", str(link))
    elif link_kind == "absolute":
        os.symlink(str(real), str(link))
    else:
        os.symlink(str(real), str(etc / "fstab.middle"))
        os.symlink("fstab.middle", str(link))
    link_target = os.readlink(str(link))
    Host(monkeypatch)
    mnt = tmp_path / "cgroup"
    result = run_module(capsys, dict(path=str(mnt), fstab=str(link), cgroup_facts=HYBRID, state="present",
                                     mode="v2", backup=True))
    assert result["changed"] and not result.get("failed"), result
    assert os.path.islink(str(link)) and os.readlink(str(link)) == link_target
    assert real.read_bytes() == ORIGINAL + b"\n" + v2_line(mnt)
    info = os.stat(str(real))
    assert oct(info.st_mode & 0o7777) == oct(0o640)
    if os.geteuid() == 0:
        assert (info.st_uid, info.st_gid) == (1234, 5678)
    if has_xattr:
        assert os.getxattr(str(real), "user.lxchost") == b"kept"
    backup = result["backup_file"]
    assert os.path.dirname(backup) == str(real_dir) and open(backup, "rb").read() == ORIGINAL
    assert leftovers(real_dir, "fstab.real", os.path.basename(backup)) == []
    assert leftovers(etc, "fstab", "fstab.middle") == []

    result = run_module(capsys, dict(path=str(mnt), fstab=str(link), cgroup_facts=HYBRID, state="absent"))
    assert result["changed"] and real.read_bytes() == ORIGINAL
    assert os.path.islink(str(link)) and os.readlink(str(link)) == link_target


@pytest.mark.parametrize("kind", ["loop", "self-loop", "directory", "dangling", "fifo", "relative", "empty",
                                  "device"])
def test_fstab_that_cannot_be_used_is_refused_with_a_message(tmp_path, monkeypatch, capsys, kind):
    fstab = tmp_path / "fstab"
    if kind == "loop":
        os.symlink("fstab.b", str(fstab))
        os.symlink("fstab", str(tmp_path / "fstab.b"))
    elif kind == "self-loop":
        os.symlink("fstab", str(fstab))
    elif kind == "directory":
        fstab.mkdir()
    elif kind == "dangling":
        os.symlink(str(tmp_path / "nowhere" / "fstab"), str(fstab))
    elif kind == "fifo":
        os.mkfifo(str(fstab))
    elif kind == "device":
        os.symlink("/dev/zero", str(fstab))
    name = {"relative": "fstab", "empty": ""}.get(kind, str(fstab))
    if kind == "relative":
        monkeypatch.chdir(str(tmp_path))
        fstab.write_bytes(ORIGINAL)
    host = Host(monkeypatch)
    result = run_module(capsys, dict(path=str(tmp_path / "cgroup"), fstab=name, cgroup_facts=HYBRID))
    assert result["failed"] and "fstab" in result["msg"], result
    assert "Nothing was changed" in result["msg"]
    assert host.commands == [] and not (tmp_path / "cgroup").exists()
    assert not (tmp_path / "nowhere").exists()
    if kind == "relative":
        assert fstab.read_bytes() == ORIGINAL


# ---------------------------------------------------------------- 2. concurrent runs on one fstab

def _start(tmp_path, index, args):
    args_file = tmp_path / ("args-concurrent-%d.json" % index)
    args_file.write_text(json.dumps({"ANSIBLE_MODULE_ARGS": args}))
    env = module_process.module_env()
    return subprocess.Popen([sys.executable, "-m", "ansible_collections.lxchost.prep.plugins.modules.cgroup_fstab",
                             str(args_file)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
                            cwd=str(tmp_path))


@pytest.mark.parametrize("round_", [1, 2])
def test_eight_concurrent_runs_keep_every_line(tmp_path, round_):
    fstab = tmp_path / "fstab"
    fstab.write_bytes(ORIGINAL + b"\n")
    mounts = [tmp_path / ("cg-%d-%d" % (round_, index)) for index in range(8)]
    procs = [_start(tmp_path, index, dict(path=str(mnt), fstab=str(fstab), state="present", mode="v2",
                                          cgroup_facts=UNIFIED))
             for index, mnt in enumerate(mounts)]
    results = []
    for proc in procs:
        out, err = proc.communicate(timeout=300)
        assert b"Traceback" not in out + err, (out, err)
        results.append(json.loads(out.decode()))
    assert all(r["changed"] and not r.get("failed") for r in results), results
    data = fstab.read_bytes()
    assert data.startswith(ORIGINAL + b"\n")
    lines = data[len(ORIGINAL) + 1:].splitlines()
    assert sorted(lines) == sorted(v2_line(mnt) for mnt in mounts)
    assert leftovers(tmp_path, "fstab", *["args-concurrent-%d.json" % i for i in range(8)]) == []


class FakeModule(object):
    """Just enough of AnsibleModule for cgroup_fstab.Task, for runs in threads of one process."""

    def __init__(self, params, check_mode=False, diff=False):
        self.params = dict(path="/var/local/cgroup", state="mounted", mode="auto", v1_options="defaults",
                           conflicts="fail", backup=False, fstab="/etc/fstab", cgroup_facts=None)
        self.params.update(params)
        self.check_mode = check_mode
        self._diff = diff
        self.warnings = []

    def warn(self, text):
        self.warnings.append(text)

    def fail_json(self, **result):
        raise Finished(dict(result, failed=True))

    def exit_json(self, **result):
        raise Finished(result)

    def get_bin_path(self, name, required=False):
        return "/bin/" + name

    def run_command(self, argv, **_kwargs):
        raise AssertionError("state=present runs no command, not %r" % argv)


class Finished(Exception):
    def __init__(self, result):
        Exception.__init__(self, result)
        self.result = result


def run_task(params, **kwargs):
    try:
        cgroup_fstab.Task(FakeModule(params, **kwargs)).main()
    except Finished as done:
        return done.result
    raise AssertionError("the task ended without a result")


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.integers(min_value=2, max_value=8), st.binary(max_size=300))
def test_property_concurrent_present_runs_keep_all_lines(tmp_path, runs, noise):
    directory = tmp_path / ("p-%d-%d" % (runs, len(os.listdir(str(tmp_path)))))
    directory.mkdir()
    fstab = directory / "fstab"
    original = noise.replace(b"cgroup", b"c") + b"\n"
    fstab.write_bytes(original)
    mounts = [str(directory / ("mnt%d" % index)) for index in range(runs)]
    results = [None] * runs
    start = threading.Barrier(runs)

    def worker(index):
        start.wait()
        results[index] = run_task(dict(path=mounts[index], fstab=str(fstab), state="present", mode="v2",
                                       cgroup_facts=UNIFIED))

    threads = [threading.Thread(target=worker, args=(index,)) for index in range(runs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert all(r and r["changed"] and not r.get("failed") for r in results), results
    data = fstab.read_bytes()
    assert data.startswith(original)
    assert sorted(data[len(original):].splitlines()) == sorted(v2_line(m) for m in mounts)
    assert leftovers(directory, "fstab") == []


def test_a_lock_held_too_long_fails_cleanly(paths, monkeypatch, capsys):
    monkeypatch.setattr(cgroup_fstab, "LOCK_TIMEOUT", 0.5)
    host = Host(monkeypatch)
    holder = os.open(str(paths["fstab"]), os.O_RDONLY)
    try:
        fcntl.flock(holder, fcntl.LOCK_EX)
        started = time.monotonic()
        result = run_module(capsys, args_for(paths, state="present", mode="v2"))
        assert time.monotonic() - started < 30
    finally:
        os.close(holder)
    assert result["failed"] and "lock" in result["msg"] and "Nothing was changed" in result["msg"], result
    assert paths["fstab"].read_bytes() == ORIGINAL and host.commands == []
    assert leftovers(paths["root"], "fstab") == []


def test_check_mode_takes_no_lock_and_leaves_no_file(paths, monkeypatch, capsys):
    host = Host(monkeypatch)
    holder = os.open(str(paths["fstab"]), os.O_RDONLY)
    try:
        fcntl.flock(holder, fcntl.LOCK_EX)
        result = run_module(capsys, args_for(paths, _ansible_check_mode=True, _ansible_diff=True))
    finally:
        os.close(holder)
    assert result["changed"] and not result.get("failed")
    assert paths["fstab"].read_bytes() == ORIGINAL and host.commands == []
    assert leftovers(paths["root"], "fstab") == []


# ---------------------------------------------------------------- 3. paths

REFUSED_PATHS = ["", "cgroup", "./cgroup", "var/local/cgroup", "../cgroup", "~cgroup", "/", "//", "/.", "/./",
                 "/var/..", "/var/local/../..", "/proc", "/sys", "/sys/", "/sys/fs/cgroup", "/sys/fs/cgroup/unified",
                 "/sys/fs/cgroup/memory", "/proc/sys/kernel", "/boot", "/boot/efi", "/usr", "/usr/", "//usr",
                 "/usr/local", "/var", "/var/lib", "/var/log", "/etc", "/home", "/root", "/tmp", "/run", "/dev",
                 "/dev/shm", "/dev/pts", "/bin", "/sbin", "/lib", "/lib64", "/opt", "/srv", "/mnt", "/media",
                 "/var/local", "/var/tmp", "/usr/lib/../bin", "/var/local/cgroup\x00"]


@pytest.mark.parametrize("state", ["mounted", "present", "absent"])
@pytest.mark.parametrize("path", REFUSED_PATHS, ids=[repr(p) for p in REFUSED_PATHS])
def test_unusable_mount_points_are_refused_before_anything(paths, monkeypatch, capsys, path, state):
    root_line = b"UUID=1 / ext4 defaults 0 1\n/dev/sda2 /usr ext4 defaults 0 2\ntmpfs /tmp tmpfs defaults 0 0\n"
    paths["fstab"].write_bytes(root_line)
    host = Host(monkeypatch)
    result = run_module(capsys, args_for(paths, path=path, state=state, conflicts="fix", mode="v2"))
    assert_refused(result, "path")
    assert paths["fstab"].read_bytes() == root_line and host.commands == []


def test_a_symlink_to_a_system_directory_is_refused(paths, monkeypatch, capsys):
    alias = paths["root"] / "alias"
    os.symlink("/usr", str(alias))
    host = Host(monkeypatch)
    result = run_module(capsys, args_for(paths, path=str(alias), conflicts="fix"))
    assert result["failed"] and "/usr" in result["msg"] and "Nothing was changed" in result["msg"]
    assert paths["fstab"].read_bytes() == ORIGINAL and host.commands == []


def _spell(paths, spelling):
    mnt = str(paths["mnt"])
    if spelling == "dotdot":
        return "%s/../%s" % (mnt, os.path.basename(mnt))
    if spelling == "deep-dotdot":
        return "%s/x/y/../../" % mnt
    if spelling == "symlink":
        alias = paths["root"] / "alias"
        if not os.path.lexists(str(alias)):
            os.symlink(mnt, str(alias))
        return str(alias)
    if spelling == "parent-symlink":
        alias = paths["root"] / "aliasdir"
        if not os.path.lexists(str(alias)):
            os.symlink(str(paths["root"]), str(alias))
        return str(alias / os.path.basename(mnt))
    if spelling == "slashes":
        return "/" + mnt.replace("/", "//") + "//"
    return mnt + "/./"


SPELLINGS = ["dotdot", "deep-dotdot", "symlink", "parent-symlink", "slashes", "dot"]


@pytest.mark.parametrize("spelling", SPELLINGS)
@pytest.mark.parametrize("where", ["in-task", "in-fstab"])
def test_another_spelling_of_a_mount_point_is_the_same_mount_point(paths, monkeypatch, capsys, spelling, where):
    paths["mnt"].mkdir()
    (paths["mnt"] / "x" / "y").mkdir(parents=True)
    spelled = _spell(paths, spelling)
    in_fstab, asked = (str(paths["mnt"]), spelled) if where == "in-task" else (spelled, str(paths["mnt"]))
    before = ORIGINAL + b"\ncgroup2 " + in_fstab.replace(" ", "\\040").encode() + b" cgroup2 defaults 0 0\n"
    paths["fstab"].write_bytes(before)
    host = Host(monkeypatch, mounted=dict(src="cgroup2", fstype="cgroup2", opts="rw"))
    result = run_module(capsys, args_for(paths, path=asked, state="mounted", mode="v2"))
    assert not result["changed"] and not result.get("failed"), result
    assert paths["fstab"].read_bytes() == before and host.commands == []
    result = run_module(capsys, args_for(paths, path=asked, state="absent"))
    assert result["changed"] and not result["mounted"]
    assert paths["fstab"].read_bytes() == ORIGINAL + b"\n"
    assert [os.path.basename(argv[0]) for argv in host.commands] == ["umount"]


def test_the_mount_table_is_compared_in_canonical_form(paths, monkeypatch, capsys):
    paths["mnt"].mkdir()
    alias = paths["root"] / "alias"
    os.symlink(str(paths["mnt"]), str(alias))
    table = paths["root"] / "proc" / "self" / "mounts"
    table.parent.mkdir(parents=True)
    table.write_bytes(b"sysfs /sys sysfs rw 0 0\ncgroup2 " + str(paths["mnt"]).encode() + b" cgroup2 rw 0 0\n")
    host_root = str(paths["root"])
    monkeypatch.setattr(cgroup_fstab, "mount_table", lambda: host_facts.mount_table(host_root))
    monkeypatch.setattr(cgroup_fstab, "mounted_at", lambda path: host_facts.mounted_at(path, host_root))
    commands = []
    monkeypatch.setattr(cgroup_fstab, "kernel_filesystems", lambda: {"cgroup", "cgroup2"})
    monkeypatch.setattr(basic.AnsibleModule, "run_command", lambda module, argv, **kw: commands.append(argv) or (0, "", ""))
    monkeypatch.setattr(basic.AnsibleModule, "get_bin_path", lambda module, name, required=False: "/bin/" + name)
    for asked in (str(alias), str(paths["mnt"]) + "/", _spell(paths, "dotdot")):
        del commands[:]
        result = run_module(capsys, args_for(paths, path=asked, state="absent"))
        assert result["changed"] and [os.path.basename(argv[0]) for argv in commands] == ["umount"], (asked, result)


def test_a_relative_path_is_never_written(paths, monkeypatch, capsys):
    monkeypatch.chdir(str(paths["root"]))
    host = Host(monkeypatch)
    result = run_module(capsys, args_for(paths, path="cgroup", state="mounted"))
    assert result["failed"] and "absolute" in result["msg"]
    assert paths["fstab"].read_bytes() == ORIGINAL and host.commands == [] and not paths["mnt"].exists()


# ---------------------------------------------------------------- 4. v1 options

@pytest.mark.parametrize("options", ["", " ", ",", ",,", "cpu,,memory", "cpu memory", "cpu\tmemory", "cpu\nmemory",
                                     " defaults", "defaults,", ",defaults", "cpu\x00"])
@pytest.mark.parametrize("mode", ["v1", "auto"])
def test_bad_v1_options_are_refused(paths, monkeypatch, capsys, options, mode):
    host = Host(monkeypatch)
    result = run_module(capsys, args_for(paths, v1_options=options, mode=mode, state="present",
                                         cgroup_facts=dict(HYBRID, mode="none", v1_mounts=[], v2_mounts=[],
                                                           v1_bound_controllers=[])))
    assert_refused(result, "v1_options")
    assert paths["fstab"].read_bytes() == ORIGINAL and host.commands == []


# ---------------------------------------------------------------- 5. write failures

class FailingWrites(object):
    """os.write fails with errno for files in one directory, from the n-th write on."""

    def __init__(self, monkeypatch, directory, err=errno.ENOSPC, after=0):
        self.directory = str(directory)
        self.err = err
        self.after = after
        self.calls = 0
        real_write = os.write

        def write(fd, data):
            try:
                target = os.readlink("/proc/self/fd/%d" % fd)
            except OSError:
                target = ""
            if os.path.dirname(target) == self.directory:
                self.calls += 1
                if self.calls > self.after:
                    raise OSError(self.err, os.strerror(self.err))
            return real_write(fd, data)

        monkeypatch.setattr(os, "write", write)


@pytest.mark.parametrize("backup", [False, True])
@pytest.mark.parametrize("state", ["present", "mounted"])
@pytest.mark.parametrize("err", [errno.ENOSPC, errno.EDQUOT, errno.EIO, errno.EFBIG])
def test_write_failure_changes_nothing_and_leaves_no_file(paths, monkeypatch, capsys, backup, state, err):
    host = Host(monkeypatch)
    FailingWrites(monkeypatch, paths["root"], err)
    result = run_module(capsys, args_for(paths, backup=backup, state=state, mode="v2"))
    assert result["failed"] and not result["changed"] and os.strerror(err) in result["msg"], result
    assert "Nothing was changed" in result["msg"]
    assert paths["fstab"].read_bytes() == ORIGINAL and host.commands == [] and not paths["mnt"].exists()
    assert leftovers(paths["root"], "fstab") == []


def test_absent_that_unmounts_then_cannot_write_says_so(paths, monkeypatch, capsys):
    paths["fstab"].write_bytes(ORIGINAL + b"\n" + v2_line(paths["mnt"]) + b"\n")
    paths["mnt"].mkdir()
    host = Host(monkeypatch, mounted=dict(src="cgroup2", fstype="cgroup2", opts="rw"))
    FailingWrites(monkeypatch, paths["root"])
    result = run_module(capsys, args_for(paths, state="absent"))
    assert result["failed"] and result["changed"], result
    assert "Nothing was changed" not in result["msg"]
    assert "unmounted" in result["msg"] and os.strerror(errno.ENOSPC) in result["msg"]
    assert result["mounted"] is False and result["fstab_changed"] is False
    assert [os.path.basename(argv[0]) for argv in host.commands] == ["umount"]
    assert paths["fstab"].read_bytes() == ORIGINAL + b"\n" + v2_line(paths["mnt"]) + b"\n"
    assert leftovers(paths["root"], "fstab", "cgroup") == []


def test_failed_mount_whose_restore_fails_too_says_the_new_line_stays(paths, monkeypatch, capsys):
    Host(monkeypatch, fail=("mount",))
    FailingWrites(monkeypatch, paths["root"], after=1)  # the first write (the new fstab) works
    result = run_module(capsys, args_for(paths, mode="v2"))
    assert result["failed"] and result["changed"] and result["fstab_changed"], result
    assert "stays" in result["msg"] and result["line"] in result["msg"]
    assert "Nothing was changed" not in result["msg"]
    assert paths["fstab"].read_bytes() == ORIGINAL + b"\n" + v2_line(paths["mnt"])
    assert leftovers(paths["root"], "fstab") == []


def test_failed_mount_that_cannot_remove_its_directory_says_so(paths, monkeypatch, capsys):
    Host(monkeypatch, fail=("mount",))

    def rmdir(path, *args, **kwargs):
        raise OSError(errno.EBUSY, os.strerror(errno.EBUSY), path)

    monkeypatch.setattr(os, "rmdir", rmdir)
    result = run_module(capsys, args_for(paths, mode="v2"))
    assert result["failed"] and result["changed"] and not result["fstab_changed"], result
    assert str(paths["mnt"]) in result["msg"] and "stays" in result["msg"]
    assert paths["fstab"].read_bytes() == ORIGINAL and paths["mnt"].is_dir()


# A real full file system and real mounts, in a private mount namespace (root only).

def _namespace_available():
    if os.geteuid() != 0 or not shutil.which("unshare"):
        return False
    probe = subprocess.run(["unshare", "--mount", "--propagation", "private", "true"], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, check=False)
    return probe.returncode == 0


needs_namespace = pytest.mark.skipif(not _namespace_available(),
                                     reason="needs root and unshare(1) for a private mount namespace")


def run_in_namespace(tmp_path, setup, args, fake_bin=None):
    """Run the module in a private mount namespace after the shell commands `setup`."""
    args_file = tmp_path / "args-ns.json"
    args_file.write_text(json.dumps({"ANSIBLE_MODULE_ARGS": args}))
    env = module_process.module_env()
    if fake_bin:
        env["PATH"] = "%s:%s" % (fake_bin, env.get("PATH", "/usr/bin:/bin"))
    script = "set -e\n%s\nexec %s -m ansible_collections.lxchost.prep.plugins.modules.cgroup_fstab %s\n" % (
        setup, sys.executable, args_file)
    proc = subprocess.run(["unshare", "--mount", "--propagation", "private", "sh", "-c", script],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, cwd=str(tmp_path), timeout=120,
                          check=False)
    out, err = proc.stdout.decode(), proc.stderr.decode()
    assert "Traceback" not in out + err, (out, err)
    return json.loads(out)


def full_disk_setup(tmp_path, fstab_bytes):
    """A 16 KiB tmpfs at tmp_path/etc holding fstab, too small for a second copy of it."""
    original = tmp_path / "fstab.original"
    original.write_bytes(fstab_bytes)
    etc = tmp_path / "etc"
    etc.mkdir()
    return etc, "%s -t tmpfs -o size=16k,mode=0755 tmpfs %s\ncp %s %s/fstab\n" % (shutil.which("mount"), etc, original, etc)


BIG = b"# padding to fill the small file system\n" * 260  # 10 KiB: one copy fits, two do not


@needs_namespace
@pytest.mark.parametrize("backup", [False, True])
def test_real_full_disk_present(tmp_path, backup):
    etc, setup = full_disk_setup(tmp_path, BIG)
    result = run_in_namespace(tmp_path, setup + "ls -A %s > %s/before\n" % (etc, tmp_path), dict(
        path=str(tmp_path / "cg"), fstab=str(etc / "fstab"), state="present", mode="v2", backup=backup,
        cgroup_facts=UNIFIED))
    assert result["failed"] and not result["changed"], result
    assert os.strerror(errno.ENOSPC) in result["msg"] and "Nothing was changed" in result["msg"]


@needs_namespace
def test_real_full_disk_leaves_no_file_and_the_same_bytes(tmp_path):
    etc, setup = full_disk_setup(tmp_path, BIG)
    report = tmp_path / "after"
    # The module's result, then what is left in the small file system (listed in the namespace).
    args_file = tmp_path / "args-ns.json"
    args_file.write_text(json.dumps({"ANSIBLE_MODULE_ARGS": dict(
        path=str(tmp_path / "cg"), fstab=str(etc / "fstab"), state="present", mode="v2", backup=True,
        cgroup_facts=UNIFIED)}))
    env = module_process.module_env()
    module = "ansible_collections.lxchost.prep.plugins.modules.cgroup_fstab"
    script = "set -e\n%s\n%s -m %s %s > %s/result || true\nls -A %s > %s\ncmp %s/fstab %s/fstab.original\n" % (
        setup, sys.executable, module, args_file, tmp_path, etc, report, etc, tmp_path)
    proc = subprocess.run(["unshare", "--mount", "--propagation", "private", "sh", "-c", script],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr  # cmp: fstab has the same bytes
    assert report.read_text().split() == ["fstab"]
    assert json.loads((tmp_path / "result").read_text())["failed"]


@needs_namespace
def test_real_absent_unmounts_a_real_cgroup_then_the_disk_is_full(tmp_path):
    mnt = tmp_path / "cg"
    mnt.mkdir()
    fstab = BIG + v2_line(mnt) + b"\n"
    etc, setup = full_disk_setup(tmp_path, fstab)
    setup += "mount -t cgroup2 cgroup2 %s\n" % mnt
    result = run_in_namespace(tmp_path, setup, dict(path=str(mnt), fstab=str(etc / "fstab"), state="absent",
                                                    cgroup_facts=UNIFIED))
    assert result["failed"] and result["changed"] and result["mounted"] is False, result
    assert "Nothing was changed" not in result["msg"] and "unmounted" in result["msg"]


@needs_namespace
def test_real_mount_failure_then_restore_failure(tmp_path):
    mnt = tmp_path / "cg"
    etc, setup = full_disk_setup(tmp_path, b"# small\n")
    fake_bin = tmp_path / "bin"
    fake_bin.mkdir()
    fake_mount = fake_bin / "mount"
    # A mount that fails after something else filled the disk: the restore cannot be written.
    fake_mount.write_text("#!/bin/sh\ndd if=/dev/zero of=%s/filler bs=1k count=64 2>/dev/null\n"
                          "echo 'mount: simulated failure' >&2\nexit 32\n" % etc)
    fake_mount.chmod(0o755)
    result = run_in_namespace(tmp_path, setup, dict(path=str(mnt), fstab=str(etc / "fstab"), mode="v2",
                                                    cgroup_facts=UNIFIED), fake_bin=str(fake_bin))
    assert result["failed"] and result["changed"] and result["fstab_changed"], result
    assert "simulated failure" in result["msg"] and "stays" in result["msg"]
    assert result["line"] in result["msg"]


@needs_namespace
def test_real_symlinked_mount_point_is_unmounted(tmp_path):
    mnt = tmp_path / "cg"
    mnt.mkdir()
    alias = tmp_path / "alias"
    os.symlink(str(mnt), str(alias))
    fstab = tmp_path / "fstab"
    fstab.write_bytes(ORIGINAL + b"\n" + v2_line(mnt) + b"\n")
    result = run_in_namespace(tmp_path, "mount -t cgroup2 cgroup2 %s" % mnt, dict(
        path=str(alias) + "/", fstab=str(fstab), state="absent", cgroup_facts=UNIFIED))
    assert result["changed"] and result["mounted"] is False and not result.get("failed"), result
    assert any("unmount" in action for action in result["actions"])
    assert fstab.read_bytes() == ORIGINAL + b"\n"


# ---------------------------------------------------------------- 6. bytes that are not UTF-8

NON_UTF8 = [b"# caf\xe9\n", b"# \xff\xfe\n", b"# \xed\xa0\x80 encoded surrogate\n", b"# cut \xc3\n",
            b"LABEL=caf\xe9 /data ext4 defaults 0 2\n", b"# \x80\x81\x82\r\n"]


@pytest.mark.parametrize("check_mode", [False, True])
@pytest.mark.parametrize("prefix", NON_UTF8)
def test_non_utf8_fstab_gives_a_controller_safe_result_and_exact_bytes(tmp_path, prefix, check_mode):
    fstab = tmp_path / "fstab"
    original = prefix + ORIGINAL
    fstab.write_bytes(original)
    mnt = tmp_path / "cg"
    args = dict(path=str(mnt), fstab=str(fstab), state="present", mode="v2", cgroup_facts=UNIFIED,
                _ansible_diff=True)
    rc, result, _err = module_process.run_module("cgroup_fstab", tmp_path, args, check_mode=check_mode)
    assert rc == 0 and result["changed"], result
    assert_controller_safe(result)
    assert "\\x" in json.dumps(result["diff"])  # the odd bytes are shown, escaped
    if check_mode:
        assert fstab.read_bytes() == original
        return
    assert fstab.read_bytes() == original + b"\n" + v2_line(mnt)
    rc, result, _err = module_process.run_module("cgroup_fstab", tmp_path, dict(args, state="absent"))
    assert rc == 0 and result["changed"]
    assert_controller_safe(result)
    assert fstab.read_bytes() == original


def test_non_utf8_in_a_conflicting_line_is_quoted_safely(tmp_path):
    fstab = tmp_path / "fstab"
    mnt = str(tmp_path / "cg")
    original = b"tmpfs " + mnt.encode() + b" tmpfs \xff,caf\xe9 0 0\n"
    fstab.write_bytes(original)
    rc, result, _err = module_process.run_module("cgroup_fstab", tmp_path, dict(
        path=mnt, fstab=str(fstab), state="present", mode="v2", cgroup_facts=UNIFIED, _ansible_diff=True))
    assert rc == 1 and result["failed"] and "not a cgroup entry" in result["msg"], result
    assert_controller_safe(result)
    assert fstab.read_bytes() == original


# ---------------------------------------------------------------- 7. malformed cgroup_facts

def _without(key):
    facts = dict(HYBRID)
    del facts[key]
    return facts


BAD_FACTS = [
    ("empty", {}),
    ("no-mode", _without("mode")),
    ("no-v1_mounts", _without("v1_mounts")),
    ("no-v2_mounts", _without("v2_mounts")),
    ("no-bound", _without("v1_bound_controllers")),
    ("no-available", _without("v1_available_controllers")),
    ("no-v2_controllers", _without("v2_controllers")),
    ("mode-unknown", dict(HYBRID, mode="v3")),
    ("mode-int", dict(HYBRID, mode=2)),
    ("mode-none-value", dict(HYBRID, mode=None)),
    ("v1_mounts-string", dict(HYBRID, v1_mounts="cpu")),
    ("v1_mounts-dict", dict(HYBRID, v1_mounts={"path": "/sys/fs/cgroup/cpu"})),
    ("v1_mount-no-controllers", dict(HYBRID, v1_mounts=[dict(path="/sys/fs/cgroup/cpu")])),
    ("v1_mount-no-path", dict(HYBRID, v1_mounts=[dict(controllers=["cpu"])])),
    ("v1_mount-controllers-string", dict(HYBRID, v1_mounts=[dict(path="/sys/fs/cgroup/cpu", controllers="cpu")])),
    ("v1_mount-not-dict", dict(HYBRID, v1_mounts=["/sys/fs/cgroup/cpu"])),
    ("v1_mount-controller-int", dict(HYBRID, v1_mounts=[dict(path="/x", controllers=[1])])),
    ("v2_mounts-int-item", dict(HYBRID, v2_mounts=[1])),
    ("v2_mounts-string", dict(HYBRID, v2_mounts="/sys/fs/cgroup")),
    ("available-none", dict(HYBRID, v1_available_controllers=None)),
    ("bound-dict", dict(HYBRID, v1_bound_controllers={"cpu": 1})),
    ("v2_controllers-bool", dict(HYBRID, v2_controllers=True)),
]


@pytest.mark.parametrize("state", ["mounted", "present", "absent"])
@pytest.mark.parametrize("name, facts", BAD_FACTS, ids=[b[0] for b in BAD_FACTS])
def test_malformed_cgroup_facts_are_refused_before_anything(paths, monkeypatch, capsys, name, facts, state):
    host = Host(monkeypatch)
    result = run_module(capsys, args_for(paths, cgroup_facts=facts, state=state))
    assert result["failed"] and "cgroup_facts" in result["msg"] and "Nothing was changed" in result["msg"], result
    assert paths["fstab"].read_bytes() == ORIGINAL and host.commands == [] and not paths["mnt"].exists()


# ---------------------------------------------------------------- 8. line endings

def test_a_rewritten_crlf_line_keeps_its_cr(paths, monkeypatch, capsys):
    mnt = str(paths["mnt"]).encode()
    before = b"a /a ext4 defaults 0 1\r\ncgroup " + mnt + b" cgroup defaults 0 0\r\nb /b ext4 defaults 0 2\r\n"
    paths["fstab"].write_bytes(before)
    Host(monkeypatch)
    result = run_module(capsys, args_for(paths, state="present", mode="v2"))
    assert result["changed"]
    assert paths["fstab"].read_bytes() == (b"a /a ext4 defaults 0 1\r\n" + v2_line(paths["mnt"]) + b"\r\n"
                                           b"b /b ext4 defaults 0 2\r\n")


@pytest.mark.parametrize("before, after", [
    (b"cgroup MNT cgroup defaults 0 0\r", b"cgroup2 MNT cgroup2 defaults 0 0\r"),
    (b"cgroup MNT cgroup defaults 0 0\r\n", b"cgroup2 MNT cgroup2 defaults 0 0\r\n"),
    (b"x /x ext4 defaults 0 0\ncgroup MNT cgroup defaults\r\n", b"x /x ext4 defaults 0 0\ncgroup2 MNT cgroup2 defaults 0 0\r\n"),
    (b"x /x ext4 defaults 0 0\r\n", b"x /x ext4 defaults 0 0\r\ncgroup2 MNT cgroup2 defaults 0 0\r\n"),
    (b"cgroup MNT cgroup defaults 0 0\r\ncgroup MNT cgroup defaults 0 0\r\n# end\r\n",
     b"cgroup2 MNT cgroup2 defaults 0 0\r\n# end\r\n"),
])
def test_line_endings_are_kept(paths, monkeypatch, capsys, before, after):
    mnt = str(paths["mnt"]).encode()
    paths["fstab"].write_bytes(before.replace(b"MNT", mnt))
    Host(monkeypatch)
    result = run_module(capsys, args_for(paths, state="present", mode="v2", conflicts="fix"))
    assert result["changed"]
    assert paths["fstab"].read_bytes() == after.replace(b"MNT", mnt)
    run_module(capsys, args_for(paths, state="absent"))
    assert v2_line(paths["mnt"]) not in paths["fstab"].read_bytes()


@pytest.mark.parametrize("separator", ["\f", "\v", "\x1c", "\x1d", "\x1e", "\x85", "\u2028"])
def test_only_blanks_separate_fstab_fields(paths, monkeypatch, capsys, separator):
    """mount(8) splits fields on spaces and tabs only: a form feed is part of a field."""
    mnt = str(paths["mnt"])
    odd = ("cgroup2%s%s cgroup2 defaults 0 0\n" % (separator, mnt)).encode("utf-8")
    paths["fstab"].write_bytes(odd)
    Host(monkeypatch)
    result = run_module(capsys, args_for(paths, state="present", mode="v2"))
    assert result["changed"], result
    assert paths["fstab"].read_bytes() == odd + v2_line(paths["mnt"]) + b"\n"


# ---------------------------------------------------------------- 9. big fstab, bounded diff

def _big_fstab(lines):
    return b"".join(b"UUID=%08d /srv/data%d ext4 defaults 0 2\n" % (i, i) for i in range(lines))


def test_the_diff_of_a_big_fstab_is_cut_and_says_so(paths, monkeypatch, capsys):
    big = _big_fstab(200000)  # about 9 MB
    paths["fstab"].write_bytes(big)
    Host(monkeypatch)
    result = run_module(capsys, args_for(paths, state="present", mode="v2", _ansible_diff=True,
                                         _ansible_check_mode=True))
    size = len(json.dumps(result))
    assert size < 200 * 1024, size
    diff = result["diff"][0]
    assert v2_line(paths["mnt"]).decode() in diff["after"]
    assert "UUID=00199999" in diff["before"] and "UUID=00000005" not in diff["before"]
    assert "not shown" in diff["before_header"] + diff["before"]


def test_far_apart_changes_in_a_big_fstab_each_get_their_lines(paths, monkeypatch, capsys):
    mnt = str(paths["mnt"]).encode()
    ours = b"cgroup " + mnt + b" cgroup defaults 0 0\n"
    text = ours + _big_fstab(100000) + ours
    paths["fstab"].write_bytes(text)
    Host(monkeypatch)
    result = run_module(capsys, args_for(paths, state="present", mode="v2", conflicts="fix", _ansible_diff=True,
                                         _ansible_check_mode=True))
    assert len(json.dumps(result)) < 200 * 1024
    before, after = result["diff"][0]["before"], result["diff"][0]["after"]
    assert before.count(ours.decode().strip()) == 2 and after.count(ours.decode().strip()) == 0
    assert after.count(v2_line(paths["mnt"]).decode()) == 1
    assert "UUID=00099999" in before and "UUID=00000001" in before


def test_many_changes_in_a_big_fstab_are_cut_at_the_cap(paths, monkeypatch, capsys):
    mnt = str(paths["mnt"]).encode()
    ours = b"cgroup " + mnt + b" cgroup defaults 0 0\n"
    text = b"".join(ours + b"UUID=%08d /srv/data%d ext4 defaults 0 2\n" % (i, i) for i in range(30000))
    paths["fstab"].write_bytes(text)
    Host(monkeypatch)
    result = run_module(capsys, args_for(paths, state="absent", conflicts="fix", _ansible_diff=True,
                                         _ansible_check_mode=True))
    assert result["changed"]
    size = len(json.dumps(result))
    assert size < 400 * 1024, size
    diff = result["diff"][0]
    assert "cut" in diff["before_header"] + diff["before"]


def test_small_fstab_diff_stays_whole(paths, monkeypatch, capsys):
    Host(monkeypatch)
    result = run_module(capsys, args_for(paths, state="present", mode="v2", _ansible_diff=True,
                                         _ansible_check_mode=True))
    assert result["diff"][0]["before"] == ORIGINAL.decode()


# ---------------------------------------------------------------- 11. files that never end

@pytest.mark.parametrize("name", ["/proc/kmsg", "/proc/self/status", "/dev/zero", "/dev/stdin", "/proc/self/mounts"])
def test_a_kernel_file_as_fstab_is_refused_at_once(tmp_path, name):
    if not os.path.exists(name):
        pytest.skip("%s does not exist here" % name)
    started = time.monotonic()
    rc, result, _err = module_process.run_module("cgroup_fstab", tmp_path, dict(
        path=str(tmp_path / "cg"), fstab=name, state="present", mode="v2", cgroup_facts=UNIFIED))
    assert time.monotonic() - started < 60
    assert rc == 1 and result["failed"] and name in result["msg"] and "Nothing was changed" in result["msg"]


# ---------------------------------------------------------------- properties on whole files

_PIECES = st.one_of(
    st.binary(max_size=40),
    st.sampled_from([b"", b"\r", b"# caf\xe9", b"\x00", b"\xff\xfe", b"a /a ext4 defaults 0 0", b"\t# tab",
                     b"proc /proc proc defaults", b"cgroup /elsewhere cgroup defaults 0 0\r", b"\\040", b" "]))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(_PIECES, max_size=8), st.sampled_from([b"\n", b"\r\n"]), st.booleans(), st.booleans())
def test_property_present_then_absent_gives_the_bytes_back(tmp_path, pieces, newline, final, backup):
    directory = tmp_path / ("b-%d" % len(os.listdir(str(tmp_path))))
    directory.mkdir()
    fstab = directory / "fstab"
    original = newline.join(pieces) + (newline if final and pieces else b"")
    fstab.write_bytes(original)
    mnt = str(directory / "cgroup mnt")
    params = dict(path=mnt, fstab=str(fstab), mode="v2", cgroup_facts=UNIFIED, backup=backup)
    added = run_task(dict(params, state="present"), diff=True)
    assert added["changed"] and not added.get("failed"), added
    assert_controller_safe(added)
    assert fstab.read_bytes().startswith(original)
    assert added["line"].encode() in fstab.read_bytes()
    assert not run_task(dict(params, state="present"))["changed"]
    removed = run_task(dict(params, state="absent"), diff=True)
    assert removed["changed"] and not removed.get("failed"), removed
    assert_controller_safe(removed)
    assert fstab.read_bytes() == original


# ---------------------------------------------------------------- more variants

def test_a_failed_mount_removes_every_directory_it_made(paths, monkeypatch, capsys):
    Host(monkeypatch, fail=("mount",))
    deep = paths["root"] / "a" / "b" / "cgroup"
    result = run_module(capsys, args_for(paths, path=str(deep), mode="v2"))
    assert result["failed"] and not result["changed"], result
    assert not (paths["root"] / "a").exists()
    assert "undone" in result["msg"] and paths["fstab"].read_bytes() == ORIGINAL


def test_a_directory_that_cannot_be_made_restores_fstab(paths, monkeypatch, capsys):
    host = Host(monkeypatch)
    blocker = paths["root"] / "file"
    blocker.write_text("x")
    result = run_module(capsys, args_for(paths, path=str(blocker / "cgroup"), mode="v2"))
    assert result["failed"] and not result["changed"], result
    assert paths["fstab"].read_bytes() == ORIGINAL and host.commands == []


def test_a_hard_linked_fstab_is_replaced_with_a_warning(paths, monkeypatch, capsys):
    other = paths["root"] / "fstab.other-name"
    os.link(str(paths["fstab"]), str(other))
    Host(monkeypatch)
    result = run_module(capsys, args_for(paths, state="present", mode="v2"))
    assert result["changed"] and "hard links" in json.dumps(result.get("warnings"))
    assert other.read_bytes() == ORIGINAL


def test_overlong_v1_options_are_refused(paths, monkeypatch, capsys):
    host = Host(monkeypatch)
    result = run_module(capsys, args_for(paths, state="present", mode="v1", v1_options="cpu," * 2000 + "memory"))
    assert result["failed"] and "v1_options" in result["msg"] and len(result["msg"]) < 1000
    assert paths["fstab"].read_bytes() == ORIGINAL and host.commands == []


def test_a_huge_conflicting_line_is_quoted_shortened(paths, monkeypatch, capsys):
    line = b"tmpfs " + str(paths["mnt"]).encode() + b" tmpfs " + b"o," * 500000 + b"x 0 0\n"
    paths["fstab"].write_bytes(line)
    Host(monkeypatch)
    result = run_module(capsys, args_for(paths, state="present", mode="v2"))
    assert result["failed"] and "not a cgroup entry" in result["msg"] and len(result["msg"]) < 2000
    assert paths["fstab"].read_bytes() == line


@needs_namespace
def test_real_bind_mounted_fstab_is_refused_with_a_reason(tmp_path):
    fstab = tmp_path / "fstab"
    fstab.write_bytes(ORIGINAL)
    source = tmp_path / "fstab.source"
    source.write_bytes(ORIGINAL)
    result = run_in_namespace(tmp_path, "%s --bind %s %s" % (shutil.which("mount"), source, fstab), dict(
        path=str(tmp_path / "cg"), fstab=str(fstab), state="present", mode="v2", cgroup_facts=UNIFIED))
    assert result["failed"] and not result["changed"] and "bind-mounted" in result["msg"], result
    assert "Nothing was changed" in result["msg"]
    assert fstab.read_bytes() == ORIGINAL and leftovers(tmp_path, "fstab", "fstab.source", "args-ns.json") == []


def test_a_temporary_file_left_by_a_killed_run_is_removed(paths, monkeypatch, capsys):
    stale = paths["root"] / ".fstab.k1ll3d.lxchost.tmp"
    stale.write_bytes(b"")
    other = paths["root"] / ".fstab.swp"
    other.write_bytes(b"not ours")
    Host(monkeypatch)
    result = run_module(capsys, args_for(paths, state="present", mode="v2", _ansible_check_mode=True))
    assert stale.exists()  # check mode never writes, nor removes
    result = run_module(capsys, args_for(paths, state="present", mode="v2"))
    assert result["changed"] and not stale.exists() and other.read_bytes() == b"not ours"
    assert "interrupted run" in json.dumps(result.get("warnings"))
