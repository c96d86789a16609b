# -*- coding: utf-8 -*-
# Copyright: lxchost.prep contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""cgroup_fstab against a real fstab file in a temp dir; only mount(8)/umount(8) and the host's
mount table are stand-ins (the real ones run in the molecule scenarios)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import contextlib
import json
import os

import pytest
import yaml

from ansible.module_utils import basic

try:  # ansible-core >= 2.19
    from ansible.module_utils import _internal as _ansible_internal
    from ansible.module_utils.testing import patch_module_args
except ImportError:  # older ansible-core reads the arguments from basic._ANSIBLE_ARGS, as bytes
    _ansible_internal = None

    @contextlib.contextmanager
    def patch_module_args(args):
        saved = basic._ANSIBLE_ARGS
        basic._ANSIBLE_ARGS = json.dumps(dict(ANSIBLE_MODULE_ARGS=args)).encode()
        try:
            yield
        finally:
            basic._ANSIBLE_ARGS = saved

from ansible_collections.lxchost.prep.plugins.modules import cgroup_fstab

HYBRID = dict(mode="hybrid", v1_mounts=[dict(path="/sys/fs/cgroup/cpu", controllers=["cpu"])],
              v2_mounts=["/sys/fs/cgroup/unified"], v1_bound_controllers=["cpu"],
              v1_available_controllers=["cpu", "memory"], v2_controllers=[])
ORIGINAL = b"# keep me\tand my tab\n\nUUID=1 / ext4 defaults 0 1\n#no final newline below\nproc /proc proc defaults"


class Host(object):
    """What the module sees of the host: the mount table and the commands it ran."""

    def __init__(self, monkeypatch, mounted=None, fail=()):
        self.mounted = mounted
        self.fail = fail
        self.commands = []
        monkeypatch.setattr(cgroup_fstab, "mounted_at", lambda path: self.mounted)
        monkeypatch.setattr(cgroup_fstab, "kernel_filesystems", lambda: {"cgroup", "cgroup2"})
        monkeypatch.setattr(basic.AnsibleModule, "run_command", lambda module, argv, **kwargs: self.run(argv))
        monkeypatch.setattr(basic.AnsibleModule, "get_bin_path", lambda module, name, required=False: "/bin/" + name)

    def run(self, argv):
        self.commands.append(argv)
        name = os.path.basename(argv[0])
        if name in self.fail:
            return 32, "", "%s: simulated failure" % name
        return 0, "", ""


@pytest.fixture
def paths(tmp_path):
    fstab = tmp_path / "fstab"
    fstab.write_bytes(ORIGINAL)
    return dict(fstab=fstab, mnt=tmp_path / "cgroup")


@contextlib.contextmanager
def as_on_a_host():
    """Once controller code is imported in this process (the callback's tests), ansible-core
    >= 2.19 sends module warnings to the controller's display instead of the result; run as a
    module would on a host."""
    if _ansible_internal is None:
        yield
        return
    was_controller = _ansible_internal.is_controller
    _ansible_internal.is_controller = False
    try:
        yield
    finally:
        _ansible_internal.is_controller = was_controller


def run_module(capsys, args):
    with as_on_a_host(), patch_module_args(args):
        with pytest.raises(SystemExit):
            cgroup_fstab.main()
    return json.loads(capsys.readouterr().out)


def args_for(paths, **extra):
    args = dict(path=str(paths["mnt"]), fstab=str(paths["fstab"]), cgroup_facts=HYBRID)
    args.update(extra)
    return args


def test_check_mode_reports_the_diff_and_touches_nothing(paths, monkeypatch, capsys):
    host = Host(monkeypatch)
    result = run_module(capsys, args_for(paths, _ansible_check_mode=True, _ansible_diff=True))
    assert result["changed"] and result["fstab_changed"] and result["mode"] == "v2"
    assert result["diff"][0]["before"] == ORIGINAL.decode()
    assert result["diff"][0]["after"] == ORIGINAL.decode() + "\ncgroup2 %s cgroup2 defaults 0 0" % paths["mnt"]
    assert paths["fstab"].read_bytes() == ORIGINAL
    assert not paths["mnt"].exists() and host.commands == []


def test_converge_writes_only_our_line_creates_the_dir_and_mounts_from_fstab(paths, monkeypatch, capsys):
    host = Host(monkeypatch)
    result = run_module(capsys, args_for(paths))
    assert result["changed"] and result["mounted"]
    line = "cgroup2 %s cgroup2 defaults 0 0" % paths["mnt"]
    assert paths["fstab"].read_bytes() == ORIGINAL + b"\n" + line.encode()
    assert paths["mnt"].is_dir()
    assert host.commands == [["/bin/mount", "-T", str(paths["fstab"]), str(paths["mnt"])]]
    # The same actions, in the same words, as the RETURN sample documents.
    assert result["actions"] == ["edit fstab lines for %s (0 before, 1 after)" % paths["mnt"],
                                 "create directory %s" % paths["mnt"], "mount %s" % paths["mnt"]]
    sample = yaml.safe_load(cgroup_fstab.RETURN)["actions"]["sample"]
    assert [a.replace(str(paths["mnt"]), "/var/local/cgroup") for a in result["actions"]] == sample


def test_nothing_to_do_once_mounted(paths, monkeypatch, capsys):
    paths["fstab"].write_bytes(b"cgroup2 %s cgroup2 defaults\n" % str(paths["mnt"]).encode())
    paths["mnt"].mkdir(mode=0o555)
    host = Host(monkeypatch, mounted=dict(src="cgroup2", fstype="cgroup2", opts="rw,relatime"))
    result = run_module(capsys, args_for(paths, _ansible_diff=True))
    assert not result["changed"] and "diff" not in result and host.commands == []
    assert oct(paths["mnt"].stat().st_mode & 0o777) == oct(0o555)  # a mounted root is never chmod-ed


def test_an_selinux_mount_is_not_mounted_again(paths, monkeypatch, capsys):
    """On an SELinux host the kernel shows seclabel among the mount's options: that is a flag, so the
    mount is the one planned and nothing is unmounted or mounted again, run after run."""
    paths["fstab"].write_bytes(b"cgroup %s cgroup none,name=lxchost 0 0\n" % str(paths["mnt"]).encode())
    paths["mnt"].mkdir()
    host = Host(monkeypatch, mounted=dict(src="cgroup", fstype="cgroup", opts="rw,seclabel,relatime,name=lxchost"))
    for _run in range(2):
        result = run_module(capsys, args_for(paths, mode="v1", v1_options="none,name=lxchost"))
        assert not result["changed"] and result["mounted"] and host.commands == [], result


def test_failed_mount_restores_fstab_byte_for_byte(paths, monkeypatch, capsys):
    Host(monkeypatch, fail=("mount",))
    result = run_module(capsys, args_for(paths, backup=True))
    assert result["failed"]
    assert "simulated failure" in result["msg"] and "restored to its previous content" in result["msg"]
    assert paths["fstab"].read_bytes() == ORIGINAL
    assert not paths["mnt"].exists()


def test_failed_remount_mounts_the_old_one_again(paths, monkeypatch, capsys):
    paths["mnt"].mkdir()
    host = Host(monkeypatch, mounted=dict(src="cgroup", fstype="cgroup", opts="rw,name=old"), fail=("mount",))
    result = run_module(capsys, args_for(paths))
    assert result["failed"] and "is NOT back" in result["msg"]
    assert [os.path.basename(argv[0]) for argv in host.commands] == ["umount", "mount", "mount"]
    assert paths["fstab"].read_bytes() == ORIGINAL


def test_forced_v1_that_cannot_work_is_refused_before_anything(paths, monkeypatch, capsys):
    host = Host(monkeypatch)
    result = run_module(capsys, args_for(paths, mode="v1"))
    assert result["failed"] and "cpu at /sys/fs/cgroup/cpu" in result["msg"] and "Nothing was changed" in result["msg"]
    assert paths["fstab"].read_bytes() == ORIGINAL and host.commands == [] and not paths["mnt"].exists()


def test_present_writes_the_classic_line_with_a_warning(paths, monkeypatch, capsys):
    host = Host(monkeypatch)
    result = run_module(capsys, args_for(paths, mode="v1", state="present"))
    assert result["changed"] and result["line"] == "cgroup %s cgroup defaults 0 0" % paths["mnt"]
    assert "written anyway" in json.dumps(result["warnings"])
    assert paths["fstab"].read_bytes() == ORIGINAL + b"\n" + result["line"].encode()
    assert host.commands == [] and not paths["mnt"].exists()


def test_absent_unmounts_and_removes_every_line(paths, monkeypatch, capsys):
    ours = b"cgroup %s cgroup defaults\n" % str(paths["mnt"]).encode()
    paths["fstab"].write_bytes(ours + ORIGINAL + b"\n" + ours.rstrip(b"\n"))
    paths["mnt"].mkdir()
    host = Host(monkeypatch, mounted=dict(src="cgroup", fstype="cgroup", opts="rw,cpu,memory"))
    result = run_module(capsys, args_for(paths, state="absent"))
    assert result["changed"] and not result["mounted"]
    assert paths["fstab"].read_bytes() == ORIGINAL
    assert host.commands == [["/bin/umount", str(paths["mnt"])]]
    assert paths["mnt"].is_dir()


def test_missing_fstab_is_never_created(paths, monkeypatch, capsys):
    Host(monkeypatch)
    paths["fstab"].unlink()
    for check_mode in (True, False):
        result = run_module(capsys, args_for(paths, _ansible_check_mode=check_mode))
        assert result["failed"] and "never created" in result["msg"]
        assert not paths["fstab"].exists()


def test_mount_point_that_is_a_file_is_refused(paths, monkeypatch, capsys):
    Host(monkeypatch)
    paths["mnt"].write_text("not a dir")
    result = run_module(capsys, args_for(paths))
    assert result["failed"] and "is not a directory" in result["msg"]
    assert paths["fstab"].read_bytes() == ORIGINAL


def test_something_else_mounted_there_is_left_alone(paths, monkeypatch, capsys):
    paths["mnt"].mkdir()
    host = Host(monkeypatch, mounted=dict(src="tmpfs", fstype="tmpfs", opts="rw"))
    result = run_module(capsys, args_for(paths))
    assert result["failed"] and "not a cgroup file system" in result["msg"]
    assert paths["fstab"].read_bytes() == ORIGINAL and host.commands == []


def test_duplicates_fail_then_fix(paths, monkeypatch, capsys):
    line = b"cgroup2 %s cgroup2 defaults 0 0\n" % str(paths["mnt"]).encode()
    paths["fstab"].write_bytes(line + b"# mid\n" + line)
    Host(monkeypatch)
    result = run_module(capsys, args_for(paths, state="present"))
    assert result["failed"] and "2 lines for" in result["msg"]
    assert paths["fstab"].read_bytes() == line + b"# mid\n" + line
    result = run_module(capsys, args_for(paths, state="present", conflicts="fix"))
    assert result["changed"] and paths["fstab"].read_bytes() == line + b"# mid\n"


LEGACY = dict(mode="none", v1_mounts=[], v2_mounts=[], v1_bound_controllers=[],
              v1_available_controllers=["cpuset", "cpu", "memory"], v2_controllers=[])


def test_lxc_view_reports_where_lxc_looks_and_the_fstab_lines_serving_it(paths, monkeypatch, capsys):
    """The module only reports; the cgroup_mount role mounts with ansible.posix.mount."""
    mnt = str(paths["mnt"])
    paths["fstab"].write_bytes(
        ("cgroup %s cgroup defaults 0 0\ncgroup_root /sys/fs/cgroup tmpfs mode=755 0 0\n"
         "%s /sys/fs/cgroup/cpu,memory none bind,X-mount.mkdir 0 0\n"
         "/elsewhere /sys/fs/cgroup/other none bind 0 0\n" % (mnt, mnt)).encode())
    Host(monkeypatch)
    result = run_module(capsys, args_for(paths, cgroup_facts=LEGACY, _ansible_check_mode=True))
    view = result["lxc_view"]
    assert view["needed"] and view["path"] == "/sys/fs/cgroup/cpuset,cpu,memory"
    assert view["fstab_binds"] == ["/sys/fs/cgroup/cpu,memory"] and view["fstab_root"] is True


def test_lxc_view_with_state_absent_lists_the_lines_to_remove(paths, monkeypatch, capsys):
    mnt = str(paths["mnt"])
    paths["fstab"].write_bytes(("%s /sys/fs/cgroup/cpuset,cpu,memory none bind,X-mount.mkdir 0 0\n" % mnt).encode())
    Host(monkeypatch)
    result = run_module(capsys, args_for(paths, cgroup_facts=LEGACY, state="absent", _ansible_check_mode=True))
    assert result["lxc_view"]["needed"] is False
    assert result["lxc_view"]["fstab_binds"] == ["/sys/fs/cgroup/cpuset,cpu,memory"]
    assert result["lxc_view"]["fstab_root"] is False


def test_no_lxc_view_on_a_cgroup2_host(paths, monkeypatch, capsys):
    Host(monkeypatch)
    result = run_module(capsys, args_for(paths, _ansible_check_mode=True))
    assert result["mode"] == "v2" and result["lxc_view"]["needed"] is False and result["lxc_view"]["path"] is None


def test_on_the_recorded_selinux_host_a_mounted_line_is_left_alone(paths, monkeypatch, capsys, tmp_path):
    """CentOS 7 (SELinux enforcing, cgroup v1 held by systemd, no cgroup2): auto picks the named hierarchy,
    and once it is mounted - the kernel adding seclabel to its options - runs change nothing and mount nothing."""
    from ansible_collections.lxchost.prep.plugins.module_utils import _host_facts as host_facts
    from ansible_collections.lxchost.prep.tests.unit.plugins.module_utils.host_trees import host_root

    root, _release = host_root(tmp_path / "host", "centos-7-selinux")
    mounts = tmp_path / "host" / "centos-7-selinux" / "proc" / "self" / "mounts"
    mounts.write_text(mounts.read_text() + "cgroup %s cgroup rw,seclabel,relatime,name=lxchost 0 0\n" % paths["mnt"])
    paths["fstab"].write_bytes(ORIGINAL + b"\ncgroup %s cgroup none,name=lxchost 0 0\n" % str(paths["mnt"]).encode())
    paths["mnt"].mkdir()
    host = Host(monkeypatch)
    monkeypatch.setattr(cgroup_fstab, "cgroup_facts", lambda: host_facts.cgroup_facts(root))
    monkeypatch.setattr(cgroup_fstab, "kernel_filesystems", lambda: host_facts.kernel_filesystems(root))
    monkeypatch.setattr(cgroup_fstab, "mount_table", lambda: host_facts.mount_table(root))
    monkeypatch.setattr(cgroup_fstab, "mounted_at", lambda path: host_facts.mounted_at(path, root))
    for _run in range(2):
        result = run_module(capsys, dict(path=str(paths["mnt"]), fstab=str(paths["fstab"])))
        assert result["line"] == "cgroup %s cgroup none,name=lxchost 0 0" % paths["mnt"], result
        assert not result["changed"] and result["mounted"] and host.commands == [], result
    assert "seclabel" not in result["cgroup_facts"]["v1_bound_controllers"]
