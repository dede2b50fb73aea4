/**
 * Dead holders (SPEC §2.17), end to end: a `tokensmith token` process is SIGKILLed while its
 * token request is in flight, holding the store lease. The next caller on the same host finds
 * the holder's pid gone and takes the lease over at once: it gets its token without waiting
 * out the lease (here 60 s request timeout + margin; the caller is given far less).
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, it } from "node:test";
import { stringify } from "yaml";
import { BIN, cli } from "../support/cli.js";
import { tmpDir } from "../support/demo.js";

/** The request timeout, so the lease is over a minute: waiting it out would be unmistakable. */
const TIMEOUT_S = 60;

describe("dead holders (§2.17)", () => {
  it("after SIGKILL of a process mid-refresh, the next caller takes its lease over at once and gets a token", async (t) => {
    let requests = 0;
    let firstArrived!: () => void;
    const arrived = new Promise<void>((resolve) => (firstArrived = resolve));
    const held: ServerResponse[] = [];
    const server = createServer((req: IncomingMessage, res: ServerResponse) => {
      req.resume();
      req.on("end", () => {
        requests++;
        if (requests === 1) {
          held.push(res); // the doomed process's request: never answered
          firstArrived();
          return;
        }
        res.writeHead(200, { "content-type": "application/json" });
        res.end(JSON.stringify({ access_token: `token-${requests}`, token_type: "Bearer", expires_in: 3600 }));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    t.after(() => {
      for (const res of held) res.destroy();
      server.close();
    });
    const dir = await tmpDir(t);
    const config = join(dir, "tokensmith.yaml");
    const tokenUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/token`;
    await writeFile(
      config,
      stringify({
        store: { type: "file", dir: join(dir, "state") },
        connections: { svc: { grant: "client_credentials", token_url: tokenUrl, client_id: "svc", client_secret: "dead-holder-secret-0123456789", timeout: TIMEOUT_S } },
      }),
    );

    const doomed = spawn(process.execPath, [BIN, "token", "svc", "--config", config], { stdio: "ignore" });
    const exited = new Promise((resolve) => doomed.on("exit", resolve));
    await arrived; // it holds the lease and waits for the server
    doomed.kill("SIGKILL");
    await exited;

    const started = Date.now();
    const next = await cli(["token", "svc", "--config", config]);
    const elapsedMs = Date.now() - started;
    assert.equal(next.code, 0, next.stderr);
    assert.equal(next.stdout.trim(), "token-2");
    assert.ok(elapsedMs < (TIMEOUT_S * 1000) / 2, `the next caller waited ${elapsedMs} ms: the dead holder's lease was waited out`);
    t.diagnostic(`next caller got its token ${elapsedMs} ms after the kill`);
  });
});
