#!/usr/bin/env bash
# Install what `make test` and `make demo` need on a Debian 12 machine, as root.
# Idempotent: Debian packages already present are not touched (and apt-get update
# runs only when something is missing); each venv is (re)installed only when its
# requirements file or its interpreter changed (stamp under .cache/): .venv from
# tests/requirements.txt, and one per ansible-core of the test matrix.
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
# there is one: this stand-in does the same job with ensurepip and PyPI. One per pip version
# the tested ansible-test releases bootstrap: 21.3.1 (2.15), 24.2 (2.19), 25.2 (2.21).
for pip_version in 21_3_1 24_2 25_2; do
    GET_PIP="${HOME}/.ansible/test/cache/get_pip_${pip_version}.py"
    [ ! -f "${GET_PIP}" ] || continue
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
done

# A venv from PYTHON with REQS, (re)installed only when REQS or the interpreter changed
# (a stamp NAME-<hash> under .cache/).
ensure_venv() {
    local name=$1 venv=$2 python=$3 reqs=$4 key stamp
    key="$( { "${python}" -VV; cat "${reqs}"; } | sha256sum | cut -c1-16)"
    stamp="${CACHE_DIR}/${name}-${key}.stamp"
    if [ -f "${stamp}" ] && [ -x "${venv}/bin/python" ]; then
        log "venv current (${venv})"
        return 0
    fi
    # A venv from another interpreter cannot be upgraded in place.
    if [ -x "${venv}/bin/python" ] && ! cmp -s <("${venv}/bin/python" -VV) <("${python}" -VV); then
        rm -rf "${venv}"
    fi
    log "creating venv ${venv} from ${reqs} with $("${python}" -V)"
    [ -x "${venv}/bin/python" ] || "${python}" -m venv "${venv}"
    "${venv}/bin/pip" install -q --disable-pip-version-check -r "${reqs}"
    rm -f "${CACHE_DIR}/${name}"-????????????????.stamp
    touch "${stamp}"
    log "venv ready (${venv})"
}

# ansible-core 2.20 and later need Python >= 3.12, which Debian 12 lacks: PYTHON_NEWEST, else a
# python3.13 or python3.12 that runs, from PATH or from pyenv's versions.
newest_python() {
    local pyenv_versions="${PYENV_ROOT:-${HOME}/.pyenv}/versions" candidate
    for candidate in "${PYTHON_NEWEST:-}" python3.13 python3.12 \
        "${pyenv_versions}"/3.13*/bin/python3 "${pyenv_versions}"/3.12*/bin/python3; do
        [ -n "${candidate}" ] || continue
        if "${candidate}" -c 'import sys; sys.exit(sys.version_info < (3, 12))' >/dev/null 2>&1; then
            command -v "${candidate}"
            return 0
        fi
    done
    return 1
}

# Debian's interpreter by default: it is what a fresh Debian 12 machine has.
PYTHON="${PYTHON:-$(command -v /usr/bin/python3 || command -v python3)}"
ensure_venv venv "${VENV}" "${PYTHON}" "${REPO_ROOT}/tests/requirements.txt"

# The ansible-core matrix of the sanity and units phases (scripts/lib.sh: CORE_MATRIX).
ensure_venv venv-core-oldest "$(core_venv oldest)" "${PYTHON}" "${REPO_ROOT}/tests/requirements-core-oldest.txt"
if python_newest="$(newest_python)"; then
    ensure_venv venv-core-newest "$(core_venv newest)" "${python_newest}" "${REPO_ROOT}/tests/requirements-core-newest.txt"
else
    log "WARNING: no Python >= 3.12 (python3.13, python3.12, pyenv; or set PYTHON_NEWEST):" \
        "the newest ansible-core cannot be installed, and its sanity and units legs will fail"
fi
