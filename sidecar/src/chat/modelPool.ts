// Model files loaded once and shared: the chat panel's side-by-side mode opens two sessions on the same
// base (one plain, one with the adapter on its context), and llama.cpp lets several contexts share one
// model's weights. Reference-counted: the last session to close frees the model.
import { resolve } from "node:path";
import type { LlamaModel } from "node-llama-cpp";
import { getCpuLlama } from "../pipeline";

interface Entry {
    model: Promise<LlamaModel>;
    users: number;
}

export interface ModelLease {
    model: LlamaModel;
    /** True when the model was already loaded for another session. */
    shared: boolean;
    release(): Promise<void>;
}

export class ModelPool {
    private readonly entries = new Map<string, Entry>();

    async acquire(modelPath: string, signal?: AbortSignal): Promise<ModelLease> {
        const key = resolve(modelPath);
        let entry = this.entries.get(key);
        const shared = entry !== undefined;
        if (!entry) {
            const loading = getCpuLlama().then((llama) => llama.loadModel({ modelPath: key, ...(signal ? { loadSignal: signal } : {}) }));
            entry = { model: loading, users: 0 };
            this.entries.set(key, entry);
            // A failed load must not stay in the pool, or every later open would get the same failure.
            loading.catch(() => {
                if (this.entries.get(key) === entry) this.entries.delete(key);
            });
        }
        entry.users++;
        let model: LlamaModel;
        try {
            model = await entry.model;
        } catch (error) {
            entry.users--;
            throw error;
        }
        let released = false;
        const current = entry;
        return {
            model,
            shared,
            release: async () => {
                if (released) return;
                released = true;
                if (--current.users > 0) return;
                if (this.entries.get(key) === current) this.entries.delete(key);
                await model.dispose();
            }
        };
    }

    /** Paths with at least one user, for tests and logs. */
    get loadedModels(): string[] {
        return [...this.entries.keys()];
    }
}
