# -*- coding: utf-8 -*-
# Copyright: lxchost.prep contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Edit one mount point's line in fstab text, leaving every other byte as it was.

Pure functions on text (no I/O): the module reads and writes the file. Lines keep their own
endings; comments, blank lines, tabs, odd lines and a missing final newline survive an edit.
A line is "for" a mount point when its second field (unescaped) names that mount point;
4-field lines (no dump/passno) are entries like any other.

Text is what the module decodes from the file's bytes with errors='surrogateescape', so bytes
that are not UTF-8 come back exactly; controller_safe() makes such text fit for a result.
Lines end at \\n only and fields are split on spaces and tabs only, as mount(8) reads fstab:
a form feed or a Unicode line separator is part of a field, never a separator.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import bisect
import posixpath
import re

CGROUP_TYPES = ("cgroup", "cgroup2")

_ESCAPES = (("\\", "\\134"), (" ", "\\040"), ("\t", "\\011"), ("\n", "\\012"))
_OCTAL = re.compile(r"\\([0-7]{3})")
_BLANK_RUN = re.compile(r"[ \t]+")
_EOL = "\r\n"

# A diff larger than this (before and after together, in characters) shows only the changed
# lines with CONTEXT lines around them, and is cut at this size.
DIFF_LIMIT = 64 * 1024
CONTEXT = 3
# In a cut diff, a line longer than this is shown shortened.
_LONG_LINE = 512


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
    """The lexical form of a mount point: /var/local/cgroup/, //var//local/./cgroup and
    /var/x/../local/cgroup all name /var/local/cgroup. Not a path (none, swap): as it is.

    Symbolic links need the file system: the module passes its own canonical form (canon)."""
    if not path.startswith("/"):
        return path
    if "//" not in path and "/." not in path and (path == "/" or not path.endswith("/")):
        return path  # already normal: the usual case, kept cheap for big files
    path = posixpath.normpath(path)
    if path.startswith("//"):
        path = "/" + path.lstrip("/")
    return path


def split_lines(text):
    """Lines with their own endings; ''.join(split_lines(text)) == text. Only \\n ends a line."""
    parts = text.split("\n")
    lines = [part + "\n" for part in parts[:-1]]
    if parts[-1]:
        lines.append(parts[-1])
    return lines


def line_ending(line):
    """The line's own ending: '\\n', '\\r\\n', a lone '\\r' at the end of the file, or ''."""
    return line[len(line.rstrip(_EOL)):]


def fields_of(line):
    """The unescaped fields of an entry line, or None for a comment or a blank line.

    Fields are separated by spaces and tabs only, as mount(8) splits them."""
    body = line.rstrip(_EOL).strip(" \t")
    if not body or body.startswith("#"):
        return None
    return [unescape(field) for field in _BLANK_RUN.split(body)]


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


def _find(lines, path, canon):
    canon = canon or normalize_path
    wanted = canon(path)
    found = []
    for index, line in enumerate(lines):
        body = line.rstrip(_EOL).strip(" \t")
        if not body or body[0] == "#":
            continue
        parts = _BLANK_RUN.split(body, 2)
        if len(parts) < 2:
            continue
        target = unescape(parts[1]) if "\\" in parts[1] else parts[1]
        if target == wanted or canon(target) == wanted:
            found.append((index, fields_of(line)))
    return found


def find_lines(text, path, canon=None):
    """[(index, fields)] of the lines for mount point path, in file order.

    Paths are compared in canonical form: canon(path), by default normalize_path."""
    return _find(split_lines(text), path, canon)


def is_conflicting(fields):
    """A line for our mount point that is not a well-formed cgroup entry: someone else's."""
    return not 4 <= len(fields) <= 6 or fields[2] not in CGROUP_TYPES


def _quote(line):
    line = line.rstrip(_EOL)
    return repr(line) if len(line) <= 200 else "%r... (%d characters)" % (line[:200], len(line))


def _describe(lines, found):
    return "; ".join("line %d: %s" % (index + 1, _quote(lines[index])) for index, _fields in found[:10]) + (
        "; and %d more" % (len(found) - 10) if len(found) > 10 else "")


def _check_conflicts(lines, path, found, fix, allow_duplicates):
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


class Edit(object):
    """One edit of fstab text: the old text and its lines, the new text, and what changed
    (old line indices rewritten and dropped, whether a line was appended)."""

    def __init__(self, old, lines, new, before, after, rewritten=(), dropped=(), appended=False):
        self.old = old
        self.lines = lines
        self.text = new
        self.before = before  # lines for the mount point, before and after
        self.after = after
        self.rewritten = frozenset(rewritten)
        self.dropped = frozenset(dropped)
        self.appended = appended

    @property
    def changed(self):
        return self.text != self.old


def _newline_of(lines):
    """The newline a line appended after these lines gets: the last line's (\\r\\n or \\n)."""
    return "\r\n" if lines and lines[-1].endswith("\r\n") else "\n"


def edit_entry(text, entry, fix=False, canon=None):
    """The Edit that leaves exactly one line for entry's mount point, saying entry.

    The first line for that mount point is rewritten in place (keeping its line ending);
    others are removed; with none, the line is appended (with the file's newline). Raises
    FstabError for duplicates or conflicting lines unless fix is true."""
    path = entry[1]
    lines = split_lines(text)
    found = _find(lines, path, canon)
    _check_conflicts(lines, path, found, fix, allow_duplicates=False)
    new_line = format_entry(entry)
    if not found:
        if not text:
            new = new_line + "\n"
        elif text.endswith("\n"):
            new = text + new_line + _newline_of(lines)
        else:
            # Keep the file's missing final newline: ours becomes the unterminated last line.
            new = text + "\n" + new_line
        return Edit(text, lines, new, 0, 1, appended=True)
    if len(found) == 1 and _same_entry(found[0][1], entry):
        return Edit(text, lines, text, 1, 1)
    first = found[0][0]
    drop = set(index for index, _fields in found[1:])
    kept = [line for index, line in enumerate(lines) if index not in drop]
    kept[first] = new_line + line_ending(lines[first])  # no dropped line comes before the first
    return Edit(text, lines, _join_keeping_end(text, kept), len(found), 1, rewritten=[first], dropped=drop)


def edit_removal(text, path, fix=False, canon=None):
    """The Edit without any line for mount point path (duplicates included).

    Raises FstabError when a line for path is not a cgroup entry, unless fix is true."""
    lines = split_lines(text)
    found = _find(lines, path, canon)
    if not found:
        return Edit(text, lines, text, 0, 0)
    _check_conflicts(lines, path, found, fix, allow_duplicates=True)
    drop = set(index for index, _fields in found)
    new = _join_keeping_end(text, [line for index, line in enumerate(lines) if index not in drop])
    return Edit(text, lines, new, len(found), 0, dropped=drop)


def ensure_entry(text, entry, fix=False, canon=None):
    """fstab text with exactly one line for entry's mount point, saying entry (see edit_entry);
    the very same text object when nothing changes."""
    return edit_entry(text, entry, fix=fix, canon=canon).text


def remove_entries(text, path, fix=False, canon=None):
    """fstab text without any line for mount point path (see edit_removal)."""
    return edit_removal(text, path, fix=fix, canon=canon).text


def _join_keeping_end(original, lines):
    """Join lines; a file that did not end with a newline still does not.

    (Unless its last line now is a blank one: dropping that newline would drop the line.)"""
    text = "".join(lines)
    if original and not original.endswith("\n") and text.endswith("\n") and not text.endswith("\n\n") \
            and text != "\n":
        text = text[:-1]
    return text


def controller_safe(text):
    """text fit for a module result: bytes that were not UTF-8 (surrogate escapes) shown as \\xNN.

    The controller refuses a result with a lone surrogate ("Refusing to deserialize an invalid
    UTF8 string"); the file's bytes are never touched by this."""
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:
        pass
    try:
        return text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    except UnicodeEncodeError:  # a surrogate that no byte stands for
        return text.encode("utf-8", "backslashreplace").decode("utf-8")


def _shorten(line):
    if len(line) <= _LONG_LINE:
        return line
    ending = line_ending(line)
    hidden = len(line) - _LONG_LINE - len(ending)
    return "%s[... %d more characters not shown]%s" % (line[:_LONG_LINE], hidden, ending or "\n")


def _gap(count):
    return "[... %d unchanged line%s not shown ...]\n" % (count, "" if count == 1 else "s")


def diff_excerpt(edit, limit=DIFF_LIMIT, context=CONTEXT):
    """(before, after, note) for a diff of edit.

    When both texts together fit in limit characters: the whole texts and note None. Else only
    the changed lines with `context` lines around them (the same unchanged lines on both sides,
    so the diff stays true), at most about limit characters, and a note saying what is shown."""
    if len(edit.old) + len(edit.text) <= limit:
        return edit.old, edit.text, None
    old_lines = edit.lines
    new_lines = split_lines(edit.text)
    count = len(old_lines)
    dropped = sorted(edit.dropped)

    def kept_before(index):
        return index - bisect.bisect_left(dropped, index)

    anchors = set(edit.rewritten) | set(edit.dropped)
    kept = [index for index in range(count - 1, -1, -1) if index not in edit.dropped][:1]
    if edit.appended and count:
        anchors.add(count - 1)
    if kept and new_lines and new_lines[kept_before(kept[0])] != old_lines[kept[0]]:
        anchors.add(kept[0])  # the last line lost or got its final newline
    windows = []
    for anchor in sorted(anchors):
        start, end = max(0, anchor - context), min(count - 1, anchor + context)
        if windows and start <= windows[-1][1] + 1:
            windows[-1][1] = max(windows[-1][1], end)
        else:
            windows.append([start, end])
    before, after, size, cut = [], [], 0, False
    position = 0
    for start, end in windows:
        if start > position:
            before.append(_gap(start - position))
            after.append(_gap(start - position))
        for index in range(start, end + 1):  # line by line, so that a cut keeps both sides aligned
            line = _shorten(old_lines[index])
            before.append(line)
            size += len(line)
            if index not in edit.dropped:
                line = _shorten(new_lines[kept_before(index)])
                after.append(line)
                size += len(line)
            if size > limit:
                cut, position = True, index + 1
                break
        if cut:
            break
        if end == count - 1:
            after.extend(_shorten(line) for line in new_lines[kept_before(count):])
        position = end + 1
    if cut:
        rest = sum(1 for index in anchors if index >= position)
        marker = "[... the diff is cut at %d KiB: %d more changed line%s not shown ...]\n" % (
            limit // 1024, rest, "" if rest == 1 else "s")
        before.append(marker)
        after.append(marker)
    elif position < count:
        before.append(_gap(count - position))
        after.append(_gap(count - position))
    if not windows and edit.appended:  # an empty old text: nothing to anchor to
        after = [_shorten(line) for line in new_lines]
    note = "only the changed lines and %d lines around them; the file has %d lines%s" % (
        context, count, "; the diff is cut at %d KiB" % (limit // 1024) if cut else "")
    return "".join(before), "".join(after), note
