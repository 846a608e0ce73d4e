// FAKE, by necessity: a real allocation failure cannot be produced on demand, so the real engine is wrapped and its
// trainer's step() fails with the engine's own OutOfMemoryError from optimizer step `atStep` on, while micro-batches
// are longer than `aboveTokens` (as a memory limit between the two lengths would). Everything else is the real engine.
// Injected into the run service through its constructor (training/runService.ts), never through the environment.
import { OutOfMemoryError, type Engine, type EngineModel, type Trainer } from "../../sidecar/src/engine";

export interface SimulatedOutOfMemory {
    atStep: number;
    aboveTokens: number;
}

export interface SimulatedOutOfMemoryEngine {
    engine: Engine;
    /** How many models were loaded (each attempt of a run loads one). */
    readonly loads: number;
    /**
     * Holds the next model load until the returned release is called: the window between an out-of-memory failure
     * and the restarted attempt, in which a test can cancel. `reached` settles when a load is waiting there.
     */
    holdNextLoad(): { reached: Promise<void>; release(): void };
}

/** `target` with some members replaced; every other member is the target's own, called on the target itself. */
function withOverrides<T extends object>(target: T, overrides: Partial<T>): T {
    return new Proxy(target, {
        get(t, prop) {
            if (prop in overrides) return (overrides as Record<string | symbol, unknown>)[prop];
            const value = Reflect.get(t, prop, t) as unknown;
            return typeof value === "function" ? (value as (...a: unknown[]) => unknown).bind(t) : value;
        }
    });
}

function failingTrainer(trainer: Trainer, hook: SimulatedOutOfMemory): Trainer {
    // The optimizer steps done so far, as the trainer counts them: a checkpoint sets it, each update moves it.
    let done = 0;
    return withOverrides(trainer, {
        async loadCheckpoint(path: string) {
            const loaded = await trainer.loadCheckpoint(path);
            done = loaded.step;
            return loaded;
        },
        async step(batch: Parameters<Trainer["step"]>[0]) {
            if (done + 1 >= hook.atStep && batch.tokens.length > hook.aboveTokens) {
                throw new OutOfMemoryError("OUT_OF_MEMORY", `simulated out of memory (test fake) at step ${done + 1} with ${batch.tokens.length}-token micro-batches`);
            }
            const result = await trainer.step(batch);
            if (result.appliedUpdate) done = result.optimizerStep;
            return result;
        }
    });
}

export function simulatedOutOfMemory(real: Engine, hook: SimulatedOutOfMemory): SimulatedOutOfMemoryEngine {
    let loads = 0;
    let held: { arrived(): void; gate: Promise<void> } | undefined;
    const engine: Engine = withOverrides(real, {
        async loadModel(path: string, options?: Parameters<Engine["loadModel"]>[1]): Promise<EngineModel> {
            loads++;
            const hold = held;
            held = undefined;
            if (hold) {
                hold.arrived();
                await hold.gate;
            }
            const model = await real.loadModel(path, options);
            return withOverrides(model, {
                createTrainer: async (...args: Parameters<EngineModel["createTrainer"]>) => failingTrainer(await model.createTrainer(...args), hook)
            });
        }
    });
    return {
        engine,
        get loads() {
            return loads;
        },
        holdNextLoad() {
            let arrived!: () => void;
            let release!: () => void;
            const reached = new Promise<void>((settle) => (arrived = settle));
            const gate = new Promise<void>((settle) => (release = settle));
            held = { arrived, gate };
            return { reached, release };
        }
    };
}
