/**
 * What pack refuses, polypack refuses too, naming the file and key: unknown package.toml keys,
 * --config with --path, and composites whose order and dependencies do not fit together (pack's
 * validateBuildpacks and resolvedStacks).
 */
import assert from "node:assert/strict";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import { parsePackageToml } from "../../../src/buildpack/package-config.js";
import { isPolypackError, type ErrorCode } from "../../../src/errors/index.js";
import { includeCompositeLayers } from "../../../src/package/composite.js";
import { packageBuildpack } from "../../../src/package/package.js";
import { tempDir } from "../../support/tmp.js";
import { buildpackToml, script, writeTree } from "./helpers.js";

function rejects(code: ErrorCode, pattern?: RegExp) {
  return (error: unknown): boolean => {
    assert.ok(isPolypackError(error, code), `expected ${code}, got ${String(error)}`);
    if (pattern) assert.match(error.message, pattern);
    return true;
  };
}

test("unknown package.toml keys and tables are refused, as pack refuses them", () => {
  assert.throws(
    () => parsePackageToml('[buildpack]\nurl = "."\n\n[extras]\nx = 1\n', { file: "my/package.toml" }),
    rejects(
      "PACKAGE_TOML_INVALID",
      /^my\/package\.toml:2: .*unknown configuration elements 'buildpack\.url' \(did you mean 'buildpack\.uri'\?\), 'extras'/,
    ),
  );
  assert.doesNotThrow(() =>
    parsePackageToml(
      '[buildpack]\nuri = "."\n[[dependencies]]\nimage = "x"\n[platform]\nos = "linux"\n[[targets]]\nos = "linux"\narch = "arm64"\n',
    ),
  );
});

test("--config together with --path is FLAGS_CONFLICT", async () => {
  await assert.rejects(
    packageBuildpack({ path: ".", config: "package.toml", dryRun: true }),
    rejects("FLAGS_CONFLICT", /--config package\.toml .* --path \./),
  );
});

/** A composite over child folders, packaged into a layout with their layers. */
async function packageComposite(order: string, children: Record<string, string>): Promise<unknown> {
  const work = await tempDir("polypack-pack-validation-");
  for (const [name, extra] of Object.entries(children)) {
    await writeTree(
      {
        "buildpack.toml": buildpackToml(extra, `example/${name}`, "1.0.0"),
        "bin/build": script("echo build"),
        "bin/detect": script("echo detect"),
      },
      join(work, name),
    );
  }
  await writeTree({ "buildpack.toml": buildpackToml(order, "example/composite", "2.0.0") }, join(work, "c"));
  const config = join(work, "package.toml");
  await writeFile(
    config,
    `[buildpack]\nuri = "c"\n\n${Object.keys(children)
      .map((name) => `[[dependencies]]\nuri = "${name}"\n`)
      .join("\n")}`,
  );
  return packageBuildpack({
    config,
    targets: ["linux/amd64"],
    destination: { kind: "layout", path: join(work, "out"), refs: [] },
    layerCache: false,
    include: (source, plan) =>
      includeCompositeLayers(source, plan, { openSource: () => Promise.reject(new Error("unused")) }),
  });
}

const group = (id: string, version?: string): string =>
  `[[order]]\n  [[order.group]]\n    id = "example/${id}"\n${version ? `    version = "${version}"\n` : ""}`;
const AMD64 = '[[targets]]\n  os = "linux"\n  arch = "amd64"\n';

test("an order entry without a version is COMPOSITE_ORDER_VERSION_MISSING", async () => {
  await assert.rejects(
    packageComposite(group("a"), { a: AMD64 }),
    rejects(
      "COMPOSITE_ORDER_VERSION_MISSING",
      /example\/composite@2\.0\.0: its order names example\/a without a version/,
    ),
  );
});

test("a dependency no order uses is COMPOSITE_DEPENDENCY_UNUSED", async () => {
  await assert.rejects(
    packageComposite(group("a", "1.0.0"), { a: AMD64, b: AMD64 }),
    rejects(
      "COMPOSITE_DEPENDENCY_UNUSED",
      /example\/b@1\.0\.0, from the dependencies of .*package\.toml, is not used/,
    ),
  );
});

test("dependencies without a common stack are COMPOSITE_STACKS_INCOMPATIBLE", async () => {
  const both = `${group("a", "1.0.0")}  [[order.group]]\n    id = "example/b"\n    version = "1.0.0"\n`;
  await assert.rejects(
    packageComposite(both, { a: '[[stacks]]\n  id = "stack.one"\n', b: '[[stacks]]\n  id = "stack.two"\n' }),
    rejects("COMPOSITE_STACKS_INCOMPATIBLE", /share no stack \(stack\.one; stack\.two\)/),
  );
});
