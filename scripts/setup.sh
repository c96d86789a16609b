#!/usr/bin/env bash
# Install what `make test` and `make demo` need on a Debian 12 machine, as root.
# Idempotent: Debian packages already present are not touched (and apt-get update
# runs only when something is missing); the venv is (re)installed only when
# tests/requirements.txt or the interpreter changed (stamp under .cache/).
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"

APT_PACKAGES=(
    docker.io            # engine for molecule and `make demo`
    debootstrap          # builds the base image without a registry
    lxc                  # the real lxc-checkconfig, a differential peer in tests
    python3 python3-venv # the venv below
    git rsync            # laying the checkout out as ansible_collections/lxchost/prep
    shellcheck           # ansible-test sanity's shellcheck test (scripts/*.sh)
    zstd xz-utils bzip2 gzip  # compressed kernel configs in tests
    qemu-system-x86 qemu-utils   # the VM test hosts (scripts/vm.sh)
    fdisk e2fsprogs mount openssh-client  # their GRUB disk images (scripts/vm-image.sh), SSH to them
)

missing=()
for pkg in "${APT_PACKAGES[@]}"; do
    status="$(dpkg-query -W -f='${Status}' "${pkg}" 2>/dev/null || true)"
    [ "${status}" = "install ok installed" ] || missing+=("${pkg}")
done
if [ "${#missing[@]}" -gt 0 ]; then
    [ "$(id -u)" -eq 0 ] || die "need root to install: ${missing[*]}"
    log "apt-get install ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
    log "Debian packages present"
fi

# ansible-test bootstraps pip in each of its venvs with a get-pip script it downloads from
# ci-files.testing.ansible.com, which these machines cannot reach. It uses a cached copy when
# there is one: this stand-in does the same job with ensurepip and PyPI.
GET_PIP="${HOME}/.ansible/test/cache/get_pip_24_2.py"
if [ ! -f "${GET_PIP}" ]; then
    mkdir -p "$(dirname "${GET_PIP}")"
    cat >"${GET_PIP}" <<'PY'
"""Stand-in for get-pip.py (its download host is out of reach): ensurepip, then pip from PyPI."""
import subprocess
import sys

subprocess.check_call([sys.executable, "-m", "ensurepip", "--default-pip"])
args = [a for a in sys.argv[1:] if a not in ("--no-setuptools", "--no-wheel")]
subprocess.check_call([sys.executable, "-m", "pip", "install", "--disable-pip-version-check"] + args)
PY
    log "wrote the pip bootstrap stand-in ${GET_PIP}"
fi

# Debian's interpreter by default: it is what a fresh Debian 12 machine has.
PYTHON="${PYTHON:-$(command -v /usr/bin/python3 || command -v python3)}"
REQS="${REPO_ROOT}/tests/requirements.txt"
key="$( { "${PYTHON}" -VV; cat "${REQS}"; } | sha256sum | cut -c1-16)"
stamp="${CACHE_DIR}/venv-${key}.stamp"
if [ -f "${stamp}" ] && [ -x "${VENV}/bin/python" ]; then
    log "venv current (${VENV})"
    exit 0
fi
# A venv from another interpreter cannot be upgraded in place.
if [ -x "${VENV}/bin/python" ] && ! cmp -s <("${VENV}/bin/python" -VV) <("${PYTHON}" -VV); then
    rm -rf "${VENV}"
fi
log "creating venv ${VENV} from ${REQS} with $("${PYTHON}" -V)"
[ -x "${VENV}/bin/python" ] || "${PYTHON}" -m venv "${VENV}"
"${VENV}/bin/pip" install -q --disable-pip-version-check -r "${REQS}"
rm -f "${CACHE_DIR}"/venv-*.stamp
touch "${stamp}"
log "venv ready"
