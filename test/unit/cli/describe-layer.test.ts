import assert from "node:assert/strict";
import { test } from "node:test";
import { describeLayer } from "../../../src/cli/commands/buildpack-package.js";

test("the LAYER column says how each target's layer was made", () => {
  const layer = { members: 30, stored: 6, cacheRepaired: 0 };
  assert.equal(describeLayer({ ...layer, written: false, compressed: 0, cacheHits: 24 }), "unchanged");
  assert.equal(describeLayer({ ...layer, written: true, compressed: 0, cacheHits: 24 }), "from cache");
  assert.equal(describeLayer({ ...layer, written: true, compressed: 24, cacheHits: 0 }), "new");
  assert.equal(
    describeLayer({ ...layer, written: true, compressed: 1, cacheHits: 23 }),
    "1 of 24 pieces new",
  );
});
