#!/usr/bin/env bash
# container-smoke.sh - build, lint and smoke-test the sandbox image with podman, for real.
#
# 1. ../shared/tools/container-smoke.sh (beside the repository) lints the Dockerfile with
#    hadolint, builds the image on a local python:3.11-slim stand-in and checks /__sandbox/health
#    and the HEALTHCHECK once.
# 2. Then, with the image it built: run it as CI would (SANDBOX_* settings, /config mounted
#    read-only), time it to healthy, publish one picture with the default keys and check the
#    envelope, check it runs as non-root, and check that `podman stop` ends it within 2 s with
#    exit code 0.
#
# usage: scripts/container-smoke.sh        env: IMAGE, WORK (as the shared script), SHARED_SMOKE
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
SHARED_SMOKE=${SHARED_SMOKE:-$(dirname "$ROOT")/shared/tools/container-smoke.sh}
export IMAGE=${IMAGE:-localhost/oneall-sandbox:ci}
export WORK=${WORK:-/tmp/container-ci}

# The documented defaults (README, "Built-in site keys and identities").
PUBLIC_KEY=1c9f6d26-770d-42f1-91bc-754dc31d00f0
PRIVATE_KEY=f2e52630-52fa-4c90-8bde-e92c1f7211f4
TWITTER_TOKEN=16b2eacb-c86e-4fdb-b482-2836b59ee40e
STOP_LIMIT_MS=2000

T0=$(date +%s)
step() { echo "=== [$(($(date +%s) - T0))s] $*"; }
fail() { echo "FAIL: $*"; exit 1; }
now_ms() { echo $(($(date +%s%N) / 1000000)); }

if [ ! -f "$SHARED_SMOKE" ]; then
  fail "the shared smoke script is not at $SHARED_SMOKE (CI keeps a copy of shared/ beside the repository; set SHARED_SMOKE to point elsewhere)"
fi

# --- 1. the shared script: tools, base image, hadolint, build, health ----------------------------
step "shared smoke test: $SHARED_SMOKE"
HEALTH_PATH=/__sandbox/health BASE_ALIASES=python:3.11-slim bash "$SHARED_SMOKE" "$ROOT"

# --- 2. our own run, with the same podman configuration ------------------------------------------
export CONTAINERS_STORAGE_CONF=$WORK/conf/storage.conf CONTAINERS_CONF=$WORK/conf/containers.conf
export TMPDIR=$WORK/tmp
podman image exists "$IMAGE" || fail "the shared script left no image $IMAGE"

passed=0
check() { passed=$((passed + 1)); step "ok: $*"; }

# The shared script linted already (it stops on a finding); say so, with what it found.
findings=$("$WORK/lint/bin/hadolint" --no-color --failure-threshold warning "$ROOT/Dockerfile") \
  || { echo "$findings"; fail "hadolint"; }
check "hadolint Dockerfile at threshold warning: ${findings:-no finding}"

HOST_PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
BASE_URL=http://127.0.0.1:$HOST_PORT
FWD=$(sysctl -n net.ipv4.ip_forward)
CID=
cleanup() {
  if [ -n "$CID" ]; then podman rm -f -t 2 "$CID" >/dev/null 2>&1 || true; fi
  # netavark turns on IP forwarding for the bridge; put it back as it was
  [ "$(sysctl -n net.ipv4.ip_forward)" = "$FWD" ] || sysctl -qw net.ipv4.ip_forward="$FWD"
}
trap cleanup EXIT

step "podman run -d -p 127.0.0.1:$HOST_PORT:8080 -v fixtures:/config:ro -e SANDBOX_IDENTITIES=/config/identities.json -e SANDBOX_SEED=42 $IMAGE"
started=$(now_ms)
# stderr: podman says 'unable to get systemd connection' for healthcheck timers (no systemd)
CID=$(podman run -d -p "127.0.0.1:$HOST_PORT:8080" \
  -v "$ROOT/fixtures:/config:ro" \
  -e SANDBOX_IDENTITIES=/config/identities.json -e SANDBOX_SEED=42 \
  "$IMAGE" 2>"$WORK/run.err") || { cat "$WORK/run.err"; fail "podman run"; }

# Ready when /__sandbox/health answers; give up if the container exits or after 30 s.
healthy=
while [ $(($(now_ms) - started)) -lt 30000 ]; do
  if curl -fsS -m 1 "$BASE_URL/__sandbox/health" -o /dev/null 2>/dev/null; then healthy=$(now_ms); break; fi
  [ "$(podman inspect -f '{{.State.Running}}' "$CID")" = true ] || break
  sleep 0.05
done
if [ -z "$healthy" ]; then
  podman logs "$CID" | tail -30; fail "$BASE_URL/__sandbox/health did not answer"
fi
check "healthy $((healthy - started)) ms after podman run"
podman healthcheck run "$CID" 2>/dev/null || { podman logs "$CID" | tail -30; fail "HEALTHCHECK"; }
check "HEALTHCHECK: $(podman inspect -f '{{.State.Health.Status}}' "$CID")"

uid=$(podman exec "$CID" id -u)
[ "$uid" != 0 ] || fail "the sandbox runs as root"
check "runs as uid $uid"
if podman exec "$CID" sh -c 'command -v gcc cc make' >/dev/null 2>&1; then
  fail "a compiler was left in the image"
fi
check "no compiler in the image"

# One picture, the example body, the default keys and the built-in Twitter identity.
PICTURE=/push/identities/$TWITTER_TOKEN/twitter/picture.json
step "POST $PICTURE (fixtures/requests/twitter.picture.json)"
code=$(curl -sS -m 5 -o "$WORK/picture.json" -w '%{http_code}' -u "$PUBLIC_KEY:$PRIVATE_KEY" \
  --data-binary @"$ROOT/fixtures/requests/twitter.picture.json" "$BASE_URL$PICTURE")
cat "$WORK/picture.json"; echo
[ "$code" = 200 ] || fail "HTTP status $code, expected 200"
python3 - "$WORK/picture.json" <<'EOF' || fail "the envelope is not a success with a picture_id"
import json, sys
response = json.load(open(sys.argv[1]))["response"]
status = response["request"]["status"]
data = response["result"]["data"]
assert status["flag"] == "success", status
assert status["code"] == 200, status
assert isinstance(data.get("picture_id"), str) and data["picture_id"], data
print(f"picture_id {data['picture_id']}")
EOF
check "published one picture: HTTP 200, flag success, code 200, a picture_id"

# podman stop sends SIGTERM and waits up to -t seconds before SIGKILL: the time it takes and
# the exit code show whether the sandbox stopped by itself.
step "podman stop $CID"
stopping=$(now_ms)
podman stop -t 10 "$CID" >/dev/null 2>&1
stopped=$(now_ms)
exit_code=$(podman inspect -f '{{.State.ExitCode}}' "$CID")
podman logs "$CID" 2>&1 | tail -3
[ "$exit_code" = 0 ] || fail "exit code $exit_code after podman stop, expected 0"
[ $((stopped - stopping)) -le $STOP_LIMIT_MS ] || fail "podman stop took $((stopped - stopping)) ms, limit $STOP_LIMIT_MS ms"
check "podman stop: exit code 0 after $((stopped - stopping)) ms"

# HTTPS: SANDBOX_TLS=1, the CA made in /tls at first start; the HEALTHCHECK must pass over
# TLS, and curl must verify the chain with the CA copied out of the container.
step "podman run -d -p 127.0.0.1:$HOST_PORT:8080 -e SANDBOX_TLS=1 -e SANDBOX_TLS_NAMES=sandbox $IMAGE"
CID=$(podman run -d -p "127.0.0.1:$HOST_PORT:8080" -e SANDBOX_TLS=1 -e SANDBOX_TLS_NAMES=sandbox \
  "$IMAGE" 2>"$WORK/run.err") || { cat "$WORK/run.err"; fail "podman run (TLS)"; }
started=$(now_ms)
healthy=
while [ $(($(now_ms) - started)) -lt 30000 ]; do
  if podman healthcheck run "$CID" >/dev/null 2>&1; then healthy=$(now_ms); break; fi
  [ "$(podman inspect -f '{{.State.Running}}' "$CID")" = true ] || break
  sleep 0.2
done
[ -n "$healthy" ] || { podman logs "$CID" | tail -30; fail "HEALTHCHECK with SANDBOX_TLS=1"; }
check "HEALTHCHECK over HTTPS: $(podman inspect -f '{{.State.Health.Status}}' "$CID")"
podman cp "$CID:/tls/ca.pem" "$WORK/sandbox-ca.pem"
curl -fsS -m 5 --cacert "$WORK/sandbox-ca.pem" -o /dev/null "https://127.0.0.1:$HOST_PORT/__sandbox/health" \
  || fail "curl --cacert the container's CA"
curl -fsS -m 5 --cacert "$WORK/sandbox-ca.pem" -o /dev/null \
  --resolve "sandbox:$HOST_PORT:127.0.0.1" "https://sandbox:$HOST_PORT/__sandbox/health" \
  || fail "curl --cacert by the name given in SANDBOX_TLS_NAMES"
if curl -fsS -m 5 -o /dev/null "https://127.0.0.1:$HOST_PORT/__sandbox/health" 2>/dev/null; then
  fail "curl trusted the sandbox without its CA"
fi
check "HTTPS verified with the container's CA (by address and by SANDBOX_TLS_NAMES), refused without it"
podman rm -f -t 2 "$CID" >/dev/null 2>&1; CID=

step "image $IMAGE: $(podman image inspect -f '{{.Size}}' "$IMAGE") bytes"
echo "container: $passed passed, 0 failed"
