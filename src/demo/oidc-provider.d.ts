/**
 * The slice of oidc-provider v9 the demo server uses. The package ships no types (the
 * DefinitelyTyped ones lag behind v9), so this declares only what src/demo touches, checked
 * against node_modules/oidc-provider/lib. Payload fields stay loose: they are the provider's.
 */
declare module "oidc-provider" {
  import type { IncomingMessage, ServerResponse } from "node:http";

  /** The Koa context, as far as our middleware reads it. */
  export interface ProviderContext {
    method: string;
    path: string;
    status: number;
    body: unknown;
    req: IncomingMessage;
    res: ServerResponse;
    /** Set by oidc-provider on its own routes only. */
    oidc?: {
      route?: string;
      params?: Record<string, unknown>;
      body?: Record<string, unknown>;
      client?: ProviderClient;
      provider: Provider;
    };
  }

  export type Middleware = (ctx: ProviderContext, next: () => Promise<void>) => Promise<void> | void;
  export type GrantHandler = (ctx: GrantContext) => Promise<void>;

  /** The context a grant handler runs in: the client is already authenticated. */
  export interface GrantContext extends ProviderContext {
    oidc: NonNullable<ProviderContext["oidc"]> & { params: Record<string, string | undefined>; client: ProviderClient };
  }

  export interface ProviderClient {
    clientId: string;
    clientSecret?: string;
    grantTypeAllowed(type: string): boolean;
  }

  /** Common shape of stored artifacts (tokens, codes, grants, interactions). */
  export interface Artifact {
    jti: string;
    kind: string;
    exp?: number;
    iat?: number;
    clientId?: string;
    accountId?: string;
    grantId?: string;
    scope?: string;
    gty?: string;
    readonly isExpired: boolean;
    readonly expiration: number;
    readonly tokenType?: string;
    [field: string]: unknown;
    save(ttl?: number): Promise<string>;
    destroy(): Promise<void>;
  }

  export interface ArtifactModel {
    new (payload: Record<string, unknown>): Artifact;
    find(value: string, options?: { ignoreExpiration?: boolean }): Promise<Artifact | undefined>;
  }

  export interface GrantArtifact extends Artifact {
    addOIDCScope(scope: string): void;
    addResourceScope(resource: string, scope: string): void;
  }

  export interface GrantModel {
    new (payload: { accountId: string; clientId: string }): GrantArtifact;
    find(id: string): Promise<GrantArtifact | undefined>;
  }

  export interface DeviceCodeModel extends ArtifactModel {
    findByUserCode(userCode: string, options?: { ignoreExpiration?: boolean }): Promise<Artifact | undefined>;
  }

  export interface InteractionModel {
    find(uid: string): Promise<Artifact | undefined>;
  }

  /** The adapter contract (docs: "adapter" configuration option). */
  export interface AdapterPayload {
    [field: string]: unknown;
    grantId?: string;
    userCode?: string;
    uid?: string;
    consumed?: number;
  }
  export interface Adapter {
    upsert(id: string, payload: AdapterPayload, expiresIn?: number): Promise<void>;
    find(id: string): Promise<AdapterPayload | undefined>;
    findByUserCode(userCode: string): Promise<AdapterPayload | undefined>;
    findByUid(uid: string): Promise<AdapterPayload | undefined>;
    consume(id: string): Promise<void>;
    destroy(id: string): Promise<void>;
    revokeByGrantId(grantId: string): Promise<void>;
  }

  export class Provider {
    constructor(issuer: string, configuration: Record<string, unknown>);
    readonly issuer: string;
    registerGrantType(name: string, handler: GrantHandler, params?: string[], dupes?: string[]): void;
    use(middleware: Middleware): this;
    callback(): (req: IncomingMessage, res: ServerResponse) => void;
    on(event: string, listener: (...args: any[]) => void): this;
    urlFor(route: string, options?: Record<string, unknown>): string;
    readonly AccessToken: ArtifactModel;
    readonly ClientCredentials: ArtifactModel;
    readonly RefreshToken: ArtifactModel;
    readonly DeviceCode: DeviceCodeModel;
    readonly Grant: GrantModel;
    readonly Interaction: InteractionModel;
    readonly ReplayDetection: { unique(iss: string, jti: string, exp: number): Promise<boolean> };
  }

  /** Errors made by the E() factory: (description, detail). */
  type OIDCErrorClass = new (description?: string, detail?: string) => Error & { error: string; error_description?: string };
  export const errors: {
    InvalidGrant: new (detail?: string) => Error & { error: string };
    InvalidRequest: OIDCErrorClass;
    InvalidScope: new (description: string, scope?: string) => Error & { error: string };
    SlowDown: new () => Error & { error: string };
    UnauthorizedClient: OIDCErrorClass;
    InvalidTarget: OIDCErrorClass;
  };

  export default Provider;
}
