import assert from "node:assert/strict";
import { test } from "node:test";
import { Output } from "../../../src/cli/output.js";
import { BUG_REPORT, PolypackError } from "../../../src/errors/index.js";

/** An Output writing into strings, as `--json` or not. */
function capture(json: boolean): { output: Output; stdout: () => string; stderr: () => string } {
  const out: string[] = [];
  const err: string[] = [];
  const stream = (into: string[]): NodeJS.WriteStream =>
    ({ isTTY: false, write: (text: string) => into.push(text) > 0 }) as unknown as NodeJS.WriteStream;
  return {
    output: new Output(json, stream(out), stream(err)),
    stdout: () => out.join(""),
    stderr: () => err.join(""),
  };
}

test("a user error: error[CODE], the catalogue's hint when the thrower gave none, exit 1, no bug report", () => {
  const { output, stderr } = capture(false);
  const status = output.error(new PolypackError("PATH_NOT_FOUND", "/nowhere is not a directory"));
  assert.equal(status, 1);
  assert.equal(
    stderr(),
    "error[PATH_NOT_FOUND]: /nowhere is not a directory\n" +
      "hint: check the path in the message (and, for a path from a file, what it is relative to)\n",
  );
});

test("a usage error exits 2 and keeps the --json shape { error: { code, message, hint } }", () => {
  const { output, stdout, stderr } = capture(true);
  const status = output.error(
    new PolypackError("FORMAT_INVALID", 'unknown --format "tarball"', { hint: "use file, layout or image" }),
  );
  assert.equal(status, 2);
  assert.deepEqual(JSON.parse(stdout()), {
    error: {
      code: "FORMAT_INVALID",
      message: 'unknown --format "tarball"',
      hint: "use file, layout or image",
    },
  });
  assert.match(
    stderr(),
    /^error\[FORMAT_INVALID\]: unknown --format "tarball"\nhint: use file, layout or image\n$/,
  );
});

test("an internal code exits 70 with the bug report and the cause's stack, even with a hint of its own", () => {
  const { output, stderr } = capture(false);
  const cause = new Error("the plan lost a file");
  const status = output.error(
    new PolypackError("DEPENDENCY_NOT_DOWNLOADED", "no downloaded file for dependency x", {
      cause,
      hint: "run with --offline again",
    }),
  );
  assert.equal(status, 70);
  assert.ok(stderr().includes(`hint: run with --offline again\n${BUG_REPORT}\n`), stderr());
  assert.ok(stderr().includes(cause.stack!), stderr());
});

test("anything else thrown is INTERNAL: exit 70, the bug report once, valid --json", () => {
  const { output, stdout, stderr } = capture(true);
  const status = output.error(new TypeError("undefined is not a function"));
  assert.equal(status, 70);
  const json = JSON.parse(stdout()) as { error: { code: string; message: string } };
  assert.equal(json.error.code, "INTERNAL");
  assert.equal(json.error.message, "TypeError: undefined is not a function");
  assert.equal(stderr().split(BUG_REPORT).length, 2, stderr());
  assert.match(stderr(), /^error\[INTERNAL\]: TypeError: undefined is not a function\n/);
});
