# shellcheck shell=bash
# Shared helpers for the scripts in this directory. Source it; do not run it.
# Paths are absolute so scripts behave the same from any working directory.

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# The checkout's .cache, also for the copies of these scripts run from the laid-out collection
# (molecule runs scripts/vm.sh from there): the first script to run exports it.
CACHE_DIR="${LXCHOST_CACHE_DIR:-${REPO_ROOT}/.cache}"
LXCHOST_CACHE_DIR="${CACHE_DIR}"
VENV="${REPO_ROOT}/.venv"
# The collection must sit at ansible_collections/<namespace>/<name> for
# ansible-test and for `lxchost.prep.*` names to resolve.
COLLECTIONS_ROOT="${REPO_ROOT}/build/collections"
COLLECTION_DIR="${COLLECTIONS_ROOT}/ansible_collections/lxchost/prep"
LXCHOST_IMAGE="${LXCHOST_IMAGE:-lxchost/debian-systemd:bookworm}"
export REPO_ROOT CACHE_DIR LXCHOST_CACHE_DIR VENV COLLECTIONS_ROOT COLLECTION_DIR LXCHOST_IMAGE

mkdir -p "${CACHE_DIR}"

# The ansible-core releases the sanity and units phases run on besides the project venv's: the
# oldest meta/runtime.yml claims and the newest, each in its own venv (scripts/setup.sh, from
# tests/requirements-core-<leg>.txt).
# shellcheck disable=SC2034  # used by the scripts that source this file
CORE_MATRIX=(oldest newest)
core_venv() { echo "${REPO_ROOT}/.venv-core-$1"; }
# The ansible-core version of a venv (its directory: the project venv or a core_venv).
core_version() { "$1/bin/python" -c 'from ansible.release import __version__; print(__version__)'; }

log() { printf '==> %s\n' "$*" >&2; }
die() { printf 'ERROR: %s\n' "$*" >&2; exit 1; }

# Put the project venv first on PATH and make lxchost.prep resolvable. The
# `ansible` package's bundled collections (community.docker, ansible.posix,
# community.general) live in the venv's site-packages and are found by default.
use_venv() {
    [ -x "${VENV}/bin/python" ] || die "no ${VENV}; run 'make setup' first"
    export PATH="${VENV}/bin:${PATH}"
    export VIRTUAL_ENV="${VENV}"
    export ANSIBLE_COLLECTIONS_PATH="${COLLECTIONS_ROOT}"
}

# The Debian mirror of SUITE the machine itself uses (LXCHOST_MIRROR overrides): the first deb822
# stanza in /etc/apt/sources.list.d/*.sources whose suites include SUITE itself (not -security),
# else the first matching line of /etc/apt/sources.list. Empty when there is none.
apt_mirror() {
    local suite=$1 f
    if [ -n "${LXCHOST_MIRROR:-}" ]; then echo "${LXCHOST_MIRROR}"; return; fi
    {
        for f in /etc/apt/sources.list.d/*.sources; do
            [ -e "$f" ] || continue
            awk -v suite="${suite}" '
                /^[[:space:]]*$/ { if (uri != "" && ok) { print uri; exit } uri=""; ok=0; next }
                /^URIs:/ { uri=$2 }
                /^Suites:/ { for (i = 2; i <= NF; i++) if ($i == suite) ok=1 }
                END { if (uri != "" && ok) print uri }' "$f"
        done
        [ ! -e /etc/apt/sources.list ] || awk -v suite="${suite}" '$1 == "deb" && $3 == suite { print $2; exit }' /etc/apt/sources.list
    } | head -n 1
}
