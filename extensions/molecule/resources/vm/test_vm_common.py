# -*- coding: utf-8 -*-
# Copyright: lxchost.prep contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What site.yml leaves on VMs that boot, whatever their kernel (shared by vm_lxc and vm_site):
cgroups mounted as each kind of host needs (the classic v1 line on the sysvinit host, cgroup2 on the
systemd host), and LXC using them; lxc-net running (lxcbr0, NAT, dnsmasq); the modules it needs
loaded; the proof container got an address on the bridge and reached the host.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import glob
import json
import os
import re

import pytest
import testinfra.utils.ansible_runner

INVENTORY = os.environ["MOLECULE_INVENTORY_FILE"]
VMS = testinfra.utils.ansible_runner.AnsibleRunner(INVENTORY).get_hosts("lxc_hosts")
REPORT_DIR = os.path.join(os.environ["MOLECULE_EPHEMERAL_DIRECTORY"], "fleet-report")
CLASSIC_LINE = "cgroup /var/local/cgroup cgroup defaults 0 0"
CGROUP2_LINE = "cgroup2 /var/local/cgroup cgroup2 defaults 0 0"


def vm_host(name):
    return testinfra.get_host("ansible://%s?ansible_inventory=%s" % (name, INVENTORY))


def vm_kind(host):
    return "legacy" if host.check_output("cat /proc/1/comm") == "init" else "systemd"


def fleet_report(mode, which):
    paths = sorted(glob.glob(os.path.join(REPORT_DIR, "fleet-report-%s-*.json" % mode)))
    assert paths, "no %s report in %s" % (mode, REPORT_DIR)
    with open(paths[which]) as handle:
        report = json.load(handle)
    return dict((row["host"], row) for row in report["hosts"])


def test_two_kinds_of_vm():
    assert sorted(vm_kind(vm_host(name)) for name in VMS) == ["legacy", "systemd"]


@pytest.mark.parametrize("name", VMS)
def test_cgroups_mounted_as_the_kind_needs(name):
    host = vm_host(name)
    fstab = host.file("/etc/fstab").content_string.splitlines()
    mount = host.mount_point("/var/local/cgroup")
    assert mount.exists
    if vm_kind(host) == "legacy":
        # Nothing holds the v1 controllers on a sysvinit host: the classic line, every controller.
        assert fstab.count(CLASSIC_LINE) == 1, fstab
        assert mount.filesystem == "cgroup"
        assert "memory" in mount.options and "cpuset" in mount.options, mount.options
        # And where LXC 5 looks for it: a tmpfs on /sys/fs/cgroup, the hierarchy bound on
        # /sys/fs/cgroup/<controllers as /proc/self/cgroup names them>; in fstab, so after a reboot too.
        hierarchy = re.search(r"^\d+:([^:]*memory[^:]*):", host.file("/proc/self/cgroup").content_string,
                              re.M).group(1)
        view = "/sys/fs/cgroup/%s" % hierarchy
        assert host.mount_point("/sys/fs/cgroup").filesystem == "tmpfs"
        assert host.mount_point(view).filesystem == "cgroup"
        assert "cgroup_root /sys/fs/cgroup tmpfs mode=755,nosuid,nodev,noexec 0 0" in fstab, fstab
        assert "/var/local/cgroup %s none bind,X-mount.mkdir 0 0" % view in fstab, fstab
    else:
        assert fstab.count(CGROUP2_LINE) == 1, fstab
        assert mount.filesystem == "cgroup2"


@pytest.mark.parametrize("name", VMS)
def test_lxc_puts_a_container_in_the_mounted_hierarchy(name):
    host = vm_host(name)
    container = "lxchost-cgtest"
    host.run("lxc-destroy -f -n %s" % container)
    try:
        host.check_output("printf 'lxc.net.0.type = empty\\n' | lxc-create -n %s -t busybox --config /dev/stdin" % container)
        host.check_output("lxc-start -n %s && lxc-wait -n %s -s RUNNING -t 30" % (container, container))
        pid = host.check_output("lxc-info -n %s -p -H" % container)
        cgroups = host.file("/proc/%s/cgroup" % pid).content_string
        if vm_kind(host) == "legacy":
            # The only v1 hierarchy is the one at /var/local/cgroup: LXC found it (under /sys/fs/cgroup)
            # and the container's cgroup is there.
            path = re.search(r"^\d+:[^:]*memory[^:]*:(\S+)$", cgroups, re.M).group(1)
            assert "lxc.payload.%s" % container in path, cgroups
            assert host.file("/var/local/cgroup%s" % path).is_directory
        else:
            assert "lxc.payload.%s" % container in cgroups, cgroups
    finally:
        host.run("lxc-stop -k -n %s; lxc-destroy -f -n %s" % (container, container))


@pytest.mark.parametrize("name", VMS)
def test_lxc_net_runs(name):
    host = vm_host(name)
    assert "10.0.3.1/24" in host.check_output("ip -4 -o addr show dev lxcbr0")
    assert host.file("/proc/sys/net/ipv4/ip_forward").content_string.strip() == "1"
    rules = host.check_output("nft list ruleset 2>/dev/null || iptables-save -t nat")
    assert "masquerade" in rules.lower(), rules
    assert host.process.filter(comm="dnsmasq"), "dnsmasq does not run"


@pytest.mark.parametrize("name", VMS)
def test_network_modules_loaded_and_seen_by_the_checker(name):
    host = vm_host(name)
    result = host.ansible("lxchost.prep.lxc_checkconfig", "fail_on=required", check=False)
    # ansible-core 2.19 leaves "failed" out of the result testinfra reads: a failure shows by its msg.
    assert not result.get("failed") and "msg" not in result, result.get("msg")
    modules = result["runtime"]["modules"]
    for check in ("veth", "bridge"):
        assert modules[check]["loaded"] is True, modules.get(check)


@pytest.mark.parametrize("name", VMS)
def test_proof_got_an_address_and_reached_the_host(name):
    row = fleet_report("run", -1)[name]
    assert row["status"] == "ok", row
    assert row["network"] == "lxc-net"
    text = "\n".join(row["proof"])
    assert re.search(r"inet 10\.0\.3\.\d+/24", text), text
    assert "reached the host's bridge address 10.0.3.1" in text, text
    assert row["planned_changes"] == []  # the idempotence run changed nothing
