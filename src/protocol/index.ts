/** The protocol layer: pure request builders and response processors, one sender. Re-exports only. */
export type {
  AuthContext,
  AuthTarget,
  ClientAuth,
  Endpoints,
  FetchLike,
  GrantRequest,
  GrantSettings,
  HttpRequest,
  OAuthClient,
  Params,
  PreparedRequest,
  ProtocolDeps,
  ReceivedResponse,
  RequestOptions,
  ResponseMapping,
  TokenSet,
} from "./types.js";
export { checkEndpointUrl, fieldPath, isLoopbackHost, requiredEndpoint, type EndpointSpec, type EndpointUrlOptions } from "./urls.js";
export {
  jwtBearerAssertion,
  loadPrivateKey,
  signAssertion,
  signClientAssertion,
  type ClientAssertionOptions,
  type GrantAssertionSettings,
  type SigningKey,
} from "./assertion.js";
export {
  CLIENT_ASSERTION_TYPE,
  basicAuthorization,
  clientAuthentication,
  clientSecretBasic,
  clientSecretJwt,
  clientSecretPost,
  formEncode,
  misconfigured,
  none,
  privateKeyJwt,
  type ClientAuthentication,
} from "./client-auth.js";
export { announceSecrets, clientRequest, prepareRequest } from "./request.js";
export {
  DEVICE_CODE_GRANT_TYPE,
  JWT_BEARER_GRANT_TYPE,
  audienceParams,
  buildTokenRequest,
  grantSecrets,
  scopeParam,
  tokenEndpoint,
} from "./token-request.js";
export { processTokenResponse } from "./token-response.js";
export { OAUTH_ERRORS, OAUTH_ERROR_HINTS, oauthError, oauthErrorCause, oauthErrorFields, type OAuthErrorFields } from "./oauth-error.js";
export { bodyExcerpt, displayUrl, invalidResponse, parseBody, retryAfterSeconds, type ParsedBody } from "./response.js";
export { connectionError, exchange, requestToken, sendTokenRequest, type Exchange, type SendOptions, type SentResponse } from "./send.js";
export {
  buildRevocationRequest,
  processRevocationResponse,
  revocationEndpoint,
  revokeToken,
  type RevocationInput,
  type RevocationResult,
  type TokenTypeHint,
} from "./revoke.js";
export {
  buildIntrospectionRequest,
  introspectToken,
  introspectionEndpoint,
  processIntrospectionResponse,
  type IntrospectionResult,
} from "./introspect.js";
export {
  DEFAULT_DEVICE_INTERVAL_MS,
  SLOW_DOWN_INCREMENT_MS,
  buildDeviceAuthorizationRequest,
  deviceAuthorizationEndpoint,
  pollDeviceToken,
  processDeviceAuthorizationResponse,
  processDevicePollResponse,
  requestDeviceAuthorization,
  type DeviceAuthorization,
  type DevicePollResult,
} from "./device.js";
export {
  buildAuthorizationUrl,
  generatePkce,
  pkceChallenge,
  prepareAuthorization,
  randomToken,
  type AuthorizationRequestInput,
  type Pkce,
  type PreparedAuthorization,
} from "./authorization-url.js";
