# -*- coding: utf-8 -*-
# Copyright: lxchost.prep contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Sphinx settings of the docs site `make docs` builds (scripts/docs.sh) from the RST that
antsibull-docs writes for lxchost.prep."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from docutils import nodes

project = "lxchost.prep"
copyright = "lxchost.prep contributors"  # pylint: disable=redefined-builtin  # Sphinx's name
title = "lxchost.prep"
html_short_title = "lxchost.prep"
html_title = "lxchost.prep: LXC hosts, from the kernel config to a running container"

extensions = ["sphinx_antsibull_ext"]
pygments_style = "ansible"
highlight_language = "YAML+Jinja"
html_theme = "alabaster"
html_show_sphinx = False
html_copy_source = False
html_use_index = False
default_role = "any"
# Every reference must resolve: a broken link in the module or role docs fails `make docs`.
nitpicky = True

# The generated pages link to Ansible's own documentation by label (common return values,
# configuration settings, other collections' modules). Sphinx resolves such labels through
# intersphinx inventories downloaded at build time; the build runs offline, so the labels the
# pages use resolve here, to the same pages of Ansible's documentation.
ANSIBLE_DOCS = "https://docs.ansible.com/projects/ansible/latest/"
ANSIBLE_LABELS = {
    "common_return_values": "reference_appendices/common_return_values.html",
    "ansible_configuration_settings": "reference_appendices/config.html",
    "callback_plugins": "plugins/callback.html",
}


def ansible_docs_url(target):
    """The page of Ansible's documentation for a label, or None when it is not one of theirs."""
    if target in ANSIBLE_LABELS:
        return ANSIBLE_DOCS + ANSIBLE_LABELS[target]
    # ansible_collections.<namespace>.<name>.<plugin>_<type>, for collections other than this one
    parts = target.split(".")
    if len(parts) == 4 and parts[0] == "ansible_collections" and parts[1:3] != ["lxchost", "prep"]:
        return ANSIBLE_DOCS + "collections/%s/%s/%s.html" % tuple(parts[1:])
    return None


def resolve_ansible_label(app, env, node, contnode):  # pylint: disable=unused-argument  # Sphinx's signature
    url = ansible_docs_url(node.get("reftarget", ""))
    if url is None or node.get("reftype") not in ("ref", "any"):
        return None
    reference = nodes.reference("", "", internal=False, refuri=url)
    reference.append(contnode)
    return reference


def setup(app):
    app.connect("missing-reference", resolve_ansible_label)
