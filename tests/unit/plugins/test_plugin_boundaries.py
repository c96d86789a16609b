# -*- coding: utf-8 -*-
# Copyright: lxchost.prep contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Where things live: read from the source files themselves.

* No plugin imports another file's private helper (a name with a leading underscore).
* The running host's cgroup facts (mount table, /proc/cgroups, /proc/filesystems) are read in one
  module_utils file, _host_facts; everything else asks it.
* The text report is laid out apart from the judging.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ast
from pathlib import Path

import pytest

PLUGINS = Path(__file__).resolve().parents[3] / "plugins"
SOURCES = sorted(PLUGINS.rglob("*.py"))
HOST_FACTS = PLUGINS / "module_utils" / "_host_facts.py"
# Files of the kernel that describe the running host's cgroups and file systems.
HOST_FILES = ("proc/self/mounts", "proc/cgroups", "proc/filesystems", "cgroup.controllers", "proc/cmdline")


def _ids(paths):
    return [str(path.relative_to(PLUGINS)) for path in paths]


def test_the_plugins_are_found():
    assert HOST_FACTS in SOURCES and len(SOURCES) >= 10


@pytest.mark.parametrize("path", SOURCES, ids=_ids(SOURCES))
def test_no_private_import_from_another_file(path):
    tree = ast.parse(path.read_text())
    private = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("ansible_collections.lxchost.prep"):
            private.extend("%s from %s" % (alias.name, node.module) for alias in node.names
                           if alias.name.startswith("_"))
    assert private == []


@pytest.mark.parametrize("path", [p for p in SOURCES if p != HOST_FACTS], ids=_ids([p for p in SOURCES if p != HOST_FACTS]))
def test_host_cgroup_facts_are_read_in_one_file(path):
    """No other file names these files as a path to read (a sentence naming them is fine)."""
    assert [text for text in _code_strings(path) if text.strip("/") in HOST_FILES] == []


def _code_strings(path):
    """The string constants of a file's code: not its documentation (DOCUMENTATION, EXAMPLES, RETURN,
    docstrings), which may well name the files a module reads."""
    tree = ast.parse(path.read_text())
    documentation = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and any(isinstance(target, ast.Name) and target.id in (
                "DOCUMENTATION", "EXAMPLES", "RETURN") for target in node.targets):
            documentation.add(id(node.value))
        if isinstance(node, (ast.Module, ast.FunctionDef, ast.ClassDef)) and node.body and isinstance(
                node.body[0], ast.Expr) and isinstance(node.body[0].value, ast.Constant):
            documentation.add(id(node.body[0].value))
    return [node.value for node in ast.walk(tree)
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in documentation]


def test_judging_does_not_lay_out_text():
    checker = (PLUGINS / "module_utils" / "_lxc_checker.py").read_text()
    report = (PLUGINS / "module_utils" / "_lxc_report.py").read_text()
    assert "def render_report" in report and "def render_report" not in checker
    imported = [node.module for node in ast.walk(ast.parse(report)) if isinstance(node, ast.ImportFrom)]
    assert imported and not [module for module in imported if module.endswith("_lxc_checker")]
