import { BUG_REPORT, exitStatus, internalError, PolypackError } from "../errors/index.js";
import { ProgressReporter } from "./progress.js";

// Errors a command has already put in the JSON document it printed (a failed `verify --json`), so
// stdout holds one document, not two.
const alreadyOnStdout = new WeakSet<PolypackError>();

/** Marks an error as part of the result a command printed: `--json` prints it on stdout no more. */
export function printedWithResult(error: PolypackError): PolypackError {
  alreadyOnStdout.add(error);
  return error;
}

/** How a command reports: human text or JSON, and whether progress bars are drawn. */
export class Output {
  constructor(
    /** Print JSON on stdout instead of text. */
    readonly json: boolean,
    private readonly stdout: NodeJS.WriteStream = process.stdout,
    private readonly stderr: NodeJS.WriteStream = process.stderr,
  ) {}

  /** Whether progress should be drawn as bars: a terminal on stderr, not CI, not JSON. */
  get interactive(): boolean {
    return !this.json && this.stderr.isTTY && !process.env["CI"];
  }

  /** A progress reporter writing to stderr (bars on a terminal, plain lines elsewhere, nothing for --json). */
  progress(): ProgressReporter {
    const stderr = this.stderr;
    const quiet = this.json;
    return new ProgressReporter({
      isTTY: this.interactive,
      write: (text) => {
        if (!quiet) stderr.write(text);
      },
    });
  }

  /** Prints the command's result: `value` as JSON, or the text that `render` makes of it. */
  result<T>(value: T, render: (value: T) => string): void {
    if (this.json) this.stdout.write(JSON.stringify(value, null, 2) + "\n");
    else this.stdout.write(render(value) + "\n");
  }

  /** Prints a note or warning for people on stderr (in JSON mode too, since stdout stays JSON). */
  note(text: string): void {
    this.stderr.write(text + "\n");
  }

  /**
   * Prints an error once, the way the command line shows every error, and returns the exit status
   * its code has in the catalogue. Anything thrown that is not a PolypackError is a bug (INTERNAL).
   */
  error(thrown: unknown): number {
    const error = thrown instanceof PolypackError ? thrown : internalError(String(thrown), thrown);
    if (this.json && !alreadyOnStdout.has(error)) {
      this.stdout.write(JSON.stringify({ error: error.toJSON() }, null, 2) + "\n");
    }
    this.stderr.write(`error[${error.code}]: ${error.message}\n`);
    if (error.hint) this.stderr.write(`hint: ${error.hint}\n`);
    if (error.internal) {
      // A thrower's own hint does not replace the request for a bug report.
      if (error.hint !== BUG_REPORT) this.stderr.write(`${BUG_REPORT}\n`);
      if (error.cause instanceof Error && error.cause.stack) this.stderr.write(`${error.cause.stack}\n`);
    }
    return exitStatus(error.code);
  }
}
