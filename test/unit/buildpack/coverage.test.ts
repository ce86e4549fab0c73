import assert from "node:assert/strict";
import { test } from "node:test";
import { isPolypackError } from "../../../src/errors/index.js";
import {
  assertCoverage,
  dependencyCoverage,
  detectDialect,
} from "../../../src/buildpack/dependencies-coverage.js";
import { filterDependencies } from "../../../src/buildpack/dependencies-filter.js";
import { parseBuildpackToml } from "../../../src/buildpack/descriptor.js";
import { targetKey } from "../../../src/buildpack/targets.js";
import { paketo } from "./paketo.js";

test("go-dist: every version on both targets, no issues", () => {
  const d = parseBuildpackToml(paketo("go-dist"), { version: "1.0.0" });
  const report = dependencyCoverage(d.metadata.dependencies, d.targets, { strict: true });
  assert.equal(report.dialect, "packit");
  assert.deepEqual(report.targets, ["linux/amd64", "linux/arm64"]);
  assert.deepEqual(report.issues, []);
  assert.deepEqual(
    report.dependencies.map((c) => [c.id, c.versions.map((v) => `${v.version}:${v.targets.length}`)]),
    [["go", ["1.25.13:2", "1.25.14:2", "1.26.6:2", "1.26.7:2"]]],
  );
  assert.doesNotThrow(() => assertCoverage(report));
});

test("bellsoft-liberica: targets without an id are warnings, errors when strict", () => {
  const d = parseBuildpackToml(paketo("bellsoft-liberica"), { version: "1.0.0" });
  const report = dependencyCoverage(d.metadata.dependencies, d.targets);
  assert.equal(report.dialect, "libpak");
  assert.match(report.explanation, /purl/);
  const missing = report.issues.filter((i) => i.kind === "missing-dependency");
  assert.deepEqual(missing.map((i) => `${i.target} ${i.dependencyId} ${i.severity}`).sort(), [
    "linux/ppc64le native-image-svm warning",
    "linux/s390x jdk warning",
    "linux/s390x jre warning",
    "linux/s390x native-image-svm warning",
  ]);
  assert.doesNotThrow(() => assertCoverage(report));
  const strict = dependencyCoverage(d.metadata.dependencies, d.targets, { strict: true });
  assert.equal(strict.issues.filter((i) => i.severity === "error").length, 4);
  assert.throws(
    () => assertCoverage(strict),
    (e) => isPolypackError(e, "DEPENDENCY_COVERAGE_INCOMPLETE"),
  );
});

const HEAD =
  'api = "0.10"\n[buildpack]\nid = "a/b"\nversion = "1"\n[[targets]]\nos = "linux"\narch = "amd64"\n[[targets]]\nos = "linux"\narch = "arm64"\n';

test("dialects: libpak entries without a purl are explained, mixed and none are named", () => {
  const libpak = parseBuildpackToml(
    `${HEAD}[[metadata.dependencies]]\nid = "jdk"\nversion = "1.0.0"\npurl = "pkg:generic/jdk@1?arch=amd64"\n` +
      `[[metadata.dependencies]]\nid = "helper"\nversion = "2.0.0"\n`,
  );
  const report = dependencyCoverage(libpak.metadata.dependencies, libpak.targets);
  assert.equal(report.dialect, "libpak");
  const dialectNotes = report.issues.filter((i) => i.kind === "dialect");
  assert.deepEqual(
    dialectNotes.map((i) => i.dependencyId),
    ["helper"],
  );
  assert.match(dialectNotes[0]?.message ?? "", /amd64 only/);
  // The universal helper reaches both targets; the amd64-only jdk leaves arm64 without a jdk.
  assert.deepEqual(
    report.issues.filter((i) => i.kind === "missing-dependency").map((i) => `${i.target} ${i.dependencyId}`),
    ["linux/arm64 jdk"],
  );

  const mixed = parseBuildpackToml(
    `${HEAD}[[metadata.dependencies]]\nid = "a"\nversion = "1.0.0"\narch = "amd64"\n` +
      `[[metadata.dependencies]]\nid = "a"\nversion = "1.0.0"\narchitecture = "arm64"\n`,
  );
  assert.equal(detectDialect(mixed.metadata.dependencies), "mixed");
  assert.equal(detectDialect([]), "none");
});

test("a target with some but not all versions gets a warning naming them, even under --strict", () => {
  const d = parseBuildpackToml(
    HEAD +
      ["1.0.0", "1.1.0", "2.0.0"]
        .map((v) => `[[metadata.dependencies]]\nid = "x"\nversion = "${v}"\narch = "amd64"\n`)
        .join("") +
      `[[metadata.dependencies]]\nid = "x"\nversion = "1.1.0"\narch = "arm64"\n`,
  );
  const report = dependencyCoverage(d.metadata.dependencies, d.targets, { strict: true });
  assert.deepEqual(report.issues, [
    {
      severity: "warning",
      kind: "missing-versions",
      dependencyId: "x",
      target: "linux/arm64",
      versions: ["1.0.0", "2.0.0"],
      message: 'target linux/arm64 lacks versions 1.0.0, 2.0.0 of dependency "x" that other targets have',
    },
  ]);
  for (const gap of report.issues) {
    const target = d.targets.find((t) => targetKey(t) === gap.target)!;
    const have = filterDependencies(d, target).map((dep) => dep.version);
    assert.ok((gap.versions ?? []).every((v) => !have.includes(v)));
  }
  assert.doesNotThrow(() => assertCoverage(report));
  assert.deepEqual(report.dependencies, [
    {
      id: "x",
      versions: [
        { version: "1.0.0", targets: ["linux/amd64"] },
        { version: "1.1.0", targets: ["linux/amd64", "linux/arm64"] },
        { version: "2.0.0", targets: ["linux/amd64"] },
      ],
    },
  ]);
});

test("entries no target gets are reported as unused", () => {
  const d = parseBuildpackToml(
    `${HEAD}[[metadata.dependencies]]\nid = "x"\nversion = "1.0.0"\narch = "riscv64"\n` +
      `[[metadata.dependencies]]\nid = "x"\nversion = "1.0.0"\n`,
  );
  const report = dependencyCoverage(d.metadata.dependencies, d.targets);
  assert.deepEqual(
    report.issues.map((i) => `${i.severity} ${i.kind} ${i.message}`),
    ['info unused dependency "x" 1.0.0 for */riscv64 matches no target and is left out'],
  );
});
