import { PolypackError } from "../../errors/index.js";

/** A credentials file (Docker config or containers auth file) that cannot be understood. */
export function credentialsInvalid(file: string, key: string | undefined, reason: string): PolypackError {
  const where = key === undefined ? file : `${file}: ${key}`;
  return new PolypackError("CREDENTIALS_INVALID", `${where} ${reason}`, {
    hint: "Fix or remove the entry, or log in again to rewrite it.",
  });
}

/** A credential helper that could not be run or answered with something other than credentials. */
export function credentialHelperFailed(helper: string, reason: string, cause?: unknown): PolypackError {
  return new PolypackError("CREDENTIAL_HELPER_FAILED", `credential helper ${helper} ${reason}`, {
    hint: `Check that ${helper} is installed and on PATH, and that it works when run by hand.`,
    cause,
  });
}
