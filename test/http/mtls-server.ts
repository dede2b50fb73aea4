import { createServer, type Server } from "node:https";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { TLSSocket } from "node:tls";
import type { TestContext } from "node:test";
import { jwtVerify, SignJWT } from "jose";
import type { Pem, TestCa } from "../support/tls-ca.js";
import { thumbprint } from "../support/tls-ca.js";

/**
 * An HTTPS authorization server and protected resource enforcing RFC 8705, for the mutual-TLS
 * tests: a certificate from the test CA, sent with the CA in its chain (as company servers
 * do); client authentication by the TLS client certificate only — `tls_client_auth` (§2.1: a
 * certificate from the trusted CA with the registered subject) or `self_signed_tls_client_auth`
 * (§2.2: the registered certificate itself) — with `client_id` in the body and no secret
 * anywhere; access tokens bound to the certificate (`cnf.x5t#S256`, §3.1), and an API at
 * /api/* that accepts a token only over the certificate it is bound to.
 */
export interface MtlsServer {
  url: string;
  tokenUrl: string;
  apiUrl: string;
  /** Token requests received, with the client_id sent and whether a secret came along. */
  tokenRequests: { clientId?: string; secretSent: boolean; thumbprint?: string }[];
}

export interface MtlsClient {
  method: "tls_client_auth" | "self_signed_tls_client_auth";
  /** tls_client_auth: the certificate subject's CN the client is registered with. */
  subjectCn?: string;
  /** self_signed_tls_client_auth: the registered certificate. */
  cert?: Pem;
}

export interface MtlsServerOptions {
  clients: Record<string, MtlsClient>;
  /** Its own certificate (default: one for 127.0.0.1 and localhost from the CA). */
  server?: Pem;
  /** Refuse the TLS handshake without a certificate the CA signed (else the token endpoint decides). */
  requireCertificate?: boolean;
}

const SIGNING_KEY = new TextEncoder().encode("mtls-test-server-signing-key-32b");

function json(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { "content-type": "application/json", "cache-control": "no-store", ...headers });
  res.end(JSON.stringify(body));
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

function peer(req: IncomingMessage): { socket: TLSSocket; cert?: string; cn?: string } {
  const socket = req.socket as TLSSocket;
  const presented = socket.getPeerCertificate();
  if (!presented || !presented.raw) return { socket };
  const cert = `-----BEGIN CERTIFICATE-----\n${presented.raw.toString("base64")}\n-----END CERTIFICATE-----\n`;
  return { socket, cert, cn: typeof presented.subject?.CN === "string" ? presented.subject.CN : undefined };
}

export async function startMtlsServer(t: TestContext, ca: TestCa, options: MtlsServerOptions): Promise<MtlsServer> {
  const own = options.server ?? (await ca.server("mtls-server"));
  const tokenRequests: MtlsServer["tokenRequests"] = [];
  const server: Server = createServer(
    {
      key: own.key,
      cert: own.cert + ca.ca.cert,
      ca: [ca.ca.cert],
      requestCert: true,
      rejectUnauthorized: options.requireCertificate ?? false,
    },
    async (req, res) => {
      const url = new URL(req.url ?? "/", "https://127.0.0.1");
      const { socket, cert, cn } = peer(req);
      const presented = cert ? thumbprint(cert) : undefined;
      if (req.method === "POST" && url.pathname === "/token") {
        const form = new URLSearchParams(await readBody(req));
        const clientId = form.get("client_id") ?? undefined;
        const secretSent = form.has("client_secret") || form.has("client_assertion") || req.headers.authorization !== undefined;
        tokenRequests.push({ clientId, secretSent, thumbprint: presented });
        if (secretSent) return json(res, 400, { error: "invalid_request", error_description: "mutual TLS clients send no secret" });
        if (form.get("grant_type") !== "client_credentials") return json(res, 400, { error: "unsupported_grant_type" });
        const client = clientId ? options.clients[clientId] : undefined;
        if (!client || !presented) return json(res, 401, { error: "invalid_client", error_description: "no client certificate, or unknown client" });
        const ok = client.method === "tls_client_auth" ? socket.authorized && cn === client.subjectCn : presented === client.cert?.thumbprint;
        if (!ok) return json(res, 401, { error: "invalid_client", error_description: "the client certificate does not match the registration" });
        const token = await new SignJWT({ client_id: clientId, cnf: { "x5t#S256": presented } })
          .setProtectedHeader({ alg: "HS256" })
          .setIssuedAt()
          .setExpirationTime("1h")
          .sign(SIGNING_KEY);
        return json(res, 200, { access_token: token, token_type: "Bearer", expires_in: 3600 });
      }
      if (req.method === "GET" && url.pathname === "/.well-known/oauth-authorization-server") {
        // RFC 8705 §5: mutual TLS at another URL than the plain token endpoint (which refuses everyone here).
        const base = `https://127.0.0.1:${(server.address() as { port: number }).port}`;
        return json(res, 200, {
          issuer: base,
          token_endpoint: `${base}/plain-token`,
          mtls_endpoint_aliases: { token_endpoint: `${base}/token` },
          tls_client_certificate_bound_access_tokens: true,
          token_endpoint_auth_methods_supported: ["tls_client_auth", "self_signed_tls_client_auth"],
        });
      }
      if (url.pathname.startsWith("/api/")) {
        const bearer = /^Bearer (.+)$/.exec(req.headers.authorization ?? "")?.[1];
        const claims = bearer ? await jwtVerify(bearer, SIGNING_KEY).then((r) => r.payload, () => undefined) : undefined;
        const bound = (claims?.cnf as { "x5t#S256"?: string } | undefined)?.["x5t#S256"];
        if (!claims || !bound || bound !== presented) {
          return json(res, 401, { error: "invalid_token" }, { "www-authenticate": 'Bearer error="invalid_token", error_description="the token is bound to another certificate"' });
        }
        return json(res, 200, { client_id: claims.client_id, path: url.pathname });
      }
      json(res, 404, { error: "not_found" });
    },
  );
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  t.after(() => {
    server.closeAllConnections();
    return new Promise((resolve) => server.close(resolve));
  });
  const { port } = server.address() as { port: number };
  const url = `https://127.0.0.1:${port}`;
  return { url, tokenUrl: `${url}/token`, apiUrl: `${url}/api`, tokenRequests };
}
