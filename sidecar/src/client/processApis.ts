// The node APIs the supervisor touches, behind one small interface (as vscode-python-environments'
// childProcess.apis.ts) so its core runs in plain node tests and a test can observe or replace them.

import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { existsSync } from "node:fs";

export interface SpawnRequest {
    command: string;
    args: string[];
    cwd?: string;
    env: NodeJS.ProcessEnv;
}

export interface ProcessApis {
    spawn(request: SpawnRequest): ChildProcessWithoutNullStreams;
    fileExists(path: string): boolean;
    setTimeout(callback: () => void, ms: number): { unref?(): void };
    clearTimeout(handle: unknown): void;
}

export const nodeProcessApis: ProcessApis = {
    spawn: ({ command, args, cwd, env }) => spawn(command, args, { cwd, env, stdio: ["pipe", "pipe", "pipe"], windowsHide: true }),
    fileExists: (path) => existsSync(path),
    setTimeout: (callback, ms) => setTimeout(callback, ms),
    clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout)
};
