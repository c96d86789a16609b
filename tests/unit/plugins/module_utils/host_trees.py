# -*- coding: utf-8 -*-
# Copyright: lxchost.prep contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Copies of the recorded host trees (tests/unit/fixtures/hosts/), ready to be a runtime_root."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import shutil
from pathlib import Path

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
HOSTS = FIXTURES / "hosts"
DISTRO_CONFIGS = FIXTURES / "distro-configs"
TREES = sorted(path.name for path in HOSTS.iterdir() if path.is_dir())


def manifest(name):
    return json.loads((HOSTS / name / "tree.json").read_text())


def host_root(tmp_path, name, files=None, remove=()):
    """A copy of the tree `name` under tmp_path: its config in place, its setuid programs setuid
    (git keeps no setuid bit), then `files` ({relative path: text}) written and `remove` deleted.
    Returns (root, release)."""
    about = manifest(name)
    root = tmp_path / name
    shutil.copytree(str(HOSTS / name), str(root))
    (root / "tree.json").unlink()
    config = about["config"]
    if config.endswith(".config.xz"):
        boot = root / "boot"
        boot.mkdir(exist_ok=True)
        shutil.copy(str(DISTRO_CONFIGS / config), str(boot / ("config-" + about["release"])))
    for program in about["setuid"]:
        os.chmod(str(root / program), 0o4755)
    for relative, text in (files or {}).items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    for relative in remove:
        (root / relative).unlink()
    return str(root), about["release"]


def add_boot_parameters(root, text):
    """Put parameters at the end of the tree's kernel command line (where cmdline.txt or GRUB add them)."""
    cmdline = Path(root) / "proc" / "cmdline"
    cmdline.write_text(cmdline.read_text().rstrip("\n") + " " + text + "\n")


def set_controller(root, name, enabled):
    """Switch a controller on or off in the tree's /proc/cgroups (its enabled column)."""
    path = Path(root) / "proc" / "cgroups"
    lines = []
    for line in path.read_text().splitlines():
        fields = line.split("\t")
        if fields[0] == name:
            fields[3] = "1" if enabled else "0"
        lines.append("\t".join(fields))
    path.write_text("\n".join(lines) + "\n")
