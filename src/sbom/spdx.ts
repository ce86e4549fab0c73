import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { Ajv, type ValidateFunction } from "ajv";
import * as CDX from "@cyclonedx/cyclonedx-library";
import { internalError } from "../errors/index.js";
import { polypackVersion } from "../version.js";
import type { SbomPackage, SbomSubject } from "./model.js";

/** The media type of an SPDX JSON document (the referrer's artifactType). */
export const SPDX_MEDIA_TYPE = "application/spdx+json";

/**
 * An SPDX 2.3 JSON document for one platform, checked against the published SPDX 2.3 JSON schema
 * (vendored in schemas/, read offline) before it is returned. Reproducible: `created` is the
 * image's own creation time and the namespace is derived from the manifest digest.
 */
export function spdxDocument(subject: SbomSubject): string {
  const ids = new Map<string, string>();
  const spdxId = (item: SbomPackage): string => {
    let id = ids.get(item.ref);
    if (id === undefined) {
      id = `SPDXRef-${item.kind}-${ids.size}`;
      ids.set(item.ref, id);
    }
    return id;
  };
  const rootId = spdxId(subject.root);
  const document = {
    spdxVersion: "SPDX-2.3",
    dataLicense: "CC0-1.0",
    SPDXID: "SPDXRef-DOCUMENT",
    name: `${subject.root.id}${subject.root.version ? `@${subject.root.version}` : ""} ${subject.platform}`,
    documentNamespace: `urn:polypack:spdx:${subject.digest}`,
    creationInfo: {
      created: subject.created.replace(/\.\d+Z$/, "Z"),
      creators: [`Tool: polypack-${polypackVersion()}`],
    },
    comment: `platform ${subject.platform}, image manifest ${subject.digest}`,
    documentDescribes: [rootId],
    packages: [subject.root, ...subject.packages].map((item) => spdxPackage(item, spdxId(item))),
    relationships: [
      { spdxElementId: "SPDXRef-DOCUMENT", relationshipType: "DESCRIBES", relatedSpdxElement: rootId },
      ...subject.packages.map((item) => ({
        spdxElementId: rootId,
        relationshipType: "CONTAINS",
        relatedSpdxElement: spdxId(item),
      })),
    ],
  };
  const text = JSON.stringify(document, null, 2);
  const validate = spdxValidator();
  if (!validate(document)) {
    throw internalError(
      `the SPDX document polypack made does not validate: ${JSON.stringify(validate.errors)}`,
    );
  }
  return text;
}

function spdxPackage(item: SbomPackage, id: string): Record<string, unknown> {
  const known = item.licenses.map((l) => CDX.SPDX.fixupSpdxId(l));
  // An expression only of ids the SPDX list knows; anything else would not parse, so NOASSERTION.
  const declared =
    known.length > 0 && known.every((l) => l !== undefined) ? known.join(" AND ") : "NOASSERTION";
  const externalRefs = [
    ...(item.purl
      ? [{ referenceCategory: "PACKAGE-MANAGER", referenceType: "purl", referenceLocator: item.purl }]
      : []),
    ...item.cpes.map((cpe) => ({
      referenceCategory: "SECURITY",
      referenceType: cpe.startsWith("cpe:2.3:") ? "cpe23Type" : "cpe22Type",
      referenceLocator: cpe,
    })),
  ];
  return {
    SPDXID: id,
    name: item.name ?? item.id,
    ...(item.version ? { versionInfo: item.version } : {}),
    downloadLocation: item.uri ?? "NOASSERTION",
    filesAnalyzed: false,
    licenseConcluded: "NOASSERTION",
    licenseDeclared: declared,
    copyrightText: "NOASSERTION",
    ...(item.sha256 ? { checksums: [{ algorithm: "SHA256", checksumValue: item.sha256 }] } : {}),
    ...(item.homepage ? { homepage: item.homepage } : {}),
    ...(item.sourceUri ? { sourceInfo: `source: ${item.sourceUri}` } : {}),
    ...(item.description ? { description: item.description } : {}),
    ...(externalRefs.length > 0 ? { externalRefs } : {}),
    primaryPackagePurpose: item.kind === "dependency" ? "LIBRARY" : "APPLICATION",
    ...(item.name !== undefined && item.name !== item.id ? { comment: `id ${item.id}` } : {}),
  };
}

let compiled: ValidateFunction | undefined;

/** The SPDX 2.3 schema, compiled once; exported for tests that validate documents themselves. */
export function spdxValidator(): ValidateFunction {
  if (compiled !== undefined) return compiled;
  // dist/src/sbom/spdx.js and src/sbom/spdx.ts both sit three folders below the package root.
  const here = dirname(fileURLToPath(import.meta.url));
  const candidates = [join(here, "..", "..", "..", "schemas"), join(here, "..", "..", "schemas")];
  const dir = candidates.find((d) => {
    try {
      readFileSync(join(d, "spdx-2.3.schema.json"));
      return true;
    } catch {
      return false;
    }
  });
  if (dir === undefined)
    throw internalError("schemas/spdx-2.3.schema.json is missing from polypack's package");
  const schema = JSON.parse(readFileSync(join(dir, "spdx-2.3.schema.json"), "utf8")) as object;
  compiled = new Ajv({ strict: false, allErrors: true }).compile(schema);
  return compiled;
}
