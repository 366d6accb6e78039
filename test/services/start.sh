#!/usr/bin/env bash
# Starts the real servers the test suite runs against, unless they already answer:
#   pg      PostgreSQL (temp cluster, 127.0.0.1:55432, trust auth, fsync off)
#   docker  dockerd on a private unix socket, no bridge / iptables, with localhost/busybox:test
#   s3      @20minutes/s3rver on 127.0.0.1:54321 (credentials S3RVER/S3RVER)
#   ssh     sshd on 127.0.0.1:55022 with a generated key pair (for the ssh executor manager)
# Installs nothing: the apt packages (postgresql, docker.io, busybox-static, openssh-server) and
# `npm ci` are .ci/run's job. Idempotent: run it as often as you like.
#
# Writes the connection details to $HORDE_TEST_DIR/services.env (read by test/setup/global-setup.ts).
# Env: HORDE_TEST_SERVICES="pg docker s3 ssh" picks a subset; HORDE_TEST_STARTED_FILE, when set,
# gets the names of the services this run started (so .ci/run stops only those). Ports and
# directories: see lib.sh.
set -euo pipefail

cd "$(dirname "$0")/../.."
# shellcheck source=lib.sh
. test/services/lib.sh

SERVICES=${HORDE_TEST_SERVICES:-pg docker s3 ssh}
PG_URL="postgres://postgres@127.0.0.1:$HORDE_TEST_PG_PORT/postgres"
S3_ENDPOINT="http://127.0.0.1:$HORDE_TEST_S3_PORT"
DOCKER_HOST_URL="unix://$DOCKER_SOCK"
IS_ROOT=$([ "$(id -u)" = 0 ] && echo 1 || echo 0)

mkdir -p "$HORDE_TEST_DIR"
# Two test runs may call this at once (each vitest global setup does when a service is down):
# one starts the services, the other waits and then finds them running.
# The daemons started below get `9>&-`, or they would inherit the lock and hold it forever.
exec 9>"$HORDE_TEST_DIR/start.lock"
flock -w 300 9 || { log "ERROR: another start.sh has held $HORDE_TEST_DIR/start.lock for 300 s"; exit 1; }

probe() { node test/services/probe.mjs "$@" 2>/dev/null; }

# wait_until NAME SECONDS LOGFILE PROBE-ARGS...: polls the probe; on timeout prints the log's tail.
wait_until() {
  local name=$1 seconds=$2 logfile=$3
  shift 3
  local deadline=$((SECONDS + seconds))
  while ((SECONDS < deadline)); do
    if probe "$@"; then return 0; fi
    sleep 0.2
  done
  log "ERROR: $name did not become ready within ${seconds}s."
  if [ -f "$logfile" ]; then
    log "last lines of $logfile:"
    tail -n 20 "$logfile" >&2 || true
  fi
  return 1
}

started() {
  log "$1 started"
  if [ -n "${HORDE_TEST_STARTED_FILE:-}" ]; then echo "$1" >>"$HORDE_TEST_STARTED_FILE"; fi
}

need() {
  if ! command -v "$1" >/dev/null 2>&1 && [ ! -x "$1" ]; then
    log "ERROR: $1 not found. Install the apt packages first: $2 (see .ci/run)."
    exit 1
  fi
}

as_postgres() {
  # From /: the postgres user may not be allowed into the caller's directory.
  if [ "$IS_ROOT" = 1 ]; then (cd / && runuser -u postgres -- "$@"); else "$@"; fi
}

start_pg() {
  if probe pg "$PG_URL"; then log "pg already running on $HORDE_TEST_PG_PORT"; else
    local bin
    bin=$(pg_bin) || { log "ERROR: PostgreSQL binaries not found under /usr/lib/postgresql. Install: apt-get install postgresql"; exit 1; }
    mkdir -p "$PG_DIR"
    # initdb refuses to run as root; the cluster belongs to the postgres user.
    if [ "$IS_ROOT" = 1 ]; then chown postgres:postgres "$PG_DIR"; fi
    if [ ! -f "$PG_DIR/data/PG_VERSION" ]; then
      as_postgres "$bin/initdb" -D "$PG_DIR/data" -U postgres --auth=trust -E UTF8 --no-locale --no-sync >"$PG_DIR/initdb.log" 2>&1 ||
        { log "ERROR: initdb failed:"; tail -n 20 "$PG_DIR/initdb.log" >&2; exit 1; }
    fi
    # Durability is worthless for test data; fsync off makes DDL-heavy tests several times faster.
    if ! as_postgres "$bin/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/server.log" -w -t 30 start \
      -o "-p $HORDE_TEST_PG_PORT -k $PG_DIR -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" >/dev/null 9>&-; then
      log "ERROR: PostgreSQL failed to start (is port $HORDE_TEST_PG_PORT taken?). Last lines of $PG_DIR/server.log:"
      tail -n 20 "$PG_DIR/server.log" >&2 || true
      exit 1
    fi
    wait_until pg 30 "$PG_DIR/server.log" pg "$PG_URL" || exit 1
    started pg
  fi
  # An empty database nobody connects to: test files clone it (CREATE DATABASE .. TEMPLATE), which
  # fails when the template has other sessions, as template1 may.
  local psql=(psql -q -h 127.0.0.1 -p "$HORDE_TEST_PG_PORT" -U postgres -d postgres -v ON_ERROR_STOP=1)
  if [ "$("${psql[@]}" -tAc "select 1 from pg_database where datname = 'horde_template'")" != 1 ]; then
    "${psql[@]}" -c 'create database horde_template' >/dev/null 2>&1 ||
      [ "$("${psql[@]}" -tAc "select 1 from pg_database where datname = 'horde_template'")" = 1 ] ||
      { log "ERROR: could not create database horde_template"; exit 1; }
  fi
}

import_busybox_image() {
  if docker -H "$DOCKER_HOST_URL" image inspect "$HORDE_TEST_DOCKER_IMAGE" >/dev/null 2>&1; then return 0; fi
  need /bin/busybox busybox-static
  # A registry-free image: a busybox rootfs with one symlink per applet (sh, wget, sha256sum, ...).
  local rootfs
  rootfs=$(mktemp -d)
  mkdir -p "$rootfs"/{bin,tmp,etc,proc,sys,dev,root}
  cp /bin/busybox "$rootfs/bin/"
  for applet in $("$rootfs/bin/busybox" --list); do
    [ "$applet" = busybox ] || ln -s busybox "$rootfs/bin/$applet"
  done
  echo 'root:x:0:0:root:/root:/bin/sh' >"$rootfs/etc/passwd"
  echo 'root:x:0:' >"$rootfs/etc/group"
  chmod 1777 "$rootfs/tmp"
  tar -C "$rootfs" -c . | docker -H "$DOCKER_HOST_URL" import -c 'CMD ["/bin/sh"]' - "$HORDE_TEST_DOCKER_IMAGE" >/dev/null
  rm -rf "$rootfs"
  log "imported $HORDE_TEST_DOCKER_IMAGE"
}

start_docker() {
  if probe docker "$DOCKER_HOST_URL"; then log "dockerd already running at $DOCKER_SOCK"; else
    need dockerd docker.io
    [ "$IS_ROOT" = 1 ] || { log "ERROR: dockerd needs root. Run this as root, or point DOCKER_HOST at your own engine."; exit 1; }
    mkdir -p "$HORDE_TEST_DOCKER_DIR"
    # No bridge, no iptables, no ip_forward: the engine leaves the host's network alone, and jobs run
    # with NetworkMode none anyway.
    setsid dockerd --bridge=none --iptables=false --ip6tables=false --ip-forward=false \
      -H "$DOCKER_HOST_URL" --data-root "$HORDE_TEST_DOCKER_DIR/data" --exec-root "$HORDE_TEST_DOCKER_DIR/exec" \
      --pidfile "$HORDE_TEST_DOCKER_DIR/dockerd.pid" </dev/null >"$HORDE_TEST_DOCKER_DIR/log" 2>&1 9>&- &
    wait_until dockerd 60 "$HORDE_TEST_DOCKER_DIR/log" docker "$DOCKER_HOST_URL" || exit 1
    started docker
  fi
  need docker docker.io
  import_busybox_image
}

start_s3() {
  if probe s3 "$S3_ENDPOINT"; then log "s3rver already running on $HORDE_TEST_S3_PORT"; return 0; fi
  [ -d node_modules/@20minutes/s3rver ] || { log "ERROR: node_modules/@20minutes/s3rver missing: run npm ci first."; exit 1; }
  node test/services/patch-s3rver.mjs
  mkdir -p "$S3_DIR"
  # --openssl-legacy-provider: s3rver encrypts ListObjectsV2 continuation tokens with DES, which
  # OpenSSL 3 only offers in its legacy provider; without it every listing past one page is a 500.
  HORDE_TEST_S3_DIR="$S3_DIR" HORDE_TEST_S3_PIDFILE="$HORDE_TEST_DIR/s3.pid" \
    HORDE_TEST_S3_PORT="$HORDE_TEST_S3_PORT" HORDE_TEST_S3_BUCKET="$HORDE_TEST_S3_BUCKET" \
    setsid node --openssl-legacy-provider test/services/s3-server.mjs </dev/null >"$HORDE_TEST_DIR/s3.log" 2>&1 9>&- &
  wait_until s3rver 20 "$HORDE_TEST_DIR/s3.log" s3 "$S3_ENDPOINT" || exit 1
  started s3
}

start_ssh() {
  if probe tcp 127.0.0.1 "$HORDE_TEST_SSH_PORT" && [ -f "$SSH_DIR/clientkey" ]; then
    log "sshd already running on $HORDE_TEST_SSH_PORT"
    return 0
  fi
  need /usr/sbin/sshd openssh-server
  mkdir -p "$SSH_DIR"
  [ -f "$SSH_DIR/hostkey" ] || ssh-keygen -q -t ed25519 -N '' -f "$SSH_DIR/hostkey"
  [ -f "$SSH_DIR/clientkey" ] || ssh-keygen -q -t ed25519 -N '' -f "$SSH_DIR/clientkey"
  cp "$SSH_DIR/clientkey.pub" "$SSH_DIR/authorized_keys"
  # sshd refuses to start without its privilege separation directory.
  if [ "$IS_ROOT" = 1 ]; then mkdir -p /run/sshd; fi
  cat >"$SSH_DIR/sshd_config" <<CONF
Port $HORDE_TEST_SSH_PORT
ListenAddress 127.0.0.1
HostKey $SSH_DIR/hostkey
PidFile $SSH_DIR/sshd.pid
AuthorizedKeysFile $SSH_DIR/authorized_keys
PasswordAuthentication no
KbdInteractiveAuthentication no
PubkeyAuthentication yes
PermitRootLogin prohibit-password
UsePAM no
StrictModes no
Subsystem sftp internal-sftp
CONF
  /usr/sbin/sshd -f "$SSH_DIR/sshd_config" -E "$SSH_DIR/sshd.log" 9>&- ||
    { log "ERROR: sshd failed to start:"; tail -n 20 "$SSH_DIR/sshd.log" >&2 || true; exit 1; }
  wait_until sshd 10 "$SSH_DIR/sshd.log" tcp 127.0.0.1 "$HORDE_TEST_SSH_PORT" || exit 1
  started ssh
}

for service in $SERVICES; do
  case $service in
    pg) start_pg ;;
    docker) start_docker ;;
    s3) start_s3 ;;
    ssh) start_ssh ;;
    *) log "ERROR: unknown service '$service' (known: pg docker s3 ssh)"; exit 1 ;;
  esac
done

# Written last and atomically, so its presence means every requested service answered.
tmp=$(mktemp "$HORDE_TEST_DIR/services.env.XXXXXX")
{
  echo "# Written by test/services/start.sh; read by test/setup/global-setup.ts."
  case " $SERVICES " in *" pg "*) echo "HORDE_TEST_PG_URL=$PG_URL" ;; esac
  case " $SERVICES " in *" docker "*)
    echo "DOCKER_HOST=$DOCKER_HOST_URL"
    echo "HORDE_TEST_DOCKER_IMAGE=$HORDE_TEST_DOCKER_IMAGE" ;;
  esac
  case " $SERVICES " in *" s3 "*)
    echo "HORDE_TEST_S3_ENDPOINT=$S3_ENDPOINT"
    echo "HORDE_TEST_S3_ACCESS_KEY_ID=S3RVER"
    echo "HORDE_TEST_S3_SECRET_ACCESS_KEY=S3RVER"
    echo "HORDE_TEST_S3_REGION=us-east-1"
    echo "HORDE_TEST_S3_BUCKET=$HORDE_TEST_S3_BUCKET" ;;
  esac
  case " $SERVICES " in *" ssh "*)
    echo "HORDE_TEST_SSH_HOST=127.0.0.1"
    echo "HORDE_TEST_SSH_PORT=$HORDE_TEST_SSH_PORT"
    echo "HORDE_TEST_SSH_USER=$(id -un)"
    echo "HORDE_TEST_SSH_KEY=$SSH_DIR/clientkey" ;;
  esac
} >"$tmp"
mv "$tmp" "$SERVICES_ENV"
log "all services ready ($SERVICES); details in $SERVICES_ENV"
