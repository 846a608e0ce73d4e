// Exports never overwrite (issue 12.4). Before anything is written: a target that is one of the export's own inputs
// (the base model, the adapter, any file of the run it comes from) is refused outright, whatever the flags, because
// replacing it would destroy what the export reads (`export --out` equal to `--model` once overwrote the base model);
// any other existing target is replaced only with `overwrite` (the CLI's --force, the editor's confirmation). The
// write itself stays atomic (temp file + rename, in each exporter).
import { existsSync, readdirSync, realpathSync, statSync } from "node:fs";
import { dirname, join, relative, resolve, isAbsolute } from "node:path";
import type { ExportFormat } from "../protocol/sidecar";
import { ExportInputError } from "./adapter";

/** Thrown when a target exists and `overwrite` was not given; the editor asks, the CLI says to pass --force. */
export class ExportTargetExistsError extends Error {
    constructor(readonly paths: string[]) {
        super(`${paths.length === 1 ? `${paths[0]} already exists` : `these already exist: ${paths.join(", ")}`}; the export replaces nothing unless asked (--force on the command line, or confirm in the editor)`);
        this.name = "ExportTargetExistsError";
    }
}

/** The files an export writes for `out` (resolved): one file, the two files of a PEFT folder, or an Axolotl folder (replaced whole). */
export function exportTargets(format: ExportFormat, out: string): string[] {
    if (format === "peft") return [join(out, "adapter_model.safetensors"), join(out, "adapter_config.json")];
    return [out];
}

/** Formats whose `out` is a folder. */
function writesFolder(format: ExportFormat): boolean {
    return format === "peft" || format === "axolotl";
}

/** A folder that holds a run: config.json and status.json beside the adapter. */
export function isRunFolder(dir: string): boolean {
    return existsSync(join(dir, "config.json")) && existsSync(join(dir, "status.json"));
}

/** Identity of an existing path (device + inode, so hard links and symlinks to an input are caught), else undefined. */
function identity(path: string): string | undefined {
    try {
        const s = statSync(path);
        return `${s.dev}:${s.ino}`;
    } catch {
        return undefined;
    }
}

/** Every file of a run folder except its export/ subfolder (where exports go by default). */
function runFiles(runDirectory: string): string[] {
    const files: string[] = [];
    const walk = (dir: string): void => {
        let names: string[];
        try {
            names = readdirSync(dir);
        } catch {
            return;
        }
        for (const name of names) {
            const path = join(dir, name);
            if (dir === runDirectory && name === "export") continue;
            let isDir = false;
            try {
                isDir = statSync(path).isDirectory();
            } catch {
                continue;
            }
            if (isDir) walk(path);
            else files.push(path);
        }
    };
    walk(runDirectory);
    return files;
}

export interface OutputCheck {
    format: ExportFormat;
    out: string;
    model: string;
    adapter: string;
    /** The run the adapter belongs to, when there is one; its files are inputs too. */
    runDirectory?: string;
    /** Replace existing targets that are not inputs. */
    overwrite?: boolean;
    /** Further files the export reads (the Axolotl export's training data). */
    extraInputs?: readonly string[];
}

/**
 * Throws ExportInputError when a target is an input (or a folder where a file goes, or a file where the PEFT folder
 * goes), ExportTargetExistsError when a target exists and `overwrite` is not set. Returns the resolved targets.
 */
export function checkExportOutput(check: OutputCheck): string[] {
    const out = resolve(check.out);
    const targets = exportTargets(check.format, out);
    const inputs = new Map<string, string>([[resolve(check.model), "the base model"], [resolve(check.adapter), "the adapter"]]);
    for (const file of check.extraInputs ?? []) if (!inputs.has(resolve(file))) inputs.set(resolve(file), "a data file of the run");
    const runDirectory = check.runDirectory ?? (isRunFolder(dirname(resolve(check.adapter))) ? dirname(resolve(check.adapter)) : undefined);
    if (runDirectory !== undefined) for (const file of runFiles(resolve(runDirectory))) if (!inputs.has(file)) inputs.set(file, `a file of the run ${runDirectory}`);
    const inputIds = new Map<string, string>();
    for (const [path, role] of inputs) {
        const id = identity(path);
        if (id !== undefined) inputIds.set(id, `${role} (${path})`);
    }
    const real = (p: string): string => {
        try {
            return realpathSync(p);
        } catch {
            return p;
        }
    };
    for (const target of targets) {
        const role = inputIds.get(identity(target) ?? "") ?? inputs.get(real(target));
        if (role !== undefined) throw new ExportInputError(`the export would overwrite its own input: ${target} is ${role}; choose another output path`);
    }
    if (check.format === "axolotl") {
        // The folder is replaced whole: no input may live inside it (the run folder itself, a folder holding the base).
        const inside = [...inputs].find(([path]) => isInside(real(path), real(out)));
        if (inside) throw new ExportInputError(`the export would replace the folder ${out}, which holds ${inside[1]} (${inside[0]}); choose another output folder`);
    }
    if (writesFolder(check.format) && existsSync(out) && !statSync(out).isDirectory()) {
        throw new ExportInputError(`a ${check.format === "peft" ? "PEFT" : "Axolotl"} export writes a folder, but ${out} is a file; choose a folder path`);
    }
    if (!writesFolder(check.format) && existsSync(out) && statSync(out).isDirectory()) {
        throw new ExportInputError(`${out} is a folder; a ${check.format} export writes a file there, so give a file path`);
    }
    const existing = targets.filter((t) => existsSync(t));
    if (existing.length > 0 && check.overwrite !== true) throw new ExportTargetExistsError(existing);
    return targets;
}

/** `path` is `folder` or lies under it. */
function isInside(path: string, folder: string): boolean {
    const rel = relative(folder, path);
    return rel === "" || (!rel.startsWith("..") && !isAbsolute(rel));
}
