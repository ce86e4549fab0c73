import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { cleanArchivePath, compareArchivePaths, readArchivePath } from "../../../src/layer/paths.js";
import { isPolypackError } from "../../../src/errors/index.js";

test("archive paths are cleaned to one relative form", () => {
  const cases: [string, string | undefined][] = [
    ["/cnb/buildpacks/x", "cnb/buildpacks/x"],
    ["./cnb//buildpacks/./x/", "cnb/buildpacks/x"],
    ["a/b/../c", "a/c"],
    ["/", ""],
    ["./", ""],
    ["..", undefined],
    ["a/../../b", undefined],
    ["/../etc/passwd", undefined],
  ];
  for (const [input, expected] of cases) assert.equal(cleanArchivePath(input), expected, input);
  assert.throws(
    () => readArchivePath("x/\0/y", "test"),
    (error) => isPolypackError(error, "PATH_ESCAPE"),
  );
});

const path = fc
  .array(fc.constantFrom("a", "b", "a-b", "a.b", "é", "Z", "a b"), { minLength: 1, maxLength: 4 })
  .map((s) => s.join("/"));

test("property: sorting puts every directory right before its own contents", () => {
  fc.assert(
    fc.property(fc.uniqueArray(path, { maxLength: 20 }), (paths) => {
      const sorted = [...paths].sort(compareArchivePaths);
      for (const [i, dir] of sorted.entries()) {
        const inside = sorted
          .map((other, j) => [other, j] as const)
          .filter(([other]) => other.startsWith(`${dir}/`));
        // Everything inside `dir` follows it, with nothing from outside in between.
        const indexes = inside.map(([, j]) => j);
        if (indexes.length > 0)
          assert.deepEqual(
            indexes,
            indexes.map((_, k) => i + 1 + k),
          );
      }
    }),
  );
});

test("property: the order is a total order (antisymmetric, consistent with equality)", () => {
  fc.assert(
    fc.property(path, path, (a, b) => {
      assert.equal(Math.sign(compareArchivePaths(a, b)) + Math.sign(compareArchivePaths(b, a)), 0);
      assert.equal(compareArchivePaths(a, b) === 0, a === b);
    }),
  );
});
