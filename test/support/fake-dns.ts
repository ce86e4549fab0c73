/**
 * Makes every host name under `.invalid`, and Docker Hub's, fail to resolve with ENOTFOUND, as a real resolver would,
 * without asking one: tests must send no traffic off this machine, DNS included. Imported by a test
 * file for its own process, or preloaded into a CLI run with `NODE_OPTIONS=--import <this file>`.
 */
import dns, { type LookupAddress, type LookupOptions } from "node:dns";
import { fileURLToPath } from "node:url";

// Docker Hub, where a bare image name leads: a test that gets there must fail here at once, not
// leave this machine.
const OFF_LIMITS = new Set(["index.docker.io", "registry-1.docker.io", "docker.io"]);

type Callback = (
  error: NodeJS.ErrnoException | null,
  address?: string | LookupAddress[],
  family?: number,
) => void;

const realLookup = dns.lookup.bind(dns) as (host: string, options: LookupOptions, callback: Callback) => void;

function fakeLookup(host: string, options: LookupOptions | number | Callback, callback?: Callback): void {
  const done = (typeof options === "function" ? options : callback)!;
  const name = host.toLowerCase();
  if (name.endsWith(".invalid") || OFF_LIMITS.has(name)) {
    const error = Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), {
      code: "ENOTFOUND",
      syscall: "getaddrinfo",
      hostname: host,
    });
    process.nextTick(() => done(error));
    return;
  }
  const settings: LookupOptions =
    typeof options === "object" ? options : typeof options === "number" ? { family: options } : {};
  realLookup(host, settings, done);
}

(dns as { lookup: unknown }).lookup = fakeLookup;

/** This module's path, for `NODE_OPTIONS=--import <path>`. */
export const FAKE_DNS_MODULE = fileURLToPath(import.meta.url);
