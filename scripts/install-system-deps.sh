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

if [ ${#missing_packages[@]} -eq 0 ] && [ ${#missing_debs[@]} -eq 0 ]; then
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
