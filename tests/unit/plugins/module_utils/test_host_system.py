# -*- coding: utf-8 -*-
# Copyright: lxchost.prep contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The host's system (os-release), IP forwarding, init and the LXC
userland packages, as lxc_checkconfig returns them for site.yml."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import shutil
import subprocess

import pytest

from ansible_collections.lxchost.prep.plugins.module_utils._host_facts import (
    init_system,
    installed_packages,
    ip_forward_facts,
    system_facts,
)
from ansible_collections.lxchost.prep.plugins.module_utils._lxc_catalogue import USERLAND_PACKAGES

# os-release files as the distributions ship them (Debian 12, Rocky 9, Alpine 3.20, Ubuntu 24.04, Debian sid).
OS_RELEASE = {
    "debian12": ('PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nNAME="Debian GNU/Linux"\nVERSION_ID="12"\n'
                 'VERSION="12 (bookworm)"\nVERSION_CODENAME=bookworm\nID=debian\n', "12.8\n"),
    "rocky9": ('NAME="Rocky Linux"\nVERSION="9.4 (Blue Onyx)"\nID="rocky"\nID_LIKE="rhel centos fedora"\n'
               'VERSION_ID="9.4"\nPRETTY_NAME="Rocky Linux 9.4 (Blue Onyx)"\n', None),
    "alpine": ('NAME="Alpine Linux"\nID=alpine\nVERSION_ID=3.20.3\nPRETTY_NAME="Alpine Linux v3.20"\n', None),
    "ubuntu": ('PRETTY_NAME="Ubuntu 24.04.1 LTS"\nNAME="Ubuntu"\nVERSION_ID="24.04"\nVERSION="24.04.1 LTS (Noble Numbat)"\n'
               'VERSION_CODENAME=noble\nID=ubuntu\nID_LIKE=debian\n', "trixie/sid\n"),
    "sid": ('PRETTY_NAME="Debian GNU/Linux trixie/sid"\nNAME="Debian GNU/Linux"\nVERSION_CODENAME=trixie\nID=debian\n',
            "trixie/sid\n"),
}


def _tree(tmp_path, name, where="etc/os-release"):
    text, debian_version = OS_RELEASE[name]
    path = tmp_path / where
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    if debian_version is not None:
        (tmp_path / "etc").mkdir(exist_ok=True)
        (tmp_path / "etc" / "debian_version").write_text(debian_version)
    return str(tmp_path)


@pytest.mark.parametrize("name, expected", [
    ("debian12", dict(name="Debian", id="debian", version="12.8", major_version="12", codename="bookworm",
                      pretty_name="Debian GNU/Linux 12 (bookworm)")),
    ("rocky9", dict(name="Rocky", id="rocky", version="9.4", major_version="9", codename="Blue Onyx",
                    pretty_name="Rocky Linux 9.4 (Blue Onyx)")),
    ("alpine", dict(name="Alpine", id="alpine", version="3.20.3", major_version="3", codename=None,
                    pretty_name="Alpine Linux v3.20")),
    # Ubuntu ships /etc/debian_version too ("trixie/sid"): only Debian's own is its version.
    ("ubuntu", dict(name="Ubuntu", id="ubuntu", version="24.04", major_version="24", codename="noble",
                    pretty_name="Ubuntu 24.04.1 LTS")),
    # Debian testing has no VERSION_ID and no number in debian_version: no version, so no Debian 13 either.
    ("sid", dict(name="Debian", id="debian", version=None, major_version=None, codename="trixie",
                 pretty_name="Debian GNU/Linux trixie/sid")),
])
def test_system_from_os_release(tmp_path, name, expected):
    assert system_facts(_tree(tmp_path, name)) == expected


def test_system_from_usr_lib_os_release(tmp_path):
    assert system_facts(_tree(tmp_path, "rocky9", "usr/lib/os-release"))["name"] == "Rocky"


def test_system_without_os_release_is_all_unknown(tmp_path):
    assert set(system_facts(str(tmp_path)).values()) == {None}


def test_system_from_a_hostile_os_release(tmp_path):
    (tmp_path / "etc").mkdir()
    (tmp_path / "etc" / "os-release").write_bytes(b"\xff\xfe=\x00\nNAME=\nID\nID=debian\n" + b"x" * (128 * 1024))
    facts = system_facts(str(tmp_path))  # too big: refused unread, as if absent
    assert facts["id"] is None
    (tmp_path / "etc" / "os-release").write_bytes(b"\xff\xfe=\x00\nNAME=\n#ID=x\nID='debian'\n")
    facts = system_facts(str(tmp_path))
    assert facts["id"] == "debian" and facts["name"] == "debian" and facts["version"] is None


def test_ip_forward_writable_or_not(tmp_path):
    assert ip_forward_facts(str(tmp_path)) == dict(exists=False, writable=False, value=None)
    path = tmp_path / "proc" / "sys" / "net" / "ipv4" / "ip_forward"
    path.parent.mkdir(parents=True)
    path.write_text("0\n")
    assert ip_forward_facts(str(tmp_path)) == dict(exists=True, writable=True, value="0")
    os.chmod(str(path), 0o444)
    if os.geteuid() != 0:  # root may write a read-only file; only a read-only mount stops it
        assert ip_forward_facts(str(tmp_path))["writable"] is False


def test_init_system(tmp_path):
    assert init_system(str(tmp_path)) == "other"
    (tmp_path / "run" / "systemd" / "system").mkdir(parents=True)
    assert init_system(str(tmp_path)) == "systemd"


# ---------------------------------------------------------------- installed packages (dpkg)

_DPKG_STATUS = """Package: lxc
Status: install ok installed
Priority: optional
Version: 1:5.0.2-1+deb12u2
Description: Linux Containers userspace tools
 Package: apparmor
 Status: install ok installed

Package: apparmor
Status: deinstall ok config-files
Version: 3.0.8-3

Package: iptables
Status: install ok half-installed
Version: 1.8.9-2

Package: dnsmasq-base
Architecture: i386
Status: deinstall ok not-installed

Package: dnsmasq-base
Architecture: amd64
Status: install ok installed
Version: 2.89-1

Package: lxc-templates-extra
Status: install ok installed
Version: 1

Package: busybox-static
Version: 1:1.35.0-4+b3
Status: hold ok installed"""


def test_installed_packages_from_dpkg_status(tmp_path):
    (tmp_path / "var" / "lib" / "dpkg").mkdir(parents=True)
    (tmp_path / "var" / "lib" / "dpkg" / "status").write_text(_DPKG_STATUS)
    names = ("lxc", "apparmor", "iptables", "dnsmasq-base", "lxc-templates", "busybox-static")
    assert installed_packages(names, str(tmp_path)) == {
        "lxc": "1:5.0.2-1+deb12u2",  # a description line that looks like a field is not one
        "apparmor": None,  # removed, its configuration kept
        "iptables": None,  # half-installed is not installed
        "dnsmasq-base": "2.89-1",  # installed for one architecture
        "lxc-templates": None,  # lxc-templates-extra is another package
        "busybox-static": "1:1.35.0-4+b3",  # the last stanza, no blank line after it
    }


def test_installed_packages_without_dpkg_is_empty(tmp_path):
    assert installed_packages(USERLAND_PACKAGES, str(tmp_path)) == {}
    (tmp_path / "var" / "lib" / "dpkg").mkdir(parents=True)
    os.mkfifo(str(tmp_path / "var" / "lib" / "dpkg" / "status"))  # not a regular file: refused, never blocks
    assert installed_packages(USERLAND_PACKAGES, str(tmp_path)) == {}


@pytest.mark.skipif(not os.path.isfile("/var/lib/dpkg/status") or not shutil.which("dpkg-query"),
                    reason="the machine running the tests has no dpkg")
def test_installed_packages_agree_with_dpkg_query():
    """The machine's own dpkg database, read by the module and by dpkg-query (as lxc_userland does)."""
    names = list(USERLAND_PACKAGES) + ["dpkg", "libc6", "python3"]  # some that are surely installed
    query = subprocess.run(["dpkg-query", "--show", "--showformat=${Package} ${db:Status-Status} ${Version}\\n"]
                           + names, stdout=subprocess.PIPE, universal_newlines=True, check=False)
    expected = dict((name, None) for name in names)
    for line in query.stdout.splitlines():
        name, status, version = (line.split(" ") + ["", ""])[:3]
        if status == "installed":
            expected[name.split(":")[0]] = version
    assert installed_packages(names) == expected
    assert expected["dpkg"] is not None


def test_the_module_documents_the_packages_it_reports():
    """The list in lxc_checkconfig's RETURN and its sample are the catalogue's, not a copy that drifts."""
    import yaml  # pylint: disable=import-outside-toplevel
    from ansible_collections.lxchost.prep.plugins.modules import lxc_checkconfig  # pylint: disable=import-outside-toplevel
    runtime = yaml.safe_load(lxc_checkconfig.RETURN)["runtime"]
    assert sorted(runtime["sample"]["packages"]) == sorted(USERLAND_PACKAGES)
    assert "(%s)" % ", ".join(sorted(USERLAND_PACKAGES)) in " ".join(" ".join(runtime["description"]).split())
