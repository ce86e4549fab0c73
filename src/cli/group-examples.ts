import type { Example } from "./help.js";

/** The examples of the commands that only group others (`polypack buildpack --help`, ...), and of `help`. */
export const GROUP_EXAMPLES: Readonly<Record<string, readonly Example[]>> = {
  manifest: [
    {
      does: "list the platforms of an index",
      run: "polypack manifest inspect registry.example.com/me/bp:1.0.0",
    },
    {
      does: "join per-architecture images into one index",
      run: "polypack manifest create registry.example.com/me/bp:1.0.0 registry.example.com/me/bp@sha256:1a… registry.example.com/me/bp@sha256:2b…",
    },
  ],
  buildpack: [
    {
      does: "make a new multi-arch buildpack in ./my-buildpack",
      run: "polypack buildpack new my-org/my-buildpack",
    },
    {
      does: "package it as one multi-arch .cnb",
      run: "polypack buildpack package my-buildpack.cnb --path ./my-buildpack --format file",
    },
  ],
  extension: [
    {
      does: "make a new multi-arch image extension in ./my-extension",
      run: "polypack extension new my-org/my-extension",
    },
    {
      does: "package it and push it to a registry",
      run: "polypack extension package registry.example.com/me/my-extension:1.0.0 --path ./my-extension --publish",
    },
  ],
  builder: [
    {
      does: "create a builder for amd64 and arm64 and push it",
      run: "polypack builder create registry.example.com/me/builder:1 --config builder.toml --publish",
    },
    {
      does: "one target per CI job, joined afterwards with manifest create",
      run: "polypack builder create registry.example.com/me/builder --config builder.toml --target linux/arm64 --publish --by-digest",
    },
  ],
  stack: [
    {
      does: "CNB build and run images for every platform of an upstream base image",
      run: "polypack stack create registry.example.com/me/build:1 registry.example.com/me/run:1 --from docker.io/library/debian:bookworm --publish",
    },
    {
      does: "join per-platform build and run images made elsewhere",
      run: "polypack stack publish registry.example.com/me/build:1 registry.example.com/me/run:1 --build oci:./build-amd64 --build oci:./build-arm64 --run oci:./run-amd64 --run oci:./run-arm64",
    },
  ],
  dependency: [
    {
      does: "the node dependency ./buildpack.toml installs here",
      run: "polypack dependency resolve --id node",
    },
    {
      does: "the same for linux/arm64",
      run: "CNB_TARGET_OS=linux CNB_TARGET_ARCH=arm64 polypack dependency resolve --id node",
    },
  ],
  help: [
    { does: "the help of buildpack package", run: "polypack help buildpack package" },
    { does: "the same", run: "polypack buildpack package --help" },
  ],
};
