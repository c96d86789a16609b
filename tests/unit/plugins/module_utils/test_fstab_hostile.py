# -*- coding: utf-8 -*-
# Copyright: lxchost.prep contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""fstab text edits on hostile text: odd bytes, odd line endings, odd separators, odd spellings."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ansible_collections.lxchost.prep.plugins.module_utils._fstab import (
    ensure_entry,
    fields_of,
    find_lines,
    normalize_path,
    remove_entries,
    split_lines,
)

PATH = "/var/local/cgroup"
V2 = ("cgroup2", PATH, "cgroup2", "defaults", "0", "0")
V2_LINE = "cgroup2 /var/local/cgroup cgroup2 defaults 0 0"
CLASSIC_LINE = "cgroup /var/local/cgroup cgroup defaults 0 0"


def decode(data):
    return data.decode("utf-8", "surrogateescape")


def encode(text):
    return text.encode("utf-8", "surrogateescape")


@pytest.mark.parametrize("ending", ["\r\n", "\r\r\n", "\r"])
def test_rewritten_line_keeps_its_ending(ending):
    text = "a /a ext4 defaults 0 1\r\n" + CLASSIC_LINE + ending + ("# tail\r\n" if ending.endswith("\n") else "")
    new = ensure_entry(text, V2)
    assert new == text.replace(CLASSIC_LINE, V2_LINE)


def test_appended_line_follows_a_crlf_file():
    assert ensure_entry("a /a ext4 defaults 0 1\r\n", V2) == "a /a ext4 defaults 0 1\r\n" + V2_LINE + "\r\n"


@pytest.mark.parametrize("separator", ["\f", "\v", "\x1c", "\x1d", "\x1e", "\x1f", "\x85", "\xa0", "\u2028", "\u2029"])
def test_fields_are_split_on_blanks_only(separator):
    line = "cgroup2%s%s cgroup2 defaults 0 0\n" % (separator, PATH)
    assert fields_of(line)[0] == "cgroup2%s%s" % (separator, PATH)
    assert find_lines(line, PATH) == []


@pytest.mark.parametrize("blank", ["\f", "\v", "\x85", "\u2028"])
def test_a_line_of_odd_whitespace_is_not_blank_for_us_either(blank):
    # mount(8) would read "\f" as a one-field line (a broken entry), not as a blank line.
    assert fields_of(blank + "\n") == [blank]


@pytest.mark.parametrize("spelling", ["/var/local/cgroup/", "//var/local/cgroup", "/var/./local/cgroup",
                                      "/var/local//cgroup//", "/var/local/x/../cgroup", "/var/local/cgroup/."])
def test_lexical_spellings_are_one_mount_point(spelling):
    text = "cgroup2 %s cgroup2 defaults 0 0\n" % spelling
    assert [index for index, _fields in find_lines(text, PATH)] == [0]
    assert normalize_path(spelling) == PATH
    assert ensure_entry(text, V2) == text
    assert remove_entries(text, PATH) == ""


def test_canonical_form_is_used_when_given():
    aliases = {"/srv/cg": PATH}

    def canon(path):
        return aliases.get(normalize_path(path), normalize_path(path))

    text = "cgroup2 /srv/cg cgroup2 defaults 0 0\n"
    assert find_lines(text, PATH, canon=canon) and not find_lines(text, PATH)
    assert ensure_entry(text, V2, canon=canon) == text
    assert remove_entries(text, PATH, canon=canon) == ""


def test_non_utf8_bytes_survive_byte_for_byte():
    data = b"# caf\xe9\n\xff\xfe junk\r\nLABEL=\xe9t\xe9 /data ext4 defaults 0 2\n"
    added = ensure_entry(decode(data), V2)
    assert encode(added) == data + V2_LINE.encode() + b"\n"
    assert encode(remove_entries(added, PATH)) == data


# Random bytes, decoded the way the module decodes them.

_BYTES_LINES = st.lists(
    st.one_of(st.binary(max_size=30),
              st.sampled_from([b"", b"\r", b"\x00", b"# caf\xe9", b"\xed\xa0\x80", b" \t ", b"\f", b"\x85",
                               b"proc /proc proc defaults 0 0\r", b"a /a ext4 defaults"])),
    max_size=10)


@settings(max_examples=400, deadline=None)
@given(_BYTES_LINES, st.sampled_from([b"\n", b"\r\n"]), st.booleans(), st.sampled_from([V2, tuple(
    ["cgroup", PATH, "cgroup", "defaults", "0", "0"])]))
def test_property_random_bytes_add_then_remove_is_identity(lines, newline, final, entry):
    data = newline.join(lines) + (newline if final and lines else b"")
    text = decode(data)
    if find_lines(text, PATH):
        return
    added = ensure_entry(text, entry)
    assert encode(added).startswith(data)
    assert len(find_lines(added, PATH)) == 1
    assert ensure_entry(added, entry) == added
    assert encode(remove_entries(added, PATH)) == data
    assert "".join(split_lines(added)) == added
