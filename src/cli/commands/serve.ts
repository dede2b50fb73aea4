import type { Command } from "commander";
import { TokenSmithError } from "../../errors.js";
import { redactMessage } from "../../redact.js";
import type { CliRun } from "../context.js";

/** Highest TCP port. */
const MAX_PORT = 65535;

/** `--port`: 0 to 65535 (0: any free port), else `usage_error`. */
export function parsePort(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > MAX_PORT) {
    throw new TokenSmithError("usage_error", `--port must be a port number (got "${value}")`, { hint: "e.g. --port 7373" });
  }
  return port;
}

/** Resolves on the first SIGINT or SIGTERM. */
export function untilSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const stop = (signal: NodeJS.Signals) => {
      process.off("SIGINT", stop);
      process.off("SIGTERM", stop);
      resolve(signal);
    };
    process.on("SIGINT", stop);
    process.on("SIGTERM", stop);
  });
}

/** `tokensmith serve`: the local gateway and dashboard (SPEC §5), until SIGINT or SIGTERM. */
export function registerServe(program: Command, run: CliRun): void {
  program
    .command("serve")
    .description("run the local HTTP gateway and dashboard (Ctrl-C to stop)")
    .option("--host <address>", "address to bind (default: gateway.host, else 127.0.0.1)")
    .option("--port <port>", "port to bind (default: gateway.port, else 7373)")
    .action(
      run.action(async (ctx, opts: { host?: string; port?: string }) => {
        const { startGateway, errorLogLine, errorStack, reloadLogLines } = await import("../../gateway/start.js");
        const gateway = await startGateway({
          config: ctx.flags.config,
          host: opts.host,
          port: parsePort(opts.port),
          onWarning: (message) => ctx.printer.warn(message),
          // A 500 is news for whoever runs the gateway, not only for the client that got it.
          onError: (error, request) => {
            ctx.printer.out.stderr(`${new Date().toISOString()} error: ${errorLogLine(error, request)}\n`);
            const stack = ctx.flags.verbose ? errorStack(error) : undefined;
            if (stack) ctx.printer.out.stderr(`${stack}\n`);
          },
          onReload: (outcome) => {
            for (const line of reloadLogLines(outcome)) ctx.printer.out.stderr(`${new Date().toISOString()} ${redactMessage(line)}\n`);
          },
        });
        ctx.printer.verbose(`config: ${gateway.tokensmith.configPath ?? "(object)"}`);
        const out = ctx.printer.out;
        // Written directly, not through the printer: its redaction would hide the sign-in URL the user needs.
        out.stderr(`tokensmith gateway listening on ${gateway.url}\n`);
        out.stderr(`dashboard sign-in (one-time URL): ${gateway.signInUrl}\n`);
        if (gateway.keyFile) out.stderr(`API key: in ${gateway.keyFile} (send it as Authorization: Bearer <key>)\n`);
        else out.stderr("API keys: as configured in gateway.api_keys\n");
        // SIGHUP re-reads the config (SPEC §5); onReload above says how it went.
        const reload = () => void gateway.reload().catch(() => undefined);
        process.on("SIGHUP", reload);
        const signal = await untilSignal();
        process.off("SIGHUP", reload);
        ctx.printer.info(`${signal}: stopping the gateway`);
        await gateway.close();
      }),
    );
}
