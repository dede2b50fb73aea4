import { execFile } from "node:child_process";
import { createHash, X509Certificate } from "node:crypto";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TestContext } from "node:test";
import { promisify } from "node:util";

const run = promisify(execFile);

/**
 * A company CA made with openssl for the TLS tests, in a temporary folder: server certificates
 * it signs (for 127.0.0.1 and localhost unless told otherwise), client certificates it signs,
 * and self-signed client certificates (RFC 8705 §2.2).
 */
export interface Pem {
  /** Paths of the PEM files. */
  certFile: string;
  keyFile: string;
  cert: string;
  key: string;
  /** RFC 8705 §3.1: base64url SHA-256 of the DER certificate. */
  thumbprint: string;
}

export interface TestCa {
  dir: string;
  ca: Pem;
  /** A server certificate signed by the CA; `names` are its subjectAltNames. */
  server(name: string, names?: string[]): Promise<Pem>;
  /** A client certificate signed by the CA, subject CN=`cn`. */
  client(cn: string): Promise<Pem>;
  /** A self-signed client certificate, subject CN=`cn`. */
  selfSigned(cn: string): Promise<Pem>;
}

export function thumbprint(cert: string): string {
  return createHash("sha256").update(new X509Certificate(cert).raw).digest("base64url");
}

async function pem(dir: string, name: string): Promise<Pem> {
  const certFile = join(dir, `${name}.pem`);
  const keyFile = join(dir, `${name}-key.pem`);
  const cert = await readFile(certFile, "utf8");
  return { certFile, keyFile, cert, key: await readFile(keyFile, "utf8"), thumbprint: thumbprint(cert) };
}

const KEY = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];

export async function createTestCa(t: TestContext, cn = "Tokensmith Test Company CA"): Promise<TestCa> {
  const dir = await mkdtemp(join(tmpdir(), "tokensmith-ca-"));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const openssl = (args: string[]) => run("openssl", args, { cwd: dir });
  await openssl(["req", "-x509", ...KEY, "-keyout", "ca-key.pem", "-out", "ca.pem", "-days", "2", "-subj", `/CN=${cn}`,
    "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign"]);
  let serial = 1;
  const signed = async (name: string, subject: string, ext: string) => {
    await openssl(["req", "-new", ...KEY, "-keyout", `${name}-key.pem`, "-out", `${name}.csr`, "-subj", subject]);
    await writeFile(join(dir, `${name}.ext`), ext);
    await openssl(["x509", "-req", "-in", `${name}.csr`, "-CA", "ca.pem", "-CAkey", "ca-key.pem", "-set_serial", String(serial++), "-days", "1", "-out", `${name}.pem`, "-extfile", `${name}.ext`]);
    return pem(dir, name);
  };
  return {
    dir,
    ca: await pem(dir, "ca"),
    server: (name, names = ["IP:127.0.0.1", "DNS:localhost"]) =>
      signed(name, `/CN=${name}`, `subjectAltName=${names.join(",")}\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n`),
    client: (cn) => signed(cn, `/CN=${cn}`, "extendedKeyUsage=clientAuth\nbasicConstraints=CA:FALSE\n"),
    selfSigned: async (cn) => {
      await openssl(["req", "-x509", ...KEY, "-keyout", `${cn}-key.pem`, "-out", `${cn}.pem`, "-days", "1", "-subj", `/CN=${cn}`]);
      return pem(dir, cn);
    },
  };
}
