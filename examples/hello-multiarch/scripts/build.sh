#!/usr/bin/env bash
# The pre-package step (`pre-package` in buildpack.toml). polypack runs it once, from the buildpack
# directory, with
#   POLYPACK_TARGETS         the targets being packaged, space-separated: "linux/amd64 linux/arm64"
#   POLYPACK_BUILDPACK_DIR   the buildpack directory (the working directory too)
# For each target os/arch[/variant] it writes <os>/<arch>[/<variant>]/bin/run and the symlinks
# bin/build and bin/detect, the per-target folders pack and polypack package for that target, and
# copies that target's dependency archives beside them (dependencies-src/), for bin/build to install.
#
# The binaries are byte-for-byte reproducible: the same Go release gives the same bytes whatever the
# checkout path, user or time. Without Go it installs scripts/sh/run instead, in the same layout.
set -euo pipefail
# Directory modes end up in the package; do not let the caller's umask choose them.
umask 022

dir="${POLYPACK_BUILDPACK_DIR:-$(cd "$(dirname "$0")/.." && pwd)}"
cd "$dir"
# Run by hand (POLYPACK_TARGETS unset), it builds the two targets buildpack.toml declares.
read -r -a targets <<<"${POLYPACK_TARGETS-linux/amd64 linux/arm64}"
if [ "${#targets[@]}" -eq 0 ]; then
  echo "build.sh: POLYPACK_TARGETS is empty; expected e.g. \"linux/amd64 linux/arm64\"" >&2
  exit 1
fi

# out_dir TARGET: the per-target folder. A distro suffix (`:ubuntu@22.04`) does not change the binary.
out_dir() {
  local platform="${1%%:*}"
  local os arch variant
  IFS=/ read -r os arch variant <<<"$platform"
  if [ "$os" != linux ] || [ -z "$arch" ]; then
    echo "build.sh: cannot build target \"$1\": this example supports linux/<arch>[/<variant>]" >&2
    return 1
  fi
  echo "$os/$arch${variant:+/$variant}"
}

# Check every target before deleting anything, so a typo leaves the previous build in place.
for target in "${targets[@]}"; do out_dir "$target" >/dev/null; done

# Start from nothing, so a target dropped since the last run leaves no stale binaries behind.
rm -rf linux

install_go_binary() { # TARGET BIN_DIR
  local platform="${1%%:*}" os arch variant
  IFS=/ read -r os arch variant <<<"$platform"
  (
    # Variant spellings follow the OCI platform: arm v6/v7, amd64 v2/v3/v4, arm64 v8 (no Go knob).
    unset GOARM GOAMD64
    case "$arch/$variant" in
      arm/v*) export GOARM="${variant#v}" ;;
      amd64/v*) export GOAMD64="$variant" ;;
    esac
    # GOFLAGS from the caller's environment could change the bytes; GOPROXY=off because the
    # program uses only the standard library, and GOTOOLCHAIN=local stops newer Go from downloading.
    GOFLAGS="" GOPROXY=off GOTOOLCHAIN=local GOOS="$os" GOARCH="$arch" CGO_ENABLED=0 \
      go build -trimpath -buildvcs=false -ldflags="-s -w -buildid=" -o "$2/run" ./cmd/hello
  )
}

if command -v go >/dev/null 2>&1; then
  # Without HOME (some CI sandboxes) Go has no build cache and refuses to build; give it a temporary one.
  if [ "$(go env GOCACHE)" = off ] || [ -z "$(go env GOCACHE)" ]; then
    GOCACHE="$(mktemp -d)"
    export GOCACHE
    trap 'rm -rf "$GOCACHE"' EXIT
  fi
  use_go=1
  description="Go $(go env GOVERSION)"
else
  echo "build.sh: go is not on PATH; installing the shell-script variant (scripts/sh/run) instead" >&2
  echo "build.sh: install Go 1.19 or later to build the compiled binaries" >&2
  use_go=0
  description="shell script"
fi

# dependency_files: `os arch path` for each [[metadata.dependencies]] entry whose uri is a relative
# file: URI (`-` for a missing os or arch). Only `key = "string"` lines count.
dependency_files() {
  awk '
    function flush() {
      if (table && v["uri"] ~ /^file:[^\/]/)
        print (v["os"] == "" ? "-" : v["os"]), (v["arch"] == "" ? "-" : v["arch"]), substr(v["uri"], 6)
      delete v
    }
    /^[[:space:]]*\[/ { flush(); table = ($0 ~ /^[[:space:]]*\[\[metadata\.dependencies\]\]/); next }
    table && /^[[:space:]]*(uri|os|arch)[[:space:]]*=[[:space:]]*"/ {
      key = $0; sub(/^[[:space:]]*/, "", key); sub(/[[:space:]]*=.*/, "", key)
      value = $0; sub(/^[^"]*"/, "", value); sub(/".*/, "", value)
      v[key] = value
    }
    END { flush() }
  ' buildpack.toml
}

# copy_dependencies TARGET DIR: copies the archives of TARGET's dependencies (its os and arch, or
# none) into DIR under the same relative path, so the target's package carries them and its
# bin/build finds `file:dependencies-src/...` inside the buildpack. Other targets' archives stay out.
copy_dependencies() {
  local platform="${1%%:*}" os arch variant dep_os dep_arch file copied=0
  IFS=/ read -r os arch variant <<<"$platform"
  while read -r dep_os dep_arch file; do
    if [ "$dep_os" != - ] && [ "$dep_os" != "$os" ]; then continue; fi
    if [ "$dep_arch" != - ] && [ "$dep_arch" != "$arch" ]; then continue; fi
    case "/$file/" in
      */../* | */./*)
        echo "build.sh: buildpack.toml: file:$file is not a plain path inside the buildpack" >&2
        return 1
        ;;
    esac
    mkdir -p "$2/$(dirname "$file")"
    cp "$file" "$2/$file"
    chmod 0644 "$2/$file"
    copied=$((copied + 1))
  done < <(dependency_files)
  echo "build.sh: $1 -> $copied dependency archives in $2/"
}

for target in "${targets[@]}"; do
  bin="$(out_dir "$target")/bin"
  mkdir -p "$bin"
  if [ "$use_go" -eq 1 ]; then
    install_go_binary "$target" "$bin"
  else
    cp scripts/sh/run "$bin/run"
  fi
  chmod 0755 "$bin/run" # cp keeps the source's mode, which a checkout may not have made executable
  ln -sfn run "$bin/build"
  ln -sfn run "$bin/detect"
  echo "build.sh: $target -> $bin/{run,build,detect} ($description)"
  copy_dependencies "$target" "$(out_dir "$target")"
done
