#!/usr/bin/env python
# -*- coding: utf-8 -*-
# Copyright: lxchost.prep contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The site.yml readiness report (--check --diff) on 1 host and on 20, side by side.

A benchmark, not a test. Each size gets fresh disposable hosts (the containers of `make demo`,
with the molecule platform's capabilities; PID 1 is `sleep` unless --systemd), an empty fact cache, and the
repository's ansible.cfg; the wall time and the controller's CPU time of ansible-playbook
are printed with the ratio to one host. Target: 20 hosts within 4x one host.
--untuned adds a 20-host run with Ansible's defaults for what ansible.cfg tunes (forks 5,
no pipelining, no fact cache, facts injected as variables) to show what the tuning buys.

    scripts/docker-up.sh && scripts/base-image.sh && scripts/layout.sh
    .venv/bin/python benchmarks/bench_site_scale.py [--sizes 1 20] [--untuned] [--repeat 1]
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

import yaml

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
IMAGE = os.environ.get("LXCHOST_IMAGE", "lxchost/debian-systemd:bookworm")
PREFIX = "lxchost-bench-site-"


def platform():
    with open(os.path.join(REPO, "extensions", "molecule", "config.yml")) as handle:
        return yaml.safe_load(handle)["platforms"][0]


def docker(*argv, **kwargs):
    return subprocess.run(("docker",) + argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          universal_newlines=True, check=kwargs.get("check", True))


def start(names, systemd):
    spec = platform()
    # The check-mode report needs no init on the host; 20 systemd containers also need about
    # 100 inotify instances, past fs.inotify.max_user_instances (128 by default, shared with
    # every other container of the user), and systemd then exits at boot.
    command = [spec["command"]] if systemd else ["sleep", "infinity"]
    for name in names:
        docker("rm", "-f", name, check=False)
        args = ["run", "-d", "--name", name, "--hostname", name, "--cgroupns", spec["cgroupns_mode"],
                "--cap-drop", "ALL", "--label", "org.lxchost.bench=1"]
        for cap in spec["capabilities"]:
            args += ["--cap-add", cap]
        for opt in spec["security_opts"]:
            args += ["--security-opt", opt]
        for volume in spec["volumes"]:
            args += ["-v", volume]
        for tmpfs in spec["tmpfs"]:
            args += ["--tmpfs", tmpfs]
        docker(*(args + [IMAGE] + command))
    for name in names if systemd else []:
        for _attempt in range(120):
            state = docker("exec", name, "systemctl", "is-system-running", check=False).stdout.strip()
            if state in ("running", "degraded"):
                break
            time.sleep(0.5)
        else:
            sys.exit("%s: systemd did not come up (%s)" % (name, state))


def remove(names):
    if names:
        docker("rm", "-f", *names, check=False)


def run_report(names, workdir, untuned):
    inventory = os.path.join(workdir, "hosts.yml")
    with open(inventory, "w") as handle:
        yaml.safe_dump({"all": {"children": {"lxc_hosts": {
            "hosts": dict((name, {}) for name in names),
            "vars": {"ansible_connection": "community.docker.docker",
                     "ansible_python_interpreter": "/usr/bin/python3",
                     "lxchost_site_build_kernel": False}}}}}, handle)
    facts = os.path.join(workdir, "facts")
    shutil.rmtree(facts, ignore_errors=True)
    env = dict(os.environ, ANSIBLE_CACHE_PLUGIN_CONNECTION=facts, ANSIBLE_NOCOLOR="1",
               ANSIBLE_COLLECTIONS_PATH=os.path.join(REPO, "build", "collections"),
               LXCHOST_FLEET_REPORT_DIR=os.path.join(workdir, "report"))
    if untuned:
        env.update(ANSIBLE_FORKS="5", ANSIBLE_PIPELINING="false", ANSIBLE_GATHERING="implicit",
                   ANSIBLE_CACHE_PLUGIN="memory", ANSIBLE_INJECT_FACT_VARS="true")
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.time()
    proc = subprocess.run(["ansible-playbook", "-i", inventory, "--check", "--diff", "site.yml"], cwd=REPO, env=env,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True, check=False)
    wall = time.time() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0 or "%d ok, 0 failed, 0 unreachable" % len(names) not in proc.stdout:
        sys.exit("the report failed on %d host(s):\n%s" % (len(names), proc.stdout[-4000:]))
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1, 20])
    parser.add_argument("--untuned", action="store_true", help="add a run of the largest size with Ansible's defaults")
    parser.add_argument("--repeat", type=int, default=1, help="runs per size on the same fresh hosts (the best is kept)")
    parser.add_argument("--systemd", action="store_true",
                        help="boot systemd in the hosts (as make demo does) instead of sleep as PID 1; "
                             "20 hosts need fs.inotify.max_user_instances > 128")
    args = parser.parse_args()
    workdir = tempfile.mkdtemp(prefix="lxchost-bench-site.")
    cases = [(size, False) for size in args.sizes]
    if args.untuned:
        cases.append((max(args.sizes), True))
    rows = []
    try:
        for size, untuned in cases:
            names = ["%s%d" % (PREFIX, i) for i in range(1, size + 1)]
            start(names, args.systemd)
            try:
                best = min(run_report(names, workdir, untuned) for _attempt in range(args.repeat))
            finally:
                remove(names)
            rows.append((size, untuned, best[0], best[1]))
            print("%2d host(s)%s: %.1f s wall, %.1f s controller CPU" % (
                size, " (untuned)" if untuned else "", best[0], best[1]), file=sys.stderr)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    base = rows[0][2]
    print("site.yml --check --diff on fresh hosts (%s; %d CPUs on the controller, load average %.1f at the end)" % (
        "systemd" if args.systemd else "sleep as PID 1", os.cpu_count(), os.getloadavg()[0]))
    print("%-6s  %-8s  %8s  %9s  %8s  %s" % ("hosts", "settings", "wall s", "CPU s", "x 1 host", "s/host"))
    for size, untuned, wall, cpu in rows:
        print("%-6d  %-8s  %8.1f  %9.1f  %8.2f  %6.2f" % (
            size, "defaults" if untuned else "tuned", wall, cpu, wall / base, wall / size))
    tuned_top = [r for r in rows if not r[1]][-1]
    print("target: %d hosts <= 4x one host: %s (%.2fx)" % (
        tuned_top[0], "met" if tuned_top[2] <= 4 * base else "NOT met", tuned_top[2] / base))


if __name__ == "__main__":
    main()
