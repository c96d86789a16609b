#!/usr/bin/env python
# -*- coding: utf-8 -*-
# Copyright: lxchost.prep contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The site.yml readiness report (--check --diff) on 1 host and on 20, side by side.

A benchmark, not a test. Each size gets fresh disposable hosts (the containers of `make demo`,
with the molecule platform's capabilities; PID 1 is `sleep` unless --systemd), an empty fact cache, and the
repository's ansible.cfg; the wall time and the controller's CPU time of ansible-playbook (and of
everything it starts: workers, `docker exec`) are printed with the ratio to one host. Targets: 20
hosts within 4x one host, and at most 0.4 s of controller CPU per host.
--untuned adds a 20-host run with Ansible's defaults for what ansible.cfg tunes (forks 5,
no pipelining, no fact cache, facts injected as variables) to show what the tuning buys.
--free adds one with the free strategy; --mitogen one with Mitogen for Ansible (installed from PyPI
into .cache/mitogen the first time).
The hosts' own CPU time (their cgroups) is printed too: here they share the controller's CPUs, so
the Python that runs each module on them counts in the wall time. --floor adds runs of the fewest
module calls the report makes per host (2: the checker and the fstab plan), as two
ansible.builtin.ping tasks: no playbook that makes them runs faster on these hosts.
--against REV adds the same sizes with site.yml as it was at the git revision REV (a worktree),
each right after the current one on the same hosts: before and after in one run.

From a fresh clone (make setup once; the script finds the project's venv and lays out the collection):

    scripts/docker-up.sh && scripts/base-image.sh
    python3 benchmarks/bench_site_scale.py [--sizes 1 20] [--untuned] [--free] [--mitogen] [--floor] [--against REV] [--repeat 1]
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import argparse
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, os.path.join(REPO, "tests", "runner"))

try:
    import yaml  # noqa: E402  pylint: disable=wrong-import-position
except ImportError:  # a system python without PyYAML: the project's venv has it
    VENV_PYTHON = os.path.join(REPO, ".venv", "bin", "python")
    if os.path.isfile(VENV_PYTHON) and os.path.realpath(sys.executable) != os.path.realpath(VENV_PYTHON):
        os.execv(VENV_PYTHON, [VENV_PYTHON] + sys.argv)
    raise

from docker_hosts import docker_run_args  # noqa: E402  pylint: disable=wrong-import-position,import-error

PREFIX = "lxchost-bench-site-"
LABEL = "org.lxchost.bench"
MITOGEN = os.path.join(REPO, ".cache", "mitogen")
MITOGEN_VERSION = os.environ.get("LXCHOST_MITOGEN_VERSION", "0.3.54")
TARGET_RATIO = 4.0
TARGET_CPU_PER_HOST = 0.4


def bin_dir():
    """Where ansible-playbook is: next to this interpreter, else the project's venv, else PATH."""
    for candidate in (os.path.dirname(sys.executable), os.path.join(REPO, ".venv", "bin")):
        if os.path.isfile(os.path.join(candidate, "ansible-playbook")):
            return candidate
    found = shutil.which("ansible-playbook")
    if not found:
        sys.exit("ansible-playbook not found: run `make setup` (it makes .venv), or put ansible-core on PATH")
    return os.path.dirname(found)


def docker(*argv, **kwargs):
    return subprocess.run(("docker",) + argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          universal_newlines=True, check=kwargs.get("check", True))


def start(names, systemd):
    # The check-mode report needs no init on the host; 20 systemd containers also need about
    # 100 inotify instances, past fs.inotify.max_user_instances (128 by default, shared with
    # every other container of the user), and systemd then exits at boot.
    for name in names:
        docker("rm", "-f", name, check=False)
        argv = docker_run_args(name, LABEL, command=None if systemd else ["sleep", "infinity"])
        run = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True,
                             check=False)
        if run.returncode != 0:
            sys.exit("could not start %s (scripts/docker-up.sh and scripts/base-image.sh first?):\n%s" % (
                name, run.stdout))
    for name in names if systemd else []:
        for _attempt in range(120):
            state = docker("exec", name, "systemctl", "is-system-running", check=False).stdout.strip()
            if state in ("running", "degraded"):
                break
            time.sleep(0.5)
        else:
            sys.exit("%s: systemd did not come up (%s)" % (name, state))


def host_cpu(names):
    """The CPU seconds the containers have used (their cgroups: v1 cpuacct, or v2 cpu.stat), or None
    where the cgroup files are not found."""
    ids = docker("inspect", "--format", "{{.Id}}", *names).stdout.split()
    total = 0.0
    for cid in ids:
        for path, scale in (("/sys/fs/cgroup/cpuacct/docker/%s/cpuacct.usage" % cid, 1e-9),
                            ("/sys/fs/cgroup/cpu,cpuacct/docker/%s/cpuacct.usage" % cid, 1e-9),
                            ("/sys/fs/cgroup/system.slice/docker-%s.scope/cpu.stat" % cid, 1e-6),
                            ("/sys/fs/cgroup/docker/%s/cpu.stat" % cid, 1e-6)):
            try:
                with open(path) as handle:
                    text = handle.read()
            except (IOError, OSError):
                continue
            if path.endswith("cpu.stat"):
                text = dict(line.split() for line in text.splitlines() if line.strip()).get("usage_usec", "0")
            total += int(text) * scale
            break
        else:
            return None
    return total


def remove(names):
    if names:
        docker("rm", "-f", *names, check=False)


def mitogen_path():
    """The directory holding ansible_mitogen (installed with pip --target the first time)."""
    if not os.path.isdir(os.path.join(MITOGEN, "ansible_mitogen")):
        subprocess.run([os.path.join(bin_dir(), "python"), "-m", "pip", "install", "--quiet", "--target", MITOGEN,
                        "mitogen==%s" % MITOGEN_VERSION], check=True)
    return MITOGEN


FLOOR_PLAYBOOK = """\
- name: The fewest module calls the report makes per host
  hosts: lxc_hosts
  gather_facts: false
  tasks:
    - name: In place of lxchost.prep.lxc_checkconfig
      ansible.builtin.ping:
    - name: In place of lxchost.prep.cgroup_fstab
      ansible.builtin.ping:
"""


def run_report(names, workdir, variant, bindir, root=REPO):
    connection = "docker" if variant == "mitogen" else "community.docker.docker"
    inventory = os.path.join(workdir, "hosts.yml")
    with open(inventory, "w") as handle:
        yaml.safe_dump({"all": {"children": {"lxc_hosts": {
            "hosts": dict((name, {}) for name in names),
            "vars": {"ansible_connection": connection,
                     "ansible_python_interpreter": "/usr/bin/python3",
                     "lxchost_site_build_kernel": False}}}}}, handle)
    facts = os.path.join(workdir, "facts")
    shutil.rmtree(facts, ignore_errors=True)
    env = dict(os.environ, ANSIBLE_CACHE_PLUGIN_CONNECTION=facts, ANSIBLE_NOCOLOR="1",
               LXCHOST_FLEET_REPORT_DIR=os.path.join(workdir, "report"),
               PATH=bindir + os.pathsep + os.environ.get("PATH", ""))
    if variant == "untuned":
        env.update(ANSIBLE_FORKS="5", ANSIBLE_PIPELINING="false", ANSIBLE_GATHERING="implicit",
                   ANSIBLE_CACHE_PLUGIN="memory", ANSIBLE_INJECT_FACT_VARS="true")
    elif variant == "free":
        env.update(ANSIBLE_STRATEGY="free")
    elif variant == "mitogen":
        path = mitogen_path()
        env.update(ANSIBLE_STRATEGY_PLUGINS=os.path.join(path, "ansible_mitogen", "plugins", "strategy"),
                   ANSIBLE_STRATEGY="mitogen_linear",
                   PYTHONPATH=path + os.pathsep + os.environ.get("PYTHONPATH", ""))
    playbook = "site.yml"
    if variant == "floor":
        playbook = os.path.join(workdir, "floor.yml")
        with open(playbook, "w") as handle:
            handle.write(FLOOR_PLAYBOOK)
    hosts_before = host_cpu(names)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.time()
    proc = subprocess.run([os.path.join(bindir, "ansible-playbook"), "-i", inventory, "--check", "--diff", playbook],
                          cwd=root, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          universal_newlines=True, check=False)
    wall = time.time() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    hosts_after = host_cpu(names)
    if variant == "floor":  # every host's recap line: ok=2
        done = proc.stdout.count(" ok=2 ") == len(names)
    else:
        done = "%d ok, 0 failed, 0 unreachable" % len(names) in proc.stdout
    if proc.returncode != 0 or not done:
        sys.exit("the report failed on %d host(s) (%s):\n%s" % (len(names), variant, proc.stdout[-4000:]))
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    hosts = None if hosts_before is None or hosts_after is None else hosts_after - hosts_before
    return wall, cpu, hosts


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1, 20])
    parser.add_argument("--untuned", action="store_true", help="add a run of the largest size with Ansible's defaults")
    parser.add_argument("--free", action="store_true", help="add a run of the largest size with the free strategy")
    parser.add_argument("--mitogen", action="store_true",
                        help="add runs of the smallest and the largest size with Mitogen for Ansible (mitogen_linear)")
    parser.add_argument("--floor", action="store_true",
                        help="add runs of the smallest and the largest size of two ansible.builtin.ping tasks "
                             "(the fewest module calls the report makes per host)")
    parser.add_argument("--against", metavar="REV",
                        help="add the same sizes with site.yml at this git revision (run from a worktree)")
    parser.add_argument("--repeat", type=int, default=1,
                        help="runs per size and settings on the same fresh hosts (the best is kept)")
    parser.add_argument("--systemd", action="store_true",
                        help="boot systemd in the hosts (as make demo does) instead of sleep as PID 1; "
                             "20 hosts need fs.inotify.max_user_instances > 128")
    args = parser.parse_args()
    bindir = bin_dir()
    if not os.path.isdir(os.path.join(REPO, "build", "collections", "ansible_collections", "lxchost", "prep")):
        subprocess.run([os.path.join(REPO, "scripts", "layout.sh")], check=True, stdout=subprocess.DEVNULL)
    workdir = tempfile.mkdtemp(prefix="lxchost-bench-site.")
    smallest, largest = min(args.sizes), max(args.sizes)
    # Runs on the same hosts alternate (tuned, before, tuned, before, ...): machine noise hits both.
    groups = [(size, ["tuned", "before"] if args.against else ["tuned"]) for size in args.sizes]
    groups += [(largest, [variant]) for variant in ("untuned", "free") if getattr(args, variant)]
    if args.mitogen:
        groups += [(smallest, ["mitogen"]), (largest, ["mitogen"])]
    if args.floor:
        groups += [(smallest, ["floor"]), (largest, ["floor"])]
    rows = []
    roots = {"before": os.path.join(workdir, "before")}
    try:
        if args.against:
            subprocess.run(["git", "-C", REPO, "worktree", "add", "--detach", roots["before"], args.against], check=True,
                           stdout=subprocess.DEVNULL)
            subprocess.run([os.path.join(roots["before"], "scripts", "layout.sh")], cwd=roots["before"], check=True,
                           stdout=subprocess.DEVNULL)
        for size, variants in groups:
            names = ["%s%d" % (PREFIX, i) for i in range(1, size + 1)]
            start(names, args.systemd)
            runs = dict((variant, []) for variant in variants)
            try:
                for _attempt in range(args.repeat):
                    for variant in variants:
                        runs[variant].append(run_report(names, workdir, variant, bindir, roots.get(variant, REPO)))
            finally:
                remove(names)
            for variant in variants:
                best = min(runs[variant])
                rows.append((size, variant) + best)
                print("%2d host(s) %s: %.1f s wall, %.1f s controller CPU (best of %d)" % (
                    size, variant, best[0], best[1], args.repeat), file=sys.stderr)
    finally:
        if args.against:
            subprocess.run(["git", "-C", REPO, "worktree", "remove", "--force", roots["before"]], check=False,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        shutil.rmtree(workdir, ignore_errors=True)
    with open(os.devnull, "w") as devnull:
        core = subprocess.run([os.path.join(bindir, "ansible"), "--version"], stdout=subprocess.PIPE, stderr=devnull,
                              universal_newlines=True, check=False).stdout.split("\n")[0]
    print("site.yml --check --diff on fresh hosts (%s; %s; %d CPUs on the controller, load average %.1f at the end)" % (
        "systemd" if args.systemd else "sleep as PID 1", core, os.cpu_count(), os.getloadavg()[0]))
    print("%-6s  %-8s  %8s  %9s  %8s  %10s  %11s" % (
        "hosts", "settings", "wall s", "CPU s", "x 1 host", "CPU s/host", "hosts' CPU s"))
    base = dict((variant, wall) for size, variant, wall, _cpu, _hosts in rows if size == smallest)
    for size, variant, wall, cpu, hosts in rows:
        # against one host with the same settings (the floor: against the report on one host)
        ratio = wall / base.get(variant if variant != "floor" else "tuned", base["tuned"])
        shown = "n/a" if hosts is None else "%.1f" % hosts
        print("%-6d  %-8s  %8.1f  %9.1f  %8.2f  %10.2f  %11s" % (size, variant, wall, cpu, ratio, cpu / size, shown))
    print("x 1 host: against one host with the same settings (floor: against site.yml on one host); CPU s: the "
          "controller's (ansible-playbook and what it starts); hosts' CPU s: the hosts' own, on the same CPUs here")
    if args.against:
        print("before: site.yml at %s; tuned: site.yml of this checkout" % args.against)
    for variant in ("before", "tuned", "mitogen"):
        top = [r for r in rows if r[1] == variant and r[0] == largest]
        if not top or variant not in base or largest == smallest:
            continue
        _size, _variant, wall, cpu, _hosts = top[0]
        small_cpu = [r[3] for r in rows if r[1] == variant and r[0] == smallest][0]
        marginal = (cpu - small_cpu) / (largest - smallest)
        print("%s: %d hosts within %.0fx one host: %s (%.2fx); controller CPU per host %.2f s (each host past the "
              "first %.2f s), target <= %.1f s: %s" % (
                  variant, largest, TARGET_RATIO, "met" if wall <= TARGET_RATIO * base[variant] else "NOT met",
                  wall / base[variant], cpu / largest, marginal, TARGET_CPU_PER_HOST,
                  "met" if cpu / largest <= TARGET_CPU_PER_HOST else "NOT met"))
    floor = [r for r in rows if r[1] == "floor" and r[0] == largest]
    if floor and largest != smallest:
        print("floor: the report's 2 module calls per host alone (2 pings) take %.1f s on %d hosts, %.2fx the whole "
              "report on one host" % (floor[0][2], largest, floor[0][2] / base["tuned"]))


if __name__ == "__main__":
    main()
