import type { Artifact } from "../image/image.js";
import { requireVerified } from "../verify/verify.js";
import type { PackageOptions } from "./package.js";
import type { LayerScans } from "../verify/image-tree.js";

/**
 * Runs `polypack verify`'s checks over the images a package run built, before delivery writes
 * anything: a program built for another machine refuses the run (VERIFY_FAILED, naming platform
 * and file). `verify: false` skips it, and says so; files accepted by `allow` are warned about.
 */
export async function verifyBeforeWrite(
  root: Artifact,
  options: Pick<PackageOptions, "verify" | "allow" | "onEvent">,
  name: string,
  scans?: LayerScans,
): Promise<void> {
  if (options.verify === false) {
    options.onEvent?.({ type: "warning", message: "verification skipped (--no-verify)" });
    return;
  }
  const report = await requireVerified(root, {
    name,
    allow: options.allow ?? [],
    ...(scans ? { scans } : {}),
  });
  for (const finding of report.findings) {
    options.onEvent?.({
      type: "warning",
      message: `${finding.platform}: ${finding.subject} is ${finding.found}, allowed by --allow ${finding.allowed ?? ""}`,
    });
  }
}
