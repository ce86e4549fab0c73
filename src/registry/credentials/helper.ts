import { spawn, type ChildProcess } from "node:child_process";
import { credentialHelperFailed } from "./errors.js";
import { withoutPolypackSecrets } from "./secret-env.js";
import type { Credential } from "./types.js";

/** Asks a credential helper (by its short name, as in config.json) for the credential of a server URL. */
export type CredentialHelperRunner = (helper: string, serverUrl: string) => Promise<Credential | undefined>;

/** How a helper process ended, as far as interpreting its answer is concerned. */
export interface HelperProcessResult {
  exitCode: number | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
}

/** Options for {@link runCredentialHelper}. */
export interface RunCredentialHelperOptions {
  /**
   * Environment of the helper (polypack's own secret variables are always removed); its PATH is
   * where `docker-credential-<name>` is looked up.
   */
  env?: NodeJS.ProcessEnv;
  /** How long the helper may take before it is killed; keychain prompts can be slow. */
  timeoutMs?: number;
}

/** Default helper time limit: long enough for a desktop keychain, short enough not to hang CI forever. */
export const DEFAULT_HELPER_TIMEOUT_MS = 30_000;

// Helpers print this (docker-credential-helpers' ErrCredentialsNotFound) and exit 1 for unknown servers.
const NOT_FOUND = /credentials not found/i;
const OUTPUT_CAP = 64 * 1024;
const HELPER_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/** The executable that implements a helper name, e.g. "pass" → "docker-credential-pass". */
export function helperProgram(helper: string): string {
  return `docker-credential-${helper}`;
}

/** The first line of a helper's stderr, trimmed and capped, for messages. */
function summary(text: string): string {
  const line = text.trim().split("\n")[0]?.trim() ?? "";
  return line.length > 300 ? `${line.slice(0, 300)}…` : line;
}

/** Turns a finished helper process into a credential, none, or a CREDENTIAL_HELPER_FAILED error. */
export function interpretHelperResult(
  helper: string,
  result: HelperProcessResult,
  timeoutMs: number,
): Credential | undefined {
  const program = helperProgram(helper);
  if (result.timedOut) {
    throw credentialHelperFailed(program, `did not answer within ${timeoutMs / 1000} s`);
  }
  if (result.exitCode !== 0) {
    if (NOT_FOUND.test(result.stdout) || NOT_FOUND.test(result.stderr)) return undefined;
    // Only stderr is shown: stdout is where a helper prints the secret, even one that fails afterwards.
    const detail = summary(result.stderr) || "nothing on stderr";
    throw credentialHelperFailed(program, `exited with code ${result.exitCode ?? "none"}: ${detail}`);
  }
  let answer: unknown;
  try {
    answer = JSON.parse(result.stdout);
  } catch {
    // The output may hold a secret, so it is not quoted.
    throw credentialHelperFailed(program, "printed something that is not JSON");
  }
  if (typeof answer !== "object" || answer === null) {
    throw credentialHelperFailed(program, "printed JSON that is not an object");
  }
  const { Username: username, Secret: secret } = answer as Record<string, unknown>;
  if (typeof username !== "string" || typeof secret !== "string") {
    throw credentialHelperFailed(program, 'printed JSON without string "Username" and "Secret"');
  }
  if (secret === "") return undefined;
  // Docker's convention: a "<token>" username means the secret is an OAuth identity (refresh) token.
  return username === "<token>" ? { identityToken: secret } : { username, password: secret };
}

function capped(chunks: Buffer[], chunk: Buffer, size: { n: number }): void {
  if (size.n >= OUTPUT_CAP) return;
  chunks.push(chunk);
  size.n += chunk.length;
}

async function runHelperProcess(
  helper: string,
  serverUrl: string,
  env: NodeJS.ProcessEnv,
  timeoutMs: number,
): Promise<HelperProcessResult> {
  const program = helperProgram(helper);
  return new Promise((resolve, reject) => {
    // Its own process group, so that a timeout ends whatever the helper started as well.
    const child = spawn(program, ["get"], { env, stdio: ["pipe", "pipe", "pipe"], detached: true });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    const outSize = { n: 0 };
    const errSize = { n: 0 };
    let settled = false;
    const finish = (timedOut: boolean, exitCode: number | null): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve({
        exitCode,
        stdout: Buffer.concat(out).toString("utf8"),
        stderr: Buffer.concat(err).toString("utf8"),
        timedOut,
      });
    };
    const timer = setTimeout(() => {
      killGroup(child);
      // Settle now and let go of the pipes: a grandchild of a script helper may keep them open.
      child.stdout.destroy();
      child.stderr.destroy();
      finish(true, null);
    }, timeoutMs);
    child.stdout.on("data", (chunk: Buffer) => capped(out, chunk, outSize));
    child.stderr.on("data", (chunk: Buffer) => capped(err, chunk, errSize));
    // A helper that exits without reading stdin makes the write fail with EPIPE; its exit code tells more.
    child.stdin.on("error", () => undefined);
    child.on("error", (error: NodeJS.ErrnoException) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      const reason =
        error.code === "ENOENT" ? "was not found on PATH" : `could not be started: ${error.message}`;
      reject(credentialHelperFailed(program, reason, error));
    });
    child.on("close", (exitCode) => finish(false, exitCode));
    child.stdin.end(serverUrl);
  });
}

/** Kills a detached child and every process in its group. */
function killGroup(child: ChildProcess): void {
  try {
    if (child.pid !== undefined) process.kill(-child.pid, "SIGKILL");
  } catch {
    // The group is gone already; the child itself may still need the signal.
    child.kill("SIGKILL");
  }
}

/**
 * Runs `docker-credential-<helper> get` with the server URL on stdin, as Docker does. Resolves to
 * undefined when the helper has no credential for the server.
 */
export async function runCredentialHelper(
  helper: string,
  serverUrl: string,
  options: RunCredentialHelperOptions = {},
): Promise<Credential | undefined> {
  if (!HELPER_NAME.test(helper)) {
    // The name comes from a config file and becomes part of a program name, so no paths.
    throw credentialHelperFailed(helperProgram(helper), "has an invalid name");
  }
  const timeoutMs = options.timeoutMs ?? DEFAULT_HELPER_TIMEOUT_MS;
  const env = withoutPolypackSecrets(options.env ?? process.env);
  const result = await runHelperProcess(helper, serverUrl, env, timeoutMs);
  return interpretHelperResult(helper, result, timeoutMs);
}
