import { BUG_REPORT, exitStatus, internalError, PolypackError } from "../errors/index.js";
import { ProgressReporter, type ProgressOptions } from "./progress.js";

/** How much a command says and how it looks: the global -q, -v, --no-color, --force-color, --timestamps. */
export interface OutputStyle {
  /** Only results, warnings and errors: no progress, no notes (`-q`). */
  quiet?: boolean;
  /** Also the details of each step (`-v`). */
  verbose?: boolean;
  /** Colour the error and warning prefixes: true, false, or undefined for "on a terminal, unless NO_COLOR". */
  color?: boolean;
  /** Start every line on stderr with the time (`--timestamps`). */
  timestamps?: boolean;
}

const RED = "\x1b[31m";
const YELLOW = "\x1b[33m";
const RESET = "\x1b[0m";

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
    /** The global verbosity and look flags. */
    readonly style: OutputStyle = {},
  ) {}

  /** Whether progress should be drawn as bars: a terminal on stderr, not CI, not JSON, not timestamped. */
  get interactive(): boolean {
    return !this.json && this.stderr.isTTY && !process.env["CI"] && !this.style.timestamps;
  }

  /** Whether the error and warning prefixes are coloured. */
  get colored(): boolean {
    if (this.style.color !== undefined) return this.style.color;
    return Boolean(this.stderr.isTTY) && !process.env["NO_COLOR"];
  }

  /**
   * A progress reporter writing to stderr (bars on a terminal, plain lines elsewhere, nothing for
   * --json or -q).
   */
  progress(options: ProgressOptions = {}): ProgressReporter {
    const silent = this.json || this.style.quiet === true;
    return new ProgressReporter(
      {
        isTTY: this.interactive,
        write: (text) => {
          if (!silent) this.stderr.write(this.interactive ? text : this.stamp(text));
        },
      },
      options,
    );
  }

  /** Prints the command's result: `value` as JSON, or the text that `render` makes of it. */
  result<T>(value: T, render: (value: T) => string): void {
    if (this.json) this.stdout.write(JSON.stringify(value, null, 2) + "\n");
    else this.stdout.write(render(value) + "\n");
  }

  /** Prints a note for people on stderr (in JSON mode too, since stdout stays JSON); -q silences it. */
  note(text: string): void {
    if (!this.style.quiet) this.stderr.write(this.stamp(text + "\n"));
  }

  /** Prints a warning on stderr, `warning: ` first; -q does not silence it. */
  warn(text: string): void {
    this.stderr.write(this.stamp(`${this.paint(YELLOW, "warning:")} ${text}\n`));
  }

  /** Prints a detail only -v asks for. */
  detail(text: string): void {
    if (this.style.verbose && !this.style.quiet) this.stderr.write(this.stamp(text + "\n"));
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
    let text = `${this.paint(RED, `error[${error.code}]:`)} ${error.message}\n`;
    if (error.hint) text += `hint: ${error.hint}\n`;
    if (error.internal) {
      // A thrower's own hint does not replace the request for a bug report.
      if (error.hint !== BUG_REPORT) text += `${BUG_REPORT}\n`;
      if (error.cause instanceof Error && error.cause.stack) text += `${error.cause.stack}\n`;
    }
    this.stderr.write(this.stamp(text));
    return exitStatus(error.code);
  }

  private paint(color: string, text: string): string {
    return this.colored ? `${color}${text}${RESET}` : text;
  }

  // Every line gets the time, so a log of a long run shows where it waited.
  private stamp(text: string): string {
    if (!this.style.timestamps) return text;
    const now = new Date().toISOString();
    return text.replace(/^(?=.)/gm, `${now} `);
  }
}
