# -*- coding: utf-8 -*-
# Copyright: lxchost.prep contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Disposable hosts for the tests that run the playbook as users run it: systemd containers of the
base image, with the molecule platform's capabilities, removed at the end of the test module.
Needs Docker and the base image (scripts/test.sh's runner phase provides both)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import subprocess
import time
import uuid

import pytest

from docker_hosts import docker_run_args  # pylint: disable=import-error


def _docker_run_args(name):
    return docker_run_args(name, "org.lxchost.test")


def _sh(*argv):
    return subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          universal_newlines=True, check=False)


@pytest.fixture(scope="module")
def container_host():
    """start(prefix) starts a fresh container whose systemd has booted, and returns its name."""
    started = []

    def start(prefix):
        name = "%s-%s" % (prefix, uuid.uuid4().hex[:8])
        run = _sh(*_docker_run_args(name))
        assert run.returncode == 0, run.stdout
        started.append(name)
        state = ""
        for _attempt in range(60):  # systemd takes a moment; "degraded" still means it booted
            state = _sh("docker", "exec", name, "systemctl", "is-system-running").stdout.strip()
            if state in ("running", "degraded"):
                break
            time.sleep(0.5)
        assert state in ("running", "degraded"), state
        return name

    try:
        yield start
    finally:
        for name in started:
            _sh("docker", "rm", "-f", name)
