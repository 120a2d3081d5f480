#!/usr/bin/env bash
# Builds the Weir image from ./Dockerfile with buildah, on a machine with no Docker engine and no image
# registry: the Node 24 base is made locally (Debian bookworm minbase by debootstrap + Node 24 from the
# npm package `node`, as the repository itself gets it) unless it can be pulled.
#
#   bash scripts/image.sh            # build localhost/weir:<version> (and :latest)
#   bash scripts/image.sh --test [--app rideshare --rate 10000 --seconds 30]
#                                    # build, then run it with podman: /health, non-root, SIGTERM stop, 256 MB limit
#
# Needs root (rootful buildah/podman). Installs buildah, podman and debootstrap with apt-get when missing.
# The base is cached under $WEIR_IMAGE_CACHE (default /var/tmp/weir-image); delete it to rebuild.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

CACHE="${WEIR_IMAGE_CACHE:-/var/tmp/weir-image}"
BASE="${WEIR_NODE_IMAGE:-localhost/weir-node:24-bookworm-slim}"
VERSION="$(node -p 'require("./package.json").version' 2>/dev/null || sed -n 's/^  "version": "\(.*\)",/\1/p' package.json)"
IMAGE="${WEIR_IMAGE:-localhost/weir:$VERSION}"
MIRROR="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
log() { echo "[image] $*" >&2; }

# A private containers.conf (the system's is left alone): runc, since crun refuses a cgroup v1/v2 hybrid
# whose v2 half holds a controller ("cgroups in hybrid mode not supported"); and open-files/process limits
# no higher than the host's, since a root without CAP_SYS_RESOURCE (a sandbox) cannot raise them and
# podman's defaults would ("error setting rlimit ... operation not permitted").
containers_conf() {
  mkdir -p "$CACHE"
  cat >"$CACHE/containers.conf" <<CONF
[containers]
default_ulimits = ["nofile=$(ulimit -Hn):$(ulimit -Hn)", "nproc=4096:4096"]
[engine]
runtime = "runc"
CONF
  export CONTAINERS_CONF="$CACHE/containers.conf"
}

need() {
  local missing=()
  for tool in buildah podman debootstrap runc; do command -v "$tool" >/dev/null || missing+=("$tool"); done
  if ((${#missing[@]})); then
    log "installing ${missing[*]}"
    apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q buildah podman debootstrap runc uidmap fuse-overlayfs slirp4netns
  fi
}

# The Node 24 base: pulled when a registry answers, else Debian minbase + the Node binary from npm.
base_image() {
  if buildah inspect --type image "$BASE" >/dev/null 2>&1; then return; fi
  if [[ "$BASE" != localhost/* ]]; then
    buildah pull "$BASE" && return
  fi
  local rootfs="$CACHE/rootfs"
  if [[ ! -x "$rootfs/usr/bin/apt-get" ]]; then
    log "debootstrap bookworm (minbase) into $rootfs"
    rm -rf "$rootfs"
    mkdir -p "$CACHE"
    debootstrap --variant=minbase bookworm "$rootfs" "$MIRROR" >"$CACHE/debootstrap.log" 2>&1 ||
      {
        tail -20 "$CACHE/debootstrap.log" >&2
        exit 1
      }
  fi
  local node_bin="node_modules/node/bin/node"
  [[ -x "$node_bin" ]] || {
    log "$node_bin missing: run npm ci first (Node 24 comes from the \`node\` devDependency)"
    exit 1
  }
  local node_version
  node_version="$("$node_bin" --version)"
  log "base $BASE: bookworm minbase + Node $node_version + npm"
  local npm_tgz
  npm_tgz="$(cd "$CACHE" && npm pack --silent npm@11 | tail -n 1)"

  local ctr mnt
  ctr="$(buildah from scratch)"
  mnt="$(buildah mount "$ctr")"
  cp -a "$rootfs/." "$mnt/"
  rm -rf "$mnt/var/cache/apt/archives/"*.deb "$mnt/var/lib/apt/lists/"*
  install -m 0755 "$node_bin" "$mnt/usr/local/bin/node"
  mkdir -p "$mnt/usr/local/lib/node_modules/npm"
  tar -xzf "$CACHE/$npm_tgz" -C "$mnt/usr/local/lib/node_modules/npm" --strip-components=1
  ln -sf ../lib/node_modules/npm/bin/npm-cli.js "$mnt/usr/local/bin/npm"
  ln -sf ../lib/node_modules/npm/bin/npx-cli.js "$mnt/usr/local/bin/npx"
  buildah umount "$ctr" >/dev/null
  buildah config --env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    --env NODE_VERSION="${node_version#v}" --cmd node \
    --label org.opencontainers.image.description="Debian bookworm minbase + Node $node_version (made by scripts/image.sh)" "$ctr"
  buildah commit --rm "$ctr" "$BASE" >/dev/null
}

build() {
  log "building $IMAGE from Dockerfile (base $BASE)"
  local started=$SECONDS
  local secret=()
  # A TLS-intercepting proxy's CA for npm inside the build (the host trusts it through NODE_EXTRA_CA_CERTS).
  if [[ -n "${NODE_EXTRA_CA_CERTS:-}" && -f "$NODE_EXTRA_CA_CERTS" ]]; then secret=(--secret "id=npm_ca,src=$NODE_EXTRA_CA_CERTS"); fi
  buildah bud --format docker --pull=never --network host --layers "${secret[@]}" \
    --build-arg NODE_IMAGE="$BASE" -t "$IMAGE" -t "${IMAGE%:*}:latest" -f Dockerfile .
  log "built $IMAGE in $((SECONDS - started)) s: $(podman image inspect "$IMAGE" --format '{{.Size}}' | awk '{printf "%.0f MB", $1/1e6}')"
}

need
containers_conf
base_image
build
if [[ "${1:-}" == "--test" ]]; then
  shift
  WEIR_IMAGE="$IMAGE" exec node_modules/.bin/node scripts/image-test.ts "$@"
fi
