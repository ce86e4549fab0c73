import { PolypackError } from "../../errors/index.js";
import type { Platform } from "../../oci/platform.js";
import { DependencyCache } from "../cache.js";
import type { DependencyEvent } from "../download.js";
import { displayUri } from "../source-uri.js";
import type { DependencyLabel } from "../failure.js";
import { checkDownloadArchitecture, foreignSummary, type ArchitectureCheck } from "./arch-check.js";
import { NewFileFetcher, type FetchedFile } from "./fetch-new.js";
import type { Addition } from "./new-entry.js";
import { expandTemplate } from "./template.js";

/** What `dependency add` fetches: one id and version, URI templates, and the targets. */
export interface AddRequest {
  id: string;
  version: string;
  uriTemplate: string;
  sourceUriTemplate?: string;
  targets: readonly Platform[];
  archNames?: Readonly<Record<string, string>>;
  /** The buildpack's folder, for relative `file:` URIs. */
  baseDir: string;
  /** Defaults to the user's dependency cache. */
  cache?: DependencyCache;
  caFile?: string;
  retries?: number;
  retryDelayMs?: number;
  onEvent?: (event: DependencyEvent) => void;
  /** Told when an archive could not be read to its end (the check is then partial). */
  onWarning?: (message: string) => void;
}

/** One target's fetched file with what the architecture check found. */
export interface FetchedAddition {
  addition: Addition;
  size: number;
  check: ArchitectureCheck;
}

/**
 * Expands the templates for each target, fetches each distinct file once through the dependency
 * cache (hashing it), and checks that the programs inside each target's file run on that target.
 * A file holding a program for another machine is refused with DEPENDENCY_WRONG_ARCHITECTURE,
 * naming the program's path inside the archive; nothing is written to buildpack.toml by this step.
 */
export async function fetchAdditions(request: AddRequest): Promise<FetchedAddition[]> {
  const cache = request.cache ?? new DependencyCache();
  const fetched = new Map<string, Promise<FetchedFile>>();
  const started = new Map<string, number>();
  const fetcher = new NewFileFetcher({
    cache,
    baseDir: request.baseDir,
    ...(request.caFile ? { caFile: request.caFile } : {}),
    ...(request.retries !== undefined ? { retries: request.retries } : {}),
    ...(request.retryDelayMs !== undefined ? { retryDelayMs: request.retryDelayMs } : {}),
    onBytes: (label, bytesDone, size) => {
      // The first bytes of a file (or of a retry, which starts again from zero) start its bar.
      const first = !started.has(label.url) || bytesDone < (started.get(label.url) ?? 0);
      started.set(label.url, bytesDone);
      if (first) request.onEvent?.({ ...eventFor(label, 0, size), type: "start" });
      request.onEvent?.({ ...eventFor(label, bytesDone, size), type: "progress" });
    },
  });
  // One fetch per distinct URI: a template without {arch} gives all targets one file.
  const once = (uri: string, label: DependencyLabel): Promise<FetchedFile> => {
    let running = fetched.get(uri);
    if (running === undefined) {
      running = fetcher.fetch(uri, label).then((file) => {
        request.onEvent?.({ ...eventFor(label, file.entry.size, file.entry.size), type: "done" });
        return file;
      });
      fetched.set(uri, running);
    }
    return running;
  };
  try {
    const out: FetchedAddition[] = [];
    for (const platform of request.targets) {
      const values = { version: request.version, platform, archNames: request.archNames ?? {} };
      const uri = expandTemplate(request.uriTemplate, values);
      const target = platform.toString();
      const label = { id: request.id, version: request.version, target, url: displayUri(uri) };
      const file = await once(uri, label);
      const check = await checkDownloadArchitecture(file.entry.path, platform);
      if (check.foreign.length > 0) throw wrongArchitecture(label, check);
      if (check.problem !== undefined) {
        request.onWarning?.(
          `${label.url} for ${target}: the ${check.format} archive could not be read to its end (${check.problem}); only the programs before that point were checked`,
        );
      }
      let source: { uri: string; hex: string } | undefined;
      if (request.sourceUriTemplate !== undefined) {
        const sourceUri = expandTemplate(request.sourceUriTemplate, values);
        const sourceFile = await once(sourceUri, {
          ...label,
          id: `${request.id} source`,
          url: displayUri(sourceUri),
        });
        source = { uri: sourceUri, hex: sourceFile.digest.hex };
      }
      out.push({
        addition: {
          id: request.id,
          version: request.version,
          platform,
          uri,
          sha256: file.digest.hex,
          ...(source ? { source: source.uri, sourceSha256: source.hex } : {}),
        },
        size: file.entry.size,
        check,
      });
    }
    return out;
  } finally {
    await Promise.allSettled(fetched.values());
    await fetcher.close();
  }
}

function wrongArchitecture(label: DependencyLabel, check: ArchitectureCheck): PolypackError {
  const [first] = check.foreign;
  return new PolypackError(
    "DEPENDENCY_WRONG_ARCHITECTURE",
    `${label.url} is not for ${label.target}: ${foreignSummary(check)}`,
    {
      hint:
        first?.path === ""
          ? "check the --uri template for that target"
          : "check the --uri template and --arch-name spellings for that target (the archive holds programs for another machine)",
    },
  );
}

function eventFor(
  label: DependencyLabel,
  bytesDone: number,
  size: number | undefined,
): Omit<DependencyEvent, "type"> {
  return {
    id: label.id,
    version: label.version,
    target: label.target,
    url: label.url,
    digest: label.url,
    bytesDone,
    size,
  };
}
