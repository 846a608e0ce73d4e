// The run store: every training run lives in the workspace at `.lora-studio/runs/<id>/`:
//   config.json      the run config, as started
//   dataset.sha256   `<hex>  <file name>` of the training data (sha256sum format)
//   metrics.jsonl    one JSON object per step, at least {step, loss} (see metricsLog.ts)
//   checkpoints/     step-00000120.ckpt …, each renamed into place only once complete
//   adapter.gguf     the LoRA adapter, written atomically
//   status.json      state, step, owner pid, last checkpoint, failure, examples dropped or cut for length
//   run.lock         while a process trains it: that process (runLock.ts); no other may start or resume it
// Every file except metrics.jsonl is replaced atomically, so a kill -9 at any moment leaves the
// previous complete version and never corrupts an earlier checkpoint. The progress view restores
// itself from these files after a window reload; `run/list` and `run/get` read them.

import { createHash, randomBytes } from "node:crypto";
import { createReadStream, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { basename, join } from "node:path";
import type { OverLengthReport, RunFailure, RunState, RunSummary, TrainingConfig } from "../protocol/sidecar";
import { commitAtomic, TEMP_PREFIX, writeFileAtomic, writeJsonAtomic } from "./atomicFile";
import { MetricsWriter, readMetrics, truncateMetricsAfter, type MetricsContents } from "./metricsLog";
import { acquireRunLock, LOCK_FILE_NAME, RunLock, type RunLockHolder, type RunLockOwner } from "./runLock";

/** Relative to the workspace root. */
export const RUNS_DIRECTORY = join(".lora-studio", "runs");
export const STATUS_FORMAT_VERSION = 1;

/** The persisted states; "interrupted" is never written, it is derived from a dead owner pid. */
export type StoredRunState = Exclude<RunState, "interrupted">;

export interface RunStatusFile {
    formatVersion: number;
    runId: string;
    state: StoredRunState;
    createdAt: string;
    updatedAt: string;
    step: number;
    totalSteps: number;
    /** Pid of the sidecar training this run, while it is running. */
    ownerPid?: number;
    lastCheckpointStep?: number;
    error?: RunFailure;
    /** Examples longer than the sequence length, dropped or cut as the config's truncation says (absent: none). */
    overLength?: OverLengthReport;
}

/** A run file that cannot be read; the message names the file and the field. */
export class RunStoreError extends Error {
    constructor(readonly file: string, detail: string) {
        super(`${file}: ${detail}`);
        this.name = "RunStoreError";
    }
}

export class RunNotFoundError extends Error {
    constructor(readonly runId: string, readonly runsRoot: string) {
        super(`No run "${runId}" in ${runsRoot}`);
        this.name = "RunNotFoundError";
    }
}

export interface Clock {
    now(): Date;
}
const systemClock: Clock = { now: () => new Date() };

/** Whether a process exists. EPERM means it exists but belongs to someone else. */
export function isProcessAlive(pid: number): boolean {
    try {
        process.kill(pid, 0);
        return true;
    } catch (error) {
        return (error as NodeJS.ErrnoException).code === "EPERM";
    }
}

export async function computeFileSha256(file: string): Promise<string> {
    const hash = createHash("sha256");
    for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
    return hash.digest("hex");
}

const CHECKPOINT_NAME = /^step-(\d+)\.ckpt$/;
const RUN_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

export function isValidRunId(runId: string): boolean {
    return RUN_ID.test(runId);
}

/** Sortable and unique enough: `20261122-064501-3fa2`. */
export function newRunId(now: Date): string {
    const stamp = now.toISOString().replace(/[-:]/g, "").replace("T", "-").slice(0, 15);
    return `${stamp}-${randomBytes(2).toString("hex")}`;
}

export interface CreateRunOptions {
    config: TrainingConfig;
    datasetSha256: string;
    /** File name recorded beside the hash; defaults to the config's `data`. */
    datasetName?: string;
    totalSteps: number;
    runId?: string;
    clock?: Clock;
    /** Take the run folder's lock for this owner before anything is written (see runLock.ts). */
    owner?: RunLockOwner;
    /** Whether a lock of this process found in the folder is still in use here (otherwise it is a leftover). */
    heldHere?: (holder: RunLockHolder) => boolean;
    overLength?: OverLengthReport;
}

/** One run's directory. Also used directly by the CLI's `--out DIR`, which has no runs root. */
export class RunDirectory {
    private readonly clock: Clock;
    /** The lock create() took; resume takes its own with lock(). */
    lock: RunLock | undefined;
    /** What create() made, for discardCreated(): the whole folder, or the files in a folder the user chose. */
    private created: "folder" | "contents" | undefined;

    constructor(readonly path: string, clock: Clock = systemClock) {
        this.clock = clock;
    }

    get runId(): string {
        return basename(this.path);
    }
    get configPath(): string {
        return join(this.path, "config.json");
    }
    get statusPath(): string {
        return join(this.path, "status.json");
    }
    get datasetHashPath(): string {
        return join(this.path, "dataset.sha256");
    }
    get metricsPath(): string {
        return join(this.path, "metrics.jsonl");
    }
    get checkpointsDirectory(): string {
        return join(this.path, "checkpoints");
    }
    get adapterPath(): string {
        return join(this.path, "adapter.gguf");
    }

    /**
     * Creates the run's files in a temp directory beside `path` and renames it into place, so a
     * run directory either has all of config.json, dataset.sha256 and status.json or does not exist.
     */
    static async create(path: string, options: CreateRunOptions): Promise<RunDirectory> {
        const clock = options.clock ?? systemClock;
        const notEmpty = (): boolean => readdirSync(path).some((name) => name !== LOCK_FILE_NAME);
        if (existsSync(path) && notEmpty()) {
            throw new RunStoreError(path, "the run directory already exists and is not empty; choose another output directory");
        }
        const now = clock.now().toISOString();
        const status: RunStatusFile = {
            formatVersion: STATUS_FORMAT_VERSION,
            runId: basename(path),
            state: "created",
            createdAt: now,
            updatedAt: now,
            step: 0,
            totalSteps: options.totalSteps,
            ...(options.overLength ? { overLength: options.overLength } : {})
        };
        const datasetName = basename(options.datasetName ?? options.config.data);
        const populate = (dir: string): void => {
            mkdirSync(join(dir, "checkpoints"), { recursive: true });
            writeJsonAtomic(join(dir, "config.json"), options.config);
            writeFileAtomic(join(dir, "dataset.sha256"), `${options.datasetSha256}  ${datasetName}\n`);
            writeJsonAtomic(join(dir, "status.json"), status);
        };
        const directory = new RunDirectory(path, clock);
        const lockIn = (dir: string): RunLock | undefined => (options.owner ? acquireRunLock(dir, options.owner, options.heldHere) : undefined);
        if (existsSync(path)) {
            // An empty directory the user chose (CLI --out): lock it, check it is still empty (another start may have
            // filled it meanwhile), then fill it in place; status.json goes last.
            directory.lock = lockIn(path);
            if (notEmpty()) {
                directory.lock?.release();
                throw new RunStoreError(path, "the run directory already exists and is not empty; choose another output directory");
            }
            directory.created = "contents";
            populate(path);
        } else {
            // Made in a temp folder, locked there, and renamed into place: it appears whole and already owned.
            let lock: RunLock | undefined;
            try {
                await commitAtomic(path, (temp) => {
                    mkdirSync(temp, { recursive: true });
                    lock = lockIn(temp);
                    populate(temp);
                });
            } catch (error) {
                // Another start made the same folder first (the rename found it there, full): theirs stays.
                const code = (error as NodeJS.ErrnoException).code;
                if (code === "ENOTEMPTY" || code === "EEXIST") throw new RunStoreError(path, "the run directory already exists and is not empty; choose another output directory");
                throw error;
            }
            directory.lock = lock?.movedTo(path);
            directory.created = "folder";
        }
        return directory;
    }

    /**
     * Takes the folder's lock (resume), or throws RunLockedError naming the process that trains it. Every write to a
     * run happens under its lock, so two processes can never both append metrics or rewrite status.json.
     */
    takeLock(owner: RunLockOwner, heldHere?: (holder: RunLockHolder) => boolean): RunLock {
        this.lock = acquireRunLock(this.path, owner, heldHere);
        return this.lock;
    }

    releaseLock(): void {
        this.lock?.release();
        this.lock = undefined;
    }

    /**
     * Undoes create() after a start that failed before training (12.9): the folder it made, or the files it put in
     * the empty folder the user chose, so the same --out can be used again. The lock goes with them.
     */
    discardCreated(): void {
        if (this.created === "folder") rmSync(this.path, { recursive: true, force: true });
        else if (this.created === "contents") for (const name of readdirSync(this.path)) rmSync(join(this.path, name), { recursive: true, force: true });
        this.created = undefined;
        this.lock = undefined;
    }

    /**
     * Temp files a killed write left behind (`.tmp-*` beside the run's files and checkpoints). Called by resume once it
     * holds the lock: no live writer's temp file can be among them then. Returns the names removed.
     */
    removeStaleTemporaries(): string[] {
        const removed: string[] = [];
        for (const dir of [this.path, this.checkpointsDirectory]) {
            if (!existsSync(dir)) continue;
            for (const name of readdirSync(dir)) {
                // ".tmp-…", and the GGUF writer's own temp beside one of ours (".<name>.<pid>.<time>.tmp", from the
                // fingerprint stamped into a saved adapter before it is renamed into place).
                if (!name.startsWith(TEMP_PREFIX) && !name.startsWith(`.${TEMP_PREFIX}`)) continue;
                rmSync(join(dir, name), { recursive: true, force: true });
                removed.push(dir === this.path ? name : join("checkpoints", name));
            }
        }
        return removed;
    }

    readConfig(): TrainingConfig {
        const value = readJson(this.configPath);
        if (typeof value !== "object" || value === null || Array.isArray(value)) {
            throw new RunStoreError(this.configPath, "expected a JSON object");
        }
        return value as TrainingConfig;
    }

    readStatus(): RunStatusFile {
        const value = readJson(this.statusPath);
        return validateStatus(value, this.statusPath);
    }

    /** Merges `patch` into status.json (atomically) and stamps `updatedAt`. */
    updateStatus(patch: Partial<Omit<RunStatusFile, "formatVersion" | "runId" | "createdAt" | "updatedAt">>): RunStatusFile {
        const next: RunStatusFile = { ...this.readStatus(), ...patch, updatedAt: this.clock.now().toISOString() };
        if (next.state !== "running") delete next.ownerPid;
        if (next.state !== "failed") delete next.error;
        writeJsonAtomic(this.statusPath, next);
        return next;
    }

    /** Marks the run as trained by this process; a listing by a later process sees "interrupted" if it dies. */
    markRunning(totalSteps?: number): RunStatusFile {
        return this.updateStatus({ state: "running", ownerPid: process.pid, ...(totalSteps === undefined ? {} : { totalSteps }) });
    }

    readDatasetSha256(): string | null {
        if (!existsSync(this.datasetHashPath)) return null;
        const first = readFileSync(this.datasetHashPath, "utf8").trim().split(/\s+/)[0] ?? "";
        if (!/^[0-9a-f]{64}$/.test(first)) {
            throw new RunStoreError(this.datasetHashPath, `expected a 64-digit hex sha256 first, got ${JSON.stringify(first.slice(0, 80))}`);
        }
        return first;
    }

    readMetrics(): MetricsContents {
        return readMetrics(this.metricsPath);
    }

    /** For training: cuts a torn last line first. Close it (or flush before a checkpoint) yourself. */
    openMetricsWriter(): MetricsWriter {
        return new MetricsWriter(this.metricsPath);
    }

    /** Drops metrics after the checkpoint resume continues from, so no step appears twice. */
    rewindMetricsTo(step: number): void {
        if (existsSync(this.metricsPath)) truncateMetricsAfter(this.metricsPath, step);
    }

    checkpointPath(step: number): string {
        return join(this.checkpointsDirectory, `step-${String(step).padStart(8, "0")}.ckpt`);
    }

    /** Complete checkpoints, oldest first. Temp leftovers of a killed write are ignored. */
    listCheckpoints(): Array<{ step: number; path: string }> {
        if (!existsSync(this.checkpointsDirectory)) return [];
        return readdirSync(this.checkpointsDirectory)
            .map((name) => ({ name, match: CHECKPOINT_NAME.exec(name) }))
            .filter((entry): entry is { name: string; match: RegExpExecArray } => entry.match !== null)
            .map((entry) => ({ step: Number(entry.match[1]), path: join(this.checkpointsDirectory, entry.name) }))
            .sort((a, b) => a.step - b.step);
    }

    latestCheckpoint(): { step: number; path: string } | undefined {
        return this.listCheckpoints().at(-1);
    }

    /**
     * Has the engine write a checkpoint to a temp path, then renames it into place and records it in
     * status.json. An existing checkpoint is never overwritten: that is what keeps earlier ones intact.
     */
    async commitCheckpoint(step: number, write: (tempPath: string) => Promise<void> | void, keep?: number): Promise<string> {
        const target = this.checkpointPath(step);
        if (existsSync(target)) throw new RunStoreError(target, `a checkpoint for step ${step} already exists; checkpoints are never overwritten`);
        mkdirSync(this.checkpointsDirectory, { recursive: true });
        await commitAtomic(target, write);
        this.updateStatus({ lastCheckpointStep: step });
        if (keep !== undefined) this.pruneCheckpoints(keep);
        return target;
    }

    /**
     * Deletes all but the newest `keep` checkpoints (checkpointsToKeep). The newest, the one a resume continues from,
     * is always kept: it is complete (renamed into place) before this runs, and `keep` is at least 1.
     */
    pruneCheckpoints(keep: number): string[] {
        const all = this.listCheckpoints();
        const doomed = all.slice(0, Math.max(0, all.length - Math.max(1, keep)));
        for (const c of doomed) rmSync(c.path, { force: true });
        return doomed.map((c) => c.path);
    }

    /** Has the engine write the adapter to a temp path, then atomically replaces adapter.gguf. */
    async commitAdapter(write: (tempPath: string) => Promise<void> | void): Promise<string> {
        await commitAtomic(this.adapterPath, write);
        return this.adapterPath;
    }

    summary(isAlive: (pid: number) => boolean = isProcessAlive): RunSummary {
        const status = this.readStatus();
        const interrupted = status.state === "running" && (status.ownerPid === undefined || !isAlive(status.ownerPid));
        const config = existsSync(this.configPath) ? this.readConfig() : undefined;
        const summary: RunSummary = {
            runId: status.runId,
            state: interrupted ? "interrupted" : status.state,
            createdAt: status.createdAt,
            updatedAt: status.updatedAt,
            step: status.step,
            totalSteps: status.totalSteps
        };
        const lastCheckpointStep = this.latestCheckpoint()?.step ?? status.lastCheckpointStep;
        if (lastCheckpointStep !== undefined) summary.lastCheckpointStep = lastCheckpointStep;
        if (typeof config?.model === "string") summary.model = config.model;
        if (status.error) summary.error = status.error;
        if (status.overLength) summary.overLength = status.overLength;
        return summary;
    }
}

/** All runs of one workspace. */
export class RunStore {
    readonly root: string;

    /** `workspaceRoot`: the folder a run config's "output" must stay inside (params/runOutput.ts). */
    constructor(readonly workspaceRoot: string, private readonly clock: Clock = systemClock) {
        this.root = join(workspaceRoot, RUNS_DIRECTORY);
    }

    async createRun(options: Omit<CreateRunOptions, "clock">): Promise<RunDirectory> {
        const runId = options.runId ?? newRunId(this.clock.now());
        if (!isValidRunId(runId)) throw new RunStoreError(this.root, `invalid run id ${JSON.stringify(runId)}`);
        mkdirSync(this.root, { recursive: true });
        return RunDirectory.create(join(this.root, runId), { ...options, runId, clock: this.clock });
    }

    openRun(runId: string): RunDirectory {
        // The id becomes a path: refuse anything that could step outside the runs root.
        if (!isValidRunId(runId)) throw new RunNotFoundError(runId, this.root);
        const path = join(this.root, runId);
        if (!existsSync(join(path, "status.json"))) throw new RunNotFoundError(runId, this.root);
        return new RunDirectory(path, this.clock);
    }

    /**
     * Every run, newest first. A run whose files cannot be read is listed as failed with the reason,
     * rather than hiding the others.
     */
    listRuns(isAlive: (pid: number) => boolean = isProcessAlive): RunSummary[] {
        if (!existsSync(this.root)) return [];
        const summaries: RunSummary[] = [];
        for (const name of readdirSync(this.root)) {
            if (name.startsWith(TEMP_PREFIX) || !isValidRunId(name)) continue;
            const path = join(this.root, name);
            if (!statSync(path).isDirectory() || !existsSync(join(path, "status.json"))) continue;
            const run = new RunDirectory(path, this.clock);
            try {
                summaries.push(run.summary(isAlive));
            } catch (error) {
                summaries.push(unreadableRunSummary(name, path, error));
            }
        }
        return summaries.sort((a, b) => (a.createdAt < b.createdAt ? 1 : a.createdAt > b.createdAt ? -1 : b.runId.localeCompare(a.runId)));
    }
}

function unreadableRunSummary(runId: string, path: string, error: unknown): RunSummary {
    const mtime = statSync(path).mtime.toISOString();
    return {
        runId,
        state: "failed",
        createdAt: mtime,
        updatedAt: mtime,
        step: 0,
        totalSteps: 0,
        error: {
            code: "RUN_FILES_UNREADABLE",
            message: (error as Error).message,
            hint: `Fix or delete the run directory ${path}.`
        }
    };
}

function readJson(file: string): unknown {
    let text: string;
    try {
        text = readFileSync(file, "utf8");
    } catch (error) {
        throw new RunStoreError(file, `cannot read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
    }
    try {
        return JSON.parse(text);
    } catch (error) {
        throw new RunStoreError(file, `not valid JSON (${(error as Error).message})`);
    }
}

const STORED_STATES: readonly StoredRunState[] = ["created", "running", "cancelled", "finished", "failed"];

function validateStatus(value: unknown, file: string): RunStatusFile {
    if (typeof value !== "object" || value === null || Array.isArray(value)) throw new RunStoreError(file, "expected a JSON object");
    const status = value as Record<string, unknown>;
    const requireField = (field: string, ok: (v: unknown) => boolean, expected: string): void => {
        if (!ok(status[field])) throw new RunStoreError(file, `field "${field}" must be ${expected}, got ${JSON.stringify(status[field])}`);
    };
    const isString = (v: unknown): boolean => typeof v === "string";
    const isCount = (v: unknown): boolean => typeof v === "number" && Number.isInteger(v) && v >= 0;
    requireField("formatVersion", (v) => v === STATUS_FORMAT_VERSION, `${STATUS_FORMAT_VERSION}`);
    requireField("runId", isString, "a string");
    requireField("state", (v) => STORED_STATES.includes(v as StoredRunState), `one of ${STORED_STATES.join(", ")}`);
    requireField("createdAt", isString, "an ISO date string");
    requireField("updatedAt", isString, "an ISO date string");
    requireField("step", isCount, "a non-negative integer");
    requireField("totalSteps", isCount, "a non-negative integer");
    return status as unknown as RunStatusFile;
}
