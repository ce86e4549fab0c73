import { readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { writeFileAtomic } from "../../util/fs.js";
import { onUserPath } from "../../util/path-error.js";
import { unifiedDiff } from "../../dependencies/authoring/unified-diff.js";

/** buildpack.toml as `--buildpack` names it: a folder stands for its buildpack.toml. */
export async function readBuildpackFile(given: string): Promise<{ path: string; text: string }> {
  const path = (await stat(given).catch(() => undefined))?.isDirectory()
    ? join(given, "buildpack.toml")
    : given;
  const text = await onUserPath({ path, operation: "read", code: "PATH_NOT_FOUND" }, () =>
    readFile(path, "utf8"),
  );
  return { path, text };
}

/**
 * Ends an edit: with `dryRun`, the unified diff (nothing written); else the new text written
 * atomically (temporary file, fsync, rename), and only when it differs. Returns the diff and
 * whether the file was written.
 */
export async function finishEdit(
  path: string,
  before: string,
  after: string,
  dryRun: boolean,
): Promise<{ diff: string; written: boolean }> {
  const diff = unifiedDiff(before, after, path);
  if (dryRun || before === after) return { diff, written: false };
  await onUserPath({ path, operation: "write", code: "PATH_NOT_FOUND" }, () => writeFileAtomic(path, after));
  return { diff, written: true };
}

/** The closing line of an edit for people: what happened to the file. */
export function editSummary(
  path: string,
  result: { diff: string; written: boolean },
  dryRun: boolean,
): string {
  if (dryRun) return result.diff === "" ? `${path} would not change` : result.diff.trimEnd();
  return result.written ? `wrote ${path}` : `${path} already up to date`;
}
