// Where a run may write (issue 12.9): a run config (`output` in a *.lora.json, or run/start's config.output) may only
// name a folder inside the workspace, because a config is a file anyone can hand you, and "output": "/home/you/.ssh"
// would have the run write there. The user's own choice, on the command line (--out) or in a folder dialog, is not
// confined. Pure apart from resolving symbolic links of the folders that already exist, so a link inside the workspace
// that points outside it is caught too. The run-config resolution (training/config.ts) calls it.
import { existsSync, realpathSync } from "node:fs";
import { dirname, isAbsolute, relative, resolve, sep } from "node:path";

/** Who chose the output folder: a config file (confined to the workspace), or the user directly (not confined). */
export type RunOutputOrigin = "config" | "command-line" | "dialog";

export class RunOutputOutsideWorkspaceError extends Error {
    constructor(readonly field: string, readonly requested: string, readonly resolved: string, readonly root: string, where: string) {
        super(`${where}"${field}" is ${JSON.stringify(requested)}, which resolves to ${resolved}, outside the workspace ${root}; a run config may only write inside its workspace. Choose a folder outside it on the command line (--out) or in the Start Training dialog instead`);
        this.name = "RunOutputOutsideWorkspaceError";
    }
}

/** The path with the symbolic links of its longest existing prefix resolved (the rest does not exist yet). */
function realPathOf(path: string): string {
    let existing = path;
    const rest: string[] = [];
    while (!existsSync(existing)) {
        const parent = dirname(existing);
        if (parent === existing) return path;
        rest.unshift(existing.slice(parent.length + (parent.endsWith(sep) ? 0 : 1)));
        existing = parent;
    }
    return resolve(realpathSync(existing), ...rest);
}

/** True when `path` is `root` or below it (both absolute). */
export function isInside(root: string, path: string): boolean {
    const rel = relative(root, path);
    return rel === "" || (!rel.startsWith(`..${sep}`) && rel !== ".." && !isAbsolute(rel));
}

export interface RunOutputCheck {
    /** As written: absolute, or relative to `root`. */
    requested: string;
    origin: RunOutputOrigin;
    /** The workspace folder (the CLI without one: the config file's folder). */
    root: string;
    /** The field, for the message: "output" or "runDirectory". */
    field?: string;
    /** The config file, for the message. */
    configFile?: string;
}

/** The absolute output folder, or RunOutputOutsideWorkspaceError when a config points outside `root`. */
export function resolveRunOutput(check: RunOutputCheck): string {
    const resolved = resolve(check.root, check.requested);
    if (check.origin !== "config") return resolved;
    const root = realPathOf(resolve(check.root));
    const real = realPathOf(resolved);
    if (!isInside(root, real)) {
        throw new RunOutputOutsideWorkspaceError(check.field ?? "output", check.requested, real, root, check.configFile ? `${check.configFile}: ` : "");
    }
    return resolved;
}
