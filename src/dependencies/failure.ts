import { PolypackError } from "../errors/index.js";
import type { VerifyFailures } from "../oci/verify.js";

/** The stable codes of dependency download failures. */
export type DependencyErrorCode =
  | "DEPENDENCY_DOWNLOAD_FAILED"
  | "DEPENDENCY_CHECKSUM_MISMATCH"
  | "DEPENDENCY_TRUNCATED"
  | "DEPENDENCY_CHECKSUM_MISSING"
  | "DEPENDENCY_URI_MISSING"
  | "DEPENDENCY_URI_UNSUPPORTED"
  | "DEPENDENCY_CACHE_WRITE_FAILED"
  | "DEPENDENCY_CACHE_CORRUPT"
  | "DEPENDENCY_NOT_CACHED";

/** What a message needs to name a dependency: which one, for which target(s), from where. */
export interface DependencyLabel {
  id: string;
  version: string;
  /** One target such as `linux/arm64`, or several joined with `, `. */
  target: string;
  /** The URI, already redacted (see `displayUri`). */
  url: string;
}

/** `hello-runtime 1.0.0 for linux/arm64`. */
export function nameDependency(label: DependencyLabel): string {
  return `${label.id} ${label.version} for ${label.target}`;
}

/** A failure without the dependency's name yet (the retry loop adds it); `transient` allows a retry. */
export function failure(
  code: DependencyErrorCode,
  detail: string,
  options: { transient?: boolean; cause?: unknown; hint?: string } = {},
): PolypackError {
  return new PolypackError(code, detail, {
    cause: options.cause,
    hint: options.hint,
    temporary: options.transient === true,
  });
}

/**
 * Whether a failure may go away when tried again (connection reset, 5xx, cut-short body): marked
 * so by `failure`, or a temporary failure of the HTTP stack.
 */
export function isTransient(error: unknown): boolean {
  return error instanceof PolypackError && error.temporary;
}

/**
 * The error the user sees: same code and hint, with a message that names the dependency, its
 * target and its (redacted) URL in front of what went wrong.
 */
export function labelled(error: PolypackError, label: DependencyLabel): PolypackError {
  return new PolypackError(
    error.code,
    `cannot download ${nameDependency(label)} from ${label.url}: ${error.message}`,
    { cause: error.cause ?? error, hint: error.hint, temporary: error.temporary },
  );
}

/** A short reason from any thrown value, for the detail part of a message. */
export function reason(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const code = (error as { code?: unknown }).code;
  return typeof code === "string" && !error.message.includes(code)
    ? `${error.message} (${code})`
    : error.message;
}

/**
 * How a dependency's verifying stream fails: more than the announced length (Content-Length or
 * file size) is a failed download, fewer is a (transient) truncation, and a wrong checksum is
 * `mismatchCode`: a bad download, or a cache entry changed after it was stored.
 */
export function dependencyFailures(
  mismatchCode: "DEPENDENCY_CHECKSUM_MISMATCH" | "DEPENDENCY_CACHE_CORRUPT",
): VerifyFailures {
  return {
    tooLarge: (limit) =>
      failure(
        "DEPENDENCY_DOWNLOAD_FAILED",
        `received more than the announced ${limit} bytes (Content-Length or file size)`,
      ),
    tooShort: (bytes, size) =>
      failure("DEPENDENCY_TRUNCATED", `only ${bytes} of the announced ${size} bytes arrived`, {
        transient: true,
      }),
    mismatch: (actual, expected) =>
      failure(
        mismatchCode,
        `the content has checksum ${actual.toString()}, expected ${expected.toString()}`,
        {
          hint:
            mismatchCode === "DEPENDENCY_CHECKSUM_MISMATCH"
              ? "the file at the URI changed or the checksum in buildpack.toml is wrong"
              : "the cached file was changed after it was stored; it has been removed, run again",
        },
      ),
  };
}
