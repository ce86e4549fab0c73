import { spawn, type ChildProcess } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { get as httpsGet } from "node:https";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as delay } from "node:timers/promises";
import { run } from "./tools.js";

/** A running distribution registry on 127.0.0.1. */
export interface RegistryHandle {
  /** `127.0.0.1:PORT`, as written in image references. */
  host: string;
  /** `http://127.0.0.1:PORT`, or `https://` when started with `tls`. */
  url: string;
  /** The registry's storage folder. */
  dataDir: string;
  /** Stops the registry and removes its files; safe to call twice. */
  stop(): Promise<void>;
}

/** How to configure the registry. */
export interface RegistryOptions {
  /** The `auth:` section of distribution's config.yml, as an object. */
  auth?: Record<string, unknown>;
  /** Further top-level config.yml sections, merged over the defaults one level deep. */
  extraConfig?: Record<string, unknown>;
  /** Serve HTTPS with this certificate and key (PEM files); `ca` is what signed it, for the readiness check. */
  tls?: { certificate: string; key: string; ca: string };
}

const READY_TIMEOUT_MS = 20_000;
const running = new Set<ChildProcess>();
// A test file that crashes must not leave registries behind.
process.once("exit", () => running.forEach((child) => child.kill("SIGKILL")));

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === "string") throw new Error("no port");
  return address.port;
}

function mergeConfig(base: Record<string, unknown>, extra: Record<string, unknown>): Record<string, unknown> {
  const merged: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(extra)) {
    const current = merged[key];
    const bothObjects =
      typeof current === "object" && current !== null && typeof value === "object" && value !== null;
    merged[key] = bothObjects ? { ...current, ...value } : value;
  }
  return merged;
}

/** The status `/v2/` answers with over HTTPS, trusting only `ca`. */
function httpsStatus(url: string, ca: string): Promise<number> {
  return new Promise((resolve, reject) => {
    httpsGet(url, { ca, agent: false }, (response) => {
      response.resume();
      response.once("end", () => resolve(response.statusCode ?? 0));
    }).once("error", reject);
  });
}

/** The status `/v2/` answers with, over plain HTTP or, with a CA, over HTTPS. */
async function statusOf(url: string, ca: string | undefined): Promise<number> {
  if (ca !== undefined) return httpsStatus(url, ca);
  const response = await fetch(url);
  await response.arrayBuffer();
  return response.status;
}

async function waitUntilReady(
  url: string,
  child: ChildProcess,
  output: () => string,
  ca?: string,
): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`docker-registry exited before it was ready: ${output()}`);
    }
    try {
      const status = await statusOf(`${url}/v2/`, ca);
      if (status === 200 || status === 401) return;
    } catch {
      // Not listening yet.
    }
    await delay(50);
  }
  throw new Error(`docker-registry did not answer within ${READY_TIMEOUT_MS} ms: ${output()}`);
}

async function startOnce(dir: string, options: RegistryOptions): Promise<RegistryHandle> {
  const port = await freePort();
  const host = `127.0.0.1:${port}`;
  const dataDir = join(dir, "data");
  const config = mergeConfig(
    {
      version: "0.1",
      log: { level: "error", accesslog: { disabled: true } },
      storage: { filesystem: { rootdirectory: dataDir }, delete: { enabled: true } },
      http: {
        addr: host,
        secret: "polypack-test-secret",
        ...(options.tls ? { tls: { certificate: options.tls.certificate, key: options.tls.key } } : {}),
      },
      ...(options.auth ? { auth: options.auth } : {}),
    },
    options.extraConfig ?? {},
  );
  const configPath = join(dir, "config.yml");
  // JSON is valid YAML, and spares the test suite a YAML writer.
  await writeFile(configPath, JSON.stringify(config, null, 2));
  const child = spawn("docker-registry", ["serve", configPath], { stdio: ["ignore", "ignore", "pipe"] });
  running.add(child);
  let stderr = "";
  child.stderr?.on("data", (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-4000)));
  const url = `${options.tls ? "https" : "http"}://${host}`;
  let stopped: Promise<void> | undefined;
  const stop = (): Promise<void> =>
    (stopped ??= (async () => {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((resolve) => child.once("exit", resolve));
        child.kill("SIGTERM");
        const timer = setTimeout(() => child.kill("SIGKILL"), 5000);
        await exited;
        clearTimeout(timer);
      }
      running.delete(child);
    })());
  try {
    const ca = options.tls ? await readFile(options.tls.ca, "utf8") : undefined;
    await waitUntilReady(url, child, () => stderr, ca);
  } catch (error) {
    await stop();
    throw error;
  }
  return { host, url, dataDir, stop };
}

/**
 * Starts `docker-registry serve` with filesystem storage in a temporary folder, deletes enabled,
 * on a free port of 127.0.0.1, and waits until `/v2/` answers. Callers register `stop` with after().
 */
export async function startRegistry(options: RegistryOptions = {}): Promise<RegistryHandle> {
  const dir = await mkdtemp(join(tmpdir(), "polypack-registry-"));
  let lastError: unknown;
  // The free port can be taken between probing and binding; try a few.
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const handle = await startOnce(dir, options);
      return {
        ...handle,
        stop: async () => {
          await handle.stop();
          await rm(dir, { recursive: true, force: true });
        },
      };
    } catch (error) {
      lastError = error;
    }
  }
  await rm(dir, { recursive: true, force: true });
  throw lastError;
}

/** A registry behind htpasswd (bcrypt) basic auth, with the one user it accepts. */
export async function startHtpasswdRegistry(
  user: { username: string; password: string } = { username: "polypack", password: "s3cret-Pass" },
): Promise<RegistryHandle & { username: string; password: string }> {
  const dir = await mkdtemp(join(tmpdir(), "polypack-htpasswd-"));
  const path = join(dir, "htpasswd");
  await writeFile(path, await run("htpasswd", ["-Bbn", user.username, user.password]));
  const handle = await startRegistry({ auth: { htpasswd: { realm: "polypack-test", path } } });
  return {
    ...handle,
    ...user,
    stop: async () => {
      await handle.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
