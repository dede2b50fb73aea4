import { homedir } from "node:os";
import { isAbsolute, join, resolve } from "node:path";

/**
 * Home and XDG folders, computed from an explicit environment so that tests (and embedders)
 * never touch the real home directory.
 */

/** The user's home: `$HOME` from the given environment, else the OS's idea of it. */
export function homeDir(env: NodeJS.ProcessEnv): string {
  return env.HOME && isAbsolute(env.HOME) ? env.HOME : homedir();
}

/** `~` and `~/x` expanded; other paths untouched. */
export function expandHome(path: string, env: NodeJS.ProcessEnv): string {
  if (path === "~") return homeDir(env);
  if (path.startsWith("~/")) return join(homeDir(env), path.slice(2));
  return path;
}

/** A user-written path made absolute: `~` expanded, relative paths taken from `base`. */
export function absolutePath(path: string, base: string, env: NodeJS.ProcessEnv): string {
  return resolve(base, expandHome(path, env));
}

/** An XDG base directory; relative values are ignored, as the XDG spec requires. */
function xdg(env: NodeJS.ProcessEnv, variable: string, fallback: string): string {
  const value = env[variable];
  return value && isAbsolute(value) ? value : join(homeDir(env), fallback);
}

/** `$XDG_CONFIG_HOME`, else `~/.config`. */
export function xdgConfigHome(env: NodeJS.ProcessEnv): string {
  return xdg(env, "XDG_CONFIG_HOME", ".config");
}

/** `$XDG_STATE_HOME`, else `~/.local/state`. */
export function xdgStateHome(env: NodeJS.ProcessEnv): string {
  return xdg(env, "XDG_STATE_HOME", join(".local", "state"));
}

/** `$XDG_CACHE_HOME`, else `~/.cache`. */
export function xdgCacheHome(env: NodeJS.ProcessEnv): string {
  return xdg(env, "XDG_CACHE_HOME", ".cache");
}
