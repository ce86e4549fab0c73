import type { Index } from "../image/image.js";
import { requireVerified } from "../verify/verify.js";

/** The verification flags of `manifest create` and `manifest push`. */
export interface VerifyFlags {
  /** False with `--no-verify`. */
  verify: boolean;
  /** `--allow` patterns: files meant to be foreign, reported rather than refused. */
  allow: string[];
}

/**
 * Runs `polypack verify`'s checks over an index before it is published or written: joining
 * images is where an "arm64" entry holding x86-64 programs would otherwise ship unseen. Throws
 * VERIFY_FAILED (nothing written yet); `--no-verify` skips it and says so through `warn`, as do
 * findings `--allow` accepted.
 */
export async function verifyBeforePublish(
  index: Index,
  name: string,
  flags: VerifyFlags,
  warn: (message: string) => void,
): Promise<void> {
  if (!flags.verify) {
    warn(`--no-verify: the programs of ${name}'s images were not checked against their platforms`);
    return;
  }
  const report = await requireVerified(index, { name, allow: flags.allow });
  for (const finding of report.findings) {
    warn(
      `${finding.platform}: ${finding.subject} is ${finding.found}, allowed by --allow ${finding.allowed ?? ""}`,
    );
  }
}
