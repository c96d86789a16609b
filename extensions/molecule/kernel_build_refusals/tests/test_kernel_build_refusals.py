# -*- coding: utf-8 -*-
# Copyright: lxchost.prep contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""After kernel_build refused: nothing downloaded or built, no build user made for root or a uid-0
user, root and an existing user unchanged (the role never modifies a user it did not create)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type


def test_root_untouched(host):
    root = host.user("root")
    assert root.home == "/root" and root.shell in ("/bin/bash", "/bin/sh", "/usr/bin/bash")
    assert "lxchost.prep" not in (root.gecos or "")
    assert not host.check_output("getent shadow root").split(":")[1].startswith("!")


def test_existing_user_untouched(host):
    user = host.user("nohome")
    assert user.home == "/nonexistent" and user.shell == "/usr/sbin/nologin"
    assert "lxchost.prep" not in (user.gecos or "")
    assert not host.file("/nonexistent").exists


def test_nothing_downloaded_or_built(host):
    assert not host.file("/var/tmp/kernel-build/src").exists
    assert not host.file("/var/tmp/kernel-build/packages").exists
