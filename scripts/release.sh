#!/usr/bin/env bash
# `make release`: release the version galaxy.yml names. From a clean checkout with every
# change's fragment merged: antsibull-changelog turns the fragments of changelogs/fragments/
# into the release's entry in changelogs/changelog.yaml and CHANGELOG.md (and removes them),
# the changelog is linted, and the tarball is built into build/release/. Committing and
# tagging are left to the person releasing; the commands are printed at the end.
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"

use_venv
cd "${REPO_ROOT}"
version="$(python -c 'import yaml; print(yaml.safe_load(open("galaxy.yml"))["version"])')"
[ -z "$(git status --porcelain --untracked-files=no)" ] || die "the checkout has uncommitted changes; commit them first"
if python - "${version}" <<'PY'
import sys, yaml
releases = yaml.safe_load(open("changelogs/changelog.yaml")).get("releases") or {}
sys.exit(0 if sys.argv[1] in releases else 1)
PY
then
    die "changelogs/changelog.yaml already has a release ${version}; raise version in galaxy.yml first"
fi

antsibull-changelog lint -v
antsibull-changelog release --version "${version}"
antsibull-changelog lint-changelog-yaml changelogs/changelog.yaml
"${REPO_ROOT}/scripts/layout.sh"
mkdir -p "${REPO_ROOT}/build/release"
(cd "${COLLECTION_DIR}" && ansible-galaxy collection build --force --output-path "${REPO_ROOT}/build/release")
log "released ${version}: CHANGELOG.md, changelogs/changelog.yaml, build/release/lxchost-prep-${version}.tar.gz"
log "next: git add -A && git commit -m 'Release ${version}' && git tag ${version}"
