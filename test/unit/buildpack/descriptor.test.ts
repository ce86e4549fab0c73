import assert from "node:assert/strict";
import { test } from "node:test";
import { isPolypackError, type ErrorCode } from "../../../src/errors/index.js";
import {
  checkDescriptor,
  parseBuildpackToml,
  parseExtensionToml,
} from "../../../src/buildpack/descriptor.js";
import { targetKey } from "../../../src/buildpack/targets.js";
import { paketo } from "./paketo.js";

/** The 1-based line of the first line containing `needle`. */
function lineOf(text: string, needle: string, from = 0): number {
  const index = text.indexOf(needle, from);
  assert.ok(index >= 0, `${needle} not in text`);
  return text.slice(0, index).split("\n").length;
}

test("reads go-dist: info, stacks, targets and metadata", () => {
  const d = parseBuildpackToml(paketo("go-dist"), { version: "1.2.3" });
  assert.equal(d.kind, "buildpack");
  assert.equal(d.api, "0.7");
  assert.equal(d.info.id, "paketo-buildpacks/go-dist");
  assert.equal(d.info.version, "1.2.3");
  assert.deepEqual(d.info.keywords, ["go", "distribution", "compiler"]);
  assert.equal(d.info.licenses[0]?.type, "Apache-2.0");
  assert.equal(d.info.sbomFormats.length, 3);
  assert.deepEqual(d.stacks, [{ id: "*", mixins: [] }]);
  assert.deepEqual(d.targets.map(targetKey), ["linux/amd64", "linux/arm64"]);
  assert.deepEqual(d.metadata.defaultVersions, { go: "1.25.*" });
  assert.deepEqual(d.metadata.dependencyConstraints, [
    { id: "go", constraint: "1.25.*", patches: 2 },
    { id: "go", constraint: "1.26.*", patches: 2 },
  ]);
  assert.equal(d.metadata.includeFiles.length, 7);
  assert.match(d.metadata.prePackage ?? "", /build\.sh/);
  assert.equal(d.metadata.dependencies.length, 8);
});

test("reads node-engine and bellsoft-liberica with a version supplied at package time", () => {
  const node = parseBuildpackToml(paketo("node-engine"), { version: "5.0.0" });
  assert.equal(node.api, "0.10");
  assert.equal(node.metadata.dependencies.length, 20);
  const bellsoft = parseBuildpackToml(paketo("bellsoft-liberica"), { version: "11.0.0" });
  assert.deepEqual(bellsoft.targets.map(targetKey), [
    "linux/amd64",
    "linux/arm64",
    "linux/ppc64le",
    "linux/s390x",
  ]);
  assert.equal(bellsoft.metadata.dependencies.length, 44);
  // Unknown [metadata] tables stay available as written.
  assert.ok(Array.isArray(bellsoft.metadata.table["configurations"]));
});

test("a missing or templated version is refused at its line unless one is supplied", () => {
  const go = paketo("go-dist");
  assert.throws(
    () => parseBuildpackToml(go),
    (e) =>
      isPolypackError(e, "BUILDPACK_VERSION_MISSING") &&
      e.message.startsWith(`buildpack.toml:${lineOf(go, "[buildpack]")}: [buildpack].version:`),
  );
  const bellsoft = paketo("bellsoft-liberica");
  assert.throws(
    () => parseBuildpackToml(bellsoft),
    (e) =>
      isPolypackError(e, "BUILDPACK_VERSION_MISSING") &&
      e.message.startsWith(
        `buildpack.toml:${lineOf(bellsoft, 'version = "{{.version}}"')}: [buildpack].version:`,
      ) &&
      e.message.includes("{{.version}}"),
  );
});

const HEAD = 'api = "0.10"\n\n[buildpack]\n  id = "example/bp"\n  version = "1.0.0"\n';

const BAD: { name: string; toml: string; code: ErrorCode; needle: string; key: string; file?: string }[] = [
  {
    name: "syntax",
    toml: 'api = "0.10"\n[buildpack\nid = "x"\n',
    code: "BUILDPACK_TOML_INVALID",
    needle: "[buildpack",
    key: "invalid TOML",
  },
  {
    name: "missing id",
    toml: 'api = "0.10"\n[buildpack]\nversion = "1"\n',
    code: "BUILDPACK_ID_INVALID",
    needle: "[buildpack]",
    key: "[buildpack].id",
  },
  {
    name: "missing version",
    toml: 'api = "0.10"\n[buildpack]\nid = "a/b"\n',
    code: "BUILDPACK_VERSION_MISSING",
    needle: "[buildpack]",
    key: "[buildpack].version",
  },
  {
    name: "underscore in id",
    toml: 'api = "0.10"\n[buildpack]\nversion = "1"\nid = "my_bp"\n',
    code: "BUILDPACK_ID_INVALID",
    needle: "id =",
    key: "[buildpack].id",
  },
  {
    name: "reserved id",
    toml: 'api = "0.10"\n[buildpack]\nid = "sbom"\nversion = "1"\n',
    code: "BUILDPACK_ID_INVALID",
    needle: "id =",
    key: "[buildpack].id",
  },
  ...[
    ["'..' id", '".."'],
    ["'.' id", '"."'],
    ["'..' segment in an id", '"a/../lifecycle"'],
    ["'.' segment in an id", '"a/./b"'],
    ["leading '/' in an id", '"/a"'],
    ["trailing '/' in an id", '"a/"'],
    ["'//' in an id", '"a//b"'],
  ].map(([name, id]) => ({
    name: name!,
    toml: `api = "0.10"\n[buildpack]\nversion = "lifecycle"\nid = ${id}\n`,
    code: "BUILDPACK_ID_INVALID" as const,
    needle: "id =",
    key: "[buildpack].id: invalid id",
  })),
  ...[
    ["'..' version", '".."'],
    ["'.' version", '"."'],
    ["'/' in a version", '"1.0/../../lifecycle"'],
    ["a version that is a path", '"a/b"'],
    ["a control character in a version", '"1.0\\u0000"'],
  ].map(([name, version]) => ({
    name: name!,
    toml: `api = "0.10"\n[buildpack]\nid = "a/b"\nversion = ${version}\n`,
    code: "BUILDPACK_VERSION_INVALID" as const,
    needle: "version =",
    key: "[buildpack].version: invalid version",
  })),
  {
    name: "'..' id in an order group",
    toml: `${HEAD}[[order]]\n[[order.group]]\nid = "a"\n[[order.group]]\nid = ".."\nversion = "lifecycle"\n`,
    code: "BUILDPACK_ID_INVALID",
    needle: 'id = ".."',
    key: "[[order]][0].group[1].id: invalid id",
  },
  {
    name: "'..' version in an order group",
    toml: `${HEAD}[[order]]\n[[order.group]]\nid = "a"\nversion = ".."\n`,
    code: "BUILDPACK_VERSION_INVALID" as const,
    needle: 'version = ".."',
    key: "[[order]][0].group[0].version: invalid version",
  },
  {
    name: "api pack never had",
    toml: 'api = "0.13"\n[buildpack]\nid = "a"\nversion = "1"\n',
    code: "BUILDPACK_API_UNSUPPORTED",
    needle: "api",
    key: "api:",
  },
  {
    name: "order with targets",
    toml: `${HEAD}[[targets]]\nos = "linux"\n\n[[order]]\n[[order.group]]\nid = "x"\n`,
    code: "BUILDPACK_ORDER_CONFLICT",
    needle: "[[order]]",
    key: "[[order]][0]",
  },
  {
    name: "order with stacks",
    toml: `${HEAD}[[order]]\n[[order.group]]\nid = "x"\n[[stacks]]\nid = "*"\n`,
    code: "BUILDPACK_ORDER_CONFLICT",
    needle: "[[order]]",
    key: "[[order]][0]",
  },
  {
    name: "unknown arch",
    toml: `${HEAD}[[targets]]\nos = "linux"\narch = "amd64"\n[[targets]]\nos = "linux"\narch = "armz"\n`,
    code: "BUILDPACK_TARGET_INVALID",
    needle: 'arch = "armz"',
    key: '[[targets]][1].arch: unknown architecture "armz"',
  },
  {
    name: "unknown os",
    toml: `${HEAD}[[targets]]\nos = "beos"\n`,
    code: "BUILDPACK_TARGET_INVALID",
    needle: 'os = "beos"',
    key: "[[targets]][0].os",
  },
  {
    name: "duplicate after normalisation",
    toml: `${HEAD}[[targets]]\nos = "linux"\narch = "amd64"\n\n[[targets]]\nos = "linux"\narch = "x86_64"\n`,
    code: "BUILDPACK_TARGET_DUPLICATE",
    needle: '[[targets]]\nos = "linux"\narch = "x86_64"',
    key: "[[targets]][1]",
  },
  {
    name: "duplicate through arch-variant",
    toml: `${HEAD}[[targets]]\nos = "linux"\narch = "arm"\narch-variant = "v6"\n[[targets]]\nos = "linux"\narch = "armel"\n`,
    code: "BUILDPACK_TARGET_DUPLICATE",
    needle: '[[targets]]\nos = "linux"\narch = "armel"',
    key: "[[targets]][1]",
  },
  {
    name: "variant spellings disagree",
    toml: `${HEAD}[[targets]]\nos = "linux"\narch = "arm"\nvariant = "v7"\narch-variant = "v6"\n`,
    code: "BUILDPACK_TARGET_INVALID",
    needle: "arch-variant",
    key: "[[targets]][0].arch-variant",
  },
  {
    name: "wrong type",
    toml: 'api = "0.10"\n[buildpack]\nid = "a"\nversion = "1"\nkeywords = "go"\n',
    code: "BUILDPACK_TOML_INVALID",
    needle: "keywords",
    key: "[buildpack].keywords: expected an array of strings",
  },
  {
    name: "dependency without version",
    toml: `${HEAD}[metadata]\n[[metadata.dependencies]]\nid = "go"\n`,
    code: "DEPENDENCY_INVALID",
    needle: "[[metadata.dependencies]]",
    key: "[[metadata.dependencies]][0].version",
  },
  {
    name: "bad checksum",
    toml: `${HEAD}[[metadata.dependencies]]\nid = "go"\nversion = "1.0.0"\nchecksum = "md5:abc"\n`,
    code: "DEPENDENCY_INVALID",
    needle: "checksum",
    key: "[[metadata.dependencies]][0].checksum",
  },
  {
    name: "dependency arch unknown",
    toml: `${HEAD}[[metadata.dependencies]]\nid = "go"\nversion = "1.0.0"\n[[metadata.dependencies]]\nid = "go"\nversion = "1.0.0"\narch = "sparc9"\n`,
    code: "DEPENDENCY_INVALID",
    needle: "sparc9",
    key: "[[metadata.dependencies]][1].arch",
  },
  {
    name: "file name in message",
    file: "examples/go/buildpack.toml",
    toml: 'api = "0.10"\n[buildpack]\nid = "a"\n',
    code: "BUILDPACK_VERSION_MISSING",
    needle: "[buildpack]",
    key: "[buildpack].version",
  },
];

for (const row of BAD) {
  test(`refuses buildpack.toml: ${row.name}`, () => {
    const file = row.file ?? "buildpack.toml";
    const line = lineOf(row.toml, row.needle);
    assert.throws(
      () => parseBuildpackToml(row.toml, { file }),
      (e) => {
        assert.ok(isPolypackError(e, row.code), `expected ${row.code}, got ${String(e)}`);
        assert.ok(e.message.startsWith(`${file}:${line}: `), e.message);
        assert.ok(e.message.includes(row.key), e.message);
        return true;
      },
    );
  });
}

test("checkDescriptor collects every problem; parse throws the first and counts the rest", () => {
  const toml = `api = "0.99"\n[buildpack]\nid = "app"\n[[targets]]\narch = "armz"\n`;
  const check = checkDescriptor(toml, "buildpack");
  assert.deepEqual(
    check.problems.map((p) => p.code),
    [
      "BUILDPACK_TARGET_INVALID",
      "BUILDPACK_API_UNSUPPORTED",
      "BUILDPACK_ID_INVALID",
      "BUILDPACK_VERSION_MISSING",
    ],
  );
  assert.throws(
    () => parseBuildpackToml(toml),
    (e) => isPolypackError(e, "BUILDPACK_TARGET_INVALID") && /3 more problems/.test(e.hint ?? ""),
  );
});

test("reads both variant spellings, distros and os.version", () => {
  const d = parseBuildpackToml(
    `${HEAD}[[targets]]\nos = "linux"\narch = "arm"\narch-variant = "v6"\n` +
      `[[targets]]\nos = "linux"\narch = "arm64"\n[[targets.distros]]\nname = "ubuntu"\nversion = "24.04"\n`,
  );
  assert.deepEqual(d.targets.map(targetKey), ["linux/arm/v6", "linux/arm64 (ubuntu@24.04)"]);
  assert.equal(d.targets[1]?.platform.osVersion, "24.04");
  assert.equal(d.targets[0]?.platform.osVersion, "");
});

test("reads a composite buildpack's order and an extension", () => {
  const composite = parseBuildpackToml(
    `${HEAD}[[order]]\n[[order.group]]\nid = "a/one"\nversion = "1.0.0"\n[[order.group]]\nid = "a/two"\noptional = true\n`,
  );
  assert.deepEqual(composite.order, [
    {
      group: [
        { id: "a/one", version: "1.0.0", optional: false },
        { id: "a/two", version: undefined, optional: true },
      ],
    },
  ]);
  const extension = parseExtensionToml(
    'api = "0.9"\n[extension]\nid = "tree"\nversion = "0.0.1"\n[[targets]]\nos = "linux"\n',
  );
  assert.equal(extension.kind, "extension");
  assert.equal(extension.info.id, "tree");
  assert.throws(
    () => parseExtensionToml('api = "0.8"\n[extension]\nid = "tree"\nversion = "1"\n'),
    (e) => isPolypackError(e, "BUILDPACK_API_UNSUPPORTED") && e.message.startsWith("extension.toml:1: api:"),
  );
  assert.throws(
    () =>
      parseExtensionToml(
        'api = "0.10"\n[extension]\nid = "t"\nversion = "1"\n[[order]]\n[[order.group]]\nid = "x"\n',
      ),
    (e) =>
      isPolypackError(e, "BUILDPACK_ORDER_CONFLICT") &&
      e.message.startsWith("extension.toml:5: [[order]][0]:"),
  );
});

test("old Buildpack APIs and a missing api are read as pack reads them, each with a warning", () => {
  for (const api of ["0.2", "0.6"]) {
    const check = checkDescriptor(`api = "${api}"\n[buildpack]\nid = "a"\nversion = "1"\n`, "buildpack");
    assert.deepEqual(check.problems, []);
    assert.equal(check.descriptor?.api, api);
    assert.match(
      check.descriptor?.warnings?.join("\n") ?? "",
      new RegExp(`Buildpack API ${api} is deprecated`),
    );
  }
  const missing = checkDescriptor(`[buildpack]\nid = "a"\nversion = "1"\n`, "buildpack");
  assert.deepEqual(missing.problems, []);
  assert.equal(missing.descriptor?.api, "0.1");
  assert.match(
    missing.descriptor?.warnings?.join("\n") ?? "",
    /no api given; reading it as Buildpack API 0\.1/,
  );
  // Extensions arrived with 0.9: nothing older is accepted for them.
  const extension = checkDescriptor(`api = "0.6"\n[extension]\nid = "a"\nversion = "1"\n`, "extension");
  assert.deepEqual(
    extension.problems.map((p) => p.code),
    ["BUILDPACK_API_UNSUPPORTED"],
  );
});

test("keys pack does not read are named in a warning, [metadata] and sbom-formats excepted", () => {
  const check = checkDescriptor(
    `api = "0.10"\nextra = 1\n[buildpack]\nid = "a"\nversion = "1"\nsbom-formats = []\ncolour = "x"\n` +
      `[[targets]]\nos = "linux"\narch = "amd64"\nflavour = "y"\n[metadata]\nanything = { goes = true }\n`,
    "buildpack",
  );
  assert.deepEqual(check.problems, []);
  assert.deepEqual(check.descriptor?.warnings, [
    "buildpack.toml: ignoring keys pack does not read: extra, buildpack.colour, targets.flavour",
  ]);
});

test("a misspelt key or table is named with the key it most likely means", () => {
  const check = checkDescriptor(
    `api = "0.10"\n[buildpack]\nid = "a"\nversion = "1"\nhompage = "x"\n` +
      `[[target]]\nos = "linux"\narch = "amd64"\n[[targets]]\nos = "linux"\narhc = "arm64"\n` +
      `[metadata]\nprepackage = "./build.sh"\ninclude-files = ["bin"]\n`,
    "buildpack",
  );
  assert.deepEqual(check.problems, []);
  assert.deepEqual(check.descriptor?.warnings, [
    "buildpack.toml: ignoring keys pack does not read: buildpack.hompage (did you mean buildpack.homepage?), " +
      "target (did you mean targets?), targets.arhc (did you mean targets.arch?)",
    "buildpack.toml: [metadata] prepackage is not read; did you mean pre-package?",
  ]);
  // A misspelt [buildpack] table: the message says so, and the hint shows the table to add.
  const missing = checkDescriptor(`api = "0.10"\n[buildpak]\nid = "a"\nversion = "1"\n`, "buildpack");
  assert.equal(missing.problems[0]?.code, "BUILDPACK_ID_INVALID");
  assert.match(
    missing.problems[0].message,
    /missing the \[buildpack\] table .*\[buildpak\] looks like a misspelling/,
  );
  assert.match(missing.problems[0].hint ?? "", /add \[buildpack\] with id = /);
});
