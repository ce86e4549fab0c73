#!/usr/bin/env bash
# Regenerates the dependency tarballs in dependencies-src/ byte for byte, then checks that every
# `checksum` and `source-checksum` in buildpack.toml is the sha256 of the file its URI names.
#
#   scripts/make-dependencies.sh          rewrite the tarballs, print their sha256, check buildpack.toml
#   scripts/make-dependencies.sh --check  only print and check (what a test or CI runs)
#
# The bytes depend only on the contents below, GNU tar and gzip: names are sorted, times, owners and
# modes are fixed, and `gzip -n` leaves out the name and time it would otherwise record.
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
out="$root/dependencies-src"

# deterministic_tgz OUTPUT DIR NAME: packs DIR/NAME as OUTPUT.
deterministic_tgz() {
  tar -C "$2" --format=ustar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner \
    --mode=u=rwX,go=rX -cf - "$3" | gzip -n -9 >"$1"
}

# artifact ID VERSION OS ARCH: a binary-distribution stand-in that says what it is. One for an
# architecture also holds a real program for it, bin/ID (scripts/make-elf.sh), printing
# "ID VERSION ARCH", so a build that installs it can run it and a check can read its ELF machine.
artifact() {
  local id=$1 version=$2 os=$3 arch=$4 stage suffix
  stage="$(mktemp -d)"
  mkdir "$stage/$id"
  if [ -n "$arch" ]; then
    mkdir "$stage/$id/bin"
    bash "$root/scripts/make-elf.sh" "$arch" "$id $version $arch" >"$stage/$id/bin/$id"
    chmod 0755 "$stage/$id/bin/$id"
  fi
  printf '%s\n' "$id" >"$stage/$id/ID"
  printf '%s\n' "$version" >"$stage/$id/VERSION"
  printf '%s\n' "${os:-any}" >"$stage/$id/OS"
  printf '%s\n' "${arch:-any}" >"$stage/$id/ARCH"
  printf '%s %s for %s/%s, a stand-in dependency of the hello-multiarch example buildpack.\n' \
    "$id" "$version" "${os:-any}" "${arch:-any}" >"$stage/$id/README"
  suffix="${os:+-$os}${arch:+-$arch}"
  deterministic_tgz "$out/$id-$version$suffix.tgz" "$stage" "$id"
  rm -rf "$stage"
}

# source_artifact ID VERSION: what `source` points at.
source_artifact() {
  local id=$1 version=$2 stage
  stage="$(mktemp -d)"
  mkdir "$stage/$id-$version"
  printf 'Source of %s %s (a stand-in: there is nothing to compile).\n' "$id" "$version" \
    >"$stage/$id-$version/SOURCE"
  deterministic_tgz "$out/$id-$version-src.tgz" "$stage" "$id-$version"
  rm -rf "$stage"
}

generate() {
  rm -rf "$out"
  mkdir -p "$out"
  for version in 1.0.0 1.1.0; do
    for arch in amd64 arm64; do artifact hello-runtime "$version" linux "$arch"; done
    source_artifact hello-runtime "$version"
  done
  artifact hello-docs 1.0.0 "" ""
  source_artifact hello-docs 1.0.0
}

# Prints `<uri> <sha256:hex>` for every uri/checksum and source/source-checksum pair in buildpack.toml.
declared_checksums() {
  awk '
    /^[[:space:]]*\[/ { flush(); next }
    match($0, /^[[:space:]]*(uri|checksum|source|source-checksum)[[:space:]]*=[[:space:]]*"/) {
      key = $0; sub(/^[[:space:]]*/, "", key); sub(/[[:space:]]*=.*/, "", key)
      value = $0; sub(/^[^"]*"/, "", value); sub(/".*/, "", value)
      v[key] = value
    }
    function flush() {
      if (v["uri"] != "") print v["uri"], v["checksum"]
      if (v["source"] != "") print v["source"], v["source-checksum"]
      delete v
    }
    END { flush() }
  ' "$root/buildpack.toml"
}

check() {
  local failed=0 checked=0 uri expected file actual
  (cd "$root" && sha256sum dependencies-src/*.tgz | sed 's/^/sha256:/')
  while read -r uri expected; do
    case "$uri" in
      file:/*) continue ;; # absolute file URIs are not this example's
      file:*) file="$root/${uri#file:}" ;;
      *) continue ;;
    esac
    if [ ! -f "$file" ]; then
      echo "buildpack.toml: $uri names a file that does not exist" >&2
      failed=1
      continue
    fi
    actual="sha256:$(sha256sum "$file" | cut -d' ' -f1)"
    checked=$((checked + 1))
    if [ "$actual" != "$expected" ]; then
      echo "buildpack.toml: $uri declares ${expected:-no checksum} but the file is $actual" >&2
      failed=1
    fi
  done < <(declared_checksums)
  if [ "$failed" -ne 0 ]; then
    echo "checksums in buildpack.toml do not match dependencies-src/; update them from the list above" >&2
    return 1
  fi
  if [ "$checked" -eq 0 ]; then
    echo "buildpack.toml: no dependency uses a file: URI, nothing was checked" >&2
    return 1
  fi
  echo "buildpack.toml: all $checked checksums of file: URIs match"
}

if [ "${1:-}" != "--check" ]; then generate; fi
check
