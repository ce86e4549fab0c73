import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { Digest } from "../../../src/oci/digest.js";
import { isPolypackError } from "../../../src/errors/index.js";

test("parses sha256 and sha512 digests and prints them back", () => {
  const hex = "a".repeat(64);
  const digest = Digest.parse(`sha256:${hex}`);
  assert.equal(digest.algorithm, "sha256");
  assert.equal(digest.hex, hex);
  assert.equal(digest.toString(), `sha256:${hex}`);
  assert.equal(Digest.parse(`sha512:${"0".repeat(128)}`).algorithm, "sha512");
});

test("refuses malformed digests with DIGEST_INVALID", () => {
  for (const bad of [
    "",
    "sha256:",
    `sha256:${"A".repeat(64)}`,
    `sha256:${"a".repeat(63)}`,
    `sha256:${"a".repeat(65)}`,
    `sha512:${"a".repeat(64)}`,
    `md5:${"a".repeat(32)}`,
    `sha256:../../${"a".repeat(58)}`,
    ` sha256:${"a".repeat(64)}`,
    `sha256:${"a".repeat(64)}\n`,
  ]) {
    assert.throws(
      () => Digest.parse(bad, "test input"),
      (e) => isPolypackError(e, "DIGEST_INVALID"),
      bad,
    );
    assert.equal(Digest.isValid(bad), false);
  }
});

test("Digest.of hashes content", () => {
  assert.equal(
    Digest.of("").toString(),
    "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
  );
});

test("property: every hashed buffer round-trips through parse and toString", () => {
  fc.assert(
    fc.property(fc.uint8Array(), fc.constantFrom("sha256" as const, "sha512" as const), (data, algorithm) => {
      const digest = Digest.of(data, algorithm);
      assert.ok(Digest.parse(digest.toString()).equals(digest));
    }),
  );
});

test("property: arbitrary strings either parse to a path-safe digest or throw DIGEST_INVALID", () => {
  fc.assert(
    fc.property(fc.string(), (value) => {
      try {
        const digest = Digest.parse(value);
        assert.match(digest.hex, /^[0-9a-f]+$/);
      } catch (error) {
        assert.ok(isPolypackError(error, "DIGEST_INVALID"));
      }
    }),
  );
});
