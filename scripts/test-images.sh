#!/usr/bin/env bash
# Builds the offline test images for `pnpm test:containers` from Debian
# packages, for machines that cannot pull from a container registry:
#
#   sessionkit-test/redis:7.0      Debian bookworm's redis-server
#   sessionkit-test/redis:8.0      Debian trixie's redis-server
#   sessionkit-test/valkey:8.1     Debian trixie's valkey-server
#   sessionkit-test/postgres:15    Debian bookworm's postgresql-15
#   sessionkit-test/postgres:17    Debian trixie's postgresql-17
#
# The names say what the images are: they are never tagged as official images.
# Each base rootfs comes from `debootstrap --variant=minbase` against the Debian
# mirror this machine's apt already uses (or SESSIONKIT_DEBIAN_MIRROR). Every
# image carries a label with the hash of its recipe; an image whose label
# matches is reused, so a second run builds nothing. Each image is checked
# with its server's `--version` before it is used.
#
# Usage: eval "$(bash scripts/test-images.sh)"
#   Progress goes to stderr; stdout is only the `export SESSIONKIT_IMAGE_…=…`
#   lines that point `pnpm test:containers` at these images.
# Needs: a running Docker engine, debootstrap, root (debootstrap and chroot).
set -euo pipefail

log() { printf '==> [%3ds] %s\n' "$SECONDS" "$*" >&2; }
die() {
  printf 'error: %s\n' "$*" >&2
  exit 1
}

label_key=org.sessionkit.test.recipe
export DOCKER_BUILDKIT=0 # the classic builder resolves FROM against local images only

command -v docker >/dev/null 2>&1 || die "docker is not installed (Debian: apt-get install docker.io)"
docker info >/dev/null 2>&1 || die "no Docker engine answers; start dockerd (or set DOCKER_HOST) first"

# The Debian mirror apt uses here: the first URI of a non-security source, in
# deb822 (*.sources) or one-line (*.list) format.
debian_mirror() {
  if [ -n "${SESSIONKIT_DEBIAN_MIRROR:-}" ]; then
    printf '%s\n' "$SESSIONKIT_DEBIAN_MIRROR"
    return
  fi
  local file uri
  for file in /etc/apt/sources.list.d/*.sources; do
    [ -f "$file" ] || continue
    uri=$(awk '/^URIs:/ { for (i = 2; i <= NF; i++) if ($i !~ /security/) { print $i; exit } }' "$file")
    if [ -n "$uri" ] && grep -Eq '^Suites:.*\b(bookworm|trixie|stable|testing)\b' "$file"; then
      printf '%s\n' "$uri"
      return
    fi
  done
  for file in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [ -f "$file" ] || continue
    uri=$(awk '$1 == "deb" { for (i = 2; i <= NF; i++) if ($i ~ /^[a-z]+:\/\//) { if ($i !~ /security/) print $i; break } }' "$file" | head -n 1)
    if [ -n "$uri" ]; then
      printf '%s\n' "$uri"
      return
    fi
  done
  die "no Debian mirror found in /etc/apt/sources.list*; set SESSIONKIT_DEBIAN_MIRROR"
}

recipe_hash() { sha256sum | cut -c1-16; }

# has_image <name> <hash>: whether <name> exists with this recipe label.
has_image() {
  [ "$(docker image inspect -f "{{index .Config.Labels \"$label_key\"}}" "$1" 2>/dev/null)" = "$2" ]
}

# The base rootfs recipe; its hash also feeds every server image's hash.
base_recipe() {
  cat <<EOF
debootstrap --variant=minbase $1
policy-rc.d 101; apt: no recommends, no suggests
EOF
}

# base_image <suite>: imports a debootstrapped rootfs as sessionkit-test/debian:<suite>.
base_image() {
  local suite=$1 name="sessionkit-test/debian:$1" hash dir
  hash=$(base_recipe "$suite" | recipe_hash)
  if has_image "$name" "$hash"; then
    log "$name: cached"
    return
  fi
  command -v debootstrap >/dev/null 2>&1 || die "debootstrap is not installed (Debian: apt-get install debootstrap)"
  dir=$(mktemp -d /tmp/sessionkit-rootfs.XXXXXX)
  log "$name: debootstrap $suite (about a minute)"
  if ! debootstrap --variant=minbase "$suite" "$dir" "$mirror" >"$dir.log" 2>&1; then
    tail -n 20 "$dir.log" >&2
    rm -rf "$dir" "$dir.log"
    die "debootstrap $suite failed (log above)"
  fi
  # No service may start inside an image build, and apt stays minimal.
  printf '#!/bin/sh\nexit 101\n' >"$dir/usr/sbin/policy-rc.d"
  chmod 755 "$dir/usr/sbin/policy-rc.d"
  printf 'APT::Install-Recommends "false";\nAPT::Install-Suggests "false";\n' >"$dir/etc/apt/apt.conf.d/90sessionkit"
  rm -rf "$dir"/var/cache/apt/archives/*.deb "$dir"/var/lib/apt/lists/*
  tar -C "$dir" -c . | docker import \
    --change "LABEL $label_key=$hash" --change 'CMD ["bash"]' - "$name" >/dev/null
  rm -rf "$dir" "$dir.log"
}

redis_dockerfile() { # <suite> <package> <binary>
  cat <<EOF
FROM sessionkit-test/debian:$1
RUN apt-get update && apt-get install -y $2 && rm -rf /var/lib/apt/lists/*
EXPOSE 6379
CMD ["$3", "--protected-mode", "no", "--save", "", "--appendonly", "no"]
EOF
}

# A cluster prepared at build time, like the official image after its first
# start: trust authentication, superuser "test", database "test", listening
# on all addresses.
postgres_dockerfile() { # <suite> <major>
  cat <<EOF
FROM sessionkit-test/debian:$1
RUN apt-get update && apt-get install -y postgresql-$2 && rm -rf /var/lib/apt/lists/*
ENV PATH=/usr/lib/postgresql/$2/bin:\$PATH PGDATA=/var/lib/postgresql/data
RUN mkdir -p \$PGDATA /run/postgresql && chown -R postgres:postgres /var/lib/postgresql /run/postgresql
USER postgres
RUN initdb --auth=trust --username=postgres --encoding=UTF8 --locale=C.UTF-8 \
 && printf "listen_addresses = '*'\nunix_socket_directories = '/run/postgresql'\n" >> \$PGDATA/postgresql.conf \
 && printf 'host all all 0.0.0.0/0 trust\nhost all all ::/0 trust\n' >> \$PGDATA/pg_hba.conf \
 && pg_ctl -w -o "-c listen_addresses=''" start \
 && psql -v ON_ERROR_STOP=1 -U postgres -d postgres -c "CREATE ROLE test LOGIN SUPERUSER PASSWORD 'test'" -c "CREATE DATABASE test OWNER test" \
 && pg_ctl -w -m fast stop
EXPOSE 5432
STOPSIGNAL SIGINT
CMD ["postgres"]
EOF
}

# server_image <name> <suite> <version command> <expected version prefix> <dockerfile…>
server_image() {
  local name=$1 suite=$2 version_cmd=$3 expect=$4 dockerfile hash version
  shift 4
  dockerfile=$("$@")
  hash=$({ base_recipe "$suite"; printf '%s\n' "$dockerfile"; } | recipe_hash)
  if has_image "$name" "$hash"; then
    log "$name: cached"
  else
    log "$name: building"
    local build_log
    build_log=$(mktemp /tmp/sessionkit-build.XXXXXX)
    if ! printf '%s\n' "$dockerfile" | docker build --label "$label_key=$hash" -t "$name" - >"$build_log" 2>&1; then
      tail -n 30 "$build_log" >&2
      rm -f "$build_log"
      die "building $name failed (log above)"
    fi
    rm -f "$build_log"
  fi
  # shellcheck disable=SC2086 # the version command is a word list
  version=$(docker run --rm "$name" $version_cmd 2>&1) || die "$name: '$version_cmd' failed: $version"
  case "$version" in
  *"$expect"*) log "$name: $(printf '%s' "$version" | head -n 1)" ;;
  *) die "$name: expected a version containing '$expect', got: $version" ;;
  esac
}

mirror=$(debian_mirror)
log "Debian mirror: $mirror"

# One chain per Debian suite, both in parallel: debootstrap and apt mostly wait
# on the network, so one chain's downloads overlap the other's unpacking.
bookworm_images() {
  base_image bookworm
  server_image sessionkit-test/redis:7.0 bookworm "redis-server --version" "v=7.0." \
    redis_dockerfile bookworm redis-server redis-server
  server_image sessionkit-test/postgres:15 bookworm "postgres --version" "(PostgreSQL) 15." \
    postgres_dockerfile bookworm 15
}
trixie_images() {
  base_image trixie
  server_image sessionkit-test/redis:8.0 trixie "redis-server --version" "v=8.0." \
    redis_dockerfile trixie redis-server redis-server
  server_image sessionkit-test/valkey:8.1 trixie "valkey-server --version" "v=8.1." \
    redis_dockerfile trixie valkey-server valkey-server
  server_image sessionkit-test/postgres:17 trixie "postgres --version" "(PostgreSQL) 17." \
    postgres_dockerfile trixie 17
}
bookworm_images &
bookworm=$!
trixie_images &
trixie=$!
failed=0
wait "$bookworm" || failed=1
wait "$trixie" || failed=1
[ "$failed" = 0 ] || die "building the test images failed (see above)"
log "all test images ready"

cat <<'EOF'
export SESSIONKIT_IMAGE_REDIS_7_0=sessionkit-test/redis:7.0
export SESSIONKIT_IMAGE_REDIS_8_0=sessionkit-test/redis:8.0
export SESSIONKIT_IMAGE_VALKEY_8_1=sessionkit-test/valkey:8.1
export SESSIONKIT_IMAGE_POSTGRES_15=sessionkit-test/postgres:15
export SESSIONKIT_IMAGE_POSTGRES_17=sessionkit-test/postgres:17
EOF
