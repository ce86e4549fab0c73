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

/** Runs every registered clean-up once; one that throws does not stop the others. */
export function runInterruptCleanups(): void {
  for (const cleanup of [...cleanups]) {
    cleanups.delete(cleanup);
    try {
      cleanup();
    } catch {
      // Best effort: the process is about to exit, and a later run sweeps what is left.
    }
  }
}
