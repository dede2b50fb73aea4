import { randomBytes } from "node:crypto";
import { exportJWK, exportPKCS8, generateKeyPair, type JWK } from "jose";

/**
 * The demo server's statically registered clients: one per client authentication method
 * tokensmith supports, with secrets and keys made fresh at every start, so nothing in a test
 * or a demo config can leak into a real deployment.
 */

/** RFC 8628 §3.4 grant type. */
export const DEVICE_CODE_GRANT = "urn:ietf:params:oauth:grant-type:device_code";
/** RFC 7523 §2.1 grant type. */
export const JWT_BEARER_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer";
/** RFC 6749 §4.3 (legacy; RFC 9700 forbids it, the demo has it because users still meet it). */
export const PASSWORD_GRANT = "password";
/** RFC 8693 §2.1 grant type. */
export const TOKEN_EXCHANGE_GRANT = "urn:ietf:params:oauth:grant-type:token-exchange";

/** The loopback redirect URIs; as `native` clients any port is accepted (RFC 8252 §7.3). */
export const REDIRECT_URIS = ["http://127.0.0.1/callback", "http://localhost/callback", "http://[::1]/callback"];

/** Algorithm of every key the demo makes: P-256 keys are generated in about a millisecond. */
export const DEMO_KEY_ALG = "ES256";
/** 64 bytes: long enough for HS512 in client_secret_jwt (RFC 7518 §3.2: key size >= hash size). */
const SECRET_BYTES = 64;

/** A confidential client authenticating with its secret (basic, post or client_secret_jwt). */
export interface SecretClient {
  clientId: string;
  clientSecret: string;
  authMethod: "client_secret_basic" | "client_secret_post" | "client_secret_jwt";
}

/** The private_key_jwt client; its key pair also signs jwt-bearer assertions. */
export interface KeyClient {
  clientId: string;
  authMethod: "private_key_jwt";
  alg: typeof DEMO_KEY_ALG;
  kid: string;
  /** The private key as a JWK (with `kid` and `alg`). */
  privateJwk: JWK;
  /** The same private key as PKCS#8 PEM. */
  privateKeyPem: string;
  publicJwk: JWK;
}

/** The public client: PKCE instead of a secret. */
export interface PublicClient {
  clientId: string;
  authMethod: "none";
}

/** Credentials of every demo client, as handed to tests and to the demo config. */
export interface DemoClients {
  basic: SecretClient;
  post: SecretClient;
  secretJwt: SecretClient;
  privateKeyJwt: KeyClient;
  /** Public client (PKCE) for authorization code and device code. */
  public: PublicClient;
}

const secret = () => randomBytes(SECRET_BYTES).toString("base64url");

/** Makes a signing key pair; the private JWK carries `kid`, `alg` and `use`. */
export async function makeSigningKey(kidPrefix: string): Promise<{ privateJwk: JWK; publicJwk: JWK; privateKeyPem: string; kid: string }> {
  const { privateKey, publicKey } = await generateKeyPair(DEMO_KEY_ALG, { extractable: true });
  const kid = `${kidPrefix}-${randomBytes(6).toString("hex")}`;
  const meta = { kid, alg: DEMO_KEY_ALG, use: "sig" };
  return {
    kid,
    privateJwk: { ...(await exportJWK(privateKey)), ...meta },
    publicJwk: { ...(await exportJWK(publicKey)), ...meta },
    privateKeyPem: await exportPKCS8(privateKey),
  };
}

/** Fresh credentials for every demo client. */
export async function makeDemoClients(): Promise<DemoClients> {
  const key = await makeSigningKey("demo-client");
  return {
    basic: { clientId: "demo-basic", clientSecret: secret(), authMethod: "client_secret_basic" },
    post: { clientId: "demo-post", clientSecret: secret(), authMethod: "client_secret_post" },
    secretJwt: { clientId: "demo-secret-jwt", clientSecret: secret(), authMethod: "client_secret_jwt" },
    privateKeyJwt: { clientId: "demo-private-key-jwt", authMethod: "private_key_jwt", alg: DEMO_KEY_ALG, ...key },
    public: { clientId: "demo-public", authMethod: "none" },
  };
}

const CONFIDENTIAL_GRANTS = ["authorization_code", "refresh_token", "client_credentials", DEVICE_CODE_GRANT, PASSWORD_GRANT, JWT_BEARER_GRANT, TOKEN_EXCHANGE_GRANT];
const PUBLIC_GRANTS = ["authorization_code", "refresh_token", DEVICE_CODE_GRANT];

/** oidc-provider client metadata for every demo client. */
export function clientMetadata(clients: DemoClients): Record<string, unknown>[] {
  const common = { application_type: "native", redirect_uris: REDIRECT_URIS, response_types: ["code"] };
  const confidential = { ...common, grant_types: CONFIDENTIAL_GRANTS };
  const withSecret = (client: SecretClient, name: string) => ({
    ...confidential,
    client_id: client.clientId,
    client_secret: client.clientSecret,
    token_endpoint_auth_method: client.authMethod,
    client_name: name,
  });
  return [
    withSecret(clients.basic, "Demo service (client_secret_basic)"),
    withSecret(clients.post, "Demo service (client_secret_post)"),
    withSecret(clients.secretJwt, "Demo service (client_secret_jwt)"),
    {
      ...confidential,
      client_id: clients.privateKeyJwt.clientId,
      token_endpoint_auth_method: "private_key_jwt",
      jwks: { keys: [clients.privateKeyJwt.publicJwk] },
      client_name: "Demo service (private_key_jwt)",
    },
    {
      ...common,
      client_id: clients.public.clientId,
      token_endpoint_auth_method: "none",
      grant_types: PUBLIC_GRANTS,
      client_name: "Demo app (public client)",
    },
  ];
}

/**
 * What verifies a JWT the client signed (RFC 7523 jwt-bearer assertions): the registered
 * public key, or the client secret (HMAC) for secret clients; none for the public client.
 */
export function assertionKeyFor(clients: DemoClients, clientId: string): { jwk: JWK } | { secret: string } | undefined {
  if (clientId === clients.privateKeyJwt.clientId) return { jwk: clients.privateKeyJwt.publicJwk };
  const secretClient = [clients.basic, clients.post, clients.secretJwt].find((c) => c.clientId === clientId);
  return secretClient ? { secret: secretClient.clientSecret } : undefined;
}
