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
  const byDigest = chooseOutput("127.0.0.1:5000/bp/hello:1.0", {
    format: "image",
    publish: true,
    byDigest: true,
  });
  assert.deepEqual(byDigest.kind === "registry" && byDigest.tags, []);
});

test("a NAME ending in .cnb, with no other output flag, is that file", () => {
  const choice = chooseOutput("dist/hello.cnb", {});
  assert.equal(choice.kind, "file");
  assert.equal(choice.kind === "file" && choice.path, "dist/hello.cnb");
  // Anything else still has to say where the package goes.
  assert.throws(
    () => chooseOutput("hello", {}),
    (e) => isPolypackError(e, "OUTPUT_REQUIRED"),
  );
});

test("contradictory or missing output flags are typed errors", () => {
  const cases: [string, Parameters<typeof chooseOutput>[1], ErrorCode][] = [
    ["hello", {}, "OUTPUT_REQUIRED"],
    ["hello", { format: "layout" }, "OUTPUT_REQUIRED"],
    ["hello", { format: "tarball", output: "x" }, "FORMAT_INVALID"],
    ["hello", { format: "file", publish: true }, "FLAGS_CONFLICT"],
    ["hello", { output: "x.cnb", byDigest: true }, "FLAGS_CONFLICT"],
    ["127.0.0.1:5000/a/b", { publish: true, byDigest: true, tags: ["2"] }, "FLAGS_CONFLICT"],
    [
      "127.0.0.1:5000/a/b",
      { publish: true, byDigest: true, tags: ["127.0.0.1:5000/c/d:1"] },
      "FLAGS_CONFLICT",
    ],
    ["127.0.0.1:5000/a/b", { publish: true, tags: ["127.0.0.1:5001/a/b:1"] }, "TAG_INVALID"],
    [
      "127.0.0.1:5000/a/b",
      { publish: true, tags: ["127.0.0.1:5000/other/repo@sha256:" + "a".repeat(64)] },
      "TAG_INVALID",
    ],
    ["127.0.0.1:5000/a/b", { format: "image" }, "PUBLISH_REQUIRED"],
    ["127.0.0.1:5000/a/b", { format: "image", output: "x" }, "PUBLISH_REQUIRED"],
    ["hello", { format: "layout", output: "x", perTargetFiles: true }, "FLAGS_CONFLICT"],
    ["hello", { format: "file", archTags: true }, "FLAGS_CONFLICT"],
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

test("--format image without --publish is refused, naming the three ways that work", () => {
  assert.throws(
    () => chooseOutput("registry.example.com/me/bp:1", { format: "image" }),
    (e) =>
      isPolypackError(e, "PUBLISH_REQUIRED") &&
      /Docker daemon/.test(e.message) &&
      /--publish/.test(e.hint ?? "") &&
      /--format layout/.test(e.hint ?? "") &&
      /--format file/.test(e.hint ?? ""),
  );
});

test("--format file: NAME without .cnb gets it, as pack names the file; --output is kept as given", () => {
  assert.deepEqual(chooseOutput("my-buildpack", { format: "file" }), {
    kind: "file",
    path: "my-buildpack.cnb",
    refs: ["latest"],
  });
  assert.deepEqual(chooseOutput("out/bp.cnb", { format: "file" }), {
    kind: "file",
    path: "out/bp.cnb",
    refs: ["latest"],
  });
  assert.equal(chooseOutput("bp", { format: "file", output: "x.tar" }).kind === "file" && "x.tar", "x.tar");
});

test("--tag REPOSITORY:TAG in another repository of the same registry is pushed there (pack's --tag repo/image:tag)", () => {
  const choice = chooseOutput("127.0.0.1:5000/bp/hello:1.0", {
    publish: true,
    tags: ["stable", "127.0.0.1:5000/mirror/hello:1.0", "127.0.0.1:5000/bp/hello:1"],
  });
  assert.equal(choice.kind, "registry");
  if (choice.kind !== "registry") return;
  assert.deepEqual(choice.tags, ["1.0", "stable", "1"]);
  assert.deepEqual(
    choice.elsewhere.map((r) => `${r.registry}/${r.repository}:${r.tag}`),
    ["127.0.0.1:5000/mirror/hello:1.0"],
  );
});
