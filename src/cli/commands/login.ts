import type { Command } from "commander";
import { TokenSmithError } from "../../errors.js";
import type { LoginFlow, LoginResult } from "../../lifecycle/login.js";
import type { CliContext, CliRun } from "../context.js";
import { readLine } from "../read-line.js";
import { formatRemaining, startSpinner, type Spinner } from "../spinner.js";
import { parseSeconds } from "./args.js";

const MS_PER_S = 1000;

interface LoginFlags {
  browser: boolean;
  manual?: boolean;
  device?: boolean;
  timeout?: string;
  wait?: boolean;
}

/**
 * `tokensmith login NAME [--no-browser] [--manual] [--device] [--timeout SECONDS] [--wait]`
 * (SPEC §3). What a person must see (the URL, the user code, the paste prompt) goes to stderr
 * even with --quiet; status lines follow --quiet; stdout carries only the --json result.
 */
export function registerLogin(program: Command, run: CliRun): void {
  program
    .command("login")
    .description("log in interactively (browser, --manual paste or --device code) and store the tokens")
    .argument("<name>", "connection name")
    .option("--no-browser", "do not open a browser; print the URL to open instead")
    .option("--manual", "for a redirect URI not on this machine: print the URL, then paste the redirected URL (or the code) on stdin")
    .option("--device", "device flow (RFC 8628): approve with a code on any device")
    .option("--timeout <seconds>", "give up if the login is not finished in this time (default 300)")
    .option("--wait", "if another login of this connection is in progress, wait for it instead of failing")
    .action(run.action((ctx, name: string, flags: LoginFlags) => loginCommand(ctx, name, flags)));
}

function chooseFlow(flags: LoginFlags): LoginFlow | undefined {
  if (flags.manual && flags.device) {
    throw new TokenSmithError("usage_error", "--manual and --device are two different flows: choose one", { hint: "tokensmith login NAME --device" });
  }
  return flags.device ? "device" : flags.manual ? "manual" : undefined;
}

function timeoutMs(flags: LoginFlags): number | undefined {
  const seconds = parseSeconds(flags.timeout, "--timeout");
  if (seconds === 0) throw new TokenSmithError("usage_error", "--timeout must be more than 0 seconds", { hint: "e.g. --timeout 600" });
  return seconds === undefined ? undefined : seconds * MS_PER_S;
}

/** The signals that end a login early; the login lock is released on each. */
const STOP_SIGNALS = ["SIGINT", "SIGTERM", "SIGHUP"] as const;

async function loginCommand(ctx: CliContext, name: string, flags: LoginFlags): Promise<void> {
  const flow = chooseFlow(flags);
  const timeout = timeoutMs(flags);
  const { printer } = ctx;
  const out = printer.out;
  const tell = (text: string) => out.stderr(`${text}\n`);
  const terminal = (out.stderrIsTTY ?? out.isTTY) && !printer.flags.quiet;
  const ts = await ctx.tokensmith();
  const connection = ts.connection(name);

  const cancel = new AbortController();
  const onInterrupt = () => cancel.abort(new TokenSmithError("usage_error", `login of "${name}" cancelled`));
  // Ctrl-C, `timeout`, `docker stop`, a closed terminal: each gives the login lock back.
  for (const signal of STOP_SIGNALS) process.once(signal, onInterrupt);
  let spinner: Spinner | undefined;
  // A line written while the spinner draws must start on a cleared line.
  const verbose = (text: string) => {
    if (spinner && printer.flags.verbose) out.stderr("\r\x1b[2K");
    printer.verbose(text);
  };
  let result: LoginResult;
  try {
    result = await connection.login({
      flow,
      openBrowser: flags.browser,
      timeoutMs: timeout,
      wait: flags.wait,
      signal: cancel.signal,
      readPastedUrl: () => readLine(ctx.stdin),
      onWaiting: (holder) => printer.info(`another login of "${name}" is in progress (${holder ?? "another process"}); waiting for it to finish`),
      onAuthorizationUrl: (url, { browserOpened, redirectUri }) => {
        if (flow === "manual") {
          tell(`To log in to "${name}", open this URL in a browser (on any machine) and approve:\n\n  ${url}\n`);
          tell(`The browser is then sent to ${redirectUri}?code=...; copy that whole URL from the address bar (the page need not load) and paste it here, or just the code.`);
          out.stderr("Redirected URL: ");
          return;
        }
        // No opener at all (no $BROWSER, no xdg-open/open): say so now, not after the timeout.
        if (!browserOpened && flags.browser) {
          throw new TokenSmithError("usage_error", `no browser could be opened to log in to "${name}" (no $BROWSER is set and the system opener is missing or failed)`, {
            connection: name,
            hint: `use \`tokensmith login ${name} --device\` (if the provider has a device flow) or \`tokensmith login ${name} --manual\` to paste the redirected URL; or \`--no-browser\` to open the URL yourself on this machine`,
          });
        }
        tell(browserOpened ? `Opened a browser to log in to "${name}". If it did not open, visit:\n\n  ${url}\n` : `To log in to "${name}", open this URL in a browser on this machine:\n\n  ${url}\n`);
        printer.info(`waiting for the redirect to ${redirectUri} (up to ${Math.round((timeout ?? 300_000) / MS_PER_S)} s)`);
      },
      onUserCode: (info) => {
        tell(`To log in to "${name}", visit ${info.verificationUri} and enter the code:\n\n  ${info.userCode}\n`);
        if (info.browserOpened) printer.info(`opened ${info.verificationUriComplete ?? info.verificationUri} in a browser`);
        else if (info.verificationUriComplete) tell(`or open this URL, which has the code filled in:\n\n  ${info.verificationUriComplete}\n`);
        if (terminal) spinner = startSpinner(out.stderr, () => `waiting for approval… ${formatRemaining(info.deadline - Date.now())} left`);
        else printer.info(`waiting for approval (up to ${formatRemaining(info.deadline - Date.now())})`);
      },
      onDeviceProgress: (progress) => {
        if (progress.status === "slow_down") verbose(`the server asked to slow down: polling every ${progress.intervalMs / MS_PER_S} s`);
        if (progress.status === "retrying") verbose("a poll failed (network or server error); polling goes on");
      },
    });
  } finally {
    spinner?.stop();
    for (const signal of STOP_SIGNALS) process.off(signal, onInterrupt);
  }
  report(ctx, name, result);
}

function report(ctx: CliContext, name: string, result: LoginResult): void {
  const expiresAt = result.expiresAt ? Math.floor(result.expiresAt.getTime() / MS_PER_S) : null;
  const expiry = result.expiresAt ? `access token valid until ${result.expiresAt.toISOString()}` : "access token without expiry";
  const how = result.completedElsewhere ? "the login in progress elsewhere succeeded" : "logged in";
  if (ctx.flags.json) {
    ctx.printer.data("", {
      connection: name,
      flow: result.flow,
      scope: result.scope,
      expires_at: expiresAt,
      has_refresh_token: result.hasRefreshToken,
      completed_elsewhere: result.completedElsewhere,
    });
  } else {
    ctx.printer.info(`${how}: "${name}", scope "${result.scope}", ${expiry}${result.hasRefreshToken ? ", refresh token stored" : ""}`);
  }
  if (!result.hasRefreshToken) {
    ctx.printer.warn(`the server gave no refresh token: \`tokensmith login ${name}\` is needed again once the access token expires`);
  }
}
