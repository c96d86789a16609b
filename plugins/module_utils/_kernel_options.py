# -*- coding: utf-8 -*-
# Copyright: lxchost.prep contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Turn the LXC catalogue into kernel config settings, and explain what olddefconfig dropped.

Private to lxchost.prep. Used by the kernel_lxc_options module (kernel_build role). The
knowledge of which option LXC needs stays in _lxc_catalogue; this file only applies it to one
kernel version, merges config fragments, compares configs, reads Kconfig's ``depends on``,
digests the catalogue (the role remakes a config when the digest changes) and says why a build
is needed. Every failure is a KconfigError whose text is fit for a module's ``msg``.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import hashlib
import json
import os
import re

from ansible_collections.lxchost.prep.plugins.module_utils._kconfig import (
    KconfigError,
    parse_version,
)
from ansible_collections.lxchost.prep.plugins.module_utils._lxc_catalogue import (
    LEVELS,
    PRIVILEGED,
    REQUIREMENTS,
    chosen_symbol,
    level_for,
    needs_for,
)

ENABLED_VALUES = ("y", "m")

# The version of the rules that apply the catalogue (lxc_settings, plan, the audit). Raise it when
# they change what a config gets: every config made with the old rules is then made again.
RULES_VERSION = 2
# Requirement fields that are only words for people: a new text does not change any config.
_TEXT_FIELDS = ("label", "menu", "why")

_SYMBOL = re.compile(r"^[A-Za-z0-9_]+$")
_FRAGMENT_SET = re.compile(r"^CONFIG_([A-Za-z0-9_]+)=(.*)$")
_FRAGMENT_UNSET = re.compile(r"^# CONFIG_([A-Za-z0-9_]+) is not set\s*$")
_KCONFIG_WORD = re.compile(r"\b([A-Za-z_][A-Za-z0-9_]*)\b")
_KCONFIG_LITERALS = frozenset(("y", "n", "m", "if"))
# Entries end at the next line starting with one of these (Kconfig's own keywords).
_KCONFIG_BLOCK_END = re.compile(r"^(config|menuconfig|choice|endchoice|menu|endmenu|if|endif|source|"
                                r"rsource|osource|orsource|comment|mainmenu)\b")
# uname -m -> the kernel's arch/ directory.
_SRCARCH = {
    "x86_64": "x86", "i386": "x86", "i486": "x86", "i586": "x86", "i686": "x86",
    "aarch64": "arm64", "arm64": "arm64", "ppc64le": "powerpc", "ppc64": "powerpc",
    "s390x": "s390", "riscv64": "riscv", "mips": "mips", "mips64": "mips",
    "loongarch64": "loongarch",
}


def srcarch(machine):
    """'x86_64' -> 'x86', 'armv7l' -> 'arm': the arch/ directory a machine builds from."""
    if machine in _SRCARCH:
        return _SRCARCH[machine]
    if machine.startswith("arm"):
        return "arm"
    return machine


def lxc_settings(version, levels=LEVELS[:2], cgroup_versions=("v1", "v2"), config_values=None, profile=PRIVILEGED,
                 requirements=None):
    """The catalogue as an ordered list of (symbol, requirement id) to switch on for ``version``.

    For each requirement of the given levels (for the profile) and cgroup versions whose only_if
    holds in ``config_values``: first its ``needs``, then the symbol the checker reports for it
    (_lxc_catalogue.chosen_symbol: the file-evidence rule on ``config_values``). Requirements with no
    symbol in this kernel (built in, or gone) need nothing. Each symbol appears once, where it is
    first needed. ``requirements``: only these ids (the checker's fix fragment: the missing ones).

    The one plan of the collection: the kernel_build role switches these on (plan), and
    lxc_checkconfig's fix fragment is these for the missing checks (fragment_lines).
    """
    parsed = parse_version(version)
    if parsed is None:
        raise KconfigError("'%s' is not a kernel version (expected something like 6.1.119 or 2.6.38.6)."
                           % version)
    unknown = [level for level in levels if level not in LEVELS]
    if unknown:
        raise KconfigError("Unknown LXC option level(s) %s: use %s." % (", ".join(unknown), ", ".join(LEVELS)))
    values = config_values or {}
    settings, seen = [], set()
    for req in REQUIREMENTS:
        if requirements is not None and req.id not in requirements:
            continue
        if level_for(req, profile) not in levels or (req.cgroup and req.cgroup not in cgroup_versions):
            continue
        if any(values.get(name) not in ENABLED_VALUES for name in req.only_if):
            continue
        chosen = chosen_symbol(req, parsed, values)
        if chosen is None:
            continue
        for name in needs_for(req, parsed, values) + [chosen.name]:
            if name not in seen:
                seen.add(name)
                settings.append((name, req.id))
    return settings


def fragment_lines(settings, config_values, labels):
    """A config fragment in the format of the kernel's scripts/kconfig/merge_config.sh: for each
    requirement (a comment naming it), the CONFIG_X=y lines of ``settings`` (lxc_settings) that the
    config does not have on yet, what they need first. No comment line starts with "# CONFIG_", which
    merge_config.sh would read as a setting."""
    lines, current = [], None
    for symbol, req_id in settings:
        if config_values.get(symbol) in ENABLED_VALUES:
            continue
        if req_id != current:
            current = req_id
            lines.append("# %s: %s" % (req_id, labels.get(req_id, req_id)))
        lines.append("CONFIG_%s=y" % symbol)
    return lines


def catalogue_digest(requirements=None, levels=None, rules_version=None):
    """sha256 of the catalogue as planning and checking use it, and of RULES_VERSION.

    Canonical JSON (sorted keys, no spaces) of every requirement's fields but the texts
    (_TEXT_FIELDS), in catalogue order, with the levels and the rules' version. The arguments
    default to the catalogue and the rules of this collection (tests pass their own).
    """
    requirements = REQUIREMENTS if requirements is None else requirements
    data = dict(
        rules_version=RULES_VERSION if rules_version is None else rules_version,
        levels=list(LEVELS if levels is None else levels),
        requirements=[dict((field, value) for field, value in req._asdict().items() if field not in _TEXT_FIELDS)
                      for req in requirements],
    )
    text = json.dumps(data, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def rebuild_reasons(previous, new, build_host, config_changes=()):
    """Why a build with the inputs ``new`` is needed after the build recorded with ``previous``.

    Inputs are dicts with version, config_sha256, patches, compiler, method and localversion (the
    kernel_build role's fingerprint). No previous inputs: 'no earlier build on HOST'. Otherwise
    one reason per input that differs, in that order; ``config_changes`` (from config_changes())
    details a changed config. Nothing differs: an empty list.
    """
    if not previous:
        return ["no earlier build on %s" % build_host]
    reasons = []

    def differs(key):
        return previous.get(key) != new.get(key)

    if differs("version"):
        reasons.append("version %s -> %s" % (previous.get("version"), new.get("version")))
    if differs("config_sha256"):
        reasons.append("config changed" + (": " + ", ".join(config_changes) if config_changes else ""))
    if differs("patches"):
        reasons.append("patches changed")
    if differs("compiler"):
        reasons.append("compiler %s" % new.get("compiler"))
    if differs("method"):
        reasons.append("method %s" % new.get("method"))
    if differs("localversion"):
        reasons.append("localversion %s -> %s" % (previous.get("localversion"), new.get("localversion")))
    return reasons


def read_fragment(path):
    """A fragment's settings as an ordered list of (symbol, value); 'n' for '# ... is not set'.

    Blank lines and comments are fine; any other line is a broken fragment, named with its line.
    """
    try:
        with open(path, "r") as handle:
            lines = handle.read().splitlines()
    except (IOError, OSError) as exc:
        raise KconfigError("Config fragment %s cannot be read: %s." % (path, exc.strerror or exc))
    settings = []
    for number, raw in enumerate(lines, 1):
        line = raw.strip()
        unset = _FRAGMENT_UNSET.match(line)
        if unset:
            settings.append((unset.group(1), "n"))
            continue
        if not line or line.startswith("#"):
            continue
        match = _FRAGMENT_SET.match(line)
        if not match or not match.group(2):
            raise KconfigError("Config fragment %s, line %d is not a kernel config line: %r (expected "
                               "CONFIG_NAME=value or '# CONFIG_NAME is not set')." % (path, number, raw))
        settings.append((match.group(1), match.group(2)))
    return settings


def check_symbol(name):
    """Accept 'VETH' or 'CONFIG_VETH'; return 'VETH'; refuse anything else."""
    bare = name[len("CONFIG_"):] if name.startswith("CONFIG_") else name
    if not _SYMBOL.match(bare):
        raise KconfigError("%r is not a kernel config option name (expected something like VETH or CONFIG_VETH)."
                           % name)
    return bare


def normalize_value(value):
    """YAML gives True/False for y/n; keep kernel spelling."""
    if value is True:
        return "y"
    if value is False:
        return "n"
    return str(value)


def plan(version, levels, cgroup_versions, config_values, fragments=(), options=None, profile=PRIVILEGED):
    """Every setting to apply, in order: fragments, then LXC's options, then the user's options.

    Returns a list of dicts {symbol, value, source}; a later source for the same symbol replaces
    an earlier one (the user's options win). only_if of the catalogue is judged on the base config
    with the fragments and the user's options laid over it.
    """
    merged = []
    for path in fragments:
        merged.extend((symbol, value, "fragment %s" % path) for symbol, value in read_fragment(path))
    user = [(check_symbol(name), normalize_value(value), "kernel_build_config_options")
            for name, value in sorted((options or {}).items())]
    overlay = dict(config_values or {})
    overlay.update((symbol, value) for symbol, value, _source in merged + user)
    merged.extend((symbol, "y", "LXC: %s" % req_id)
                  for symbol, req_id in lxc_settings(version, levels, cgroup_versions, overlay, profile))
    merged.extend(user)
    final = {}
    order = []
    for symbol, value, source in merged:
        if symbol not in final:
            order.append(symbol)
        final[symbol] = dict(symbol=symbol, value=value, source=source)
    return [final[symbol] for symbol in order]


def config_args(settings):
    """scripts/config arguments that apply the settings."""
    args = []
    for setting in settings:
        if setting["value"] == "n":
            args.extend(["--disable", setting["symbol"]])
        else:
            args.extend(["--set-val", setting["symbol"], setting["value"]])
    return args


def dropped(settings, config_values):
    """Settings the final config does not honour: [{symbol, wanted, got, source}]."""
    lost = []
    for setting in settings:
        wanted, got = setting["value"], config_values.get(setting["symbol"])
        if wanted == "n":
            ok = got in (None, "n")
        elif wanted in ENABLED_VALUES:
            # Without CONFIG_MODULES a requested =m is built in: that still honours the request.
            ok = got in ENABLED_VALUES
        else:
            ok = got == wanted
        if not ok:
            lost.append(dict(symbol=setting["symbol"], wanted=wanted, got=got, source=setting["source"]))
    return lost


def config_changes(old_values, new_values, limit=12):
    """'+CONFIG_X', '-CONFIG_X', 'CONFIG_X: a -> b' from one config to the next, sorted."""
    def on(value):
        return value is not None and value != "n"

    changes = []
    for symbol in sorted(set(old_values) | set(new_values)):
        old, new = old_values.get(symbol), new_values.get(symbol)
        if on(old) == on(new) and (old == new or not on(new)):
            continue
        if not on(old):
            changes.append("+CONFIG_%s" % symbol if new in ENABLED_VALUES else "+CONFIG_%s=%s" % (symbol, new))
        elif not on(new):
            changes.append("-CONFIG_%s" % symbol)
        else:
            changes.append("CONFIG_%s: %s -> %s" % (symbol, old, new))
    if len(changes) > limit:
        changes = changes[:limit] + ["and %d more" % (len(changes) - limit)]
    return changes


def _kconfig_files(src, arch):
    """Kconfig files of the tree, without other architectures' and the docs' trees."""
    for root, dirs, files in os.walk(src):
        rel = os.path.relpath(root, src)
        if rel == ".":
            dirs[:] = [d for d in dirs if d not in (".git", "Documentation", "tools", "samples")]
        elif rel == "arch":
            dirs[:] = [d for d in dirs if d == arch]
        for name in files:
            if name.startswith("Kconfig"):
                yield os.path.join(root, name)


def kconfig_dependencies(src, symbols, arch):
    """{symbol: [dependency expression, ...]} from the 'depends on' lines of each symbol's entries
    and the 'if' blocks around them, as Kconfig in ``src`` defines them for ``arch``.

    A symbol with no entry in the tree is left out of the result: it does not exist there.
    """
    wanted = set(symbols)
    found = {}
    for path in _kconfig_files(src, arch):
        try:
            with open(path, "r", errors="replace") as handle:
                text = handle.read().replace("\\\n", " ")
        except (IOError, OSError):
            continue
        ifs, current, help_indent = [], None, None
        for raw in text.splitlines():
            line = raw.strip()
            indent = len(raw) - len(raw.lstrip())
            if help_indent is not None:
                # Help text runs while lines are blank or indented deeper than 'help' was.
                if not line or indent > help_indent:
                    continue
                help_indent = None
            if line in ("help", "---help---"):
                help_indent = indent
            elif _KCONFIG_BLOCK_END.match(line):
                current = None
                word = line.split(None, 1)
                if word[0] in ("config", "menuconfig") and len(word) == 2 and word[1] in wanted:
                    current = found.setdefault(word[1], [])
                    current.extend(expr for expr in ifs if expr not in current)
                elif word[0] == "if" and len(word) == 2:
                    ifs.append(word[1].split("#")[0].strip())
                elif word[0] == "endif" and ifs:
                    ifs.pop()
            elif current is not None and line.startswith("depends on "):
                expr = " ".join(line[len("depends on "):].split("#")[0].split())
                if expr not in current:
                    current.append(expr)
    return found


def _expression_symbols(expr):
    return [word for word in _KCONFIG_WORD.findall(expr) if word not in _KCONFIG_LITERALS]


def explain_dropped(lost, config_values, dependencies, version):
    """One sentence per dropped setting: the option, what it depends on, and which of that is off."""
    lines = []
    for item in lost:
        symbol = item["symbol"]
        got = item["got"] if item["got"] not in (None, "n") else "not set"
        head = "CONFIG_%s=%s (from %s) became %s" % (symbol, item["wanted"], item["source"], got)
        if symbol not in dependencies:
            lines.append("%s: there is no option %s in kernel %s (no 'config %s' in its Kconfig files)."
                         % (head, symbol, version, symbol))
            continue
        exprs = dependencies[symbol]
        unmet = []
        for expr in exprs:
            for name in _expression_symbols(expr):
                if config_values.get(name) not in ENABLED_VALUES and name not in unmet:
                    unmet.append(name)
        if not exprs:
            lines.append("%s: it has no 'depends on' in Kconfig; it is probably a choice member, or "
                         "something 'select'-s or limits it (see make menuconfig, search %s)." % (head, symbol))
        elif unmet:
            lines.append("%s: it depends on %s; not enabled here: %s." % (
                head, " && ".join("(%s)" % expr if "|" in expr and not expr.startswith("(") else expr for expr in exprs),
                ", ".join("CONFIG_%s" % name for name in unmet)))
        else:
            lines.append("%s: it depends on %s, which looks met; another option (a 'select' or a "
                         "choice) turned it off." % (head, " && ".join(exprs)))
    return lines
