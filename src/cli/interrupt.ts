import { exitStatus, PolypackError } from "../errors/index.js";
import { runInterruptCleanups } from "../util/cleanup.js";

const SIGNALS = ["SIGINT", "SIGTERM"] as const;

/**
 * Until the returned function is called, SIGINT and SIGTERM stop the process the way a failed
 * command stops: temporary files and lock files removed (see onInterruptCleanup), the error
 * INTERRUPTED shown through `report`, and exit status 130 or 143. Nothing asynchronous runs after
 * the signal: whatever was in flight is abandoned with its temporaries gone, so no tag or
 * index.json entry can appear afterwards.
 */
export function exitOnInterrupt(report: (error: PolypackError) => void): () => void {
  const handlers = SIGNALS.map((signal) => {
    const handler = (): void => {
      runInterruptCleanups();
      report(new PolypackError("INTERRUPTED", `interrupted by ${signal}; temporary files were removed`));
      process.exit(exitStatus("INTERRUPTED", signal));
    };
    process.on(signal, handler);
    return { signal, handler };
  });
  return () => {
    for (const { signal, handler } of handlers) process.off(signal, handler);
  };
}
