import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { isPolypackError } from "../../../src/errors/index.js";
import { parseChecksum, parseDependencies } from "../../../src/buildpack/dependencies.js";
import { filterDependencies, isArchitectureSpecific } from "../../../src/buildpack/dependencies-filter.js";
import { purlArchitecture } from "../../../src/buildpack/dependency-platform.js";
import { parseBuildpackToml } from "../../../src/buildpack/descriptor.js";
import { makeTarget } from "../../../src/buildpack/targets.js";
import { paketo } from "./paketo.js";

const HEAD = 'api = "0.10"\n[buildpack]\nid = "example/bp"\nversion = "1.0.0"\n';
const HEX64 = "ab".repeat(32);
const HEX128 = "cd".repeat(64);

function oneDependency(keys: string): ReturnType<typeof parseDependencies>[number] {
  const [dependency] = parseDependencies(
    `${HEAD}[[metadata.dependencies]]\nid = "x"\nversion = "1.0.0"\n${keys}\n`,
  );
  assert.ok(dependency);
  return dependency;
}

const DIALECTS: {
  name: string;
  keys: string;
  os: string;
  architecture: string;
  variant?: string;
  source: string;
}[] = [
  {
    name: "packit arch and os",
    keys: 'os = "linux"\narch = "arm64"',
    os: "linux",
    architecture: "arm64",
    source: "arch",
  },
  {
    name: "packit with an upstream name",
    keys: 'arch = "x64"',
    os: "",
    architecture: "amd64",
    source: "arch",
  },
  {
    name: "RFC architecture key",
    keys: 'os = "linux"\narchitecture = "aarch64"',
    os: "linux",
    architecture: "arm64",
    source: "architecture",
  },
  {
    name: "libpak purl",
    keys: 'purl = "pkg:generic/bellsoft-jdk@11.0.31?arch=arm64"',
    os: "",
    architecture: "arm64",
    source: "purl",
  },
  {
    name: "libpak purls",
    keys: 'purls = ["pkg:generic/jdk@11", "pkg:generic/jdk@11?arch=x86_64"]',
    os: "",
    architecture: "amd64",
    source: "purl",
  },
  {
    name: "purl without arch",
    keys: 'purl = "pkg:generic/go@go1.25?checksum=abc&download_url=https://x/y.tar.gz"',
    os: "",
    architecture: "",
    source: "none",
  },
  {
    name: "no architecture at all",
    keys: 'uri = "https://example.com/x.tgz"',
    os: "",
    architecture: "",
    source: "none",
  },
  {
    name: "armhf means arm/v7",
    keys: 'arch = "armhf"',
    os: "",
    architecture: "arm",
    variant: "v7",
    source: "arch",
  },
  {
    name: "keys that agree",
    keys: 'arch = "amd64"\npurl = "pkg:generic/x@1?arch=x86_64"',
    os: "",
    architecture: "amd64",
    source: "arch",
  },
];

for (const row of DIALECTS) {
  test(`dependency dialect: ${row.name}`, () => {
    const d = oneDependency(row.keys);
    assert.equal(d.os, row.os);
    assert.equal(d.architecture, row.architecture);
    assert.equal(d.variant, row.variant ?? "");
    assert.equal(d.architectureSource, row.source);
  });
}

test("architecture keys that disagree are refused where the second one is", () => {
  const toml = `${HEAD}[[metadata.dependencies]]\nid = "x"\nversion = "1.0.0"\narch = "amd64"\npurl = "pkg:generic/x@1?arch=arm64"\n`;
  assert.throws(
    () => parseDependencies(toml),
    (e) =>
      isPolypackError(e, "DEPENDENCY_INVALID") &&
      e.message.startsWith("buildpack.toml:9: [[metadata.dependencies]][0].purl:"),
  );
});

test("distros on a dependency", () => {
  const d = oneDependency('distros = [{ name = "ubuntu", version = "22.04" }]');
  assert.deepEqual(d.distros, [{ name: "ubuntu", version: "22.04" }]);
});

const CHECKSUMS: { keys: string; digest: string; key: string }[] = [
  { keys: `checksum = "sha256:${HEX64}"`, digest: `sha256:${HEX64}`, key: "checksum" },
  { keys: `checksum = "sha512:${HEX128}"`, digest: `sha512:${HEX128}`, key: "checksum" },
  { keys: `checksum = "${HEX64}"`, digest: `sha256:${HEX64}`, key: "checksum" },
  { keys: `checksum = "sha256:${HEX64.toUpperCase()}"`, digest: `sha256:${HEX64}`, key: "checksum" },
  { keys: `sha256 = "${HEX64}"`, digest: `sha256:${HEX64}`, key: "sha256" },
  {
    keys: `checksum = "sha512:${HEX128}"\nsha256 = "${"ef".repeat(32)}"`,
    digest: `sha256:${"ef".repeat(32)}`,
    key: "sha256",
  },
];

test("checksums: sha256/sha512 prefixes, bare hex, the legacy sha256 key winning as in packit", () => {
  for (const row of CHECKSUMS) {
    const d = oneDependency(row.keys);
    assert.equal(d.checksum?.toString(), row.digest, row.keys);
    assert.equal(d.checksumKey, row.key, row.keys);
  }
  assert.equal(oneDependency('uri = "x"').checksum, undefined);
  for (const bad of ["md5:abc", `sha256:${HEX64.slice(1)}`, `sha512:${HEX64}`, "zz"])
    assert.equal(parseChecksum(bad), undefined, bad);
});

test("every original key is kept, unknown ones included, and deprecation dates are read", () => {
  const d = oneDependency(
    'strip-components = 1\ncpe = "cpe:2.3:a:x"\nx-vendor-note = "kept"\nlicenses = [{ type = "MIT", uri = "u" }]\ndeprecation_date = 2026-04-30T00:00:00Z',
  );
  assert.equal(d.raw["strip-components"], 1);
  assert.equal(d.raw["x-vendor-note"], "kept");
  assert.ok(Array.isArray(d.raw["licenses"]));
  assert.equal(d.deprecationDate?.toISOString(), "2026-04-30T00:00:00.000Z");
  assert.equal(
    oneDependency('deprecation_date = "2025-04-30T00:00:00Z"').deprecationDate?.toISOString(),
    "2025-04-30T00:00:00.000Z",
  );
  assert.throws(
    () => oneDependency('deprecation_date = "soon"'),
    (e) => isPolypackError(e, "DEPENDENCY_INVALID"),
  );
});

test("purlArchitecture reads the arch qualifier only", () => {
  assert.equal(purlArchitecture("pkg:generic/jdk@11?arch=arm64&os=linux"), "arm64");
  assert.equal(purlArchitecture("pkg:generic/jdk@11?os=linux#sub/arch=x"), undefined);
  assert.equal(purlArchitecture("pkg:generic/jdk@11"), undefined);
});

test("go-dist: filtering to linux/arm64 keeps the four arm64 entries", () => {
  const d = parseBuildpackToml(paketo("go-dist"), { version: "1.0.0" });
  const arm64 = filterDependencies(d, makeTarget({ os: "linux", arch: "arm64" }));
  assert.deepEqual(
    arm64.map((dep) => dep.version),
    ["1.25.13", "1.25.14", "1.26.6", "1.26.7"],
  );
  assert.ok(arm64.every((dep) => dep.uri?.endsWith("linux-arm64.tar.gz")));
});

test("node-engine: amd64 entries are the ones with x64 in their URIs", () => {
  const d = parseBuildpackToml(paketo("node-engine"), { version: "1.0.0" });
  const amd64 = filterDependencies(d, makeTarget({ os: "linux", arch: "amd64" }));
  assert.equal(amd64.length, 10);
  assert.ok(amd64.every((dep) => dep.uri?.includes("-linux-x64.")));
});

test("bellsoft-liberica: the purl decides, s390x gets nothing", () => {
  const d = parseBuildpackToml(paketo("bellsoft-liberica"), { version: "1.0.0" });
  const counts = ["amd64", "arm64", "ppc64le", "s390x"].map(
    (arch) => filterDependencies(d, makeTarget({ os: "linux", arch })).length,
  );
  assert.deepEqual(counts, [16, 16, 12, 0]);
  const arm64 = filterDependencies(d, makeTarget({ os: "linux", arch: "arm64" }));
  assert.ok(arm64.every((dep) => dep.uri?.includes("aarch64")));
});

const ARCH_SPELLINGS: Record<string, string[]> = {
  amd64: ["amd64", "x86_64", "x64"],
  arm64: ["arm64", "aarch64"],
  ppc64le: ["ppc64le", "ppc64el"],
  s390x: ["s390x"],
};

test("property: filtering to each target then merging gives every architecture-specific dependency exactly once", () => {
  const arches = Object.keys(ARCH_SPELLINGS);
  const dependency = fc.record({
    arch: fc.option(fc.constantFrom(...arches), { nil: undefined }),
    dialect: fc.constantFrom("arch", "architecture", "purl"),
    spelling: fc.nat(2),
  });
  fc.assert(
    fc.property(
      fc.subarray(arches, { minLength: 1 }),
      fc.array(dependency, { maxLength: 12 }),
      (targets, deps) => {
        const used = deps.map((d) => ({
          ...d,
          arch: d.arch !== undefined && targets.includes(d.arch) ? d.arch : undefined,
        }));
        const entries = used.map((d, i) => {
          const names = d.arch === undefined ? [] : (ARCH_SPELLINGS[d.arch] ?? []);
          const name = names[d.spelling % names.length];
          const key =
            name === undefined
              ? ""
              : d.dialect === "purl"
                ? `purl = "pkg:generic/x@1.0.${i}?arch=${name}"`
                : `${d.dialect} = "${name}"`;
          return `[[metadata.dependencies]]\nid = "x"\nversion = "1.0.${i}"\n${key}\n`;
        });
        const toml = `${HEAD}${entries.join("")}${targets.map((t) => `[[targets]]\nos = "linux"\narch = "${t}"\n`).join("")}`;
        const descriptor = parseBuildpackToml(toml);
        const merged = descriptor.targets.flatMap((target) => filterDependencies(descriptor, target));
        for (const dep of descriptor.metadata.dependencies) {
          const times = merged.filter((m) => m.index === dep.index).length;
          assert.equal(times, isArchitectureSpecific(dep) ? 1 : targets.length);
        }
      },
    ),
  );
});
