#!/usr/bin/env python
# -*- coding: utf-8 -*-
# Copyright: lxchost.prep contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Benchmark the kernel_build role: cold build, warm-ccache rebuild, no-op rerun, side by side.

Not a test: it prints figures. One disposable container (the VM scenario's builder image: the base
image plus build tools and linux-source-6.1), benchmarks/kernel_build_converge.yml (tinyconfig + LXC
options, packages only), three runs of the whole role:

  cold   first run: unpack, configure, compile with an empty ccache, package
  warm   `make clean` in the object tree, the packages and build record removed, ccache kept: the
         role rebuilds the same config, with the compiler's work served by ccache
  no-op  run again: same fingerprint, nothing to build (must report changed=0)

Targets: warm <= 0.2 x cold, no-op <= 0.02 x cold (whole role runs, as a user waits for them).
The compile time alone (build.sh, from the role's report) and ccache's hit rate are printed too.

With --vm, the same path on machines that boot, through the whole site.yml of the vm_site
scenario (a builder container and VMs from scripts/vm.sh, the kernel installed and booted):

  cold     fresh builder (empty ccache) and 2 fresh VMs: build, install on both, boot, cgroups,
           LXC, proof
  no-op    site.yml again on the same hosts (must report changed=0, compile and reboot nothing)
  warm     fresh VMs, the builder's packages and record removed and `make clean` run, ccache kept
  fan-out  packages kept on the builder (nothing to compile): fresh VMs, site.yml on 1 of them,
           then fresh VMs and site.yml on both; installing on 2 costs <= 1.3 x one

Targets: no-op <= 0.05 x cold, fan-out (2 targets / 1 target) <= 1.3.

Usage:  python benchmarks/bench_kernel_build.py [--keep] [--pipelining] [--vm]
Needs: docker with the base image (make image), the project venv on PATH (make setup); for --vm,
qemu (make setup) and the laid-out collection (scripts/layout.sh).
"""

from __future__ import absolute_import, division, print_function

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

import yaml

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CONVERGE = os.path.join(REPO, "benchmarks", "kernel_build_converge.yml")
BASE_IMAGE = os.environ.get("LXCHOST_IMAGE", "lxchost/debian-systemd:bookworm")
IMAGE = "lxchost/kernel-build-bench:bookworm"
CONTAINER = "lxchost-bench-kernel-build"
TARGET_WARM = 0.2
TARGET_NOOP = 0.02
RECAP = re.compile(r"^\S+\s*:\s*ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)", re.M)
BUILT = re.compile(r"built\s+(\S+)\s+in\s+(\d+)s\s+with\s+(\d+)\s+jobs.*?ccache\s+(\d+)\s+hits\s+/\s+(\d+)\s+compiles\s+"
                   r"\(([\d.]+)%\)", re.S)


def run(argv, **kwargs):
    return subprocess.run(argv, check=True, universal_newlines=True, **kwargs)


def build_image():
    """The builder image of the VM scenario (extensions/molecule/resources/builder), Docker's layer cache."""
    run(["docker", "build", "-q", "-t", IMAGE, "--build-arg", "BASE_IMAGE=%s" % BASE_IMAGE,
         os.path.join(REPO, "extensions", "molecule", "resources", "builder")], stdout=subprocess.DEVNULL)


def start_container(image=IMAGE, name=CONTAINER):
    """Same privileges as the molecule platform (extensions/molecule/config.yml)."""
    with open(os.path.join(REPO, "extensions", "molecule", "config.yml")) as handle:
        platform = yaml.safe_load(handle)["platforms"][0]
    subprocess.run(["docker", "rm", "-f", name], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    argv = ["docker", "run", "-d", "--name", name, "--hostname", name, "--cap-drop", "ALL"]
    for cap in platform["capabilities"]:
        argv += ["--cap-add", cap]
    for opt in platform["security_opts"]:
        argv += ["--security-opt", opt]
    argv += ["--cgroupns", "host", "-v", "/sys/fs/cgroup:/sys/fs/cgroup:rw", "--tmpfs", "/run", "--tmpfs", "/run/lock",
             image, "/lib/systemd/systemd"]
    run(argv, stdout=subprocess.DEVNULL)


def collections_path(workdir):
    """<workdir>/ansible_collections/lxchost/prep -> this checkout."""
    parent = os.path.join(workdir, "ansible_collections", "lxchost")
    os.makedirs(parent)
    os.symlink(REPO, os.path.join(parent, "prep"))
    return workdir


def play(workdir, label, pipelining):
    inventory = os.path.join(workdir, "inventory.yml")
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=workdir, ANSIBLE_INJECT_FACT_VARS="false", ANSIBLE_NOCOLOR="1",
               ANSIBLE_PYTHON_INTERPRETER="auto_silent", ANSIBLE_PIPELINING="1" if pipelining else "0",
               ANSIBLE_CALLBACK_RESULT_FORMAT="json")
    start = time.monotonic()
    proc = subprocess.run(["ansible-playbook", "-i", inventory, CONVERGE],
                          env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True,
                          check=False)
    seconds = time.monotonic() - start
    with open(os.path.join(workdir, "%s.log" % label), "w") as handle:
        handle.write(proc.stdout)
    recap = RECAP.search(proc.stdout)
    if proc.returncode != 0 or not recap or recap.group(4) != "0":
        sys.exit("%s run failed (log %s/%s.log):\n%s" % (label, workdir, label, proc.stdout[-3000:]))
    built = BUILT.search(proc.stdout)
    return dict(seconds=seconds, changed=int(recap.group(2)),
                compile=int(built.group(2)) if built else None,
                hits=int(built.group(4)) if built else None, compiles=int(built.group(5)) if built else None,
                rate=float(built.group(6)) if built else None, release=built.group(1) if built else None)


VM_SCENARIO = os.path.join(REPO, "extensions", "molecule", "vm_site")
VM_BUILDER = "lxchost-bench-vm-builder"
VM_NAMES = (("lxchost-bench-vm-1", "systemd"), ("lxchost-bench-vm-2", "legacy"))
BUILDER_IMAGE = "lxchost/kernel-builder:bookworm"
TARGET_VM_NOOP = 0.05
TARGET_FANOUT = 1.3


def vm_start_builder():
    run(["docker", "build", "-q", "-t", BUILDER_IMAGE, "--build-arg", "BASE_IMAGE=%s" % BASE_IMAGE,
         os.path.join(REPO, "extensions", "molecule", "resources", "builder")], stdout=subprocess.DEVNULL)
    start_container(BUILDER_IMAGE, VM_BUILDER)


def vm_fresh(names):
    """Stop and start the VMs anew (a fresh overlay of the image each): seconds to SSH per VM."""
    boots = {}
    for name in dict(VM_NAMES):
        subprocess.run([os.path.join(REPO, "scripts", "vm.sh"), "stop", name], check=False)
    procs = dict((name, subprocess.Popen([os.path.join(REPO, "scripts", "vm.sh"), "start", name, kind],
                                         stdout=subprocess.PIPE, universal_newlines=True))
                 for name, kind in VM_NAMES if name in names)
    hosts = {}
    for name, proc in procs.items():
        out = proc.communicate()[0]
        if proc.returncode:
            sys.exit("VM %s did not start" % name)
        vm = json.loads(out.strip().splitlines()[-1])
        boots[name] = vm["boot_seconds"]
        hosts[name] = {"ansible_host": vm["address"], "ansible_port": vm["port"], "ansible_user": vm["user"],
                       "ansible_ssh_private_key_file": vm["identity_file"],
                       "ansible_ssh_common_args": "-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null"}
    return hosts, boots


def vm_inventory(workdir, hosts):
    """The vm_site scenario's group_vars, with this benchmark's hosts."""
    with open(os.path.join(VM_SCENARIO, "molecule.yml")) as handle:
        text = handle.read()
    text = text.replace("${LXCHOST_INSTANCE_SUFFIX}", "").replace("${MOLECULE_SCENARIO_DIRECTORY}", VM_SCENARIO)
    text = text.replace("${MOLECULE_EPHEMERAL_DIRECTORY}", workdir).replace("lxchost-vm-builder", VM_BUILDER)
    group_vars = yaml.safe_load(text)["provisioner"]["inventory"]["group_vars"]["lxc_hosts"]
    inventory = {"all": {"children": {
        "kernel_builders": {"hosts": {VM_BUILDER: {"ansible_connection": "community.docker.docker"}}},
        "lxc_hosts": {"hosts": hosts, "vars": group_vars}}}}
    with open(os.path.join(workdir, "inventory.yml"), "w") as handle:
        yaml.safe_dump(inventory, handle)


def vm_play(workdir, label):
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=os.path.join(REPO, "build", "collections"),
               ANSIBLE_INJECT_FACT_VARS="false", ANSIBLE_NOCOLOR="1", ANSIBLE_PIPELINING="1",
               ANSIBLE_PYTHON_INTERPRETER="auto_silent", ANSIBLE_CALLBACK_RESULT_FORMAT="json",
               ANSIBLE_SSH_ARGS="-o ControlMaster=auto -o ControlPersist=900s", ANSIBLE_TIMEOUT="60")
    start = time.monotonic()
    proc = subprocess.run(["ansible-playbook", "-i", os.path.join(workdir, "inventory.yml"), os.path.join(REPO, "site.yml")],
                          env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True, check=False)
    seconds = time.monotonic() - start
    with open(os.path.join(workdir, "%s.log" % label), "w") as handle:
        handle.write(proc.stdout)
    recaps = RECAP.findall(proc.stdout)
    if proc.returncode != 0 or not recaps or any(r[3] != "0" for r in recaps):
        sys.exit("%s run failed (log %s/%s.log):\n%s" % (label, workdir, label, proc.stdout[-3000:]))
    built = BUILT.search(proc.stdout)
    return dict(seconds=seconds, changed=sum(int(r[1]) for r in recaps), compile=int(built.group(2)) if built else None,
                reboots=proc.stdout.count("TASK [lxchost.prep.kernel_build : Reboot, booting the new kernel once"), release=built.group(1) if built else None)


def vm_main(args):
    workdir = tempfile.mkdtemp(prefix="kbench-vm-")
    load = os.getloadavg()[0]
    names = [pair[0] for pair in VM_NAMES]
    rows = []
    try:
        print("builder %s, VMs %s ..." % (VM_BUILDER, ", ".join(names)), flush=True)
        vm_start_builder()
        hosts, boots = vm_fresh(names)
        print("VM boot to SSH: %s" % ", ".join("%s %ds" % item for item in sorted(boots.items())), flush=True)
        vm_inventory(workdir, hosts)
        print("cold: build, install on 2 VMs, boot, LXC ...", flush=True)
        cold = vm_play(workdir, "cold")
        rows.append(("cold (2 VMs)", cold))
        print("no-op rerun ...", flush=True)
        rows.append(("no-op rerun", vm_play(workdir, "noop")))
        run(["docker", "exec", VM_BUILDER, "sh", "-c",
             "for obj in /var/tmp/kernel-build/build/*/obj; do sudo -u kbuild make -s -C \"$obj\" clean; done; "
             "rm -rf /var/tmp/kernel-build/packages/* /var/tmp/kernel-build/last-build.json /var/tmp/kernel-build/logs/*"])
        hosts, boots = vm_fresh(names)
        vm_inventory(workdir, hosts)
        print("warm: ccache kept, fresh VMs ...", flush=True)
        rows.append(("warm (2 VMs)", vm_play(workdir, "warm")))
        hosts, boots = vm_fresh(names[:1])
        vm_inventory(workdir, hosts)
        print("fan-out: install on 1 fresh VM ...", flush=True)
        one = vm_play(workdir, "one")
        rows.append(("install on 1 VM", one))
        hosts, boots = vm_fresh(names)
        vm_inventory(workdir, hosts)
        print("fan-out: install on 2 fresh VMs ...", flush=True)
        two = vm_play(workdir, "two")
        rows.append(("install on 2 VMs", two))
    finally:
        if not args.keep:
            subprocess.run(["docker", "rm", "-f", VM_BUILDER], stdout=subprocess.DEVNULL, check=False)
            for name in names:
                subprocess.run([os.path.join(REPO, "scripts", "vm.sh"), "stop", name], check=False)
    print()
    print("site.yml on VMs (%s): load average at start %.1f, nproc %d" % (cold["release"], load, os.cpu_count()))
    print("%-20s %10s %10s %8s %8s %8s" % ("run", "site.yml", "compile", "changed", "reboots", "x cold"))
    for label, result in rows:
        compile_time = "-" if result["compile"] is None else "%ds" % result["compile"]
        cells = (label, result["seconds"], compile_time, result["changed"], result["reboots"],
                 result["seconds"] / cold["seconds"])
        print("%-20s %9.1fs %10s %8d %8d %8.3f" % cells)
    noop_ratio = rows[1][1]["seconds"] / cold["seconds"]
    fanout = two["seconds"] / one["seconds"]
    print()
    print("no-op   %.3f x cold (target <= %.2f): %s" % (noop_ratio, TARGET_VM_NOOP, "met" if noop_ratio <= TARGET_VM_NOOP else "NOT met"))
    print("fan-out %.2f x one target (target <= %.1f): %s" % (fanout, TARGET_FANOUT, "met" if fanout <= TARGET_FANOUT else "NOT met"))
    print("logs in %s" % workdir)
    return 0


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--keep", action="store_true", help="keep the container and the logs")
    parser.add_argument("--pipelining", action="store_true", help="run Ansible with pipelining (fewer round trips)")
    parser.add_argument("--vm", action="store_true", help="the VM path: site.yml with a builder and VMs that boot")
    args = parser.parse_args()
    if args.vm:
        return vm_main(args)

    workdir = tempfile.mkdtemp(prefix="kbench-")
    collections_path(workdir)
    with open(os.path.join(workdir, "inventory.yml"), "w") as handle:
        yaml.safe_dump({"all": {"hosts": {CONTAINER: {"ansible_connection": "community.docker.docker"}}}}, handle)
    print("building the image and starting %s ..." % CONTAINER, flush=True)
    build_image()
    start_container()
    load = os.getloadavg()[0]
    try:
        print("cold build ...", flush=True)
        cold = play(workdir, "cold", args.pipelining)
        # `make clean` in the object tree (as the issue measured it), and the build's outputs gone.
        run(["docker", "exec", CONTAINER, "sh", "-c",
             "for obj in /var/tmp/kernel-build/build/*/obj; do sudo -u kbuild make -s -C \"$obj\" clean; done; "
             "rm -rf /var/tmp/kernel-build/packages/* /var/tmp/kernel-build/last-build.json /var/tmp/kernel-build/logs/*"])
        print("warm-ccache rebuild ...", flush=True)
        warm = play(workdir, "warm", args.pipelining)
        print("no-op rerun ...", flush=True)
        noop = play(workdir, "noop", args.pipelining)
    finally:
        if not args.keep:
            subprocess.run(["docker", "rm", "-f", CONTAINER], stdout=subprocess.DEVNULL, check=False)

    def fmt(value, unit="s"):
        return "-" if value is None else ("%.1f%s" % (value, unit) if isinstance(value, float) else "%d%s" % (value, unit))

    print()
    print("kernel_build: %s, tinyconfig + LXC options, 2 jobs max; load average at start %.1f, nproc %d%s"
          % (cold["release"], load, os.cpu_count(), ", pipelining" if args.pipelining else ""))
    print("%-22s %10s %10s %8s %22s %8s" % ("run", "role", "compile", "changed", "ccache hits/compiles", "x cold"))
    for label, result in (("cold build", cold), ("warm-ccache rebuild", warm), ("no-op rerun", noop)):
        hits = "-" if result["hits"] is None else "%d/%d (%.1f%%)" % (result["hits"], result["compiles"], result["rate"])
        print("%-22s %10s %10s %8d %22s %8.3f" % (label, fmt(result["seconds"]), fmt(result["compile"]),
                                                  result["changed"], hits, result["seconds"] / cold["seconds"]))
    warm_ratio, noop_ratio = warm["seconds"] / cold["seconds"], noop["seconds"] / cold["seconds"]
    print()
    print("warm  %.3f x cold (target <= %.2f): %s" % (warm_ratio, TARGET_WARM, "met" if warm_ratio <= TARGET_WARM else "NOT met"))
    print("no-op %.3f x cold (target <= %.2f): %s" % (noop_ratio, TARGET_NOOP, "met" if noop_ratio <= TARGET_NOOP else "NOT met"))
    if noop["changed"]:
        print("no-op run changed %d task(s): not a no-op" % noop["changed"])
    if args.keep:
        print("logs in %s; container %s kept" % (workdir, CONTAINER))
    else:
        shutil.rmtree(workdir)
    return 0


if __name__ == "__main__":
    sys.exit(main())
