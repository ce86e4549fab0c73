import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { isPolypackError } from "../../../src/errors/index.js";
import { registryErrors } from "../../../src/registry/errors.js";
import { withAuth } from "../../../src/registry/auth.js";
import type { RegistryRequest } from "../../../src/registry/http.js";
import { needsProbe, withProtocol, withSchemeSelection } from "../../../src/registry/scheme.js";
import { tlsError } from "../../../src/http/tls-errors.js";
import type { TlsProbeResult } from "../../../src/http/tls-probe.js";
import { scripted } from "./transport-fakes.js";

/** A probe that answers from `reply` per host and counts its calls; `gate` holds answers back. */
function countingProbe(
  reply: (host: string, call: number) => TlsProbeResult | Error,
  gate: Promise<void> = Promise.resolve(),
): ((request: RegistryRequest) => Promise<TlsProbeResult>) & { hosts: string[] } {
  const hosts: string[] = [];
  const probe = async (request: RegistryRequest): Promise<TlsProbeResult> => {
    hosts.push(request.url.host);
    const answer = reply(request.url.host, hosts.length - 1);
    await gate;
    if (answer instanceof Error) throw answer;
    return answer;
  };
  return Object.assign(probe, { hosts });
}

const get = (url: string): RegistryRequest => ({ method: "GET", url: new URL(url) });

test("remote registries stay on https without a probe; explicit http URLs are left alone", async () => {
  const send = scripted(() => ({ status: 200 }));
  const probe = countingProbe(() => "plaintext");
  const selected = withSchemeSelection(send, { insecure: [], probe });
  await selected(get("https://ghcr.io/v2/org/app/manifests/1"));
  await selected(get("https://registry.lan:5000/v2/"));
  await selected(get("http://127.0.0.1:5000/v2/a/blobs/uploads/1?_state=x"));
  assert.deepEqual(probe.hosts, []);
  assert.deepEqual(
    send.seen.map((r) => r.url.href),
    [
      "https://ghcr.io/v2/org/app/manifests/1",
      "https://registry.lan:5000/v2/",
      "http://127.0.0.1:5000/v2/a/blobs/uploads/1?_state=x",
    ],
  );
});

test("a loopback host without TLS falls back to http, probed once for the client's life", async () => {
  const send = scripted(() => ({ status: 200 }));
  const probe = countingProbe(() => "plaintext");
  const selected = withSchemeSelection(send, { insecure: [], probe });
  for (let i = 0; i < 3; i++) await selected(get(`https://127.0.0.1:5000/v2/a/blobs/sha256:${i}?x=1`));
  assert.deepEqual(probe.hosts, ["127.0.0.1:5000"]);
  assert.deepEqual(
    send.seen.map((r) => r.url.href),
    [0, 1, 2].map((i) => `http://127.0.0.1:5000/v2/a/blobs/sha256:${i}?x=1`),
  );
});

test("a loopback host that speaks TLS stays on https", async () => {
  const send = scripted(() => ({ status: 200 }));
  const probe = countingProbe(() => "tls");
  const selected = withSchemeSelection(send, { insecure: [], probe });
  await selected(get("https://localhost:5443/v2/"));
  await selected(get("https://localhost:5443/v2/a/tags/list"));
  assert.deepEqual(probe.hosts, ["localhost:5443"]);
  assert.ok(send.seen.every((r) => r.url.protocol === "https:"));
});

test("hosts named insecure are probed too; each host keeps its own answer", async () => {
  const send = scripted(() => ({ status: 200 }));
  const probe = countingProbe((host) => (host === "registry.lan:5000" ? "plaintext" : "tls"));
  const selected = withSchemeSelection(send, { insecure: ["registry.lan:5000", "Secure.lan"], probe });
  await selected(get("https://registry.lan:5000/v2/"));
  await selected(get("https://secure.lan/v2/"));
  await selected(get("https://registry.lan:5000/v2/"));
  assert.deepEqual(probe.hosts, ["registry.lan:5000", "secure.lan"]);
  assert.deepEqual(
    send.seen.map((r) => r.url.href),
    ["http://registry.lan:5000/v2/", "https://secure.lan/v2/", "http://registry.lan:5000/v2/"],
  );
});

test("concurrent first requests to a host share one probe", async () => {
  let open!: () => void;
  const gate = new Promise<void>((resolve) => (open = resolve));
  const send = scripted(() => ({ status: 200 }));
  const probe = countingProbe(() => "plaintext", gate);
  const selected = withSchemeSelection(send, { insecure: [], probe });
  const pending = Array.from({ length: 8 }, (_, i) => selected(get(`https://[::1]:5000/v2/r/blobs/${i}`)));
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(send.seen.length, 0, "nothing is sent before the scheme is known");
  open();
  await Promise.all(pending);
  assert.deepEqual(probe.hosts, ["[::1]:5000"]);
  assert.equal(send.seen.length, 8);
  assert.ok(send.seen.every((r) => r.url.href.startsWith("http://[::1]:5000/v2/r/blobs/")));
});

test("an untrusted certificate fails the request and is never a reason to use http", async () => {
  const send = scripted(() => ({ status: 200 }));
  const untrusted = tlsError(
    "untrusted",
    get("https://127.0.0.1:5443/v2/"),
    new Error("self-signed"),
    registryErrors,
  );
  const probe = countingProbe(() => untrusted);
  const selected = withSchemeSelection(send, { insecure: [], probe });
  for (let i = 0; i < 2; i++) {
    await assert.rejects(selected(get("https://127.0.0.1:5443/v2/")), (e) =>
      isPolypackError(e, "REGISTRY_TLS_UNTRUSTED"),
    );
  }
  assert.equal(send.seen.length, 0);
  assert.equal(probe.hosts.length, 2, "a failure is not remembered, so a retry asks again");
});

test("a host that could not be reached is probed again on the next request", async () => {
  const send = scripted(() => ({ status: 200 }));
  const probe = countingProbe((_host, call) =>
    call === 0 ? Object.assign(new Error("refused"), { code: "ECONNREFUSED" }) : "plaintext",
  );
  const selected = withSchemeSelection(send, { insecure: [], probe });
  await assert.rejects(selected(get("https://127.0.0.1:5000/v2/")), /refused/);
  await selected(get("https://127.0.0.1:5000/v2/"));
  await selected(get("https://127.0.0.1:5000/v2/"));
  assert.equal(probe.hosts.length, 2);
  assert.deepEqual(
    send.seen.map((r) => r.url.protocol),
    ["http:", "http:"],
  );
});

test("credentials follow the fallback to http only for loopback hosts and hosts named insecure", async () => {
  const basic = `Basic ${Buffer.from("u:p").toString("base64")}`;
  const stack = (
    insecure: string[],
  ): ReturnType<typeof scripted> & { selected: (r: RegistryRequest) => Promise<number> } => {
    const registry = scripted((request) =>
      request.headers?.["authorization"] === basic
        ? { status: 200 }
        : { status: 401, headers: { "www-authenticate": 'Basic realm="r"' } },
    );
    // The transport's order: scheme selection above the auth handshake.
    const authed = withAuth(registry, {
      credentials: { get: () => Promise.resolve({ username: "u", password: "p" }) },
      insecure,
      tokenSend: registry,
      now: Date.now,
    });
    const selected = withSchemeSelection(authed, { insecure, probe: countingProbe(() => "plaintext") });
    return Object.assign(registry, { selected: async (r: RegistryRequest) => (await selected(r)).status });
  };
  const named = stack(["registry.lan:5000"]);
  assert.equal(await named.selected(get("https://registry.lan:5000/v2/")), 200);
  assert.equal(named.seen.at(-1)?.url.href, "http://registry.lan:5000/v2/");
  const loopback = stack([]);
  assert.equal(await loopback.selected(get("https://127.0.0.1:5000/v2/")), 200);
  assert.equal(loopback.seen.at(-1)?.url.protocol, "http:");
  // A remote host not named insecure never gets credentials over http, even from an explicit URL.
  const remote = stack([]);
  assert.equal(await remote.selected(get("http://registry.lan:5000/v2/a/blobs/uploads/1")), 401);
  assert.ok(remote.seen.every((r) => r.headers?.["authorization"] === undefined));
});

test("needsProbe: https requests to loopback or insecure hosts only", () => {
  assert.equal(needsProbe(new URL("https://127.0.0.1:5000/v2/"), []), true);
  assert.equal(needsProbe(new URL("https://localhost/v2/"), []), true);
  assert.equal(needsProbe(new URL("https://[::1]:5000/v2/"), []), true);
  assert.equal(needsProbe(new URL("https://registry.lan:5000/v2/"), ["registry.lan:5000"]), true);
  assert.equal(needsProbe(new URL("https://registry.lan:5000/v2/"), ["registry.lan:5001"]), false);
  assert.equal(needsProbe(new URL("https://ghcr.io/v2/"), []), false);
  assert.equal(needsProbe(new URL("http://127.0.0.1:5000/v2/"), []), false);
});

test("property: changing the scheme keeps host, explicit port, path and query", () => {
  fc.assert(
    fc.property(
      fc.constantFrom("127.0.0.1", "localhost", "[::1]", "registry.lan"),
      fc.integer({ min: 1, max: 65535 }).filter((p) => p !== 80 && p !== 443),
      fc.array(fc.stringMatching(/^[a-z0-9._-]{1,12}$/), { minLength: 1, maxLength: 4 }),
      fc.option(fc.stringMatching(/^[a-z]{1,6}=[A-Za-z0-9%]{0,12}$/), { nil: undefined }),
      (host, port, segments, query) => {
        const url = new URL(`https://${host}:${port}/v2/${segments.join("/")}${query ? `?${query}` : ""}`);
        const changed = withProtocol(url, "http:");
        assert.equal(changed.protocol, "http:");
        assert.equal(changed.host, url.host);
        assert.equal(changed.pathname + changed.search, url.pathname + url.search);
        assert.equal(url.protocol, "https:", "the original URL is not changed");
      },
    ),
  );
});

test("without a port, the fallback uses http's default port, as Docker does", () => {
  assert.equal(withProtocol(new URL("https://localhost/v2/"), "http:").href, "http://localhost/v2/");
});
