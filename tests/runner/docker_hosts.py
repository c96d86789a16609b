# -*- coding: utf-8 -*-
# Copyright: lxchost.prep contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Disposable local hosts as the molecule scenarios make them: `docker run` with the molecule
platform's capabilities, cgroup namespace, security options, volumes and tmpfs
(extensions/molecule/config.yml). Shared by the runner tests and benchmarks/bench_site_scale.py."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

import yaml

COLLECTION = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
IMAGE = os.environ.get("LXCHOST_IMAGE", "lxchost/debian-systemd:bookworm")


def platform():
    """The first platform of the scenarios' shared molecule config."""
    with open(os.path.join(COLLECTION, "extensions", "molecule", "config.yml")) as handle:
        return yaml.safe_load(handle)["platforms"][0]


def docker_run_args(name, label, command=None, image=IMAGE):
    """argv of `docker run -d` for a host called name, labelled label=1; command replaces the
    platform's (systemd) when given. LXCHOST_PRIVILEGED=true runs it privileged instead of with
    the platform's list of capabilities."""
    spec = platform()
    args = ["docker", "run", "-d", "--name", name, "--hostname", name,
            "--cgroupns", spec["cgroupns_mode"], "--label", "%s=1" % label]
    if os.environ.get("LXCHOST_PRIVILEGED", "false") == "true":
        args.append("--privileged")
    else:
        args += ["--cap-drop", "ALL"]
        for cap in spec["capabilities"]:
            args += ["--cap-add", cap]
    for opt in spec["security_opts"]:
        args += ["--security-opt", opt]
    for volume in spec["volumes"]:
        args += ["-v", volume]
    for tmpfs in spec["tmpfs"]:
        args += ["--tmpfs", tmpfs]
    return args + [image] + (list(command) if command else [spec["command"]])
