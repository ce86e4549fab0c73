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

if [ ${#missing_packages[@]} -eq 0 ]; then
  exit 0
fi

if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "polypack tests need these programs: ${missing_programs[*]}" >&2
  echo "install the Debian packages: ${missing_packages[*]}" >&2
  exit 1
fi

echo "installing Debian packages: ${missing_packages[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null
apt-get install -y -qq --no-install-recommends "${missing_packages[@]}" >/dev/null
