import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { Readable, Writable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { test } from "node:test";
import { isPolypackError, PolypackError, type ErrorCode } from "../../../src/errors/index.js";
import { descriptorFor } from "../../../src/oci/descriptor.js";
import { progressTap, verifyingStream, type VerifyFailures } from "../../../src/oci/verify.js";

const sink = (): Writable => new Writable({ write: (_chunk, _encoding, callback) => callback() });
const chunks = (...texts: string[]): Readable => Readable.from(texts.map((text) => Buffer.from(text)));

test("a verifying stream passes matching bytes, reporting progress after every chunk", async () => {
  const descriptor = descriptorFor("application/octet-stream", Buffer.from("hello world"));
  const seen: number[] = [];
  const verify = verifyingStream(descriptor, "test", { onProgress: (bytes) => seen.push(bytes) });
  await pipeline(chunks("hello", " ", "world"), verify, sink());
  assert.deepEqual(seen, [5, 6, 11]);
  assert.equal(verify.digest().toString(), descriptor.digest);
  assert.equal(verify.bytes, 11);
});

test("too many bytes, too few, or other bytes fail with SIZE_MISMATCH and DIGEST_MISMATCH", async () => {
  const descriptor = descriptorFor("application/octet-stream", Buffer.from("hello"));
  const fails = async (source: Readable, code: ErrorCode): Promise<void> =>
    assert.rejects(pipeline(source, verifyingStream(descriptor, "blob in test"), sink()), (error) => {
      return isPolypackError(error, code) && error.message.startsWith("blob in test: ");
    });
  await fails(chunks("hel", "lo!"), "SIZE_MISMATCH");
  await fails(chunks("hell"), "SIZE_MISMATCH");
  await fails(chunks("HELLO"), "DIGEST_MISMATCH");
});

test("without a size, the cap bounds the bytes; without a digest, the stream only computes one", async () => {
  const expected = `sha256:${createHash("sha256").update("abc").digest("hex")}`;
  const capped = verifyingStream({ digest: expected, maxBytes: 2 }, "capped");
  await assert.rejects(pipeline(chunks("a", "bc"), capped, sink()), (error) =>
    isPolypackError(error, "SIZE_EXCEEDED"),
  );
  const computing = verifyingStream({}, "tar");
  assert.throws(() => computing.digest(), /not ended/);
  await pipeline(chunks("a", "b", "c"), computing, sink());
  assert.equal(computing.digest().toString(), expected);
  const sha512 = verifyingStream({ algorithm: "sha512" }, "tar");
  await pipeline(chunks("abc"), sha512, sink());
  assert.equal(sha512.digest().hex, createHash("sha512").update("abc").digest("hex"));
});

test("content with codes of its own brings its own failures", async () => {
  const failures: VerifyFailures = {
    tooLarge: (limit) => new PolypackError("DEPENDENCY_DOWNLOAD_FAILED", `${limit}`),
    tooShort: (bytes, size) => new PolypackError("DEPENDENCY_TRUNCATED", `${bytes}/${size}`),
    mismatch: () => new PolypackError("DEPENDENCY_CHECKSUM_MISMATCH", "no"),
  };
  const descriptor = descriptorFor("application/octet-stream", Buffer.from("hello"));
  await assert.rejects(
    pipeline(chunks("hel"), verifyingStream(descriptor, "x", { failures }), sink()),
    (error) => isPolypackError(error, "DEPENDENCY_TRUNCATED") && error.message === "3/5",
  );
});

test("a progress tap counts without checking", async () => {
  const seen: number[] = [];
  await pipeline(
    chunks("ab", "cde"),
    progressTap((bytes) => seen.push(bytes)),
    sink(),
  );
  assert.deepEqual(seen, [2, 5]);
});
