import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { parse, TomlDate, type TomlTable } from "smol-toml";
import { offlineDependencyUri, rewriteBuildpackToml } from "../../../src/buildpack/dependencies-rewrite.js";
import { parseBuildpackToml } from "../../../src/buildpack/descriptor.js";
import { makeTarget, targetKey } from "../../../src/buildpack/targets.js";
import { exampleDir } from "../../integration/buildpack-package-support.js";
import { PAKETO_FIXTURES, paketo } from "./paketo.js";

function exact(text: string): TomlTable {
  return parse(text, { integersAsBigInt: true });
}

function dependenciesOf(document: TomlTable): TomlTable[] {
  const metadata = document["metadata"] as TomlTable;
  // A target left with no dependency gets no `dependencies` key at all.
  return (metadata["dependencies"] as TomlTable[] | undefined) ?? [];
}

function withoutDependencies(document: TomlTable): TomlTable {
  return {
    ...document,
    metadata: { ...(document["metadata"] as TomlTable), dependencies: "(compared apart)" },
  };
}

/** The architecture an entry names, read independently of the code under test. */
function archOf(entry: TomlTable): string | undefined {
  if (typeof entry["arch"] === "string") return entry["arch"];
  const purl = entry["purl"];
  return typeof purl === "string" ? /[?&]arch=([^&#]+)/.exec(purl)?.[1] : undefined;
}

for (const name of PAKETO_FIXTURES) {
  test(`rewrite keeps everything but the other targets' dependencies: ${name}`, () => {
    const text = paketo(name);
    const input = exact(text);
    const descriptor = parseBuildpackToml(text, { version: "1.0.0" });
    for (const target of descriptor.targets) {
      const output = exact(rewriteBuildpackToml(text, { target }));
      const expected = dependenciesOf(input).filter(
        (entry) => archOf(entry) === target.platform.architecture,
      );
      assert.deepStrictEqual(dependenciesOf(output), expected, targetKey(target));
      assert.deepStrictEqual(withoutDependencies(output), withoutDependencies(input), targetKey(target));
    }
    // Without a target nothing is dropped: the whole document survives a round trip.
    assert.deepStrictEqual(exact(rewriteBuildpackToml(text)), input);
  });
}

for (const name of PAKETO_FIXTURES) {
  test(`rewrite edits the text in place, keeping comments, layout and values byte for byte: ${name}`, () => {
    const text = paketo(name);
    assert.equal(rewriteBuildpackToml(text), text, "nothing to drop: the same text");
    const descriptor = parseBuildpackToml(text, { version: "1.0.0" });
    for (const target of descriptor.targets) {
      const lines = new Set(text.split("\n"));
      for (const line of rewriteBuildpackToml(text, { target }).split("\n")) {
        assert.ok(lines.has(line), `${targetKey(target)}: ${JSON.stringify(line)} comes from the input`);
      }
    }
  });
}

test("the leading licence comment survives", () => {
  assert.ok(rewriteBuildpackToml(paketo("bellsoft-liberica")).startsWith("# Copyright 2018-2020"));
});

const TYPED = `api = "0.10"
[buildpack]
id = "a/b"
version = "1.0.0"
[metadata]
ratio = 1.0
released = 2024-01-02
[metadata.nested]
note = """
two
lines"""
inline = { a = 1, b = [1, 2] }
[[metadata.dependencies]]
id = "x"
version = "1.0.0"
arch = "amd64"
deprecation_date = 2026-04-30T00:00:00Z
eol-date = 2027-01-01
strip-components = 1
[[metadata.dependencies]]
id = "x"
version = "1.0.0"
arch = "arm64"
deprecation_date = 2026-04-30T00:00:00Z
`;

test("datetimes stay datetimes, floats stay floats", () => {
  const out = rewriteBuildpackToml(TYPED, { target: makeTarget({ os: "linux", arch: "amd64" }) });
  assert.match(out, /^deprecation_date = 2026-04-30T00:00:00Z$/m);
  assert.match(out, /^eol-date = 2027-01-01$/m);
  assert.match(out, /^released = 2024-01-02$/m);
  assert.match(out, /^ratio = 1\.0$/m);
  const reparsed = exact(out);
  const [dep] = dependenciesOf(reparsed);
  assert.equal(dependenciesOf(reparsed).length, 1);
  assert.ok(dep?.["deprecation_date"] instanceof TomlDate && dep["deprecation_date"].isDateTime());
  assert.ok(dep["eol-date"] instanceof TomlDate && dep["eol-date"].isDate());
  assert.equal(dep["strip-components"], 1n);
  assert.deepStrictEqual(withoutDependencies(reparsed), withoutDependencies(exact(TYPED)));
});

test("offline packages: uri becomes file:///dependencies/<checksum hex>, added where missing", () => {
  const text = paketo("go-dist");
  const descriptor = parseBuildpackToml(text, { version: "1.0.0" });
  const out = exact(
    rewriteBuildpackToml(text, {
      target: descriptor.targets[1],
      uri: (d) => (d.checksum === undefined ? undefined : offlineDependencyUri(d.checksum)),
    }),
  );
  const inputArm = dependenciesOf(exact(text)).filter((e) => e["arch"] === "arm64");
  const outDeps = dependenciesOf(out);
  assert.equal(outDeps.length, inputArm.length);
  outDeps.forEach((entry, i) => {
    const original = inputArm[i]!;
    const hex = (original["checksum"] as string).replace("sha256:", "");
    assert.equal(entry["uri"], `file:///dependencies/${hex}`);
    assert.deepStrictEqual(Object.keys(entry), Object.keys(original));
    assert.deepStrictEqual({ ...entry, uri: null }, { ...original, uri: null });
  });

  const added = exact(rewriteBuildpackToml(TYPED, { uri: () => "file:///dependencies/abc" }));
  assert.deepEqual(
    dependenciesOf(added).map((e) => e["uri"]),
    ["file:///dependencies/abc", "file:///dependencies/abc"],
  );
});

test("text without dependencies comes back byte for byte", () => {
  const text = 'api = "0.10"\n# keep me\n[buildpack]\nid = "a/b"\nversion = "1"\n';
  assert.equal(rewriteBuildpackToml(text, { uri: () => "x" }), text);
});

test("datetimes, comments and spacing survive exactly, with only the other target's lines removed", () => {
  const text = [
    "# licence",
    'api = "0.10"',
    "[buildpack]",
    'id   = "a/b"  # aligned',
    'version = "1.0.0"',
    "[metadata]",
    "released = 1979-05-27T00:32:00.999999-07:00",
    "",
    "# amd64 first",
    "[[metadata.dependencies]]",
    '  id = "x"',
    '  version = "1.0.0"',
    '  arch = "amd64"',
    '  uri = "https://example.com/x-amd64.tgz"',
    '  checksum = "sha256:' + "a".repeat(64) + '"',
    "  deprecation_date = 2026-04-30 00:00:00Z",
    "  [[metadata.dependencies.licenses]]",
    '    type = "MIT"',
    "",
    "[[metadata.dependencies]]",
    '  id = "x"',
    '  version = "1.0.0"',
    '  arch = "arm64"',
    '  uri = "https://example.com/x-arm64.tgz"',
    '  checksum = "sha256:' + "b".repeat(64) + '"',
    "  [[metadata.dependencies.licenses]]",
    '    type = "MIT"',
    "",
    "[[order]]",
    "[[order.group]]",
    'id = "c/d"',
    "",
  ].join("\n");
  const amd64 = rewriteBuildpackToml(text, { target: makeTarget({ os: "linux", arch: "amd64" }) });
  const lines = text.split("\n");
  assert.equal(amd64, [...lines.slice(0, 19), ...lines.slice(28)].join("\n"));
  const arm64 = rewriteBuildpackToml(text, {
    target: makeTarget({ os: "linux", arch: "arm64" }),
    uri: (d) => offlineDependencyUri(d.checksum!),
  });
  // "# amd64 first" sits directly above the amd64 entry's header, so it leaves with that entry.
  const expected = [...lines.slice(0, 8), ...lines.slice(19)];
  expected[expected.indexOf('  uri = "https://example.com/x-arm64.tgz"')] =
    `  uri = "file:///dependencies/${"b".repeat(64)}"`;
  assert.equal(arm64, expected.join("\n"));
});

test("dependencies written as an inline array are written out again from their values", () => {
  const text = [
    'api = "0.10"',
    "[buildpack]",
    'id = "a/b"',
    'version = "1.0.0"',
    "[metadata]",
    'dependencies = [{ id = "x", version = "1", arch = "amd64" }, { id = "x", version = "1", arch = "arm64" }]',
    "",
  ].join("\n");
  const out = exact(rewriteBuildpackToml(text, { target: makeTarget({ os: "linux", arch: "arm64" }) }));
  assert.deepEqual(
    dependenciesOf(out).map((d) => d["arch"]),
    ["arm64"],
  );
});

/** The bundled example's buildpack.toml. */
function exampleToml(): string {
  return readFileSync(join(exampleDir(), "buildpack.toml"), "utf8");
}

/** The lines directly above the line equal to `header` that follows the line containing `after`. */
function commentAbove(text: string, after: string, header: string): string[] {
  const lines = text.split("\n");
  const at = lines.findIndex(
    (line, i) => line.trim() === header && lines.slice(0, i).join("\n").includes(after),
  );
  assert.ok(at >= 0, `${header} after ${after} not found`);
  const block: string[] = [];
  for (let row = at - 1; row >= 0 && lines[row]!.trim().startsWith("#"); row--)
    block.unshift(lines[row]!.trim());
  return block;
}

test("the example: each target's buildpack.toml keeps the comments above the entries it keeps", () => {
  const text = exampleToml();
  const docs = commentAbove(text, 'hello-runtime-1.1.0-linux-arm64.tgz"', "[[metadata.dependencies]]");
  assert.deepEqual(docs, ["# Architecture-independent: no os or arch, so it applies to every target."]);
  for (const arch of ["amd64", "arm64"]) {
    const out = rewriteBuildpackToml(text, { target: makeTarget({ os: "linux", arch }) });
    assert.deepEqual(commentAbove(out, "hello-runtime-1.1.0", "[[metadata.dependencies]]"), docs, arch);
    assert.equal(commentAbove(out, "hello-runtime-1.0.0", "[[metadata.dependencies]]").length, 0, arch);
    assert.match(out, /# Not a key any tool knows[^\n]*\n[^\n]*\n {2}\[metadata\.example-extra\]/, arch);
    assert.equal(out.split("#").length, text.split("#").length, `${arch}: no comment lost or added`);
  }
});

test("a comment block directly above a dependency header goes with that entry, never the one before", () => {
  // Each line is tagged with the entries it belongs to; "*" marks lines every target keeps.
  const tagged: [string, string][] = [
    ["*", 'api = "0.10"'],
    ["*", "[buildpack]"],
    ["*", 'id = "a/b"'],
    ["*", 'version = "1.0.0"'],
    ["*", "[metadata]"],
    ["amd64", "  # about amd64, line one"],
    ["amd64", "  # about amd64, line two"],
    ["amd64", "  [[metadata.dependencies]]"],
    ["amd64", '    id = "x"'],
    ["amd64", '    version = "1.0.0"'],
    ["amd64", '    arch = "amd64"'],
    ["arm64", "  # about arm64"],
    ["arm64", "  [[metadata.dependencies]]"],
    ["arm64", '    id = "x"'],
    ["arm64", '    version = "1.0.0"'],
    ["arm64", '    arch = "arm64"'],
    // Not directly above a header: it stays with the entry it follows.
    ["arm64", ""],
    ["arm64", "  # floating, a blank line away from the next header"],
    ["arm64", ""],
    ["ppc64le", "  # about ppc64le\r"],
    ["ppc64le", "  [[metadata.dependencies]]"],
    ["ppc64le", '    id = "x"'],
    ["ppc64le", '    version = "1.0.0"'],
    ["ppc64le", '    arch = "ppc64le"'],
    ["ppc64le", "    # inside the ppc64le entry, above its licences"],
    ["ppc64le", "    [[metadata.dependencies.licenses]]"],
    ["ppc64le", '      type = "MIT"'],
    ["*", "# about the targets"],
    ["*", "[[targets]]"],
    ["*", 'os = "linux"'],
    ["*", ""],
  ];
  const text = tagged.map(([, line]) => line).join("\n");
  for (const arch of ["amd64", "arm64", "ppc64le"]) {
    const expected = tagged
      .filter(([tag]) => tag === "*" || tag === arch)
      .map(([, line]) => line)
      .join("\n");
    const out = rewriteBuildpackToml(text, {
      target: makeTarget({ os: "linux", arch }),
      file: "hand-written.toml",
    });
    assert.equal(out, expected, arch);
  }
});
