import * as CDX from "@cyclonedx/cyclonedx-library";
import { polypackVersion } from "../version.js";
import type { SbomPackage, SbomSubject } from "./model.js";

/** The media type of a CycloneDX JSON document (the referrer's artifactType). */
export const CYCLONEDX_MEDIA_TYPE = "application/vnd.cyclonedx+json";

/**
 * A CycloneDX 1.6 JSON document for one platform, made with the CycloneDX library. Reproducible:
 * no serial number and no timestamp (both are optional), lists sorted, so the same image always
 * gives the same bytes.
 */
export function cycloneDxDocument(subject: SbomSubject): string {
  const bom = new CDX.Models.Bom();
  bom.metadata.component = component(subject.root, CDX.Enums.ComponentType.Application);
  bom.metadata.tools.components.add(
    new CDX.Models.Component(CDX.Enums.ComponentType.Application, "polypack", { version: polypackVersion() }),
  );
  bom.metadata.properties.add(new CDX.Models.Property("polypack:platform", subject.platform));
  bom.metadata.properties.add(new CDX.Models.Property("polypack:manifest-digest", subject.digest));
  for (const item of subject.packages) {
    bom.components.add(
      component(
        item,
        item.kind === "dependency" ? CDX.Enums.ComponentType.Library : CDX.Enums.ComponentType.Application,
      ),
    );
  }
  const serializer = new CDX.Serialize.JsonSerializer(
    new CDX.Serialize.JSON.Normalize.Factory(CDX.Spec.Spec1dot6),
  );
  return serializer.serialize(bom, { sortLists: true, space: 2 });
}

function component(item: SbomPackage, type: CDX.Enums.ComponentType): CDX.Models.Component {
  const made = new CDX.Models.Component(type, item.name ?? item.id, {
    bomRef: item.ref,
    ...(item.version ? { version: item.version } : {}),
    ...(item.description ? { description: item.description } : {}),
    ...(item.purl ? { purl: item.purl } : {}),
    ...(item.cpes[0] ? { cpe: item.cpes[0] } : {}),
  });
  if (item.name !== undefined && item.name !== item.id) {
    made.properties.add(new CDX.Models.Property("polypack:id", item.id));
  }
  if (item.sha256 !== undefined) made.hashes.set(CDX.Enums.HashAlgorithm["SHA-256"], item.sha256);
  for (const license of item.licenses) {
    const id = CDX.SPDX.fixupSpdxId(license);
    made.licenses.add(
      id !== undefined ? new CDX.Models.SpdxLicense(id) : new CDX.Models.NamedLicense(license),
    );
  }
  const refs: [string | undefined, CDX.Enums.ExternalReferenceType][] = [
    [item.uri, CDX.Enums.ExternalReferenceType.Distribution],
    [item.sourceUri, CDX.Enums.ExternalReferenceType.SourceDistribution],
    [item.homepage, CDX.Enums.ExternalReferenceType.Website],
  ];
  for (const [url, kind] of refs) {
    if (url !== undefined) made.externalReferences.add(new CDX.Models.ExternalReference(url, kind));
  }
  return made;
}
