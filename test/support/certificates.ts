import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { run } from "./tools.js";

/** PEM files of a throw-away certificate authority and a server certificate it signed. */
export interface TestCertificates {
  /** The authority's certificate, what clients are told to trust. */
  ca: string;
  /** The server's certificate, valid for IP 127.0.0.1 and DNS localhost. */
  certificate: string;
  /** The server's private key. */
  key: string;
}

// EC keys: generated in milliseconds, unlike RSA, and accepted by distribution, Go and Node alike.
const EC_KEY = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];

/** Creates a CA and a server certificate for 127.0.0.1 and localhost in `dir` with the openssl CLI. */
export async function createTestCertificates(dir: string): Promise<TestCertificates> {
  const path = (name: string): string => join(dir, name);
  await run("openssl", [
    "req",
    "-x509",
    ...EC_KEY,
    "-keyout",
    path("ca.key"),
    "-out",
    path("ca.crt"),
    "-days",
    "2",
    "-subj",
    "/CN=polypack test CA",
    "-addext",
    "basicConstraints=critical,CA:TRUE",
    "-addext",
    "keyUsage=critical,keyCertSign,cRLSign",
  ]);
  await run("openssl", [
    "req",
    ...EC_KEY,
    "-keyout",
    path("server.key"),
    "-out",
    path("server.csr"),
    "-subj",
    "/CN=127.0.0.1",
  ]);
  await writeFile(
    path("server.ext"),
    "subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n",
  );
  await run("openssl", [
    "x509",
    "-req",
    "-in",
    path("server.csr"),
    "-CA",
    path("ca.crt"),
    "-CAkey",
    path("ca.key"),
    "-CAcreateserial",
    "-out",
    path("server.crt"),
    "-days",
    "2",
    "-extfile",
    path("server.ext"),
  ]);
  return { ca: path("ca.crt"), certificate: path("server.crt"), key: path("server.key") };
}
