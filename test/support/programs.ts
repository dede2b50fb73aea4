import { execFileSync } from "node:child_process";

/** True when `program` is on PATH (tests that drive tmux, zsh or fish skip without it). */
export function installed(program: string): boolean {
  try {
    execFileSync("sh", ["-c", `command -v ${program}`], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}
