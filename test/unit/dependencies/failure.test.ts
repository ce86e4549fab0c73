import assert from "node:assert/strict";
import { test } from "node:test";
import { failure, isTransient, labelled } from "../../../src/dependencies/failure.js";
import { HttpError } from "../../../src/http/errors.js";

test("a dependency failure marked transient is temporary, and stays so once labelled", () => {
  const cut = failure("DEPENDENCY_TRUNCATED", "the connection closed", { transient: true });
  assert.equal(cut.temporary, true);
  assert.ok(isTransient(cut));
  const shown = labelled(cut, { id: "hello", version: "1.0", target: "linux/amd64", url: "https://x/y" });
  assert.equal(shown.temporary, true);
  assert.ok(isTransient(shown));
  assert.ok(!isTransient(failure("DEPENDENCY_CHECKSUM_MISMATCH", "different bytes")));
  assert.ok(isTransient(new HttpError("REGISTRY_UNAVAILABLE", "503", { url: "https://x", temporary: true })));
  assert.ok(!isTransient(new Error("plain")));
});
