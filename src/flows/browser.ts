import { spawn } from "node:child_process";

/**
 * Opening a URL in the user's browser (SPEC §3): the command in `$BROWSER` if set, else the
 * system's opener. Commands are started directly with the URL as one argument, never through
 * a shell, so nothing in a URL is ever interpreted. Failing to open is not an error: the
 * caller shows the URL anyway.
 */

/** One command to try. */
export interface OpenCommand {
  command: string;
  args: string[];
}

/**
 * An opener that exits at once with a failure (xdg-open with no browser, a mistyped $BROWSER)
 * does so within this time; one still running after it is taken to have opened the URL.
 */
export const OPENER_GRACE_MS = 500;

/**
 * The commands to try, in order. `$BROWSER` is a list separated like PATH (`:`, `;` on
 * Windows), each entry a command with optional arguments separated by spaces; `%s` in an
 * entry is replaced by the URL, else the URL is appended (the convention of Python's
 * webbrowser and xdg-utils).
 */
export function browserCommands(url: string, env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform): OpenCommand[] {
  const configured = env.BROWSER?.trim();
  if (configured) {
    return configured
      .split(platform === "win32" ? ";" : ":")
      .map((entry) => entry.trim().split(/\s+/).filter(Boolean))
      .filter((words) => words.length > 0)
      .map(([command, ...rest]) => {
        const hasSlot = rest.some((word) => word.includes("%s"));
        const args = hasSlot ? rest.map((word) => word.split("%s").join(url)) : [...rest, url];
        return { command, args };
      });
  }
  switch (platform) {
    case "darwin":
      return [{ command: "open", args: [url] }];
    case "win32":
      // `start` is a cmd.exe builtin that needs a shell (and `&` in URLs breaks it); this needs none.
      return [{ command: "rundll32.exe", args: ["url.dll,FileProtocolHandler", url] }];
    default:
      return [{ command: "xdg-open", args: [url] }];
  }
}

/** Starts one command detached; true unless it could not start or failed within the grace time. */
function tryCommand({ command, args }: OpenCommand, graceMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    let child;
    try {
      child = spawn(command, args, { stdio: "ignore", detached: true, windowsHide: true });
    } catch {
      return resolve(false);
    }
    const timer = setTimeout(() => {
      child.unref();
      resolve(true);
    }, graceMs);
    timer.unref();
    child.once("error", () => {
      clearTimeout(timer);
      resolve(false);
    });
    child.once("exit", (code) => {
      clearTimeout(timer);
      resolve(code === 0);
    });
  });
}

/**
 * Opens `url` in a browser. Resolves true when a command took it, false when none could (no
 * opener installed, no display): never throws, so the caller can print the URL instead.
 */
export async function openInBrowser(url: string, options: { env?: NodeJS.ProcessEnv; platform?: NodeJS.Platform; graceMs?: number } = {}): Promise<boolean> {
  for (const command of browserCommands(url, options.env, options.platform)) {
    if (await tryCommand(command, options.graceMs ?? OPENER_GRACE_MS)) return true;
  }
  return false;
}
