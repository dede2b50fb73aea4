import type { IncomingMessage, ServerResponse } from "node:http";
import type { Artifact, Provider } from "oidc-provider";
import { DeviceCodeError, approveDeviceCode } from "./device.js";
import { readForm, redirect, sendHtml } from "./http.js";
import { type DemoUser, sameText } from "./grants.js";
import { loginPage, messagePage } from "./pages.js";

/**
 * The demo's end-user pages: sign-in plus automatic consent for the authorization code and
 * device flows (oidc-provider's own dev pages are off). Interactions are looked up by the uid
 * in the URL rather than by cookie, and the resume cookie is supplied when a user agent
 * did not keep it, so a test "browser" that only follows redirects with fetch — no cookie
 * jar — can finish a login. The uid is a long random id only ever sent to that user agent;
 * for a loopback demo server that binds the flow well enough (a real server keeps the cookies).
 */

/** What the sign-in pages need. */
export interface InteractionOptions {
  provider: Provider;
  user: DemoUser;
  /** Complete every interaction at once as the demo user (tests), and approve device codes on the verification URL. */
  autoLogin: boolean;
}

const MS_PER_S = 1000;

const INTERACTION = /^\/interaction\/([A-Za-z0-9_-]+)(?:\/(login|abort))?$/;
/** oidc-provider's resume routes: the authorization endpoint and the device verification page, plus a uid. */
const RESUME = /^\/(?:auth|device)\/([A-Za-z0-9_-]+)$/;
const RESUME_COOKIE = "_interaction_resume";

/** Gives a cookie-less user agent the resume cookie its resume URL implies. */
export function supplyResumeCookie(req: IncomingMessage, pathname: string): void {
  const match = RESUME.exec(pathname);
  const cookies = req.headers.cookie ?? "";
  if (!match || cookies.includes(`${RESUME_COOKIE}=`)) return;
  req.headers.cookie = cookies ? `${cookies}; ${RESUME_COOKIE}=${match[1]}` : `${RESUME_COOKIE}=${match[1]}`;
}

/** Signs the user in and grants everything the interaction asked for; returns where to resume. */
async function finish(provider: Provider, interaction: Artifact, accountId: string): Promise<string> {
  const params = (interaction.params ?? {}) as { client_id: string; scope?: string; resource?: string | string[] };
  const existing = typeof interaction.grantId === "string" ? await provider.Grant.find(interaction.grantId) : undefined;
  const grant = existing ?? new provider.Grant({ accountId, clientId: params.client_id });
  if (params.scope) {
    grant.addOIDCScope(params.scope);
    for (const resource of params.resource === undefined ? [] : [params.resource].flat()) grant.addResourceScope(resource, params.scope);
  }
  interaction.result = { login: { accountId }, consent: { grantId: await grant.save() } };
  await interaction.save((interaction.exp as number) - Math.floor(Date.now() / MS_PER_S));
  return interaction.returnTo as string;
}

async function abort(provider: Provider, interaction: Artifact): Promise<string> {
  interaction.result = { error: "access_denied", error_description: "End-User cancelled the sign-in" };
  await interaction.save((interaction.exp as number) - Math.floor(Date.now() / MS_PER_S));
  return interaction.returnTo as string;
}

/** Handles the demo's own end-user routes; false when the request is not one of them. */
export function interactionRoutes({ provider, user, autoLogin }: InteractionOptions) {
  return async function handle(req: IncomingMessage, res: ServerResponse, url: URL): Promise<boolean> {
    if (autoLogin && req.method === "GET" && url.pathname === "/device" && url.searchParams.has("user_code")) {
      try {
        await approveDeviceCode(provider, url.searchParams.get("user_code") ?? "", user.username);
        sendHtml(res, 200, messagePage("Device connected", `Signed in as ${user.username}; you can return to your device.`));
      } catch (error) {
        if (!(error instanceof DeviceCodeError)) throw error;
        sendHtml(res, 400, messagePage("Device not connected", error.message));
      }
      return true;
    }

    const match = INTERACTION.exec(url.pathname);
    if (!match) return false;
    const [, uid, action] = match;
    const interaction = await provider.Interaction.find(uid);
    if (!interaction) {
      sendHtml(res, 404, messagePage("Sign-in expired", "This sign-in request is unknown or has expired. Start again from your app."));
      return true;
    }
    const params = (interaction.params ?? {}) as { client_id?: string; scope?: string };
    const showForm = (status: number, error?: string) =>
      sendHtml(res, status, loginPage({ uid, clientName: params.client_id ?? "An app", scope: params.scope, usernameHint: user.username, error }));

    if (req.method === "GET" && !action) {
      if (autoLogin) redirect(res, await finish(provider, interaction, user.username));
      else showForm(200);
      return true;
    }
    if (req.method !== "POST" || !action) {
      sendHtml(res, 405, messagePage("Not allowed", "Use the sign-in form."));
      return true;
    }
    if (action === "abort") {
      redirect(res, await abort(provider, interaction));
      return true;
    }
    const form = await readForm(req);
    if (!sameText(form.get("username") ?? "", user.username) || !sameText(form.get("password") ?? "", user.password)) {
      showForm(401, "Wrong username or password.");
      return true;
    }
    redirect(res, await finish(provider, interaction, user.username));
    return true;
  };
}
