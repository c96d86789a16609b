# -*- coding: utf-8 -*-
# Copyright: lxchost.prep contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""lxchost.prep.site as a user runs it: from the built tarball, installed into an empty collections
path with the collections it declares (taken offline from the `ansible` package's bundle), run from
an empty directory with no ansible.cfg, against a disposable container (two inventory names for it,
so the report groups them and --limit has another host to keep).

The report is printed by the playbook itself, and the exit code follows lxchost_site_fail_on; a run
under --limit keeps the other host in the report files; a playbook of the user's can import
lxchost.prep.site; a host that is not Debian 11, 12 or 13 is only reported, even in a real run;
nothing is written under the installed collection.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import glob
import json
import os
import re
import subprocess
import sysconfig
import tarfile

import pytest
import yaml

COLLECTION = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
# The collections of the `ansible` package next to ansible-core.
BUNDLED = os.path.join(sysconfig.get_paths()["purelib"], "ansible_collections")
# The inventory reaches the container through the Docker API: a collection the test needs, not the
# playbook.
CONNECTION_COLLECTIONS = ["community.docker"]
FSTAB_LINE = "cgroup2 /var/local/cgroup cgroup2 defaults 0 0"


def _sh(*argv, **kwargs):
    return subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True,
                          check=False, **kwargs)


def _bundled(fqcn):
    path = os.path.join(BUNDLED, *fqcn.split("."))
    with open(os.path.join(path, "MANIFEST.json")) as handle:
        return path, json.load(handle)["collection_info"]["dependencies"] or {}


def _with_dependencies(names):
    """The bundled collections' directories for names and everything they depend on."""
    paths, todo = {}, list(names)
    while todo:
        name = todo.pop()
        if name not in paths:
            paths[name], depends = _bundled(name)
            todo.extend(depends)
    return sorted(paths.values())


def _file_times(root):
    return dict((os.path.join(d, f), os.stat(os.path.join(d, f)).st_mtime_ns)
                for d, _dirs, files in os.walk(root) for f in files)


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    work = tmp_path_factory.mktemp("installed")
    built = _sh("ansible-galaxy", "collection", "build", "--output-path", str(work / "dist"), COLLECTION)
    assert built.returncode == 0, built.stdout
    (tarball,) = glob.glob(str(work / "dist" / "lxchost-prep-*.tar.gz"))
    with tarfile.open(tarball) as archive:
        declared = json.load(archive.extractfile("MANIFEST.json"))["collection_info"]["dependencies"] or {}
    # A user's environment: no variable of ours, no ansible.cfg, only the collections installed here.
    env = dict((k, v) for k, v in os.environ.items() if not k.startswith(("ANSIBLE_", "LXCHOST_")))
    env.update(ANSIBLE_COLLECTIONS_PATH=str(work / "collections"), ANSIBLE_COLLECTIONS_SCAN_SYS_PATH="false",
               ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0")
    install = _sh("ansible-galaxy", "collection", "install", "--offline", "-p", str(work / "collections"), tarball,
                  *_with_dependencies(list(declared) + CONNECTION_COLLECTIONS), env=env, cwd=str(work))
    assert install.returncode == 0, install.stdout
    collection = work / "collections" / "ansible_collections" / "lxchost" / "prep"
    assert (collection / "playbooks" / "site.yml").is_file(), os.listdir(str(collection))
    project = work / "project"  # the directory the user runs from: empty
    project.mkdir()
    version = _sh("ansible-playbook", "--version", env=env, cwd=str(project)).stdout
    assert "config file = None" in version, version
    return dict(env=env, collection=str(collection), project=project, declared=sorted(declared),
                times=_file_times(str(collection)))


@pytest.fixture(scope="module")
def hosts(container_host, installed):
    name = container_host("lxchost-installed")
    alias = name + "-alias"  # the same container under a second inventory name
    inventory = {"all": {"children": {"lxc_hosts": {
        "hosts": {name: {}, alias: {"ansible_host": name}},
        "vars": {"ansible_connection": "community.docker.docker", "ansible_python_interpreter": "/usr/bin/python3"}}}}}
    (installed["project"] / "hosts.yml").write_text(yaml.safe_dump(inventory))
    return name, alias


def playbook(installed, *args):
    return _sh("ansible-playbook", "-i", "hosts.yml", *args, env=installed["env"], cwd=str(installed["project"]))


def report_json(installed, name="fleet-report.json"):
    with open(str(installed["project"] / "fleet-report" / name)) as handle:
        report = json.load(handle)
    return report, dict((row["host"], row) for row in report["hosts"])


@pytest.fixture(scope="module")
def check_run(installed, hosts):
    return playbook(installed, "lxchost.prep.site", "--check", "--diff")


def test_dependencies_came_from_the_manifest(installed):
    for name in installed["declared"]:
        namespace, collection = name.split(".")
        assert os.path.isdir(os.path.join(os.path.dirname(os.path.dirname(installed["collection"])), namespace, collection))


def test_check_prints_the_report_and_passes_the_default_gate(installed, hosts, check_run):
    name, alias = hosts
    assert check_run.returncode == 0, check_run.stdout[-6000:]
    out = check_run.stdout
    assert "LXC fleet report - check mode: nothing was changed" in out
    assert "+" + FSTAB_LINE in out
    assert "%s: as %s" % (alias, name) in out  # same details, named once
    assert "2 host(s): 2 ok, 0 failed, 0 unreachable; kernel ready on 2" in out
    assert "gate: lxchost_site_fail_on is blocked: no host matches" in out
    report, rows = report_json(installed)
    assert report["mode"] == "check" and sorted(rows) == sorted(hosts)
    assert rows[name]["verdict"] == "pending" and sorted(rows[name]["packages_missing"]) == ["busybox-static", "lxc-templates"]
    assert _sh("docker", "exec", name, "grep", "-c", "cgroup", "/etc/fstab").stdout.strip() == "0"


def test_imported_by_a_user_playbook_under_limit_with_the_strict_gate(installed, hosts, check_run):
    name, alias = hosts
    (installed["project"] / "mine.yml").write_text(
        "---\n- name: The LXC hosts\n  ansible.builtin.import_playbook: lxchost.prep.site\n")
    earlier = report_json(installed)[1][name]["checked"]
    run = playbook(installed, "mine.yml", "--check", "--limit", alias, "-e", "lxchost_site_fail_on=not_ready")
    assert run.returncode == 2, run.stdout[-6000:]
    assert "%s is pending (see the fleet report above), and lxchost_site_fail_on is not_ready" % alias in run.stdout
    assert "kept from earlier runs (not in --limit %s): %s (pending, %s)" % (alias, name, earlier) in run.stdout
    report, rows = report_json(installed, "fleet-report-check.json")
    assert report["limit"] == alias and sorted(rows) == sorted(hosts)
    assert rows[name]["checked"] == earlier and not rows[name]["in_this_run"]
    assert rows[alias]["in_this_run"] and report["gate"]["hosts"] == [{"host": alias, "verdict": "pending"}]


def test_report_tag_alone(installed, hosts, check_run):
    run = playbook(installed, "lxchost.prep.site", "--check", "--tags", "report")
    assert run.returncode == 0, run.stdout[-6000:]
    assert "LXC fleet report - check mode" in run.stdout
    assert "lxc_userland : Decide the container network" not in run.stdout and "cgroup_mount : Keep" not in run.stdout
    assert "lxc_userland : Decide the container network" in check_run.stdout  # the same name, in a whole run


def test_the_free_strategy_gets_one_report_and_one_gate(installed, hosts, check_run):
    env = dict(installed["env"], ANSIBLE_STRATEGY="free")
    run = _sh("ansible-playbook", "-i", "hosts.yml", "lxchost.prep.site", "--check", "-e", "lxchost_site_fail_on=not_ready",
              env=env, cwd=str(installed["project"]))
    assert run.returncode == 2, run.stdout[-6000:]
    assert run.stdout.count("LXC fleet report - check mode") == 1, run.stdout[-6000:]
    for host in hosts:
        assert run.stdout.count('fatal: [%s]: FAILED! => {"changed": false, "msg": "%s is pending (see the fleet report '
                                'above)' % (host, host)) == 1, run.stdout[-6000:]


def test_an_unsupported_system_is_only_reported_even_in_a_real_run(installed, hosts, check_run):
    name, alias = hosts
    # The host says it is Alpine Linux (os-release(5), what the checker reads).
    os_release = 'NAME="Alpine Linux"\nID=alpine\nVERSION_ID=3.20.3\nPRETTY_NAME="Alpine Linux v3.20"\n'
    assert _sh("docker", "exec", name, "sh", "-c",
               "rm -f /etc/os-release && printf '%s' '" + os_release + "' > /etc/os-release").returncode == 0
    fstab = _sh("docker", "exec", name, "cat", "/etc/fstab").stdout
    run = playbook(installed, "lxchost.prep.site")
    assert run.returncode == 2, run.stdout[-6000:]  # the default gate, blocked, counts unsupported hosts
    assert "unsupported: Alpine 3.20.3" in run.stdout
    assert "lxchost.prep prepares Debian 11, 12 and 13 only" in run.stdout
    assert re.findall(r"changed=(\d+)", run.stdout) == ["0", "0"]
    # Only the read-only checker ran there: no role's task.
    assert "TASK [lxchost.prep." not in run.stdout, run.stdout[-6000:]
    assert _sh("docker", "exec", name, "cat", "/etc/fstab").stdout == fstab
    status = _sh("docker", "exec", name, "dpkg-query", "-W", "-f", "${db:Status-Status}", "lxc-templates").stdout
    assert status != "installed", status
    _report, rows = report_json(installed, "fleet-report-run.json")
    assert rows[name]["verdict"] == "unsupported" and rows[alias]["verdict"] == "unsupported"


def test_nothing_written_under_the_installed_collection(installed, check_run):
    assert _file_times(installed["collection"]) == installed["times"]
    assert not glob.glob(os.path.join(installed["collection"], "**", "fleet-report*"), recursive=True)
