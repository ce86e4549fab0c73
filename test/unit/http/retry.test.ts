import assert from "node:assert/strict";
import { Readable } from "node:stream";
import { test } from "node:test";
import fc from "fast-check";
import { networkError, RegistryError } from "../../../src/registry/errors.js";
import { withRetry, retrying } from "../../../src/http/retry.js";
import {
  backoffDelay,
  DEFAULT_RETRY_POLICY,
  parseRetryAfter,
  retryWait,
} from "../../../src/http/retry-policy.js";
import { fakeClock, scripted } from "../registry/transport-fakes.js";

const policy = { maxAttempts: 4, baseDelayMs: 100, maxDelayMs: 1000, maxRetryAfterMs: 30_000 };
const url = new URL("http://127.0.0.1:5000/v2/a/manifests/latest");

test("Retry-After is read as seconds or as an HTTP date", () => {
  const now = Date.parse("2025-01-01T00:00:00Z");
  assert.equal(parseRetryAfter("7", now), 7000);
  assert.equal(parseRetryAfter(" 0 ", now), 0);
  assert.equal(parseRetryAfter("Wed, 01 Jan 2025 00:00:12 GMT", now), 12_000);
  assert.equal(parseRetryAfter("Tue, 31 Dec 2024 23:00:00 GMT", now), 0);
  assert.equal(parseRetryAfter("soon", now), undefined);
});

test("backoff doubles, is capped, and the server's Retry-After wins within the allowed wait", () => {
  assert.equal(retryWait(1, policy, 0, undefined), 50);
  assert.equal(retryWait(2, policy, 0, undefined), 100);
  assert.equal(retryWait(3, policy, 0.999, undefined), 399);
  assert.equal(retryWait(4, policy, 0, undefined), undefined, "attempts used up");
  assert.equal(retryWait(1, policy, 0.3, 5000), 5000);
  assert.equal(retryWait(1, policy, 0.3, 60_000), undefined, "too long to wait");
  assert.equal(backoffDelay(30, DEFAULT_RETRY_POLICY, 0.999), 9995);
});

test("property: jittered delays stay within [d/2, d) of the capped exponential", () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 40 }),
      fc.double({ min: 0, max: 0.999999, noNaN: true }),
      (retry, random) => {
        const full = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (retry - 1));
        const delay = backoffDelay(retry, policy, random);
        assert.ok(delay >= Math.floor(full / 2) && delay <= full, `${delay} for ${full}`);
      },
    ),
  );
});

test("retries 5xx, 408 and 429 with backoff and Retry-After, without waiting for real", async () => {
  const clock = fakeClock(0);
  const answers = [
    { status: 503 },
    { status: 429, headers: { "retry-after": "3" } },
    { status: 408 },
    { status: 200, body: "ok" },
  ];
  const inner = scripted((_r, i) => answers[i]!);
  const response = await withRetry(inner, policy, clock)({ method: "GET", url });
  assert.equal(response.status, 200);
  assert.equal(inner.seen.length, 4);
  assert.deepEqual(clock.slept, [50, 3000, 200]);
});

test("gives up after maxAttempts and returns the last answer", async () => {
  const clock = fakeClock();
  const inner = scripted(() => ({ status: 500 }));
  const response = await withRetry(inner, policy, clock)({ method: "GET", url });
  assert.equal(response.status, 500);
  assert.equal(inner.seen.length, 4);
});

test("retries dropped connections but not refusals or other errors", async () => {
  const clock = fakeClock();
  const reset = Object.assign(new Error("socket hang up"), { code: "ECONNRESET" });
  const inner = scripted((request, i) => (i < 2 ? networkError(reset, request) : { status: 200 }));
  assert.equal((await withRetry(inner, policy, clock)({ method: "HEAD", url })).status, 200);
  assert.equal(inner.seen.length, 3);

  const notFound = scripted(() => ({ status: 404 }));
  assert.equal((await withRetry(notFound, policy, clock)({ method: "GET", url })).status, 404);
  assert.equal(notFound.seen.length, 1);

  const bug = scripted(() => new TypeError("bug"));
  await assert.rejects(withRetry(bug, policy, clock)({ method: "GET", url }), TypeError);
  assert.equal(bug.seen.length, 1);
});

test("never retries one-shot bodies or requests marked not retryable", async () => {
  const clock = fakeClock();
  const stream = scripted(() => ({ status: 503 }));
  await withRetry(stream, policy, clock)({ method: "PUT", url, body: Readable.from(["x"]) });
  assert.equal(stream.seen.length, 1);
  const marked = scripted(() => ({ status: 503 }));
  await withRetry(marked, policy, clock)({ method: "PATCH", url, body: Buffer.from("x"), retryable: false });
  assert.equal(marked.seen.length, 1);
  const factory = scripted((_r, i) => ({ status: i === 0 ? 502 : 201 }));
  const ok = await withRetry(
    factory,
    policy,
    clock,
  )({ method: "PUT", url, body: () => Promise.resolve(Readable.from(["x"])) });
  assert.equal(ok.status, 201);
});

test("retrying() repeats a whole operation on temporary errors only", async () => {
  const clock = fakeClock(0);
  let calls = 0;
  const result = await retrying(policy, clock, (attempt) => {
    calls++;
    if (attempt < 3)
      throw new RegistryError("REGISTRY_UNAVAILABLE", "busy", {
        url: "u",
        temporary: true,
        retryAfterMs: 10,
      });
    return Promise.resolve("done");
  });
  assert.equal(result, "done");
  assert.equal(calls, 3);
  assert.deepEqual(clock.slept, [10, 10]);
  await assert.rejects(
    retrying(policy, clock, () => Promise.reject(new RegistryError("REGISTRY_DENIED", "no", { url: "u" }))),
    (e) => e instanceof RegistryError && e.code === "REGISTRY_DENIED",
  );
});
