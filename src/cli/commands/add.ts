import type { Command } from "commander";
import { existsSync } from "node:fs";
import { unlink } from "node:fs/promises";
import { resolve } from "node:path";
import { isUserGrant } from "../../config/grants.js";
import { registerSecret } from "../../redact.js";
import { answersFromFlags, askAnswers, hasRequiredFlags, type AddFlags, type Answers } from "../add-answers.js";
import { configTarget, configWithConnection, existingConnections, fileReference, readTarget, writeSecretFile, writeValidated, type ConnectionFields } from "../add-config.js";
import type { CliContext, CliRun } from "../context.js";
import { openTerminal, promptHidden, type Terminal } from "../passphrase.js";
import { promptYesNo } from "../prompt.js";
import { readLine } from "../read-line.js";

/**
 * `tokensmith add [NAME]` (SPEC §3): create a connection. On a terminal it asks for what the
 * flags leave out (a searchable preset list, the grant, client id, where the secret lives,
 * scopes); with the flags a script needs, or without a terminal, it asks nothing. It writes the
 * config keeping its comments and order (add-config.ts), then offers `login` and `test`.
 */
export function registerAdd(program: Command, run: CliRun): void {
  program
    .command("add")
    .description("create a connection: asks on a terminal, or takes flags; writes the config keeping its comments")
    .argument("[name]", "the connection's name")
    .option("--provider <name>", "a preset (tokensmith providers), or custom")
    .option("--grant <grant>", "authorization_code, device_code, client_credentials, ... (default: from the provider)")
    .option("--client-id <id>", "the client id")
    .option("--secret-env <var>", "the client secret is in this environment variable (written as ${env:VAR})")
    .option("--secret-file <path>", "the client secret is in this file (written 0600 from standard input when it does not exist)")
    .option("--scopes <scopes>", "scopes to request, space- or comma-separated")
    .option("--token-url <url>", "token endpoint (a custom server)")
    .option("--authorization-url <url>", "authorization endpoint (a custom server with user sign-in)")
    .option("--var <name=value>", "a value for the preset's URL templates, e.g. tenant=contoso (repeatable)", (value: string, all: string[] = []) => [...all, value])
    .option("--force", "replace a connection of that name")
    .action(run.action(async (ctx, name: string | undefined, flags: AddFlags) => add(ctx, name, flags)));
}

async function add(ctx: CliContext, name: string | undefined, flags: AddFlags): Promise<number> {
  const env = process.env;
  const cwd = process.cwd();
  const target = await configTarget(ctx.flags.config, cwd, env);
  const before = await readTarget(target);
  const onTerminal = (ctx.stdin as { isTTY?: boolean }).isTTY === true && !hasRequiredFlags(name, flags);
  let terminal: Terminal | undefined;
  let answers: Answers;
  if (onTerminal && (terminal = await openTerminal())) {
    try {
      answers = await askAnswers(terminal, name, flags, target.path, await existingConnections(target));
    } catch (err) {
      terminal.close();
      throw err;
    }
  } else {
    answers = answersFromFlags(name, flags, await secretToWrite(ctx, flags));
  }
  if (answers.secret.kind === "file" && answers.secret.value) registerSecret(answers.secret.value);
  try {
    const text = await configWithConnection(before, target.path, answers.name, connectionFields(answers, target.path), !!flags.force);
    let wroteSecret = false;
    if (answers.secret.kind === "file" && answers.secret.value) {
      await writeSecretFile(answers.secret.path, answers.secret.value);
      wroteSecret = true;
    }
    try {
      await writeValidated(target, before, text, cwd, env);
    } catch (err) {
      if (wroteSecret && answers.secret.kind === "file") await unlink(answers.secret.path).catch(() => undefined);
      throw err;
    }
    return await report(ctx, answers, target.path, !target.exists, terminal);
  } finally {
    terminal?.close();
  }
}

/**
 * The secret for a `--secret-file` that does not exist yet: the first line of standard input,
 * or typed without echo when standard input is a terminal.
 */
async function secretToWrite(ctx: CliContext, flags: AddFlags): Promise<string | undefined> {
  if (!flags.secretFile || flags.secretEnv || existsSync(resolve(flags.secretFile))) return undefined;
  if ((ctx.stdin as { isTTY?: boolean }).isTTY !== true) return (await readLine(ctx.stdin)).trim() || undefined;
  const terminal = await openTerminal();
  if (!terminal) return undefined;
  try {
    return (await promptHidden(terminal, "Client secret (not shown): ")).trim() || undefined;
  } finally {
    terminal.close();
  }
}

/** The connection as the config file gets it: only what was chosen, the preset fills in the rest. */
export function connectionFields(answers: Answers, configPath: string): ConnectionFields {
  const fields: ConnectionFields = {};
  if (answers.preset) fields.provider = answers.preset.name;
  if (Object.keys(answers.vars).length) fields.vars = answers.vars;
  if (answers.authorizationUrl) fields.authorization_url = answers.authorizationUrl;
  if (answers.tokenUrl) fields.token_url = answers.tokenUrl;
  if (answers.grant) fields.grant = answers.grant;
  fields.client_id = answers.clientId;
  if (answers.secret.kind === "env") fields.client_secret = `\${env:${answers.secret.variable}}`;
  if (answers.secret.kind === "file") fields.client_secret = fileReference(answers.secret.path, configPath);
  if (answers.scopes.length) fields.scopes = answers.scopes;
  return fields;
}

/** What was written and what to run next; on a terminal, offers to run it. */
async function report(ctx: CliContext, answers: Answers, path: string, created: boolean, terminal: Terminal | undefined): Promise<number> {
  const configArgs = ctx.flags.config ? ["--config", ctx.flags.config] : [];
  const grant = answers.grant ?? (answers.authorizationUrl || answers.preset?.authorization_url ? "authorization_code" : "client_credentials");
  const nextArgs = [...(isUserGrant(grant) ? [[...configArgs, "login", answers.name]] : []), [...configArgs, "test", answers.name]];
  const next = nextArgs.map((args) => ["tokensmith", ...args.map(quote)].join(" "));
  const lines = [
    `${created ? "created" : "updated"} ${path}: connection "${answers.name}"`,
    ...(answers.secret.kind === "env" ? [`set ${answers.secret.variable} to the client secret before using it`] : []),
    ...(answers.secret.kind === "file" ? [`client secret file: ${answers.secret.path} (0600)`] : []),
    "next:",
    ...next.map((command) => `  ${command}`),
  ];
  ctx.printer.data(lines.join("\n"), { connection: answers.name, config: path, created, grant, next });
  if (!terminal || ctx.flags.json) return 0;
  if (answers.secret.kind === "env" && !process.env[answers.secret.variable]) return 0;
  if (!(await promptYesNo(terminal, `Run ${next.map((c) => `\`${c}\``).join(" then ")} now?`))) return 0;
  terminal.close();
  const { spawnSync } = await import("node:child_process");
  for (const args of nextArgs) {
    const result = spawnSync(process.execPath, [process.argv[1], ...args], { stdio: "inherit" });
    if (result.status !== 0) return result.status ?? 1;
  }
  return 0;
}

function quote(value: string): string {
  return /^[\w@%+=:,./-]+$/.test(value) ? value : `'${value.replace(/'/g, "'\\''")}'`;
}
