import type { TestContext } from "node:test";
import axios from "axios";
import { Agent, fetch as undiciFetch, interceptors, request } from "undici";
import { TokenSmithError } from "../../src/errors.js";
import { authorize as authorizeAxios } from "../../src/http/axios.js";
import { authorize as authorizeUndici } from "../../src/http/undici.js";
import type { Connection } from "../../src/lifecycle/connection.js";

/**
 * The three ways to make an authorized call, behind one small interface, so one suite
 * (adapter-suite.ts) holds them all to the same behaviour.
 */

export interface Sent {
  status: number;
  text: string;
}

export interface RequestInput {
  method?: string;
  headers?: Record<string, string>;
  body?: string;
}

export interface Client {
  request(url: string, input?: RequestInput): Promise<Sent>;
}

export interface ClientKind {
  name: string;
  /** Request bodies reach the dispatcher as a stream (undici's fetch), so they cannot be replayed after a 401. */
  streamsBodies?: boolean;
  /** A client for `connection`, following redirects; closed when the test ends. */
  create(t: TestContext, connection: Connection): Client;
}

export const fetchClient: ClientKind = {
  name: "connection.fetch",
  create: (_t, connection) => ({
    async request(url, input = {}) {
      const res = await connection.fetch(url, input);
      return { status: res.status, text: await res.text() };
    },
  }),
};

/** undici.request behind undici's redirect interceptor, whose handler speaks the current callback API. */
export const undiciClient: ClientKind = {
  name: "the undici interceptor",
  create(t, connection) {
    const agent = new Agent();
    t.after(() => agent.close());
    const dispatcher = agent.compose(authorizeUndici(connection), interceptors.redirect({ maxRedirections: 5 }));
    return {
      async request(url, input = {}) {
        const res = await request(url, { dispatcher, method: (input.method ?? "GET") as "GET", headers: input.headers, body: input.body });
        return { status: res.statusCode, text: await res.body.text() };
      },
    };
  },
};

/** undici's own fetch follows redirects itself, one dispatch per hop, with a handler of undici's older callback API. */
export const undiciFetchClient: ClientKind = {
  name: "the undici interceptor under undici's fetch",
  streamsBodies: true,
  create(t, connection) {
    const agent = new Agent();
    t.after(() => agent.close());
    const dispatcher = agent.compose(authorizeUndici(connection));
    return {
      async request(url, input = {}) {
        try {
          const res = await undiciFetch(url, { dispatcher, method: input.method, headers: input.headers, body: input.body });
          return { status: res.status, text: await res.text() };
        } catch (err) {
          // fetch reports every dispatcher error as "fetch failed", with the real one as its cause.
          throw (err as { cause?: unknown }).cause ?? err;
        }
      },
    };
  },
};

/** An agent with the redirect interceptor composed inside authorize(): the order the docs warn against. */
function wrongOrder(t: Parameters<ClientKind["create"]>[0], connection: Parameters<ClientKind["create"]>[1]) {
  const agent = new Agent();
  t.after(() => agent.close());
  return agent.compose(interceptors.redirect({ maxRedirections: 5 }), authorizeUndici(connection));
}

/** The documented order reversed: the redirect interceptor inside authorize(), which must refuse every request. */
export const undiciWrongOrderClient: ClientKind = {
  name: "the undici interceptor composed after the redirect interceptor",
  create(t, connection) {
    const dispatcher = wrongOrder(t, connection);
    return {
      async request(url, input = {}) {
        const res = await request(url, { dispatcher, method: (input.method ?? "GET") as "GET", headers: input.headers, body: input.body });
        return { status: res.statusCode, text: await res.body.text() };
      },
    };
  },
};

/**
 * undici's fetch over the same wrong order: fetch turns the redirect interceptor off
 * (`maxRedirections: 0`) and dispatches every hop through authorize() itself, so nothing is
 * refused and every hop is seen.
 */
export const undiciFetchWrongOrderClient: ClientKind = {
  name: "the undici interceptor after the redirect interceptor, under undici's fetch",
  create(t, connection) {
    const dispatcher = wrongOrder(t, connection);
    return {
      async request(url, input = {}) {
        const res = await undiciFetch(url, { dispatcher, method: input.method, headers: input.headers, body: input.body });
        return { status: res.status, text: await res.text() };
      },
    };
  },
};

export const axiosClient: ClientKind = axiosKind("the axios interceptor", "http");

/** axios's fetch adapter: Node's fetch underneath, whose redirects tokensmith follows itself. */
export const axiosFetchClient: ClientKind = axiosKind("the axios interceptor on axios's fetch adapter", "fetch");

function axiosKind(name: string, adapter: "http" | "fetch"): ClientKind {
  return {
    name,
    create(t, connection) {
      const instance = axios.create({ adapter, responseType: "text", transformResponse: [(data: string) => data] });
      t.after(authorizeAxios(instance, connection));
      return {
        async request(url, input = {}) {
          try {
            const res = await instance.request({ url, method: input.method ?? "GET", headers: input.headers, data: input.body });
            return { status: res.status, text: res.data as string };
          } catch (err) {
            // axios rejects statuses >= 400 by default: the suite wants them as answers.
            if (axios.isAxiosError(err) && err.response) return { status: err.response.status, text: err.response.data as string };
            // A TokenSmithError thrown on the way (the request interceptor, or the fetch underneath) as itself.
            const cause = axios.isAxiosError(err) ? (err as { cause?: unknown }).cause : undefined;
            throw cause instanceof TokenSmithError ? cause : err;
          }
        },
      };
    },
  };
}
