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
