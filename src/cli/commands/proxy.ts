import type { Command } from "commander";
import type { CliRun } from "../context.js";
import { parsePort, untilSignal } from "./serve.js";

/** `tokensmith proxy NAME [--port P] [--no-auth]`: a loopback reverse proxy for one connection (SPEC §3, §5). */
export function registerProxy(program: Command, run: CliRun): void {
  program
    .command("proxy")
    .description("a loopback reverse proxy to the connection's base_url, the token injected (Ctrl-C to stop)")
    .argument("<name>", "connection")
    .option("--port <port>", "port to bind on 127.0.0.1 (default: a free one)")
    .option("--no-auth", "no key: every local process may then call the API as you")
    .action(
      run.action(async (ctx, name: string, opts: { port?: string; auth: boolean }) => {
        const port = parsePort(opts.port);
        const { startProxy } = await import("../../gateway/start.js");
        const server = await startProxy({ name, config: ctx.flags.config, port, auth: opts.auth, onWarning: (message) => ctx.printer.warn(message) });
        const out = ctx.printer.out;
        // Written directly, not through the printer: its redaction would hide the key the user needs.
        out.stderr(`tokensmith proxy for ${name} listening on ${server.url} -> ${server.baseUrl}\n`);
        if (server.key) {
          out.stderr(`key: ${server.key}\n`);
          out.stderr(`send it as Authorization: Bearer <key>, e.g. curl -H "Authorization: Bearer ${server.key}" ${server.url}/\n`);
        } else {
          ctx.printer.warn("--no-auth: no key is asked for, so every process on this machine (and any user of it) can call the API as you");
        }
        const signal = await untilSignal();
        ctx.printer.info(`${signal}: stopping the proxy`);
        await server.close();
      }),
    );
}
