# Shared settings of the test services (sourced by start.sh and stop.sh).
# Every path and port can be overridden from the environment, so a second, isolated set of services
# (e.g. a CI dry run beside a developer's own) can run on the same machine.
HORDE_TEST_DIR=${HORDE_TEST_DIR:-/tmp/horde-test}
# dockerd's unix socket path must stay short (108-byte limit), hence its own short directory.
HORDE_TEST_DOCKER_DIR=${HORDE_TEST_DOCKER_DIR:-/tmp/hd}
HORDE_TEST_PG_PORT=${HORDE_TEST_PG_PORT:-55432}
HORDE_TEST_S3_PORT=${HORDE_TEST_S3_PORT:-54321}
HORDE_TEST_SSH_PORT=${HORDE_TEST_SSH_PORT:-55022}
HORDE_TEST_S3_BUCKET=${HORDE_TEST_S3_BUCKET:-horde-test}
HORDE_TEST_DOCKER_IMAGE=${HORDE_TEST_DOCKER_IMAGE:-localhost/busybox:test}

PG_DIR=$HORDE_TEST_DIR/pg
S3_DIR=$HORDE_TEST_DIR/s3
SSH_DIR=$HORDE_TEST_DIR/ssh
SERVICES_ENV=$HORDE_TEST_DIR/services.env
DOCKER_SOCK=$HORDE_TEST_DOCKER_DIR/docker.sock

pg_bin() {
  # Newest installed PostgreSQL major (15 on Debian 12).
  local d
  d=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
  [ -n "$d" ] || return 1
  echo "$d"
}

log() { echo "[horde-test-services] $*" >&2; }
