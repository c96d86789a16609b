#!/usr/bin/env bash
# `make docs`: the collection's docs site in build/docs/html. antsibull-docs writes one page per
# module, role and plugin from the docs ansible-doc shows (the same ones the docs lint of `make
# test` checks), and Sphinx makes HTML of them with scripts/docsite/conf.py; any warning fails.
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"

use_venv
"${REPO_ROOT}/scripts/layout.sh"
DOCS_DIR="${REPO_ROOT}/build/docs"
rm -rf "${DOCS_DIR}"
mkdir -p "${DOCS_DIR}"
# antsibull-docs writes only into a directory no one else can write to.
mkdir -m 0755 "${DOCS_DIR}/rst"
antsibull-docs collection --use-current --squash-hierarchy --fail-on-error \
    --dest-dir "${DOCS_DIR}/rst" lxchost.prep
sphinx-build -q -W --keep-going -b html -c "${REPO_ROOT}/scripts/docsite" \
    "${DOCS_DIR}/rst" "${DOCS_DIR}/html"
log "docs site: ${DOCS_DIR}/html/index.html"
