#!/usr/bin/env bash
# docker/debian-python.sh - run a command on Debian's own build of a Python this package
# supports, in a Debian root file system made with mmdebstrap and entered with bubblewrap
# (no container registry, no daemon; `make matrix` and `make test` use it through noxfile.py).
#
#   bash docker/debian-python.sh SUITE COMMAND [ARG...]   e.g. bullseye python3.9 -VV
#   bash docker/debian-python.sh --clean                  remove the cached roots and exit
#
# SUITE is bullseye (Debian 11: python3.9) or trixie (Debian 13: python3.13). Needs root, like
# docker/verify.sh. It:
#  1. installs mmdebstrap and bubblewrap from Debian unless they are there;
#  2. makes the suite's root once (`mmdebstrap --variant=minbase` with the suite's python3.X,
#     python3.X-venv and ca-certificates from Debian's mirror, as docker/verify.sh makes its
#     base) and keeps it in $EM_DEBIAN_STATE_DIR (default /var/tmp/estimator-metrics-debian),
#     under a name that changes with the suite, mirrors and options (EM_REFRESH_ROOT=1 makes
#     it again, picking up Debian's updates);
#  3. runs COMMAND there with bwrap, from the current directory: the root read-only, /tmp a
#     fresh tmpfs, the checkout holding the current directory bound read-write at its own path
#     (venvs made there work inside only), the host's network, DNS and CA bundle (PyPI through
#     the host's proxy, if any), pip's cache kept in the state directory; its own PID
#     namespace, so every process it starts ends with it. The environment is cleared but for
#     PATH, HOME, LANG, the pip and TLS settings and the variables named below.
# Exit status: COMMAND's, or 2 on a usage error, 1 when the root cannot be made.
set -Eeuo pipefail

STATE=${EM_DEBIAN_STATE_DIR:-/var/tmp/estimator-metrics-debian}
MIRROR=${EM_DEBIAN_MIRROR:-http://deb.debian.org/debian}
SECURITY_MIRROR=${EM_DEBIAN_SECURITY_MIRROR:-http://deb.debian.org/debian-security}
# Passed into the root when set: TensorFlow's log level, pytest's and the CI flag.
PASSENV=(TF_CPP_MIN_LOG_LEVEL PYTEST_ADDOPTS CI TERM COLUMNS)

die() { printf 'debian-python.sh: %s\n' "$*" >&2; exit 1; }
usage() { sed -n '2,/^set -E/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//' >&2; exit 2; }

[ "$#" -ge 1 ] || usage
[ "$(id -u)" = 0 ] || die "needs root (mmdebstrap --mode=root, bwrap binds): sudo $0 $*"
mkdir -p "$STATE"

if [ "$1" = --clean ]; then
    exec 9>"$STATE/lock" && flock 9
    find "$STATE" -mindepth 1 -maxdepth 1 ! -name lock -exec rm -rf {} +
    exit 0
fi
SUITE=$1
shift
[ "$#" -ge 1 ] || usage
case $SUITE in
    bullseye) PYTHON=python3.9 ;;
    trixie) PYTHON=python3.13 ;;
    *) echo "debian-python.sh: unknown suite '$SUITE' (bullseye or trixie)" >&2; usage ;;
esac

# ---------------------------------------------------------------------- 1. host tools
need=()
command -v mmdebstrap >/dev/null || need+=(mmdebstrap)
command -v bwrap >/dev/null || need+=(bubblewrap)
command -v flock >/dev/null || need+=(util-linux)
if [ "${#need[@]}" -gt 0 ]; then
    echo "debian-python.sh: installing from Debian: ${need[*]}" >&2
    apt-get update -q >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${need[@]}" >&2
fi

# ---------------------------------------------------------------------------- 2. the root
# shellcheck source=docker/slim.sh
. "$(dirname "${BASH_SOURCE[0]}")/slim.sh"
MMDEBSTRAP_ARGS=(
    --variant=minbase --mode=root
    --include="$PYTHON,$PYTHON-venv,ca-certificates"
    "${SLIM_MMDEBSTRAP_ARGS[@]}"
)
MIRRORS=("deb $MIRROR $SUITE main" "deb $MIRROR $SUITE-updates main"
         "deb $SECURITY_MIRROR $SUITE-security main")
key=$(printf '%s\n' "$SUITE" "${MMDEBSTRAP_ARGS[@]}" "${MIRRORS[@]}" | sha256sum | cut -c1-16)
ROOT=$STATE/$SUITE-$key
exec 9>"$STATE/lock"
flock 9  # One maker at a time; users of a made root do not wait (the lock is released below).
if [ -n "${EM_REFRESH_ROOT:-}" ] && [ -d "$ROOT" ]; then
    rm -rf "$ROOT"
fi
if [ ! -x "$ROOT/usr/bin/$PYTHON" ]; then
    echo "debian-python.sh: mmdebstrap $SUITE ($PYTHON) -> $ROOT" >&2
    rm -rf "$ROOT" "$ROOT.tmp"
    mmdebstrap "${MMDEBSTRAP_ARGS[@]}" "$SUITE" "$ROOT.tmp" "${MIRRORS[@]}" >&2 \
        || die "mmdebstrap $SUITE failed (above)"
    mv "$ROOT.tmp" "$ROOT"
fi
flock -u 9
exec 9>&-

# ------------------------------------------------------------------------------ 3. the run
HERE=$(pwd -P)
CHECKOUT=$(git -C "$HERE" rev-parse --show-toplevel 2>/dev/null || echo "$HERE")
mkdir -p "$STATE/pip-cache"
CA_BUNDLE=/etc/ssl/certs/ca-certificates.crt
env_args=(
    --setenv PATH /usr/local/bin:/usr/bin:/bin
    --setenv HOME /tmp
    --setenv LANG C.UTF-8
    --setenv PIP_CACHE_DIR /var/cache/em-pip
    --setenv PIP_DISABLE_PIP_VERSION_CHECK 1
    --setenv PIP_NO_INPUT 1
)
if [ -f "$CA_BUNDLE" ]; then
    env_args+=(--setenv PIP_CERT "$CA_BUNDLE" --setenv SSL_CERT_FILE "$CA_BUNDLE")
fi
for name in "${PASSENV[@]}"; do
    if [ -n "${!name+x}" ]; then env_args+=(--setenv "$name" "${!name}"); fi
done
mounts=(
    # The root is bound read-write only while bwrap makes its mount points, then made read-only.
    --bind "$ROOT" /
    --dev /dev
    --tmpfs /dev/shm
    --proc /proc
    --tmpfs /tmp
    --ro-bind /etc/resolv.conf /etc/resolv.conf
    --ro-bind /etc/hosts /etc/hosts
    --bind "$STATE/pip-cache" /var/cache/em-pip
    --bind "$CHECKOUT" "$CHECKOUT"
)
if [ -f "$CA_BUNDLE" ]; then mounts+=(--ro-bind "$CA_BUNDLE" "$CA_BUNDLE"); fi
exec bwrap "${mounts[@]}" --remount-ro / \
    --unshare-pid --unshare-ipc --unshare-uts --die-with-parent \
    --clearenv "${env_args[@]}" --chdir "$HERE" \
    -- "$@"
