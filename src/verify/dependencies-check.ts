import { createReadStream } from "node:fs";
import { dependencyMatchesTarget } from "../buildpack/dependencies-filter.js";
import { targetFromPlatform } from "../buildpack/targets.js";
import { peek } from "../layer/decompress.js";
import { STREAM_CHUNK_BYTES } from "../oci/verify.js";
import type { Platform } from "../oci/platform.js";
import { fetchOfflineDependencies, type OfflineOptions } from "../package/offline.js";
import { HEAD_BYTES, scanArchive } from "./archive.js";
import { classifyProgram, describeProgram, runsOn, withArmLevel } from "./elf.js";
import type { Finding } from "./findings.js";
import type { LayerDescriptor } from "./image-checks.js";

/** How `--dependencies` downloads: the same checksum-keyed cache as offline packaging. */
export type DependencyDownloads = Omit<OfflineOptions, "baseDir"> & { baseDir?: string };

/**
 * Fetches every dependency the image's descriptors list for `platform` (through the download
 * cache, so each is checked against its checksum), and checks the programs in each archive (or
 * the file itself, for a bare binary). A dependency that cannot be fetched is a finding; the
 * others are still checked. Returns how many were checked.
 */
export async function checkDependencies(
  descriptors: readonly LayerDescriptor[],
  platform: Platform,
  downloads: DependencyDownloads,
  emit: (finding: Omit<Finding, "platform">) => void,
): Promise<number> {
  const expected = platform.toString();
  const target = targetFromPlatform(platform);
  let checked = 0;
  for (const { descriptor } of descriptors) {
    for (const dependency of descriptor.metadata.dependencies) {
      // Entries for other platforms are already a metadata finding; fetching them proves nothing.
      if (!dependencyMatchesTarget(dependency, platform)) continue;
      const subject = `dependency ${dependency.id}@${dependency.version}`;
      let files;
      try {
        files = await fetchOfflineDependencies(
          { metadata: { ...descriptor.metadata, dependencies: [dependency] } },
          [target],
          { baseDir: downloads.baseDir ?? process.cwd(), ...downloads },
        );
      } catch (error) {
        emit({
          check: "dependency",
          subject,
          expected: "a download matching its checksum",
          found: error instanceof Error ? error.message : String(error),
        });
        continue;
      }
      for (const file of files.values()) {
        checked++;
        const content = createReadStream(file.path, { highWaterMark: STREAM_CHUNK_BYTES });
        const { head, rest } = await peek(content, HEAD_BYTES);
        const classified = classifyProgram(head);
        if (classified.kind === "elf" || classified.kind === "foreign") {
          const kind = await withArmLevel(classified, rest);
          content.destroy();
          if (!runsOn(kind, platform)) {
            emit({
              check: "dependency",
              subject: `${subject} (${dependency.uri ?? ""})`,
              expected,
              found: describeProgram(kind),
            });
          }
          continue;
        }
        const scan = await scanArchive(head, rest, { file: file.path });
        content.destroy();
        if (scan === undefined) continue;
        for (const member of scan.programs) {
          if (runsOn(member.kind, platform)) continue;
          if (
            member.kind.kind === "elf" &&
            member.kind.elf.type !== "executable" &&
            member.kind.elf.type !== "shared"
          ) {
            continue;
          }
          emit({
            check: "dependency",
            subject: `${subject}!${member.path}`,
            expected,
            found: describeProgram(member.kind),
          });
        }
        if (scan.problem !== undefined) {
          emit({
            check: "dependency",
            subject,
            expected: `a readable ${scan.format} archive`,
            found: scan.problem,
          });
        }
      }
    }
  }
  return checked;
}
