import assert from "node:assert/strict";
import { createServer } from "node:http";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { it } from "node:test";
import { stringify } from "yaml";
import { demoConfig } from "../../src/demo/config.js";
import { TokenSmith } from "../../src/tokensmith.js";
import { cli, type CliResult } from "../support/cli.js";
import { tmpDir, withDemoServer } from "../support/demo.js";
import { internals } from "../../src/lifecycle/handle.js";

it("never prints a client secret, password, refresh token or private key from any command", async (t) => {
  const server = await withDemoServer(t, { accessTokenTtl: 2 });
  const dir = await tmpDir(t);
  const config: any = demoConfig(server, { dir: join(dir, "store") });
  // A server that echoes what it got into its error description, as some do.
  const echo = createServer((req, res) => {
    let body = "";
    req.on("data", (d) => (body += d));
    req.on("end", () => {
      res.writeHead(400, { "content-type": "application/json" });
      res.end(JSON.stringify({ error: "invalid_client", error_description: `bad request: ${body} ${req.headers.authorization}` }));
    });
  });
  await new Promise<void>((resolve) => echo.listen(0, "127.0.0.1", resolve));
  t.after(() => echo.close());
  config.connections["echo"] = {
    ...config.connections["demo-password"],
    token_url: `http://127.0.0.1:${(echo.address() as { port: number }).port}/token`,
    revocation_url: undefined,
  };
  delete config.connections["echo"].revocation_url;
  const path = join(dir, "tokensmith.yaml");
  await writeFile(path, stringify(config));

  const secrets = [
    server.clients.basic.clientSecret,
    server.users.password,
    server.clients.privateKeyJwt.privateKeyPem.split("\n")[1],
  ];
  const outputs: Array<[string, CliResult]> = [];
  const run = async (...args: string[]) => {
    for (const extra of [[], ["--json"], ["--verbose"]]) {
      outputs.push([[...args, ...extra].join(" "), await cli([...args, ...extra, "--config", path])]);
    }
  };
  for (const name of ["demo-service", "demo-password", "demo-jwt", "echo"]) {
    await run("token", name);
    await run("header", name);
    await run("status", name);
    await run("test", name);
    await run("token", name, "--force-refresh");
  }
  await run("status");
  await run("connections");
  await run("providers");
  // Learn the refresh token the store now holds, to look for it in everything printed.
  const ts = await TokenSmith.load({ config: path, env: {} });
  const setup = await internals(ts.connection("demo-password")).setup();
  const refreshToken = (await setup.manager.reload(setup.ctx))?.refreshToken;
  await ts.close();
  assert.ok(refreshToken, "the password grant stored a refresh token");
  secrets.push(refreshToken);
  await run("revoke", "demo-password");
  await run("logout", "demo-service");

  for (const [command, { stdout, stderr }] of outputs) {
    for (const secret of secrets) {
      for (const form of [secret, encodeURIComponent(secret)]) {
        assert.ok(!stdout.includes(form), `stdout of \`${command}\` contains a secret`);
        assert.ok(!stderr.includes(form), `stderr of \`${command}\` contains a secret`);
      }
    }
    // Access tokens are printed only where asked for: by `token` and `header`.
    if (!/^(token|header) /.test(command)) assert.ok(!/"access_token"\s*:\s*"[^"[]/.test(stdout), `\`${command}\` printed an access token`);
  }
  assert.ok(outputs.some(([c, r]) => c.startsWith("token echo") && r.code === 3), "the echoing server's refusal was reported");
});
