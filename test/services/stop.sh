#!/usr/bin/env bash
# Stops the test services started by test/services/start.sh (by their pid files; nothing else).
# Usage: stop.sh [pg] [docker] [s3] [ssh]   (no arguments: all of them)
set -uo pipefail

cd "$(dirname "$0")/../.."
# shellcheck source=lib.sh
. test/services/lib.sh

SERVICES=${*:-pg docker s3 ssh}

# stop_pidfile NAME FILE SECONDS: SIGTERM the process named in FILE and wait for it to exit.
stop_pidfile() {
  local name=$1 file=$2 seconds=$3 pid
  [ -f "$file" ] || { log "$name: no pid file ($file), nothing to stop"; return 0; }
  pid=$(cat "$file")
  if [ -z "$pid" ] || ! kill -0 "$pid" 2>/dev/null; then
    log "$name: not running"
    rm -f "$file"
    return 0
  fi
  kill "$pid"
  local deadline=$((SECONDS + seconds))
  while kill -0 "$pid" 2>/dev/null && ((SECONDS < deadline)); do sleep 0.1; done
  if kill -0 "$pid" 2>/dev/null; then
    log "$name (pid $pid) did not stop in ${seconds}s; sending SIGKILL"
    kill -9 "$pid" 2>/dev/null || true
  fi
  rm -f "$file"
  log "$name stopped"
}

for service in $SERVICES; do
  case $service in
    pg)
      if [ -f "$PG_DIR/data/postmaster.pid" ]; then
        bin=$(pg_bin) && {
          if [ "$(id -u)" = 0 ]; then (cd / && runuser -u postgres -- "$bin/pg_ctl" -D "$PG_DIR/data" -m fast -w stop >/dev/null)
          else "$bin/pg_ctl" -D "$PG_DIR/data" -m fast -w stop >/dev/null; fi
        } && log "pg stopped"
      else
        log "pg: not running"
      fi
      ;;
    docker) stop_pidfile dockerd "$HORDE_TEST_DOCKER_DIR/dockerd.pid" 30 ;;
    s3) stop_pidfile s3rver "$HORDE_TEST_DIR/s3.pid" 10 ;;
    ssh) stop_pidfile sshd "$SSH_DIR/sshd.pid" 10 ;;
    *) log "unknown service '$service' (known: pg docker s3 ssh)" ;;
  esac
done
# The file means "these services answer"; once all of them are stopped that is no longer true.
all_stopped=1
for service in pg docker s3 ssh; do
  case " $(echo $SERVICES) " in *" $service "*) ;; *) all_stopped=0 ;; esac
done
if [ "$all_stopped" = 1 ]; then rm -f "$SERVICES_ENV"; fi
