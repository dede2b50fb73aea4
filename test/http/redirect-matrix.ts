import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { TokenSmithError } from "../../src/errors.js";
import type { ClientKind } from "./clients.js";
import { demoSetup, json, recordingServer, redirect, type Seen } from "./support.js";

/**
 * SPEC §2.13, whatever the client: a token never reaches a foreign origin on a redirect. Two
 * API servers, A and B, on 127.0.0.1; "foreign" is B, A reached as `localhost` (another
 * origin, the same server), and A again once a hop has left it. Each foreign request is
 * recorded and searched for the token, in the header named or anywhere else.
 */
const SCENARIOS = [
  { name: "cross-port (A → B)", path: "/cross-port" },
  { name: "cross-host (127.0.0.1 → localhost)", path: "/cross-host" },
  { name: "307 with a POST body (A → B)", path: "/307", method: "POST", body: '{"n":1}' },
  { name: "A → A → B", path: "/aab", carrier: "/aab2" },
  { name: "A → B → A, on the hop back", path: "/aba" },
] as const;

const HEADERS = [undefined, { name: "X-Api-Token", value: "{token}" }];

/**
 * The matrix {scenario} × {Authorization, a custom header} for one client. `refuses`: the client
 * is one tokensmith cannot make safe (undici's redirect interceptor inside authorize()): every
 * request is refused with a usage_error before anything is sent.
 */
export function redirectMatrix(kind: ClientKind, { refuses = false } = {}): void {
  describe(`${kind.name}: no token to a foreign origin on a redirect`, () => {
    for (const header of HEADERS) {
      const named = header ? `a custom ${header.name} header` : "the Authorization header";
      it(`${refuses ? "refuses every request" : "keeps the token home"} with ${named}: ${SCENARIOS.map((s) => s.name).join("; ")}`, async (t) => {
        const { connection } = await demoSetup(t, { patch: (conn) => header && (conn.header = header) });
        const b = await recordingServer(t, (req, res) => (req.path === "/back" ? redirect(res, `${a.url}/seen-back`) : json(res, 200, { at: "b" })));
        const a = await recordingServer(t, (req, res) => {
          const to: Record<string, [string, number?]> = {
            "/cross-port": [`${b.url}/seen`],
            "/cross-host": [`${a.url.replace("127.0.0.1", "localhost")}/seen`],
            "/307": [`${b.url}/seen`, 307],
            "/aab": ["/aab2"],
            "/aab2": [`${b.url}/seen`],
            "/aba": [`${b.url}/back`],
          };
          const target = to[req.path];
          if (target) redirect(res, target[0], target[1]);
          else json(res, 200, { at: "a" });
        });
        const client = kind.create(t, connection);
        const token = await connection.accessToken();
        for (const scenario of SCENARIOS) {
          const input = "method" in scenario ? { method: scenario.method, body: scenario.body, headers: { "content-type": "application/json" } } : {};
          const before = { a: a.seen.length, b: b.seen.length };
          if (refuses) {
            await assert.rejects(
              client.request(`${a.url}${scenario.path}`, input),
              (err: unknown) => err instanceof TokenSmithError && err.code === "usage_error" && /redirect interceptor/.test(err.message) && /compose authorize\(\) first/.test(err.hint ?? ""),
              scenario.name,
            );
            assert.equal(a.seen.length + b.seen.length, before.a + before.b, `${scenario.name}: nothing was sent`);
            continue;
          }
          const res = await client.request(`${a.url}${scenario.path}`, input);
          assert.equal(res.status, 200, scenario.name);
          const hops = [...a.seen.slice(before.a), ...b.seen.slice(before.b)];
          const foreign = [...b.seen.slice(before.b), ...a.seen.slice(before.a).filter((s) => s.headers.host?.startsWith("localhost") || s.path === "/seen-back")];
          assert.ok(foreign.length > 0, `${scenario.name}: the redirect was followed to the foreign origin`);
          assert.deepEqual(foreign.filter((s) => carries(s, token)).map((s) => `${s.headers.host}${s.path}`), [], `${scenario.name}: no token abroad`);
          assert.ok(carries(hops[0], token), `${scenario.name}: the first hop carried the token`);
          if ("carrier" in scenario) assert.ok(carries(hops.find((s) => s.path === scenario.carrier)!, token), `${scenario.name}: the same-origin hop kept it`);
          if (scenario.path === "/307") assert.deepEqual([foreign[0].method, foreign[0].body], ["POST", '{"n":1}'], "the 307 kept method and body");
        }
      });
    }
  });
}

function carries(seen: Seen, token: string): boolean {
  return JSON.stringify(seen.headers).includes(token) || seen.body.includes(token);
}
