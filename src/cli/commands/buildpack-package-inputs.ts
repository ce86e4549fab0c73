import { stat } from "node:fs/promises";
import { basename, dirname } from "node:path";
import type { Endpoint } from "../../endpoints/endpoint.js";
import { PolypackError } from "../../errors/index.js";
import type { ContentSource } from "../../oci/content.js";

/** pack's `--pull-policy` values. */
export const PULL_POLICIES = ["always", "if-not-present", "never"] as const;

/** How image dependencies may be read: pack's `--pull-policy`. */
export type PullPolicy = (typeof PULL_POLICIES)[number];

/**
 * The folder `--path` means: the folder itself, or the folder of a buildpack.toml or extension.toml
 * given instead (pack users often point at the file). Another file is PATH_NOT_FOUND naming it; a
 * path that does not exist is left for the reader to report.
 */
export async function folderOfPath(path: string, kind: "buildpack" | "extension"): Promise<string> {
  const found = await stat(path).catch(() => undefined);
  if (found === undefined || found.isDirectory()) return path;
  if (basename(path) === "buildpack.toml" || basename(path) === "extension.toml") return dirname(path);
  throw new PolypackError("PATH_NOT_FOUND", `--path ${path} is a file, not the ${kind}'s folder`, {
    hint: `give the folder holding ${kind}.toml, or the ${kind}.toml itself; a package.toml goes to --config`,
  });
}

/**
 * Wraps `open` so that it honours the pull policy for image dependencies of a composite. polypack
 * keeps no local image store, so `always` and `if-not-present` both read the registry (every blob
 * checked against its digest); `never` refuses any registry read (IMAGE_PULL_REFUSED) and lets
 * only local layouts, `.cnb` files and folders in.
 */
export function pullingSource(
  policy: PullPolicy,
  open: (endpoint: Endpoint) => Promise<ContentSource>,
): (endpoint: Endpoint) => Promise<ContentSource> {
  return (endpoint) => {
    if (policy === "never" && endpoint.kind === "registry") {
      return Promise.reject(
        new PolypackError(
          "IMAGE_PULL_REFUSED",
          `--pull-policy never: the dependency ${endpoint.reference} would be read from its registry`,
          {
            hint: "use --pull-policy always (or if-not-present), or point the dependency at a local .cnb or OCI layout",
          },
        ),
      );
    }
    return open(endpoint);
  };
}
