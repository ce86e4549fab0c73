/**
 * Clean-ups that must run when the process is stopped by a signal: removing temporary files and
 * releasing lock files. They run synchronously, because a signal handler exits right after them and
 * no promise would get the chance to settle.
 */
const cleanups = new Set<() => void>();

/** Registers a synchronous clean-up for an interrupted run; the returned function unregisters it. */
export function onInterruptCleanup(cleanup: () => void): () => void {
  cleanups.add(cleanup);
  return () => cleanups.delete(cleanup);
}

// A file operation already queued on libuv's thread pool when the signal came (an open that
// creates a temporary file, say) may run after the first pass, later still when the pool is busy;
// the clean-ups run again after each of these waits, during which the event loop does not run.
const SETTLE_MS = [25, 75, 150];

/**
 * Runs every registered clean-up at once, and again after each SETTLE_MS wait, so that what a
 * thread pool operation in flight created meanwhile is removed too. One that throws does not stop
 * the others. The main thread blocks for the waits: nothing asynchronous may run after a signal.
 */
export function runInterruptCleanups(): void {
  const registered = [...cleanups];
  cleanups.clear();
  const runAll = (): void => {
    for (const cleanup of registered) {
      try {
        cleanup();
      } catch {
        // Best effort: the process is about to exit, and a later run sweeps what is left.
      }
    }
  };
  runAll();
  const clock = new Int32Array(new SharedArrayBuffer(4));
  for (const ms of SETTLE_MS) {
    Atomics.wait(clock, 0, 0, ms);
    runAll();
  }
}
