import { parseDependencies, type Dependency } from "../../buildpack/dependencies.js";
import { internalError, isPolypackError, PolypackError } from "../../errors/index.js";
import { Platform } from "../../oci/platform.js";
import { mapLimit } from "../../util/concurrency.js";
import { DependencyCache } from "../cache.js";
import { downloadDependencies, type DependencyEvent } from "../download.js";
import { displayUri } from "../source-uri.js";
import { checkDownloadArchitecture, foreignSummary, type ArchitectureCheck } from "./arch-check.js";
import type { MetadataEntry } from "./update.js";

/** How `verifyUpdate` downloads: the options `dependency add` and offline packaging use. */
export interface VerifyUpdateOptions {
  /** The buildpack's folder, for relative `file:` URIs. */
  baseDir: string;
  /** Defaults to the user's dependency cache. */
  cache?: DependencyCache;
  caFile?: string;
  idleTimeoutMs?: number;
  retryDelayMs?: number;
  onEvent?: (event: DependencyEvent) => void;
  /** Told when an archive could not be read to its end (the check is then partial). */
  onWarning?: (message: string) => void;
}

/** What was checked for one new entry. */
export interface VerifiedEntry {
  entry: MetadataEntry;
  size: number;
  /** Undefined for an entry without an architecture (nothing to compare the programs with). */
  check: ArchitectureCheck | undefined;
}

/**
 * Checks the entries `dependency update` adds before buildpack.toml is written, as `dependency add`
 * checks its own: each file is downloaded through the dependency cache (so packaging later finds
 * it there), verified against the metadata.json checksum as it streams, and the programs inside are
 * checked to run on the entry's `os`/`arch`. `edited` is the buildpack.toml text with the entries
 * added, read back so that each file is fetched exactly as packaging will read its entry. Throws
 * the download's error (DEPENDENCY_CHECKSUM_MISMATCH ...) or DEPENDENCY_WRONG_ARCHITECTURE, naming
 * the metadata.json entry, its id, version and arch, and the program found.
 */
export async function verifyUpdate(
  added: readonly MetadataEntry[],
  edited: string,
  file: string,
  metadataFile: string,
  options: VerifyUpdateOptions,
): Promise<VerifiedEntry[]> {
  const parsed = parseDependencies(edited, { file });
  const cache = options.cache ?? new DependencyCache();
  return mapLimit(added, 4, async (entry) => {
    const dependency = parsed.find(
      (d) =>
        d.id === entry.id &&
        d.version === entry.version &&
        d.os === entry.os &&
        d.architecture === entry.architecture,
    );
    // updateEntries checked the edit reads back with every new entry; not finding one is a bug.
    if (dependency === undefined) {
      throw internalError(`${describe(entry, metadataFile)} is not in the edited ${file}`);
    }
    const where = describe(entry, metadataFile);
    const downloaded = await downloadDependencies([{ dependency, target: platformText(dependency) }], {
      baseDir: options.baseDir,
      cache,
      ...(options.caFile ? { caFile: options.caFile } : {}),
      ...(options.idleTimeoutMs ? { idleTimeoutMs: options.idleTimeoutMs } : {}),
      ...(options.retryDelayMs !== undefined ? { retryDelayMs: options.retryDelayMs } : {}),
      ...(options.onEvent ? { onEvent: options.onEvent } : {}),
    }).then(
      ([one]) => one!,
      (error: unknown) => {
        if (!isPolypackError(error)) throw error;
        throw new PolypackError(error.code, `${where}: ${error.message}`, {
          cause: error,
          hint:
            error.code === "DEPENDENCY_CHECKSUM_MISMATCH"
              ? `the file at the uri is not the one the checksum of that entry in ${metadataFile} names; ${file} was not changed`
              : error.hint,
          temporary: error.temporary,
        });
      },
    );
    const size = downloaded.size;
    if (dependency.architecture === "") return { entry, size, check: undefined };
    const platform = new Platform({
      os: dependency.os || "linux",
      architecture: dependency.architecture,
      variant: dependency.variant,
    });
    const check = await checkDownloadArchitecture(downloaded.path, platform);
    const url = displayUri(dependency.uri ?? "");
    if (check.foreign.length > 0) {
      throw new PolypackError(
        "DEPENDENCY_WRONG_ARCHITECTURE",
        `${where}: ${url} is not for ${platform.toString()}: ${foreignSummary(check)}`,
        { hint: `fix the uri or arch of that entry in ${metadataFile}; ${file} was not changed` },
      );
    }
    if (check.problem !== undefined) {
      options.onWarning?.(
        `${where}: the ${check.format} archive at ${url} could not be read to its end (${check.problem}); only the programs before that point were checked`,
      );
    }
    return { entry, size, check };
  });
}

/** `metadata.json [3] (go 1.26.9, arch = "arm64")`. */
function describe(entry: MetadataEntry, metadataFile: string): string {
  const arch = entry.architecture === "" ? "no arch" : `arch = ${JSON.stringify(entry.architecture)}`;
  return `${metadataFile} [${entry.index}] (${entry.id} ${entry.version}, ${arch})`;
}

function platformText(dependency: Dependency): string {
  return `${dependency.os || "*"}/${dependency.architecture || "*"}`;
}
