import { randomBytes } from "node:crypto";
import { createServer } from "node:http";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { secretRegistryStats } from "../src/redact.js";
import { TokenSmith } from "../src/tokensmith.js";
import type { Report } from "./report.js";

/**
 * The secret registry in a long-running process (SPEC §2.19, issue 10 item 4): every refresh
 * rotates the refresh token, and each one sent is registered for redaction (in up to three
 * encodings). The heap after 10,000 rotations must be what it was after the warm-up, which
 * rotates enough tokens to fill the registry's rotating part to its bound (1 MiB of 512-
 * character tokens is 2,048 of them); without the bound it grows by ~8 MiB per 10,000 (measured: 17.0 -> 25.4 MiB).
 */
const ROTATIONS = 10_000;
const WARM_UP = 2_500;
/** Real refresh tokens run from ~40 characters to ~1.5 KB (Microsoft); this is in between. */
const REFRESH_TOKEN_BYTES = 384;

export async function run(report: Report): Promise<void> {
  setFlagsFromString("--expose-gc");
  const gc = runInNewContext("gc") as () => void;
  const heap = () => {
    gc();
    gc();
    return process.memoryUsage().heapUsed;
  };

  // A token endpoint that rotates the refresh token on every refresh, as RFC 9700 asks.
  let issued = 0;
  const server = createServer((req, res) => {
    req.resume();
    req.on("end", () => {
      issued++;
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ access_token: `at-${issued}`, token_type: "Bearer", expires_in: 3600, refresh_token: randomBytes(REFRESH_TOKEN_BYTES).toString("base64url") }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${(server.address() as { port: number }).port}/token`;
  const ts = await TokenSmith.load({
    config: {
      store: { type: "memory" },
      connections: {
        rotating: { grant: "refresh_token", token_url: url, client_id: "bench", client_secret: "bench-secret-value", refresh_token: "seed-refresh-token" },
      },
    },
    env: {},
  });
  try {
    const connection = ts.connection("rotating");
    for (let i = 0; i < WARM_UP; i++) await connection.accessToken({ forceRefresh: true });
    const before = heap();
    const registryBefore = secretRegistryStats();
    const started = performance.now();
    for (let i = 0; i < ROTATIONS; i++) await connection.accessToken({ forceRefresh: true });
    const elapsed = performance.now() - started;
    const after = heap();
    const registry = secretRegistryStats();
    const mib = (n: number) => n / 1024 / 1024;
    report({
      name: `heap after ${ROTATIONS.toLocaleString("en-US")} refresh-token rotations (${REFRESH_TOKEN_BYTES}-byte tokens, ${Math.round((ROTATIONS / elapsed) * 1000)}/s)`,
      value: mib(after),
      unit: "MiB",
      baseline: mib(before),
      baselineName: `after ${WARM_UP} warm-up rotations`,
      goal: "flat: <= 1.1x",
      higherIsBetter: false,
    });
    report({
      name: `secret registry entries after ${ROTATIONS.toLocaleString("en-US")} rotations (pinned ${registry.pinned}, rotating ${registry.rotating}, ${registry.rotatingChars.toLocaleString("en-US")} characters)`,
      value: registry.pinned + registry.rotating,
      unit: "entries",
      baseline: registryBefore.pinned + registryBefore.rotating,
      baselineName: `after ${WARM_UP} warm-up rotations`,
      goal: "bounded (<= 4,096 rotating)",
      higherIsBetter: false,
    });
  } finally {
    await ts.close();
    server.close();
  }
}
