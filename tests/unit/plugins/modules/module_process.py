# -*- coding: utf-8 -*-
# Copyright: lxchost.prep contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Run one of the collection's modules the way Ansible does: its own Python process, given an
args file ({"ANSIBLE_MODULE_ARGS": {...}}), printing one JSON result on stdout."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from ansible_collections.lxchost.prep.plugins.module_utils import _kconfig


def collections_root():
    # <root>/ansible_collections/lxchost/prep/plugins/module_utils/_kconfig.py -> <root>. Not
    # resolved: a symlinked layout (ansible_collections/lxchost/prep -> checkout) must stay one.
    path = Path(_kconfig.__file__)
    for _level in range(6):
        path = path.parent
    return str(path)


def module_env():
    """The environment for a module's own process: this collection first on PYTHONPATH, and the
    rest kept (ansible-test --venv finds ansible-core through PYTHONPATH, not the venv)."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([collections_root()] + [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p])
    return env


def run_module(module, tmp_path, args, check_mode=False):
    """Run lxchost.prep's module `module` (short name); return (rc, parsed JSON, stderr)."""
    module_args = dict(args)
    if check_mode:
        module_args["_ansible_check_mode"] = True
    args_file = tmp_path / ("args-%d.json" % len(list(tmp_path.glob("args-*.json"))))
    args_file.write_text(json.dumps({"ANSIBLE_MODULE_ARGS": module_args}))
    proc = subprocess.run([sys.executable, "-m", "ansible_collections.lxchost.prep.plugins.modules." + module,
                           str(args_file)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=module_env(),
                          cwd=str(tmp_path), timeout=120, check=False)
    out, err = proc.stdout.decode(), proc.stderr.decode()
    assert "Traceback" not in out and "Traceback" not in err, (out, err)
    try:
        result = json.loads(out)
    except ValueError:
        pytest.fail("module printed no JSON (rc %d):\nstdout: %s\nstderr: %s" % (proc.returncode, out, err))
    return proc.returncode, result, err
