import type { BuildpackDescriptor } from "../buildpack/descriptor-types.js";
import type { Dependency } from "../buildpack/dependencies.js";
import { dependencyMatchesTarget } from "../buildpack/dependencies-filter.js";
import { BUILDPACKAGE_METADATA_LABEL } from "../buildpack/labels.js";
import type { ImageConfig } from "../oci/manifest.js";
import type { Platform } from "../oci/platform.js";
import { BUILDER_METADATA_LABEL } from "../buildpack/labels.js";

/** One thing an SBOM lists: the buildpack, builder or lifecycle, or a dependency. */
export interface SbomPackage {
  kind: "buildpack" | "extension" | "builder" | "lifecycle" | "dependency";
  /** A stable name inside the document (`buildpack:<id>@<version>`, `dependency:<id>@<version>`). */
  ref: string;
  id: string;
  version: string;
  name?: string;
  description?: string;
  homepage?: string;
  purl?: string;
  cpes: string[];
  /** sha256 hex of the file, for dependencies. */
  sha256?: string;
  /** License ids or names, as the descriptor gives them. */
  licenses: string[];
  /** Where the file is downloaded from. */
  uri?: string;
  /** Where the source is downloaded from. */
  sourceUri?: string;
}

/** What one platform's SBOM is about: its root, what it holds, and what makes it reproducible. */
export interface SbomSubject {
  /** The platform, `os/arch[/variant]`. */
  platform: string;
  /** The platform manifest's digest (the SBOM's referrer subject). */
  digest: string;
  /** The image config's `created`, so the same image always gives the same document. */
  created: string;
  root: SbomPackage;
  packages: SbomPackage[];
}

/**
 * Gathers what an SBOM lists from one platform's image: the buildpack (or builder) from the labels,
 * every buildpack or extension whose descriptor lies in the layers, the lifecycle of a builder, and
 * each dependency the descriptors list for this platform.
 */
export function sbomSubject(
  config: ImageConfig,
  descriptors: readonly BuildpackDescriptor[],
  platform: Platform,
  digest: string,
  fallbackName: string,
): SbomSubject {
  const labels = config.config?.Labels ?? {};
  const modules = descriptors.map(modulePackage);
  const dependencies = new Map<string, SbomPackage>();
  for (const descriptor of descriptors) {
    for (const dependency of descriptor.metadata.dependencies) {
      if (!dependencyMatchesTarget(dependency, platform)) continue;
      const item = dependencyPackage(dependency);
      dependencies.set(`${item.ref}#${item.sha256 ?? ""}`, item);
    }
  }
  const packages = [...modules, ...dependencies.values()];
  let root: SbomPackage;
  const builder = parseJson(labels[BUILDER_METADATA_LABEL]);
  const meta = parseJson(labels[BUILDPACKAGE_METADATA_LABEL]);
  if (builder !== undefined) {
    root = {
      kind: "builder",
      ref: `builder:${fallbackName}`,
      id: fallbackName,
      version: "",
      cpes: [],
      licenses: [],
    };
    const lifecycle = builder["lifecycle"] as { version?: unknown } | undefined;
    if (typeof lifecycle?.version === "string") {
      packages.unshift({
        kind: "lifecycle",
        ref: `lifecycle@${lifecycle.version}`,
        id: "buildpacks/lifecycle",
        version: lifecycle.version,
        purl: `pkg:github/buildpacks/lifecycle@v${lifecycle.version}`,
        cpes: [],
        licenses: ["Apache-2.0"],
      });
    }
  } else if (typeof meta?.["id"] === "string") {
    const id = meta["id"];
    const version = typeof meta["version"] === "string" ? meta["version"] : "";
    const own = modules.find((m) => m.id === id && m.version === version);
    root = own ?? {
      kind: "buildpack",
      ref: `buildpack:${id}@${version}`,
      id,
      version,
      cpes: [],
      licenses: [],
    };
  } else {
    root = {
      kind: "buildpack",
      ref: `image:${fallbackName}`,
      id: fallbackName,
      version: "",
      cpes: [],
      licenses: [],
    };
  }
  return {
    platform: platform.toString(),
    digest,
    created: config.created ?? "1980-01-01T00:00:01Z",
    root,
    packages: packages
      .filter((p) => p.ref !== root.ref)
      .sort((a, b) => (a.ref < b.ref ? -1 : a.ref > b.ref ? 1 : 0)),
  };
}

function modulePackage(descriptor: BuildpackDescriptor): SbomPackage {
  const { info } = descriptor;
  return {
    kind: descriptor.kind,
    ref: `${descriptor.kind}:${info.id}@${info.version}`,
    id: info.id,
    version: info.version,
    ...(info.name ? { name: info.name } : {}),
    ...(info.description ? { description: info.description } : {}),
    ...(info.homepage ? { homepage: info.homepage } : {}),
    cpes: [],
    licenses: info.licenses.map((l) => l.type ?? l.uri ?? "").filter((l) => l !== ""),
  };
}

function dependencyPackage(dependency: Dependency): SbomPackage {
  const raw = dependency.raw;
  const text = (key: string): string | undefined => (typeof raw[key] === "string" ? raw[key] : undefined);
  const purl =
    text("purl") ??
    (Array.isArray(raw["purls"]) ? raw["purls"].find((p) => typeof p === "string") : undefined);
  const cpes = [
    ...(text("cpe") ? [text("cpe")!] : []),
    ...(Array.isArray(raw["cpes"]) ? raw["cpes"].filter((c): c is string => typeof c === "string") : []),
  ];
  const licenses = Array.isArray(raw["licenses"])
    ? raw["licenses"].flatMap((l) => {
        if (typeof l === "string") return [l];
        const table = l as { type?: unknown; uri?: unknown };
        return typeof table.type === "string"
          ? [table.type]
          : typeof table.uri === "string"
            ? [table.uri]
            : [];
      })
    : [];
  const sourceUri = text("source") ?? text("source_uri") ?? text("source-uri");
  return {
    kind: "dependency",
    ref: `dependency:${dependency.id}@${dependency.version}`,
    id: dependency.id,
    version: dependency.version,
    ...(dependency.name ? { name: dependency.name } : {}),
    ...(typeof purl === "string" ? { purl } : {}),
    cpes,
    ...(dependency.checksum?.algorithm === "sha256" ? { sha256: dependency.checksum.hex } : {}),
    licenses,
    ...(dependency.uri ? { uri: dependency.uri } : {}),
    ...(sourceUri ? { sourceUri } : {}),
  };
}

function parseJson(text: string | undefined): Record<string, unknown> | undefined {
  if (text === undefined) return undefined;
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === "object" && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}
