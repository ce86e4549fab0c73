import { collect, platformFlags } from "../flag-parsers.js";
import type { Command } from "commander";
import { parseEndpoint, type Endpoint } from "../../endpoints/endpoint.js";
import { openSource } from "../../endpoints/open.js";
import { registryAccess, type RegistryAccess } from "../../endpoints/registry-access.js";
import { PolypackError } from "../../errors/index.js";
import type { Image, Index } from "../../image/image.js";
import type { WriteReport } from "../../image/write.js";
import type { IndexDraft } from "../../manifest/draft.js";
import type { LocationOpener } from "../../manifest/publish.js";
import type { ContentSource } from "../../oci/content.js";
import type { Descriptor } from "../../oci/descriptor.js";
import { Digest } from "../../oci/digest.js";
import type { ImageIndex } from "../../oci/manifest.js";
import { Platform } from "../../oci/platform.js";
import { Reference } from "../../registry/reference.js";
import type { CliContext } from "../context.js";
import { addCredsOptions, parseCreds, type SideCreds } from "../creds-option.js";
import { renderTable } from "../table.js";

/** `K=V` values of a repeatable flag as a map; a value without a key, or a key twice, is FLAG_INVALID. */
export function keyValues(flag: string, values: readonly string[] = []): Record<string, string> {
  const map: Record<string, string> = {};
  for (const value of values) {
    const equals = value.indexOf("=");
    const key = equals > 0 ? value.slice(0, equals) : "";
    if (key === "" || Object.hasOwn(map, key)) {
      throw new PolypackError(
        "FLAG_INVALID",
        `${flag} ${JSON.stringify(value)} ${key === "" ? "is not KEY=VALUE" : "gives a key twice"}`,
        {
          hint: `give each ${flag} once as KEY=VALUE, for example ${flag} org.opencontainers.image.source=https://…`,
        },
      );
    }
    map[key] = value.slice(equals + 1);
  }
  return map;
}

/**
 * Adds the images of each source (an image, or an index's images of `platforms`) to the draft, and
 * records each image by digest for draftIndex, so what was just read is not read again.
 */
export async function addSources(
  draft: IndexDraft,
  sourceTexts: readonly string[],
  platforms: readonly Platform[],
  session: ManifestSession,
): Promise<{ draft: IndexDraft; known: Map<string, Image> }> {
  const { candidatesOf, locationOf } = await import("../../manifest/sources.js");
  const { addImages } = await import("../../manifest/draft.js");
  const known = new Map<string, Image>();
  for (const text of sourceTexts) {
    const endpoint = parseEndpoint(text);
    const candidates = await candidatesOf(
      await session.open(endpoint),
      locationOf(endpoint),
      text,
      platforms,
    );
    for (const candidate of candidates) known.set(candidate.descriptor.digest, candidate.image);
    draft = addImages(draft, candidates);
  }
  return { draft, known };
}

/** `--platform os/arch[/variant]` values (see platformFlags). */
export function platformsOf(values: readonly string[] = []): Platform[] {
  return platformFlags(values);
}

/** Adds `--insecure` (pack's flag) and skopeo's `--src-creds`/`--dest-creds` to a manifest verb. */
export function addAccessOptions(command: Command): Command {
  return addCredsOptions(command).option(
    "--insecure",
    "allow plain HTTP and unverified TLS for the registries this command names",
  );
}

/**
 * Adds `--no-verify` and `--allow` (see `polypack verify`): verification is on by default, before
 * anything is written or pushed.
 */
export function addVerifyOptions(command: Command): Command {
  return command
    .option("--no-verify", "skip checking that each image's programs are built for its platform")
    .option(
      "--allow <pattern>",
      "a path meant to be foreign, such as a cross-compiler (repeatable)",
      collect,
      [],
    );
}

/** What the access options gave. */
export interface AccessFlags {
  insecure?: boolean;
  srcCreds?: string;
  destCreds?: string;
}

/**
 * Sources and registry access of one manifest verb: registry clients (with `--insecure` for the
 * registries the command names), sources opened once each, closed together at the end.
 */
export class ManifestSession {
  private readonly sources: ContentSource[] = [];
  private readonly layouts = new Map<string, Promise<ContentSource>>();
  private readonly own: RegistryAccess | undefined;
  /** Registry access for this command. */
  readonly access: RegistryAccess;
  /** Credentials for the index's registry (`--dest-creds`). */
  readonly destCreds: SideCreds | undefined;
  private readonly srcCreds: SideCreds | undefined;

  constructor(
    ctx: CliContext,
    command: Command,
    flags: AccessFlags,
    /** Where the index goes: unscoped credentials go to its registry only. */
    private readonly destination: Endpoint,
    /** Registries the command names, for `--insecure`. */
    hosts: readonly string[],
  ) {
    this.srcCreds = parseCreds(command, "--src-creds", flags.srcCreds);
    this.destCreds = parseCreds(command, "--dest-creds", flags.destCreds);
    this.own = flags.insecure
      ? registryAccess({ ...ctx.registry, insecure: [...ctx.registry.insecure, ...hosts] })
      : undefined;
    this.access = this.own ?? ctx;
  }

  /**
   * Opens a source: one the user named with `--src-creds` (unscoped credentials go to the index's
   * registry only), or with `asIndex` the index's own repository with the index's credentials
   * (`--dest-creds`, else the unscoped ones).
   */
  async open(endpoint: Endpoint, asIndex = false): Promise<ContentSource> {
    const side = asIndex
      ? this.destCreds
        ? { creds: this.destCreds }
        : {}
      : { destination: this.destination, ...(this.srcCreds ? { creds: this.srcCreds } : {}) };
    const source = await openSource(endpoint, this.access, side);
    this.sources.push(source);
    return source;
  }

  /** Opens where a child lives, to read the child by digest (layouts and files are opened once). */
  readonly openLocation: LocationOpener = async (location, digest) => {
    const endpoint = parseEndpoint(location);
    if (endpoint.kind === "registry") {
      // A child already in the index's repository is read as the index is.
      const home =
        this.destination.kind === "registry" && Reference.parse(this.destination.reference).name === location;
      return this.open({ kind: "registry", reference: `${location}@${digest}` }, home);
    }
    let source = this.layouts.get(location);
    if (source === undefined) {
      source = this.open(endpoint);
      this.layouts.set(location, source);
    }
    return source;
  };

  /** Closes every source and the command's own registry clients. */
  async close(): Promise<void> {
    for (const source of this.sources) await source.close?.();
    await this.own?.close();
  }
}

/** The registry hosts among endpoint strings and stored locations, for `--insecure`. */
export function registryHosts(texts: readonly string[]): string[] {
  const hosts = new Set<string>();
  for (const text of texts) {
    try {
      const endpoint = parseEndpoint(text);
      if (endpoint.kind === "registry") hosts.add(Reference.parse(endpoint.reference).registry);
    } catch {
      // Not a reference: its own command reports it, with the message that belongs to it.
    }
  }
  return [...hosts];
}

/**
 * The digest of the entry SRC names in `manifest annotate` and `rm`: a digest itself, a reference
 * with a digest, or any source (resolved to the digest of what it names).
 */
export async function entryDigest(session: ManifestSession, text: string): Promise<string> {
  if (Digest.isValid(text)) return Digest.parse(text).toString();
  const endpoint = parseEndpoint(text);
  if (endpoint.kind === "registry") {
    const digest = Reference.parse(endpoint.reference).digest;
    if (digest) return digest.toString();
  }
  return (await (await session.open(endpoint)).resolve()).digest;
}

/**
 * What a manifest verb reports (`--json`): the index's descriptor and entries as `manifest create`
 * has always reported them, with where the index went.
 */
export interface ManifestReport {
  /** The index as the user named it (or its local name). */
  target: string;
  index: Descriptor;
  /** The index's entries, each with its platform and annotations. */
  manifests: Descriptor[];
  annotations?: Record<string, string>;
  /** Where it went: kept locally, written, unchanged locally, or only computed (`--dry-run`). */
  outcome: "local" | "written" | "dry-run" | "unchanged";
  tags: string[];
  /** The index itself, with `--dry-run`. */
  manifest?: ImageIndex;
  /** Blobs uploaded and mounted, when written. */
  blobs?: WriteReport["blobs"];
}

/** The report of an index (drafted or written). */
export async function reportOf(
  target: string,
  index: Index,
  outcome: ManifestReport["outcome"],
  extra: Pick<ManifestReport, "tags" | "blobs"> = { tags: [] },
): Promise<ManifestReport> {
  const manifest = await index.index();
  return {
    target,
    index: await index.descriptor(),
    manifests: manifest.manifests,
    ...(manifest.annotations ? { annotations: manifest.annotations } : {}),
    outcome,
    ...extra,
    ...(outcome === "dry-run" ? { manifest } : {}),
  };
}

/** The text form of a report. */
export function renderReport(report: ManifestReport): string {
  const rows = report.manifests.map((m) => [
    m.platform ? Platform.fromJSON(m.platform).toString() : "(none)",
    m.digest,
  ]);
  const table = rows.length > 0 ? `${renderTable(["PLATFORM", "DIGEST"], rows)}\n\n` : "";
  const digest = report.index.digest;
  const tags = report.tags.length > 0 ? `, tagged ${report.tags.join(", ")}` : " (no tag)";
  switch (report.outcome) {
    case "dry-run":
      return `${JSON.stringify(report.manifest, null, 2)}\n\nindex ${digest} (dry run: nothing written)`;
    case "local":
      return `${table}index ${digest} kept locally as ${report.target}; push it with: polypack manifest push ${report.target}`;
    case "unchanged":
      return `${table}index ${digest} kept locally as ${report.target} (unchanged)`;
    case "written":
      return `${table}index ${digest} written to ${report.target}${tags}`;
  }
}

/** Whether two drafts are one index with its children in the same places. */
export function sameDraft(a: IndexDraft, b: IndexDraft): boolean {
  return (
    JSON.stringify(a.index) === JSON.stringify(b.index) &&
    a.index.manifests.every((m) => a.locations[m.digest] === b.locations[m.digest])
  );
}
