import semver from "semver";
import { coerceVersion } from "../../buildpack/constraint.js";
import type { Dependency } from "../../buildpack/dependencies.js";
import { detectDialect, type Dialect } from "../../buildpack/dependencies-coverage.js";
import type { TomlTable, TomlValue } from "../../buildpack/toml-document.js";
import type { Platform } from "../../oci/platform.js";

/** One entry to add: what was fetched for one target. */
export interface Addition {
  id: string;
  version: string;
  platform: Platform;
  uri: string;
  /** Hex sha256 of the file at `uri`. */
  sha256: string;
  source?: string;
  /** Hex sha256 of the file at `source`, when it was fetched. */
  sourceSha256?: string;
}

/** The dialect a new entry is written in: how it names its architecture and checksum. */
export type WriteDialect = "packit" | "rfc" | "libpak";

/**
 * The dialect to write in: the file's own (see `detectDialect`); for a file that mixes them, the
 * one the template entry uses; for a file naming no architecture anywhere, libpak when the template
 * looks like a libpak entry (a purl and the legacy `sha256`, no `checksum`), else packit.
 */
export function writeDialect(
  dependencies: readonly Dependency[],
  template: Dependency | undefined,
): WriteDialect {
  const dialect: Dialect = detectDialect(dependencies);
  if (dialect === "packit" || dialect === "rfc" || dialect === "libpak") return dialect;
  if (dialect === "mixed" && template !== undefined) {
    const source = template.architectureSource;
    if (source === "arch") return "packit";
    if (source === "architecture") return "rfc";
    if (source === "purl") return "libpak";
  }
  const raw = template?.raw ?? {};
  const libpakLike =
    raw["purl"] !== undefined && raw["sha256"] !== undefined && raw["checksum"] === undefined;
  return libpakLike ? "libpak" : "packit";
}

/**
 * The entry to copy for a new version: the newest entry of `id` for the same architecture (its
 * URIs and purl spell that architecture) when there is one, else the newest entry of `id`.
 */
export function templateEntry(
  dependencies: readonly Dependency[],
  id: string,
  platform: Platform,
): Dependency | undefined {
  const newest = (list: readonly Dependency[]): Dependency | undefined =>
    list.reduce<Dependency | undefined>(
      (best, d) => (best === undefined || compareVersions(d.version, best.version) >= 0 ? d : best),
      undefined,
    );
  const ofId = dependencies.filter((d) => d.id === id);
  return newest(ofId.filter((d) => d.architecture === platform.architecture)) ?? newest(ofId);
}

/**
 * The keys that change when `template` is copied for `addition`: version, uri, checksum(s),
 * architecture keys in the dialect, purl(s) and cpe(s) with the version (and the purl's checksum,
 * download_url and arch qualifiers) replaced, and the source with its checksum (dropped when the
 * source was not fetched, since a copied checksum would be wrong). Undefined removes a key.
 */
export function templateChanges(
  template: Dependency,
  addition: Addition,
  dialect: WriteDialect,
): Map<string, TomlValue | undefined> {
  const raw = template.raw;
  const old = template.version;
  const swap = (text: string): string => (old === "" ? text : text.split(old).join(addition.version));
  const changes = new Map<string, TomlValue | undefined>();
  changes.set("version", addition.version);
  changes.set("uri", addition.uri);
  const hasChecksum = raw["checksum"] !== undefined;
  const hasSha256 = raw["sha256"] !== undefined;
  if (hasChecksum || (!hasSha256 && dialect !== "libpak"))
    changes.set("checksum", `sha256:${addition.sha256}`);
  if (hasSha256 || (!hasChecksum && dialect === "libpak")) changes.set("sha256", addition.sha256);
  const { os, architecture } = addition.platform;
  if (raw["arch"] !== undefined || dialect === "packit") changes.set("arch", architecture);
  if (raw["architecture"] !== undefined || dialect === "rfc") changes.set("architecture", architecture);
  if (raw["os"] !== undefined || dialect === "packit") changes.set("os", os);
  const purl = (value: string): string =>
    withQualifiers(
      swap(value),
      { checksum: addition.sha256, download_url: addition.uri, arch: architecture },
      dialect === "libpak",
    );
  if (typeof raw["purl"] === "string") changes.set("purl", purl(raw["purl"]));
  if (Array.isArray(raw["purls"]))
    changes.set(
      "purls",
      raw["purls"].map((p) => (typeof p === "string" ? purl(p) : p)),
    );
  if (typeof raw["cpe"] === "string") changes.set("cpe", swap(raw["cpe"]));
  if (Array.isArray(raw["cpes"]))
    changes.set(
      "cpes",
      raw["cpes"].map((c) => (typeof c === "string" ? swap(c) : c)),
    );
  const source = addition.source ?? (typeof raw["source"] === "string" ? swap(raw["source"]) : undefined);
  if (source !== undefined) changes.set("source", source);
  const sourceHex = addition.sourceSha256;
  for (const key of SOURCE_CHECKSUM_KEYS) {
    if (raw[key] === undefined) continue;
    changes.set(
      key,
      sourceHex === undefined ? undefined : key === "source-checksum" ? `sha256:${sourceHex}` : sourceHex,
    );
  }
  if (SOURCE_CHECKSUM_KEYS.every((key) => raw[key] === undefined) && sourceHex !== undefined) {
    if (dialect === "libpak" && !hasChecksum) changes.set("source_sha256", sourceHex);
    else changes.set("source-checksum", `sha256:${sourceHex}`);
  }
  return changes;
}

/** The keys tools write a source archive's checksum under: packit's, jam's legacy one, libpak's. */
export const SOURCE_CHECKSUM_KEYS = ["source-checksum", "source_sha256", "source-sha256"] as const;

/** `template.raw` with `changes` applied: the table the copied lines must read back as. */
export function applyChanges(raw: TomlTable, changes: ReadonlyMap<string, TomlValue | undefined>): TomlTable {
  const out: TomlTable = { ...raw };
  for (const [key, value] of changes) {
    if (value === undefined) delete out[key];
    else out[key] = value;
  }
  return out;
}

/** An entry for an id the file does not have yet: the keys every dialect needs, nothing copied. */
export function freshTable(addition: Addition, dialect: WriteDialect): TomlTable {
  const { os, architecture } = addition.platform;
  const table: TomlTable = { id: addition.id, version: addition.version, uri: addition.uri };
  if (dialect === "libpak") {
    table["sha256"] = addition.sha256;
    table["purl"] = `pkg:generic/${addition.id}@${addition.version}?arch=${architecture}`;
  } else {
    table["checksum"] = `sha256:${addition.sha256}`;
    table["os"] = os;
    table[dialect === "rfc" ? "architecture" : "arch"] = architecture;
  }
  if (addition.source !== undefined) table["source"] = addition.source;
  if (addition.sourceSha256 !== undefined) table["source-checksum"] = `sha256:${addition.sourceSha256}`;
  return table;
}

/** Orders versions as semver where both read as one, else as text. */
export function compareVersions(a: string, b: string): number {
  const [x, y] = [coerceVersion(a), coerceVersion(b)];
  return x !== undefined && y !== undefined ? semver.compare(x, y) : a.localeCompare(b);
}

/**
 * A purl with the qualifiers it already has replaced (`checksum`, `download_url`, and `arch`, spelt
 * as the purl spelt it: x86_64/aarch64, x64, or Go's names). A missing `arch` is added only when
 * `addArch` is set (libpak names the architecture there); other missing qualifiers never are.
 */
function withQualifiers(purl: string, values: Record<string, string | undefined>, addArch: boolean): string {
  const hash = purl.indexOf("#");
  const subpath = hash < 0 ? "" : purl.slice(hash);
  const body = hash < 0 ? purl : purl.slice(0, hash);
  const query = body.indexOf("?");
  const base = query < 0 ? body : body.slice(0, query);
  const pairs =
    query < 0
      ? []
      : body
          .slice(query + 1)
          .split("&")
          .filter((pair) => pair !== "");
  const seen = new Set<string>();
  const out = pairs.map((pair) => {
    const [key = "", old = ""] = pair.split("=");
    let value = values[key];
    if (key === "arch" && value !== undefined) value = archSpelling(value, old);
    seen.add(key);
    return value === undefined ? pair : `${key}=${value}`;
  });
  if (addArch && values["arch"] !== undefined && !seen.has("arch")) out.push(`arch=${values["arch"]}`);
  return `${base}${out.length > 0 ? `?${out.join("&")}` : ""}${subpath}`;
}

/** Go's architecture name `architecture` as the family of names `like` belongs to spells it. */
function archSpelling(architecture: string, like: string): string {
  if (like === "x86_64" || like === "aarch64")
    return { amd64: "x86_64", arm64: "aarch64" }[architecture] ?? architecture;
  if (like === "x64") return architecture === "amd64" ? "x64" : architecture;
  return architecture;
}
