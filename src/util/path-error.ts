import { internalError, PolypackError } from "../errors.js";

/** Whether a value is an error from a Node system call, with its errno code (`ENOENT`, ...). */
export function isErrnoError(value: unknown): value is NodeJS.ErrnoException & { code: string } {
  return value instanceof Error && typeof (value as NodeJS.ErrnoException).code === "string";
}

/** What went wrong at a path a user gave, to be told in words rather than as a stack trace. */
export interface UserPathContext {
  /** The path as the user gave it (or resolved), named first in the message. */
  path: string;
  /** What polypack was doing, as a verb phrase that reads before the path: "write the output". */
  operation: string;
  /** The stable code of the resulting error, for example `OUTPUT_UNWRITABLE`. */
  code: string;
  /** What else the user can do, added to the hint the errno suggests. */
  advice?: string;
}

const REASONS: Readonly<Record<string, string>> = {
  EACCES: "permission denied",
  EPERM: "operation not permitted",
  ENOSPC: "no space left on the device",
  EDQUOT: "disk quota exceeded",
  EROFS: "the file system is read-only",
  ENOTDIR: "a part of the path is not a directory",
  EISDIR: "it is a directory",
  EEXIST: "something already exists there",
  ENOENT: "no such file or directory",
  ELOOP: "too many levels of symbolic links",
  ENAMETOOLONG: "the name is too long",
  ENOTEMPTY: "the directory is not empty",
  EBUSY: "the file or device is busy",
  EMFILE: "too many open files",
  ENFILE: "too many open files in the system",
  EXDEV: "it is on another file system",
  EIO: "input/output error",
};

const HINTS: Readonly<Record<string, string>> = {
  EACCES: "check the permissions along the path, or choose a path you may write",
  EPERM: "check the permissions along the path, or choose a path you may write",
  ENOSPC: "free some space, or choose a location on another file system",
  EDQUOT: "free some space, or choose a location on another file system",
  EROFS: "choose a location on a writable file system",
  ENOTDIR: "a file stands where a folder is needed: remove it, or choose another path",
  ENOENT: "check that the path exists",
  ELOOP: "check the symbolic links along the path",
  ENAMETOOLONG: "choose a shorter path",
  EMFILE: "raise the open file limit (ulimit -n)",
  ENFILE: "raise the open file limit (ulimit -n)",
};

/**
 * Turns a Node errno error met on a path the user gave (an output, --path, a cache directory) into
 * a user error that names the path, the operation and the reason in words, with a hint:
 * `cannot write the output /x/out.cnb: /x: the file system is read-only (EROFS)`. The errno error's
 * own path is named too when it differs (a parent, a file below). A PolypackError is returned as
 * it is; anything else is not a file system problem and becomes INTERNAL.
 */
export function userPathError(error: unknown, context: UserPathContext): PolypackError {
  if (error instanceof PolypackError) return error;
  if (!isErrnoError(error)) {
    return internalError(`unexpected error while trying to ${context.operation} ${context.path}`, error);
  }
  // ENOENT from mkdir names a folder that exists but takes no new entries (/proc), or lacks a parent.
  const creating = error.code === "ENOENT" && (error.syscall === "mkdir" || error.syscall === "mkdtemp");
  const reason = creating ? "no new entry can be created there" : (REASONS[error.code] ?? error.message);
  const at = error.path !== undefined && error.path !== context.path ? `${error.path}: ` : "";
  const errnoHint = creating
    ? "some locations, such as /proc and /sys, cannot hold new files; choose another"
    : HINTS[error.code];
  const hint = [errnoHint, context.advice].filter(Boolean).join("; ") || undefined;
  return new PolypackError(
    context.code,
    `cannot ${context.operation} ${context.path}: ${at}${reason} (${error.code})`,
    { cause: error, ...(hint !== undefined ? { hint } : {}) },
  );
}

/** Runs `work` on a user's path and reports a file system failure with `userPathError`. */
export async function onUserPath<T>(context: UserPathContext, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    throw userPathError(error, context);
  }
}
