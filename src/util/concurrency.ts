// polypack's one concurrency primitive: `Limiter` for tasks that arrive over time, `mapLimit` for a
// list known up front. Both refuse a limit that is not a whole number of at least 1, because 0
// would never run anything and NaN would run nothing or everything, silently.
import { PolypackError } from "../errors/index.js";

/** Checks a concurrency limit, so that a bad one fails loudly instead of hanging or running unbounded. */
export function checkLimit(limit: number): number {
  if (!Number.isSafeInteger(limit) || limit < 1) {
    throw new PolypackError("CONCURRENCY_INVALID", `a concurrency of ${limit} is invalid`, {
      hint: "give a whole number of at least 1",
    });
  }
  return limit;
}

/**
 * Runs at most `limit` of the given async tasks at a time; resolves with results in input order.
 * After a failure no new task starts; the first failure is thrown once the running ones settled.
 */
export async function mapLimit<T, R>(
  items: readonly T[],
  limit: number,
  task: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  checkLimit(limit);
  const results = new Array<R>(items.length);
  let next = 0;
  let failed = false;
  const worker = async (): Promise<void> => {
    while (!failed && next < items.length) {
      const index = next++;
      try {
        results[index] = await task(items[index]!, index);
      } catch (error) {
        failed = true;
        throw error;
      }
    }
  };
  const workers = Array.from({ length: Math.min(limit, items.length) }, () => worker());
  const settled = await Promise.allSettled(workers);
  const rejection = settled.find((s): s is PromiseRejectedResult => s.status === "rejected");
  if (rejection) throw rejection.reason;
  return results;
}

/** Lets at most `limit` tasks run at once; the others wait in arrival order. */
export class Limiter {
  private running = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(readonly limit: number) {
    checkLimit(limit);
  }

  /** Runs `task` when a slot is free. */
  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.running >= this.limit) await new Promise<void>((resolve) => this.waiting.push(resolve));
    else this.running++;
    try {
      return await task();
    } finally {
      const next = this.waiting.shift();
      // A freed slot passes straight to the next waiter, so no newcomer slips in and `running` stays accurate.
      if (next) next();
      else this.running--;
    }
  }
}
