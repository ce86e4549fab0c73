import { readFile } from "node:fs/promises";
import { join } from "node:path";
import semver from "semver";
import { PolypackError } from "../errors/index.js";

/** The prefix of a buildpack registry locator: `urn:cnb:registry:<ns>/<name>[@<version>]`. */
export const REGISTRY_URN_PREFIX = "urn:cnb:registry:";
// An index file lists every version of one buildpack; a few hundred bytes each.
const MAX_INDEX_FILE_BYTES = 4 * 1024 * 1024;
const FIELD = /^[a-z0-9][a-z0-9._-]{0,252}$/;

/** One line of a registry-index file (pack's registry.Buildpack). */
interface IndexEntry {
  ns: string;
  name: string;
  version: string;
  yanked?: boolean;
  addr?: string;
}

/**
 * Resolves `urn:cnb:registry:<ns>/<name>[@<version>]` to the image address a buildpack registry
 * index records for it, as pack's `-r/--buildpack-registry` does: the index is a local clone of a
 * registry-index repository, or the http(s) URL of its raw files. Without a version the highest
 * version not yanked is taken. Throws BUILDPACK_REGISTRY_LOOKUP_FAILED naming `where` and the urn.
 */
export async function resolveRegistryUrn(
  urn: string,
  index: string | undefined,
  where: string,
): Promise<string> {
  const fail = (why: string, hint: string): PolypackError =>
    new PolypackError("BUILDPACK_REGISTRY_LOOKUP_FAILED", `${where}: cannot resolve ${urn}: ${why}`, {
      hint,
    });
  if (index === undefined) {
    throw fail(
      "no buildpack registry was given",
      "pass -r/--buildpack-registry with a registry-index clone or URL",
    );
  }
  const [id = "", version, ...rest] = urn.slice(REGISTRY_URN_PREFIX.length).split("@");
  const [ns = "", name = "", ...more] = id.split("/");
  if (rest.length > 0 || more.length > 0 || !FIELD.test(ns) || !FIELD.test(name)) {
    throw fail("it is not urn:cnb:registry:<namespace>/<name>[@<version>]", "check the dependency's uri");
  }
  const path = indexPath(ns, name);
  const text = await readIndexFile(index, path).catch((error: unknown) => {
    throw new PolypackError(
      "BUILDPACK_REGISTRY_LOOKUP_FAILED",
      `${where}: cannot resolve ${urn}: ${index} has no readable ${path}`,
      { cause: error, hint: "check the registry index and the buildpack's id" },
    );
  });
  const entries = text
    .split("\n")
    .filter((line) => line.trim() !== "")
    .map((line) => JSON.parse(line) as IndexEntry)
    .filter((e) => e.ns === ns && e.name === name && typeof e.addr === "string" && e.addr !== "");
  const chosen =
    version !== undefined
      ? entries.find((e) => e.version === version)
      : entries
          .filter((e) => e.yanked !== true && semver.valid(e.version) !== null)
          .sort((a, b) => semver.compare(b.version, a.version))[0];
  if (chosen === undefined) {
    const have = entries.map((e) => e.version).join(", ") || "none";
    throw fail(
      `the index has no ${version ? `version ${version}` : "usable version"} (it has ${have})`,
      "choose a version the index lists",
    );
  }
  if (chosen.yanked === true) throw fail(`version ${chosen.version} is yanked`, "choose another version");
  return chosen.addr!;
}

/** pack's registry.IndexPath: `1/`, `2/`, `3/<ab>/` or `<ab>/<cd>/` by the name's length, then `<ns>_<name>`. */
function indexPath(ns: string, name: string): string {
  const dir =
    name.length === 1
      ? "1"
      : name.length === 2
        ? "2"
        : name.length === 3
          ? `3/${name.slice(0, 2)}`
          : `${name.slice(0, 2)}/${name.slice(2, 4)}`;
  return `${dir}/${ns}_${name}`;
}

async function readIndexFile(index: string, path: string): Promise<string> {
  if (!/^https?:\/\//i.test(index)) {
    const text = await readFile(join(index, path));
    if (text.length > MAX_INDEX_FILE_BYTES) throw new Error(`larger than ${MAX_INDEX_FILE_BYTES} bytes`);
    return text.toString("utf8");
  }
  const response = await fetch(`${index.replace(/\/+$/, "")}/${path}`, {
    signal: AbortSignal.timeout(60_000),
  });
  if (!response.ok) throw new Error(`HTTP ${response.status}`);
  const body = Buffer.from(await response.arrayBuffer());
  if (body.length > MAX_INDEX_FILE_BYTES) throw new Error(`larger than ${MAX_INDEX_FILE_BYTES} bytes`);
  return body.toString("utf8");
}
