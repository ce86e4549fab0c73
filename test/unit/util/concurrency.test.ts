import assert from "node:assert/strict";
import { setTimeout as delay } from "node:timers/promises";
import { test } from "node:test";
import fc from "fast-check";
import { isPolypackError } from "../../../src/errors/index.js";
import { Limiter, mapLimit } from "../../../src/util/concurrency.js";

test("a limiter never runs more than its limit at once, and starts waiters in arrival order", async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.integer({ min: 1, max: 5 }),
      fc.array(fc.integer({ min: 0, max: 3 }), { maxLength: 20 }),
      async (limit, pauses) => {
        const limiter = new Limiter(limit);
        let running = 0;
        let most = 0;
        const started: number[] = [];
        await Promise.all(
          pauses.map((pause, i) =>
            limiter.run(async () => {
              started.push(i);
              most = Math.max(most, ++running);
              await delay(pause);
              running--;
            }),
          ),
        );
        assert.ok(most <= limit);
        assert.deepEqual(
          started,
          pauses.map((_, i) => i),
        );
      },
    ),
    { numRuns: 30 },
  );
});

test("a failed task frees its slot for the next one", async () => {
  const limiter = new Limiter(1);
  await assert.rejects(
    limiter.run(() => Promise.reject(new Error("boom"))),
    /boom/,
  );
  assert.equal(await limiter.run(() => Promise.resolve(7)), 7);
});

test("mapLimit keeps input order, bounds concurrency and starts nothing new after a failure", async () => {
  let running = 0;
  let most = 0;
  const doubled = await mapLimit([5, 1, 4, 2, 3], 2, async (n) => {
    most = Math.max(most, ++running);
    await delay(n);
    running--;
    return n * 2;
  });
  assert.deepEqual(doubled, [10, 2, 8, 4, 6]);
  assert.equal(most, 2);

  const seen: number[] = [];
  await assert.rejects(
    mapLimit([0, 1, 2, 3, 4, 5], 1, async (n) => {
      seen.push(n);
      if (n === 1) throw new Error("stop");
      return Promise.resolve(n);
    }),
    /stop/,
  );
  assert.deepEqual(seen, [0, 1]);
});

test("a limit that is not a whole number of at least 1 is refused, instead of hanging or doing nothing", async () => {
  for (const limit of [0, -1, 1.5, Number.NaN]) {
    assert.throws(
      () => new Limiter(limit),
      (error) => isPolypackError(error, "CONCURRENCY_INVALID"),
    );
    await assert.rejects(
      mapLimit([1, 2], limit, (n) => Promise.resolve(n)),
      (error) => isPolypackError(error, "CONCURRENCY_INVALID"),
    );
  }
});
