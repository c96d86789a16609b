# -*- coding: utf-8 -*-
# Copyright: lxchost.prep contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""fstab text edits: only our line changes, every other byte stays."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ansible_collections.lxchost.prep.plugins.module_utils._fstab import (
    FstabError,
    ensure_entry,
    escape,
    fields_of,
    find_lines,
    remove_entries,
    split_lines,
    unescape,
)

PATH = "/var/local/cgroup"
CLASSIC = ("cgroup", PATH, "cgroup", "defaults", "0", "0")
V2 = ("cgroup2", PATH, "cgroup2", "defaults", "0", "0")
CLASSIC_LINE = "cgroup /var/local/cgroup cgroup defaults 0 0"

DEBIAN = ("# /etc/fstab: static file system information.\n"
          "#\n"
          "# <file system> <mount point>   <type>  <options>       <dump>  <pass>\n"
          "UUID=1234-abcd\t/\text4\terrors=remount-ro 0       1\n"
          "\n"
          "/dev/sr0        /media/cdrom0   udf,iso9660 user,noauto     0       0\n")


def test_split_lines_round_trips_and_keeps_missing_final_newline():
    for text in ("", "a", "a\n", "a\n\nb", "\n\n", "a\r\nb\r\n"):
        assert "".join(split_lines(text)) == text
    assert split_lines("a\nb") == ["a\n", "b"]


def test_escape_round_trip():
    assert escape("/mnt/with space\tand\\back") == "/mnt/with\\040space\\011and\\134back"
    assert unescape(escape("/mnt/with space\tand\\back")) == "/mnt/with space\tand\\back"


def test_fields_of_skips_comments_and_blanks():
    assert fields_of("   # cgroup /var/local/cgroup cgroup defaults 0 0\n") is None
    assert fields_of(" \t \n") is None
    assert fields_of("cgroup\t/var/local/cgroup  cgroup defaults\n") == ["cgroup", PATH, "cgroup", "defaults"]


def test_append_classic_line_to_debian_fstab():
    assert ensure_entry(DEBIAN, CLASSIC) == DEBIAN + CLASSIC_LINE + "\n"


def test_append_keeps_missing_final_newline():
    assert ensure_entry("proc /proc proc defaults 0 0", CLASSIC) == "proc /proc proc defaults 0 0\n" + CLASSIC_LINE


def test_empty_file_gets_one_terminated_line():
    assert ensure_entry("", CLASSIC) == CLASSIC_LINE + "\n"


def test_same_entry_with_other_spacing_or_four_fields_is_left_alone():
    for text in ("cgroup\t/var/local/cgroup\tcgroup\tdefaults\t0\t0\n",
                 "cgroup /var/local/cgroup/ cgroup defaults\n",
                 "cgroup /var/local/cgroup cgroup defaults 0"):
        assert ensure_entry(text, CLASSIC) is text


def test_rewrite_in_place_keeps_position_and_neighbours():
    text = "# head\n" + CLASSIC_LINE + "\n\ttmpfs /tmp tmpfs defaults 0 0\n# tail"
    new = ensure_entry(text, V2)
    assert new == "# head\ncgroup2 /var/local/cgroup cgroup2 defaults 0 0\n\ttmpfs /tmp tmpfs defaults 0 0\n# tail"


def test_four_field_line_is_rewritten_and_removed():
    text = "a /a ext4 defaults 0 1\ncgroup /var/local/cgroup cgroup defaults\nb /b ext4 defaults 0 2\n"
    assert ensure_entry(text, V2) == ("a /a ext4 defaults 0 1\ncgroup2 /var/local/cgroup cgroup2 defaults 0 0\n"
                                      "b /b ext4 defaults 0 2\n")
    assert remove_entries(text, PATH) == "a /a ext4 defaults 0 1\nb /b ext4 defaults 0 2\n"


def test_duplicates_fail_by_default_and_are_merged_with_fix():
    text = CLASSIC_LINE + "\n# between\n" + CLASSIC_LINE + "\n"
    with pytest.raises(FstabError) as err:
        ensure_entry(text, CLASSIC)
    assert "2 lines for /var/local/cgroup" in str(err.value) and "line 1" in str(err.value)
    assert "line 3" in str(err.value) and "Nothing was changed" in str(err.value)
    assert ensure_entry(text, CLASSIC, fix=True) == CLASSIC_LINE + "\n# between\n"


def test_conflicting_line_fails_by_default():
    text = "tmpfs /var/local/cgroup tmpfs defaults 0 0\n"
    with pytest.raises(FstabError) as err:
        ensure_entry(text, CLASSIC)
    assert "not a cgroup entry" in str(err.value) and "tmpfs /var/local/cgroup" in str(err.value)
    with pytest.raises(FstabError):
        remove_entries(text, PATH)
    assert ensure_entry(text, CLASSIC, fix=True) == CLASSIC_LINE + "\n"
    assert remove_entries(text, PATH, fix=True) == ""


def test_malformed_line_for_our_path_is_a_conflict():
    with pytest.raises(FstabError):
        ensure_entry("cgroup /var/local/cgroup\n", CLASSIC)
    with pytest.raises(FstabError):
        ensure_entry("cgroup /var/local/cgroup cgroup defaults 0 0 extra\n", CLASSIC)


def test_remove_duplicates_without_fix_and_keep_final_newline_state():
    text = "a /a ext4 defaults 0 1\n" + CLASSIC_LINE + "\n" + "cgroup2 /var/local/cgroup cgroup2 defaults 0 0"
    assert remove_entries(text, PATH) == "a /a ext4 defaults 0 1"


def test_commented_classic_line_is_not_ours():
    text = "#" + CLASSIC_LINE + "\n"
    assert find_lines(text, PATH) == []
    assert ensure_entry(text, CLASSIC) == text + CLASSIC_LINE + "\n"


# Property tests: random fstab text in, only our line changed out.

_FIELD = st.text(alphabet="abcdefxyz0123456789/=-_.,", min_size=1, max_size=12)
_OTHER_ENTRY = st.builds(
    lambda fields, seps: "".join(f + s for f, s in zip(fields, seps)).rstrip(" \t"),
    st.lists(_FIELD, min_size=1, max_size=7), st.lists(st.sampled_from([" ", "\t", "  ", " \t "]), min_size=7,
                                                       max_size=7))
_COMMENT = st.builds(lambda body: "#" + body, st.text(alphabet=" \tabc#/=\\", max_size=20))
_BLANK = st.sampled_from(["", " ", "\t", " \t  "])
_OURS = st.sampled_from([CLASSIC_LINE, "cgroup\t/var/local/cgroup\tcgroup\tdefaults",
                         "cgroup2 /var/local/cgroup/ cgroup2 rw,nosuid 0 0", "cgroup /var/local/cgroup cgroup cpu 0 0"])
_LINES = st.lists(st.one_of(_OTHER_ENTRY, _COMMENT, _BLANK), max_size=12)


def _fstab(lines, final_newline):
    text = "\n".join(lines)
    return text + "\n" if final_newline and lines else text


def _not_ours(text):
    ours = set(index for index, _fields in find_lines(text, PATH))
    return [line.rstrip("\n") for index, line in enumerate(split_lines(text)) if index not in ours]


@settings(max_examples=300, deadline=None)
@given(_LINES, st.booleans(), st.sampled_from([CLASSIC, V2]))
def test_property_add_then_remove_is_identity(lines, final_newline, entry):
    text = _fstab(lines, final_newline)
    if find_lines(text, PATH):
        return  # a random other entry happened to name our path
    added = ensure_entry(text, entry)
    assert len(find_lines(added, PATH)) == 1
    assert ensure_entry(added, entry) == added
    assert remove_entries(added, PATH) == text
    assert added.startswith(text)
    assert added.endswith("\n") == (text.endswith("\n") or not text)


@settings(max_examples=300, deadline=None)
@given(_LINES, st.lists(st.tuples(st.integers(min_value=0, max_value=12), _OURS), min_size=1, max_size=3),
       st.booleans(), st.sampled_from([CLASSIC, V2]))
def test_property_fix_leaves_other_lines_byte_for_byte(lines, inserts, final_newline, entry):
    lines = list(lines)
    for position, line in inserts:
        lines.insert(min(position, len(lines)), line)
    text = _fstab(lines, final_newline)
    fixed = ensure_entry(text, entry, fix=True)
    found = find_lines(fixed, PATH)
    assert len(found) == 1
    index, fields = found[0]
    line = split_lines(fixed)[index].rstrip("\n")
    assert fields + ["0"] * (6 - len(fields)) == list(entry)
    if line not in [ours for _position, ours in inserts]:
        assert line == " ".join(entry)  # rewritten: exactly our format
    assert _not_ours(fixed) == _not_ours(text)
    assert ensure_entry(fixed, entry) == fixed
    removed = remove_entries(text, PATH)
    assert find_lines(removed, PATH) == []
    assert [line.rstrip("\n") for line in split_lines(removed)] == _not_ours(text)
