// The processes one E2E session started, found from outside the editor the way a user would find them
// with ps: several sessions and integration tests may run sidecars at once, so a sidecar is this session's
// only if its environment carries the session's private XDG dirs (set by session.ts, inherited by the
// extension host and everything it spawns).
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

/** Pids of the sidecars (dist/sidecar.mjs) running under the session whose temp root is `sessionRoot`. */
export function sidecarPids(sessionRoot: string): number[] {
    const marker = `XDG_CONFIG_HOME=${join(sessionRoot, "xdg-config")}`;
    const pids: number[] = [];
    for (const entry of readdirSync("/proc")) {
        if (!/^\d+$/.test(entry)) continue;
        try {
            const cmdline = readFileSync(`/proc/${entry}/cmdline`, "utf8");
            if (!cmdline.includes("sidecar.mjs")) continue;
            if (readFileSync(`/proc/${entry}/environ`, "utf8").split("\0").includes(marker)) pids.push(Number(entry));
        } catch {
            // The process ended while we looked.
        }
    }
    return pids;
}
