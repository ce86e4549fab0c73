import assert from "node:assert/strict";
import { test } from "node:test";
import { isPolypackError } from "../../../src/errors/index.js";
import { Platform } from "../../../src/oci/platform.js";
import { parseDependencies } from "../../../src/buildpack/dependencies.js";
import { parseBuildpackToml } from "../../../src/buildpack/descriptor.js";
import { deprecationWarnings, resolveDependency } from "../../../src/buildpack/resolve.js";
import { makeTarget } from "../../../src/buildpack/targets.js";
import { paketo, type PaketoFixture } from "./paketo.js";

function load(name: PaketoFixture): ReturnType<typeof parseBuildpackToml> {
  return parseBuildpackToml(paketo(name), { version: "1.0.0" });
}

const linux = (arch: string): ReturnType<typeof makeTarget> => makeTarget({ os: "linux", arch });

const RESOLVE: {
  fixture: PaketoFixture;
  id: string;
  version: string;
  arch: string;
  stack?: string;
  expect: string;
  uri: RegExp;
}[] = [
  {
    fixture: "go-dist",
    id: "go",
    version: "1.25.*",
    arch: "arm64",
    expect: "1.25.14",
    uri: /go1\.25\.14\.linux-arm64\.tar\.gz$/,
  },
  { fixture: "go-dist", id: "go", version: "", arch: "amd64", expect: "1.25.14", uri: /linux-amd64/ },
  { fixture: "go-dist", id: "go", version: "default", arch: "arm64", expect: "1.25.14", uri: /linux-arm64/ },
  {
    fixture: "go-dist",
    id: "go",
    version: "~> 1.26",
    arch: "amd64",
    expect: "1.26.7",
    uri: /go1\.26\.7\.linux-amd64/,
  },
  {
    fixture: "go-dist",
    id: "go",
    version: "~> 1.25.13",
    arch: "arm64",
    expect: "1.25.14",
    uri: /linux-arm64/,
  },
  {
    fixture: "go-dist",
    id: "go",
    version: "1.25.13",
    arch: "amd64",
    expect: "1.25.13",
    uri: /go1\.25\.13\.linux-amd64/,
  },
  { fixture: "go-dist", id: "go", version: "*", arch: "aarch64", expect: "1.26.7", uri: /linux-arm64/ },
  {
    fixture: "go-dist",
    id: "go",
    version: ">= 1.25.14, < 1.26.7",
    arch: "arm64",
    expect: "1.26.6",
    uri: /linux-arm64/,
  },
  {
    fixture: "go-dist",
    id: "go",
    version: "1.25.*",
    arch: "amd64",
    stack: "io.buildpacks.stacks.jammy",
    expect: "1.25.14",
    uri: /linux-amd64/,
  },
  {
    fixture: "node-engine",
    id: "node",
    version: "",
    arch: "amd64",
    expect: "24.18.1",
    uri: /node-v24\.18\.1-linux-x64\.tar\.xz$/,
  },
  {
    fixture: "node-engine",
    id: "node",
    version: "~> 20",
    arch: "x86_64",
    expect: "20.20.2",
    uri: /linux-x64/,
  },
  {
    fixture: "node-engine",
    id: "node",
    version: "^22 || ^18",
    arch: "arm64",
    expect: "22.23.2",
    uri: /linux-arm64/,
  },
  {
    fixture: "bellsoft-liberica",
    id: "jdk",
    version: "17.*",
    arch: "arm64",
    expect: "17.0.19",
    uri: /bellsoft-jdk17\.0\.19\+\d+-linux-aarch64/,
  },
  {
    fixture: "bellsoft-liberica",
    id: "jre",
    version: "21.*",
    arch: "ppc64le",
    expect: "21.0.11",
    uri: /linux-ppc64le/,
  },
  {
    fixture: "bellsoft-liberica",
    id: "jdk",
    version: "8.*",
    arch: "amd64",
    expect: "8.0.492",
    uri: /jdk8u492.*linux-amd64/,
  },
];

for (const row of RESOLVE) {
  test(`resolves ${row.fixture} ${row.id} ${JSON.stringify(row.version)} for linux/${row.arch}`, () => {
    const d = load(row.fixture);
    const { dependency } = resolveDependency(d.metadata.dependencies, {
      id: row.id,
      version: row.version,
      stack: row.stack,
      target: linux(row.arch),
      defaultVersions: d.metadata.defaultVersions,
      now: new Date("2026-01-01T00:00:00Z"),
    });
    assert.equal(dependency.version, row.expect);
    assert.match(dependency.uri ?? "", row.uri);
  });
}

test("node-engine deprecation warnings at a fixed now", () => {
  const d = load("node-engine");
  const resolve = (version: string, now: string): string[] =>
    resolveDependency(d.metadata.dependencies, {
      id: "node",
      version,
      target: linux("amd64"),
      now: new Date(now),
    }).warnings.map((w) => `${w.kind}: ${w.message}`);
  assert.deepEqual(resolve("18.*", "2026-01-01T00:00:00Z"), [
    "deprecated: Version 18.20.8 of Node Engine is deprecated; migrate to a supported version.",
  ]);
  assert.deepEqual(resolve("20.*", "2026-04-15T00:00:00Z"), [
    "deprecated-soon: Version 20.20.2 of Node Engine will be deprecated after 2026-04-30.",
  ]);
  assert.deepEqual(resolve("20.*", "2026-03-01T00:00:00Z"), []);
  assert.deepEqual(resolve("24.*", "2026-04-15T00:00:00Z"), []);
});

test("deprecation boundaries: at the date, 29 and 31 days before", () => {
  const [dependency] = parseDependencies(
    'api = "0.10"\n[buildpack]\nid = "a"\nversion = "1"\n[[metadata.dependencies]]\nid = "x"\nversion = "1.0.0"\ndeprecation_date = 2026-05-01T00:00:00Z\n',
  );
  assert.ok(dependency);
  const day = 24 * 60 * 60 * 1000;
  const date = Date.parse("2026-05-01T00:00:00Z");
  assert.deepEqual(
    deprecationWarnings(dependency, new Date(date)).map((w) => w.kind),
    ["deprecated"],
  );
  assert.deepEqual(
    deprecationWarnings(dependency, new Date(date - 29 * day)).map((w) => w.kind),
    ["deprecated-soon"],
  );
  assert.deepEqual(deprecationWarnings(dependency, new Date(date - 31 * day)), []);
});

test("DEPENDENCY_NOT_FOUND lists the versions for the target and those only elsewhere", () => {
  const go = load("go-dist");
  assert.throws(
    () =>
      resolveDependency(go.metadata.dependencies, { id: "go", version: "1.27.*", target: linux("arm64") }),
    (e) =>
      isPolypackError(e, "DEPENDENCY_NOT_FOUND") &&
      e.message.includes('"1.27.*" for linux/arm64') &&
      e.message.includes("versions for linux/arm64: 1.26.7, 1.26.6, 1.25.14, 1.25.13") &&
      e.message.includes("only for other targets: none"),
  );
  const bellsoft = load("bellsoft-liberica");
  assert.throws(
    () =>
      resolveDependency(bellsoft.metadata.dependencies, {
        id: "jdk",
        version: "21.*",
        target: linux("s390x"),
      }),
    (e) =>
      isPolypackError(e, "DEPENDENCY_NOT_FOUND") &&
      e.message.includes("versions for linux/s390x: none") &&
      e.message.includes("21.0.11 (amd64, arm64, ppc64le)"),
  );
});

const HEAD = 'api = "0.10"\n[buildpack]\nid = "a"\nversion = "1"\n';
function deps(...entries: string[]): ReturnType<typeof parseDependencies> {
  return parseDependencies(HEAD + entries.map((e) => `[[metadata.dependencies]]\nid = "x"\n${e}\n`).join(""));
}

test("a version only for another target is named as such", () => {
  const list = deps(
    'version = "1.0.0"\narch = "amd64"',
    'version = "2.0.0"\narch = "amd64"',
    'version = "1.0.0"\narch = "arm64"',
  );
  assert.throws(
    () => resolveDependency(list, { id: "x", version: "2.*", target: linux("arm64") }),
    (e) =>
      isPolypackError(e, "DEPENDENCY_NOT_FOUND") &&
      e.message.includes("versions for linux/arm64: 1.0.0") &&
      e.message.includes("only for other targets: 2.0.0 (amd64)"),
  );
});

test("stacks: a specific stack beats * at the same version, a foreign stack never matches", () => {
  const list = deps(
    'version = "1.0.0"\nstacks = ["*"]\nuri = "wildcard"',
    'version = "1.0.0"\nstacks = ["io.buildpacks.stacks.jammy"]\nuri = "jammy"',
    'version = "3.0.0"\nstacks = ["io.buildpacks.stacks.noble"]\nuri = "noble"',
  );
  const pick = (stack?: string): string | undefined =>
    resolveDependency(list, { id: "x", version: "*", stack, target: linux("amd64") }).dependency.uri;
  assert.equal(pick("io.buildpacks.stacks.jammy"), "jammy");
  assert.equal(pick("io.buildpacks.stacks.bionic"), "wildcard");
  assert.equal(pick("io.buildpacks.stacks.noble"), "noble");
  assert.equal(pick(), "noble");
});

test("an architecture-specific entry beats a universal one at the same version; newest wins", () => {
  const list = deps(
    'version = "1.0.0"\nuri = "universal"',
    'version = "1.0.0"\narch = "arm64"\nuri = "arm64"',
    'version = "0.9.0"\narch = "amd64"',
  );
  assert.equal(resolveDependency(list, { id: "x", target: linux("arm64") }).dependency.uri, "arm64");
  assert.equal(resolveDependency(list, { id: "x", target: linux("amd64") }).dependency.uri, "universal");
  assert.equal(
    resolveDependency(list, { id: "x", target: new Platform({ os: "linux", architecture: "aarch64" }) })
      .dependency.uri,
    "arm64",
  );
});

test("an unreadable dependency version is reported by index", () => {
  const list = deps('version = "latest"');
  assert.throws(
    () => resolveDependency(list, { id: "x", target: linux("amd64") }),
    (e) =>
      isPolypackError(e, "DEPENDENCY_VERSION_INVALID") && e.message.includes("[[metadata.dependencies]][0]"),
  );
});
