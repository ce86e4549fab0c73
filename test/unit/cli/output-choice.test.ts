import assert from "node:assert/strict";
import { test } from "node:test";
import { isPolypackError, type ErrorCode } from "../../../src/errors/index.js";
import { chooseOutput } from "../../../src/cli/output-choice.js";

test("--format file writes NAME (or --output) with NAME's tag or latest as ref", () => {
  assert.deepEqual(chooseOutput("out/hello.cnb", { format: "file" }), {
    kind: "file",
    path: "out/hello.cnb",
    refs: ["latest"],
  });
  assert.deepEqual(chooseOutput("hello:1.2", { output: "x.cnb", tags: ["stable"] }), {
    kind: "file",
    path: "x.cnb",
    refs: ["1.2", "stable"],
  });
  assert.deepEqual(chooseOutput("hello", { output: "dir" }), {
    kind: "layout",
    path: "dir",
    refs: ["latest"],
  });
});

test("--publish and --format image push NAME with all tags; --by-digest with none", () => {
  const pushed = chooseOutput("127.0.0.1:5000/bp/hello:1.0", {
    publish: true,
    tags: ["latest", "127.0.0.1:5000/bp/hello:1"],
  });
  assert.equal(pushed.kind, "registry");
  assert.deepEqual(pushed.kind === "registry" && pushed.tags, ["1.0", "latest", "1"]);
  const byDigest = chooseOutput("127.0.0.1:5000/bp/hello:1.0", { format: "image", byDigest: true });
  assert.deepEqual(byDigest.kind === "registry" && byDigest.tags, []);
});

test("contradictory or missing output flags are typed errors", () => {
  const cases: [string, Parameters<typeof chooseOutput>[1], ErrorCode][] = [
    ["hello", {}, "OUTPUT_REQUIRED"],
    ["hello", { format: "layout" }, "OUTPUT_REQUIRED"],
    ["hello", { format: "tarball", output: "x" }, "FORMAT_INVALID"],
    ["hello", { format: "file", publish: true }, "FLAGS_CONFLICT"],
    ["hello", { output: "x.cnb", byDigest: true }, "FLAGS_CONFLICT"],
    ["127.0.0.1:5000/a/b", { publish: true, tags: ["127.0.0.1:5000/other/repo:1"] }, "TAG_INVALID"],
    ["Not A Reference", { publish: true }, "REFERENCE_INVALID"],
  ];
  for (const [name, flags, code] of cases) {
    assert.throws(
      () => chooseOutput(name, flags),
      (e) => isPolypackError(e, code),
      `${name} ${JSON.stringify(flags)}`,
    );
  }
});
