#!/usr/bin/env bash
# Copy the checkout to build/collections/ansible_collections/lxchost/prep, where
# ansible-test, molecule and FQCN lookups expect a collection. A copy, not a
# symlink: ansible-test resolves symlinks and then finds no ansible_collections/.
# Copied: git-tracked files plus untracked files that are not ignored.
# The copy gets its own (empty) git repository: ansible-test walks up to the nearest
# .git and lists files with git, and the checkout's .git ignores build/, which made
# ansible-test see no files at all ("All targets skipped").
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"

# Synced in place (never removed): a run already working in the directory keeps its
# cwd; ansible-test's tests/output cache and the copy's .git survive.
cd "${REPO_ROOT}"
mkdir -p "${REPO_ROOT}/build"
staging="$(mktemp -d "${REPO_ROOT}/build/.layout.XXXXXX")"
trap 'rm -rf "${staging}"' EXIT
git ls-files -z --cached --others --exclude-standard \
    | rsync -a --from0 --files-from=- --ignore-missing-args ./ "${staging}/"
mkdir -p "${COLLECTION_DIR}"
# Not collections/: its link back to the checkout is for a clone's ansible.cfg, and
# ansible-test refuses links to directories.
rsync -a --delete --exclude=/.git --exclude=/tests/output --exclude=/collections "${staging}/" "${COLLECTION_DIR}/"
[ -d "${COLLECTION_DIR}/.git" ] || git -C "${COLLECTION_DIR}" init -q
log "collection laid out in ${COLLECTION_DIR}"
