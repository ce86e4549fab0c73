import assert from "node:assert/strict";
import { test } from "node:test";
import { describeLayer } from "../../../src/cli/commands/buildpack-package.js";

test("the LAYER column says how each target's layer was made", () => {
  assert.equal(describeLayer({ written: false, members: 24, compressed: 0 }), "unchanged");
  assert.equal(describeLayer({ written: true, members: 24, compressed: 0 }), "from cache");
  assert.equal(describeLayer({ written: true, members: 24, compressed: 24 }), "new");
  assert.equal(describeLayer({ written: true, members: 24, compressed: 1 }), "1 of 24 pieces new");
});
