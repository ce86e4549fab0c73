import assert from "node:assert/strict";
import { test } from "node:test";
import {
  allowsPlainHttp,
  isNamedInsecure,
  isLoopbackHostname,
  isPrivateHostname,
  isRealmAllowed,
  registryBaseUrl,
  splitHostPort,
} from "../../../src/registry/address.js";

test("recognises loopback names and addresses", () => {
  for (const host of [
    "localhost",
    "LOCALHOST",
    "app.localhost",
    "127.0.0.1",
    "127.10.20.30",
    "::1",
    "0:0:0:0:0:0:0:1",
    "::ffff:127.0.0.1",
  ]) {
    assert.equal(isLoopbackHostname(host), true, host);
  }
  for (const host of ["example.com", "128.0.0.1", "10.0.0.1", "::2", "localhost.example.com", "fe80::1"]) {
    assert.equal(isLoopbackHostname(host), false, host);
  }
});

test("recognises private, unique-local and link-local addresses", () => {
  for (const host of [
    "10.1.2.3",
    "172.16.0.1",
    "172.31.255.255",
    "192.168.1.1",
    "169.254.169.254",
    "fc00::1",
    "fd12:3456::1",
    "fe80::1",
    "0.0.0.0",
    "::",
  ]) {
    assert.equal(isPrivateHostname(host), true, host);
  }
  for (const host of [
    "172.15.0.1",
    "172.32.0.1",
    "8.8.8.8",
    "2001:db8::1",
    "registry.internal",
    "127.0.0.1",
  ]) {
    assert.equal(isPrivateHostname(host), false, host);
  }
});

test("plain http only for loopback registries and those named insecure", () => {
  assert.equal(allowsPlainHttp("127.0.0.1:5000"), true);
  assert.equal(allowsPlainHttp("localhost:5000"), true);
  assert.equal(allowsPlainHttp("[::1]:5000"), true);
  assert.equal(allowsPlainHttp("registry.lan:5000"), false);
  assert.equal(allowsPlainHttp("registry.lan:5000", ["registry.lan:5000"]), true);
  assert.equal(registryBaseUrl("ghcr.io").href, "https://ghcr.io/");
  assert.equal(registryBaseUrl("127.0.0.1:5000").href, "https://127.0.0.1:5000/", "scheme.ts may fall back");
  assert.deepEqual(splitHostPort("[::1]:5000"), { hostname: "::1", port: "5000" });
  assert.deepEqual(splitHostPort("Host.io"), { hostname: "host.io", port: undefined });
});

test("insecure registries match as Docker's do: host[:port] (443 is the default), a scheme prefix, or a CIDR range", () => {
  const named = (host: string, ...insecure: string[]): boolean => isNamedInsecure(host, insecure);
  assert.equal(named("registry.lan:5000", "registry.lan:5000"), true);
  assert.equal(named("Registry.LAN:5000", "registry.lan:5000"), true);
  assert.equal(named("registry.lan:5000", "registry.lan"), false, "another port");
  assert.equal(named("registry.lan", "registry.lan:443"), true);
  assert.equal(named("registry.lan:443", "registry.lan"), true);
  assert.equal(named("registry.lan:5000", "http://registry.lan:5000/"), true);
  assert.equal(named("10.1.2.3:5000", "10.0.0.0/8"), true);
  assert.equal(named("10.1.2.3", "10.0.0.0/8"), true);
  assert.equal(named("11.1.2.3:5000", "10.0.0.0/8"), false);
  assert.equal(named("[fd00::1]:5000", "fd00::/8"), true);
  assert.equal(named("[fe80::1]:5000", "fd00::/8"), false);
  assert.equal(named("registry.lan:5000", "10.0.0.0/8"), false, "names are not resolved");
  assert.equal(named("10.1.2.3", "10.0.0.0/99"), false, "an impossible prefix matches nothing");
  assert.equal(named("10.1.2.3"), false);
});

test("a remote registry may not send token requests to loopback or private addresses", () => {
  const refused = [
    "http://127.0.0.1:8080/token",
    "http://localhost/token",
    "https://10.0.0.5/token",
    "https://[::1]/token",
    "https://169.254.169.254/latest",
    "https://[fd00::1]/t",
  ];
  for (const realm of refused) assert.equal(isRealmAllowed("ghcr.io", new URL(realm)), false, realm);
  assert.equal(isRealmAllowed("ghcr.io", new URL("https://ghcr.io/token")), true);
  assert.equal(isRealmAllowed("8.8.8.8", new URL("https://auth.example.com/token")), true);
});

test("local registries may use local realms; private registries private ones", () => {
  assert.equal(isRealmAllowed("127.0.0.1", new URL("http://127.0.0.1:9999/token")), true);
  assert.equal(isRealmAllowed("localhost", new URL("http://10.0.0.1/token")), true);
  assert.equal(isRealmAllowed("10.0.0.5", new URL("https://10.0.0.6/token")), true);
  assert.equal(isRealmAllowed("10.0.0.5", new URL("http://127.0.0.1/token")), false);
});
