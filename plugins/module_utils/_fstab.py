# -*- coding: utf-8 -*-
# Copyright: lxchost.prep contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Edit one mount point's line in fstab text, leaving every other byte as it was.

Pure functions on text (no I/O): the module reads and writes the file. Lines keep their own
endings; comments, blank lines, tabs, odd lines and a missing final newline survive an edit.
A line is "for" a mount point when its second field (unescaped) names that mount point;
4-field lines (no dump/passno) are entries like any other.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

CGROUP_TYPES = ("cgroup", "cgroup2")

_ESCAPES = (("\\", "\\134"), (" ", "\\040"), ("\t", "\\011"), ("\n", "\\012"))
_OCTAL = re.compile(r"\\([0-7]{3})")


class FstabError(Exception):
    """A problem with the fstab contents, with a message for the user."""


def escape(field):
    """A field as fstab(5) writes it (backslash, space, tab and newline as octal)."""
    for char, code in _ESCAPES:
        field = field.replace(char, code)
    return field


def unescape(field):
    return _OCTAL.sub(lambda match: chr(int(match.group(1), 8)), field)


def normalize_path(path):
    """/var/local/cgroup/ and /var/local/cgroup name the same mount point."""
    return path.rstrip("/") or "/"


def split_lines(text):
    """Lines with their own endings; ''.join(split_lines(text)) == text."""
    parts = text.split("\n")
    lines = [part + "\n" for part in parts[:-1]]
    if parts[-1]:
        lines.append(parts[-1])
    return lines


def fields_of(line):
    """The unescaped fields of an entry line, or None for a comment or a blank line."""
    body = line.strip()
    if not body or body.startswith("#"):
        return None
    return [unescape(field) for field in body.split()]


def format_entry(entry):
    """entry: (src, path, fstype, opts, dump, passno) -> the line, without its ending."""
    return " ".join(escape(str(field)) for field in entry)


def _same_entry(fields, entry):
    """Does an existing line say what entry says (a missing dump/passno reads as 0)?"""
    if not 4 <= len(fields) <= 6:
        return False
    padded = list(fields) + ["0"] * (6 - len(fields))
    return (padded[0] == entry[0] and padded[2] == entry[2]
            and sorted(padded[3].split(",")) == sorted(str(entry[3]).split(","))
            and padded[4] == str(entry[4]) and padded[5] == str(entry[5]))


def find_lines(text, path):
    """[(index, fields)] of the lines for mount point path, in file order."""
    wanted = normalize_path(path)
    found = []
    for index, line in enumerate(split_lines(text)):
        fields = fields_of(line)
        if fields and len(fields) >= 2 and normalize_path(fields[1]) == wanted:
            found.append((index, fields))
    return found


def is_conflicting(fields):
    """A line for our mount point that is not a well-formed cgroup entry: someone else's."""
    return not 4 <= len(fields) <= 6 or fields[2] not in CGROUP_TYPES


def _describe(lines, found):
    return "; ".join("line %d: %r" % (index + 1, lines[index].rstrip("\n")) for index, _fields in found)


def _check_conflicts(text, path, found, fix, allow_duplicates):
    lines = split_lines(text)
    conflicting = [(index, fields) for index, fields in found if is_conflicting(fields)]
    if conflicting and not fix:
        raise FstabError(
            "fstab has %s for %s that %s not a cgroup entry this role manages (%s). Nothing was changed. "
            "Remove or fix %s by hand, or set conflicts=fix (role: cgroup_mount_conflicts: fix) to "
            "replace %s." % (
                "a line" if len(conflicting) == 1 else "%d lines" % len(conflicting), path,
                "is" if len(conflicting) == 1 else "are", _describe(lines, conflicting),
                "it" if len(conflicting) == 1 else "them", "it" if len(conflicting) == 1 else "them"))
    if len(found) > 1 and not fix and not allow_duplicates:
        raise FstabError(
            "fstab has %d lines for %s (%s); at boot the last one wins and a second mount over the first "
            "may fail. Nothing was changed. Remove the duplicates by hand, or set conflicts=fix "
            "(role: cgroup_mount_conflicts: fix) to keep one line, at the place of the first."
            % (len(found), path, _describe(lines, found)))


def ensure_entry(text, entry, fix=False):
    """fstab text with exactly one line for entry's mount point, saying entry.

    The first line for that mount point is rewritten in place (keeping its line ending);
    others are removed; with none, the line is appended. Raises FstabError for duplicates
    or conflicting lines unless fix is true.
    """
    path = entry[1]
    found = find_lines(text, path)
    _check_conflicts(text, path, found, fix, allow_duplicates=False)
    lines = split_lines(text)
    new_line = format_entry(entry)
    if not found:
        if not text:
            return new_line + "\n"
        if text.endswith("\n"):
            return text + new_line + "\n"
        # Keep the file's missing final newline: ours becomes the unterminated last line.
        return text + "\n" + new_line
    first = found[0][0]
    if len(found) == 1 and _same_entry(found[0][1], entry):
        return text
    ending = "\n" if lines[first].endswith("\n") else ""
    lines[first] = new_line + ending
    drop = set(index for index, _fields in found[1:])
    return _join_keeping_end(text, [line for index, line in enumerate(lines) if index not in drop])


def remove_entries(text, path, fix=False):
    """fstab text without any line for mount point path (duplicates included).

    Raises FstabError when a line for path is not a cgroup entry, unless fix is true.
    """
    found = find_lines(text, path)
    if not found:
        return text
    _check_conflicts(text, path, found, fix, allow_duplicates=True)
    drop = set(index for index, _fields in found)
    return _join_keeping_end(text, [line for index, line in enumerate(split_lines(text)) if index not in drop])


def _join_keeping_end(original, lines):
    """Join lines; a file that did not end with a newline still does not.

    (Unless its last line now is a blank one: dropping that newline would drop the line.)"""
    text = "".join(lines)
    if original and not original.endswith("\n") and text.endswith("\n") and not text.endswith("\n\n") \
            and text != "\n":
        text = text[:-1]
    return text
