import assert from "node:assert/strict";
import { Writable } from "node:stream";
import { test } from "node:test";
import { runPrePackage } from "../../../src/package/pre-package.js";
import { tempDir } from "../../support/tmp.js";

test("the pre-package script does not inherit polypack's secret variables", async () => {
  let printed = "";
  const output = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      printed += chunk.toString();
      callback();
    },
  });
  await runPrePackage("env", {
    buildpackDir: await tempDir(),
    targets: "linux/amd64",
    output,
    env: {
      PATH: process.env["PATH"],
      POLYPACK_REGISTRY_PASSWORD: "pw-1",
      POLYPACK_REGISTRY_USERNAME: "user-1",
      POLYPACK_SRC_CREDS: "a:pw-2",
      POLYPACK_DEST_CREDS: "b:pw-3",
      POLYPACK_EXTRA_TOKEN: "pw-4",
      BUILD_FLAVOUR: "kept",
    },
  });
  assert.doesNotMatch(printed, /pw-1|user-1|pw-2|pw-3|pw-4/);
  assert.match(printed, /BUILD_FLAVOUR=kept/);
  assert.match(printed, /POLYPACK_TARGETS=linux\/amd64/);
});
