#!/usr/bin/env python
# -*- coding: utf-8 -*-
# Copyright: lxchost.prep contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Benchmark lxc_checkconfig against the real lxc-checkconfig, side by side in one run.

Not a test: it prints figures. Two comparisons, on the same configs, interleaved repetition by
repetition so both sides see the same machine noise; medians over --repeat runs:

  (a) analysis:  check_kernel(config=PATH) in this process (parse + judge one config)
                 vs. `lxc-checkconfig` as a whole process with CONFIG=PATH.
                 Targets: ours <= 10 ms per config, and >= 5x faster.
  (b) per host:  our module as a whole process, the way Ansible runs it
                 (`python -m ansible_collections.lxchost.prep.plugins.modules.lxc_checkconfig ARGS`)
                 vs. `python -m ansible.modules.command ARGS` running lxc-checkconfig
                 (what `ansible.builtin.command: lxc-checkconfig` costs), CONFIG=PATH; and, where
                 this host has its running kernel's config, both on the running kernel (ours
                 then also reads the host and judges the runtime checks), as site.yml runs it.
                 Target: ours >= 1.5x cheaper, while judging more checks.

Usage:  python benchmarks/bench_checkconfig.py [--repeat 30] [--python PY] [--lxc-checkconfig PATH]
                                               [--config PATH ...]
Needs ansible-core importable by PY (default: this interpreter) and the lxc package's script.
"""

from __future__ import absolute_import, division, print_function

import argparse
import gzip
import json
import lzma
import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIXTURES = os.path.join(REPO, "tests", "fixtures", "configs")
MODULE = "ansible_collections.lxchost.prep.plugins.modules.lxc_checkconfig"
DEFAULT_CONFIGS = (
    ("tinyconfig", "linux-6.1-tinyconfig.config"),
    ("defconfig", "linux-6.1-defconfig.config"),
    ("debian-amd64", "debian-6.1-amd64.config.xz"),
)
# lxc-checkconfig's verdict lines: "Label: enabled|missing|required" (colours off: not a tty).
LXC_VERDICT = re.compile(r"^\S.*: (enabled|missing|required)", re.M)

TARGET_ANALYSIS_MS = 10.0
TARGET_ANALYSIS_RATIO = 5.0
TARGET_HOST_RATIO = 1.5


def layout(workdir):
    """<workdir>/ansible_collections/lxchost/prep -> this checkout, for imports and PYTHONPATH."""
    root = os.path.join(workdir, "collections")
    parent = os.path.join(root, "ansible_collections", "lxchost")
    os.makedirs(parent)
    os.symlink(REPO, os.path.join(parent, "prep"))
    return root


def plain_copy(path, workdir, name):
    """lxc-checkconfig reads only plain or gzip files: give both sides the same plain file."""
    with open(path, "rb") as handle:
        data = handle.read()
    if data.startswith(b"\xfd7zXZ\x00"):
        data = lzma.decompress(data)
    elif data.startswith(b"\x1f\x8b"):
        data = gzip.decompress(data)
    out = os.path.join(workdir, name + ".config")
    with open(out, "wb") as handle:
        handle.write(data)
    return out


def pick_configs(explicit, workdir):
    configs = []
    if explicit:
        for path in explicit:
            configs.append((os.path.basename(path), plain_copy(path, workdir, os.path.basename(path))))
        return configs
    for label, name in DEFAULT_CONFIGS:
        path = os.path.join(FIXTURES, name)
        if os.path.isfile(path):
            configs.append((label, plain_copy(path, workdir, label)))
    if not configs and os.path.isfile("/proc/config.gz"):
        configs.append(("running", plain_copy("/proc/config.gz", workdir, "running")))
    if not configs:
        sys.exit("no config to benchmark: no fixtures and no /proc/config.gz; pass --config PATH")
    return configs


def timed(func):
    start = time.perf_counter()
    value = func()
    return (time.perf_counter() - start) * 1000.0, value


CPU = []  # CPU ms (user + sys) of each process run_process waited for, in order


def run_process(argv, env):
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    proc = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, check=False)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    CPU.append(((after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)) * 1000.0)
    return proc


def write_args(workdir, name, args):
    path = os.path.join(workdir, name)
    with open(path, "w") as handle:
        json.dump({"ANSIBLE_MODULE_ARGS": args}, handle)
    return path


def median(values):
    return statistics.median(values)


def verdict(ok):
    return "PASS" if ok else "MISS"


def per_host(opts, workdir, env, lxc_env, label, args, floor_module, floor_args):
    """(b) for one input: our module process, the floor, and ansible.modules.command running lxc-checkconfig."""
    module_args = write_args(workdir, label.replace(" ", "-") + "-module.json", args)
    command_args = write_args(workdir, label.replace(" ", "-") + "-command.json",
                              {"_raw_params": opts.lxc_checkconfig, "_uses_shell": False})
    mod, cmd, floor, mod_cpu, cmd_cpu, floor_cpu = [], [], [], [], [], []
    run_process([opts.python, "-m", MODULE, module_args], env)  # warm-up: write .pyc (unless --no-bytecode)
    run_process([opts.python, "-m", floor_module, floor_args], env)
    run_process([opts.python, "-m", "ansible.modules.command", command_args], lxc_env)
    for _rep in range(opts.repeat):
        ms, mproc = timed(lambda: run_process([opts.python, "-m", MODULE, module_args], env))
        mod.append(ms)
        mod_cpu.append(CPU[-1])
        ms, _fproc = timed(lambda: run_process([opts.python, "-m", floor_module, floor_args], env))
        floor.append(ms)
        floor_cpu.append(CPU[-1])
        ms, cproc = timed(lambda: run_process([opts.python, "-m", "ansible.modules.command", command_args],
                                              lxc_env))
        cmd.append(ms)
        cmd_cpu.append(CPU[-1])
    mres = json.loads(mproc.stdout.decode())
    cres = json.loads(cproc.stdout.decode())
    if mres.get("failed") or cres.get("rc") != 0:
        print("WARNING: %s: module failed=%s msg=%s; command rc=%s" % (
            label, mres.get("failed"), mres.get("msg"), cres.get("rc")))
    return (label, median(mod), median(cmd), median(floor), len(mres.get("checks", [])),
            len(LXC_VERDICT.findall(cres.get("stdout", ""))), median(mod_cpu), median(cmd_cpu), median(floor_cpu))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    parser.add_argument("--repeat", type=int, default=30, help="repetitions per measurement (median taken)")
    parser.add_argument("--python", default=sys.executable, help="interpreter for the module processes")
    parser.add_argument("--lxc-checkconfig", default=shutil.which("lxc-checkconfig") or "/usr/bin/lxc-checkconfig")
    parser.add_argument("--config", action="append", help="config file(s) instead of the fixtures")
    parser.add_argument("--no-bytecode", action="store_true",
                        help="processes compile every module from source on every run (no .pyc anywhere, as "
                             "with AnsiballZ's zip payload); default: .pyc cached for both sides after a warm-up")
    opts = parser.parse_args()
    if not os.path.isfile(opts.lxc_checkconfig):
        sys.exit("lxc-checkconfig not found (%s); install Debian's lxc package" % opts.lxc_checkconfig)

    workdir = tempfile.mkdtemp(prefix="bench-checkconfig-")
    try:
        return bench(opts, workdir)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def bench(opts, workdir):
    collections = layout(workdir)
    sys.path.insert(0, collections)
    import_ms, checker = timed(lambda: __import__(
        "ansible_collections.lxchost.prep.plugins.module_utils._lxc_checker", fromlist=["check_kernel"]))
    check_kernel = checker.check_kernel

    configs = pick_configs(opts.config, workdir)
    # The floor is run like the others (python -m, from PYTHONPATH), so runpy is in all three.
    floor_module = "lxchost_bench_floor"
    with open(os.path.join(collections, floor_module + ".py"), "w") as handle:
        handle.write("from ansible.module_utils.basic import AnsibleModule\n"
                     "AnsibleModule(argument_spec={}, supports_check_mode=True).exit_json(changed=False)\n")
    floor_args = write_args(workdir, "floor.json", {})
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([collections] + [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p])
    env.pop("ANSIBLE_KEEP_REMOTE_FILES", None)
    env["LANG"] = env["LC_ALL"] = "C.UTF-8"
    # Bytecode: the same for both sides. A private cache prefix means neither side uses .pyc files
    # it did not write here (site-packages ships them for ansible, a checkout has none for us).
    env["PYTHONPYCACHEPREFIX"] = os.path.join(workdir, "pycache")
    if opts.no_bytecode:
        env["PYTHONDONTWRITEBYTECODE"] = "1"
    else:
        env.pop("PYTHONDONTWRITEBYTECODE", None)

    print("lxc_checkconfig benchmark: %d repetitions, medians; %s" % (opts.repeat, time.strftime("%Y-%m-%d %H:%M")))
    print("python %s (%s); lxc-checkconfig %s; %d CPUs; kernel %s"
          % (sys.version.split()[0], opts.python, opts.lxc_checkconfig, os.cpu_count() or 0, os.uname()[2]))
    print("bytecode: %s" % ("none (every process compiles every module: --no-bytecode)" if opts.no_bytecode else
                            "cached for both sides (private PYTHONPYCACHEPREFIX, one warm-up run each)"))
    print("import of the checker (in-process, once): %.1f ms" % import_ms)
    print()

    rows_a, rows_b = [], []
    all_ok = True
    for label, path in configs:
        lxc_env = dict(env, CONFIG=path)
        ours, theirs, first = [], [], None
        for _rep in range(opts.repeat):
            ms, result = timed(lambda: check_kernel(config=path))
            first = first or result
            ours.append(ms)
            ms, proc = timed(lambda: run_process(["/bin/sh", opts.lxc_checkconfig], lxc_env))
            theirs.append(ms)
        lxc_out = proc.stdout.decode("utf-8", "replace")
        rows_a.append((label, median(ours), min(ours), median(theirs), len(first["checks"]),
                       len([c for c in first["checks"] if c["status"] != "not_applicable"]),
                       len(LXC_VERDICT.findall(lxc_out))))

        rows_b.append(per_host(opts, workdir, env, lxc_env, label, {"config": path}, floor_module, floor_args))

    # The running kernel, as site.yml checks every host: our module reads the host's facts and judges
    # the runtime checks too; lxc-checkconfig without CONFIG finds the running kernel's config itself.
    try:
        check_kernel()
        running = True
    except Exception:  # pylint: disable=broad-except  # no config of the running kernel here: no row
        running = False
    if running:
        lxc_env = dict(env)
        lxc_env.pop("CONFIG", None)
        rows_b.append(per_host(opts, workdir, env, lxc_env, "running kernel", {}, floor_module, floor_args))

    print("(a) analysis: check_kernel() in-process vs lxc-checkconfig whole run (CONFIG=file)")
    head = ("config", "ours ms", "(min)", "lxc-check ms", "ratio", "targets <=10ms / >=5x", "checks ours (judged) / lxc")
    print("    %-14s %10s %10s %14s %8s   %-22s %s" % head)
    for label, ours_ms, ours_min, lxc_ms, n_ours, n_judged, n_lxc in rows_a:
        ratio = lxc_ms / ours_ms
        ok_ms, ok_ratio = ours_ms <= TARGET_ANALYSIS_MS, ratio >= TARGET_ANALYSIS_RATIO
        all_ok = all_ok and ok_ms and ok_ratio
        print("    %-14s %10.2f %10.2f %14.1f %7.1fx   %-4s / %-15s %d (%d) / %d"
              % (label, ours_ms, ours_min, lxc_ms, ratio, verdict(ok_ms), verdict(ok_ratio), n_ours, n_judged, n_lxc))
    print()
    print("(b) per host: module process vs ansible.modules.command running lxc-checkconfig (both python -m, args file)")
    print("    floor = a module that only builds AnsibleModule and calls exit_json (the cost of ansible itself)")
    head = ("config", "module ms", "command ms", "ratio", "target >=1.5x", "floor ms", "ours-floor", "checks ours / lxc")
    print("    %-14s %10s %12s %8s   %-13s %9s %12s  %s" % head)
    for label, mod_ms, cmd_ms, floor_ms, n_ours, n_lxc, _mc, _cc, _fc in rows_b:
        ratio = cmd_ms / mod_ms
        ok = ratio >= TARGET_HOST_RATIO
        all_ok = all_ok and ok
        print("    %-14s %10.1f %12.1f %7.2fx   %-13s %9.1f %12.1f  %d / %d"
              % (label, mod_ms, cmd_ms, ratio, verdict(ok), floor_ms, mod_ms - floor_ms, n_ours, n_lxc))
    print("    the same runs in CPU time (user+sys of the process and its children; steadier on a busy host):")
    print("    %-14s %10s %12s %8s   %-13s %9s %12s" % head[:-1])
    for label, _m, _c, _f, _n, _l, mod_cpu, cmd_cpu, floor_cpu in rows_b:
        ratio = cmd_cpu / mod_cpu
        print("    %-14s %10.1f %12.1f %7.2fx   %-13s %9.1f %12.1f"
              % (label, mod_cpu, cmd_cpu, ratio, verdict(ratio >= TARGET_HOST_RATIO), floor_cpu, mod_cpu - floor_cpu))
    print()
    print("all targets met" if all_ok else "some targets MISSED")
    return 0


if __name__ == "__main__":
    sys.exit(main())
