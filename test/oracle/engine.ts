// Loads our native engine for the oracle tests. Where the native build is missing and CI is unset the
// calling test is skipped, naming what is missing; in CI a missing engine fails the test.
import type { TestContext } from "node:test";
import { EngineUnavailableError, loadEngine, type Engine, type MicroBatch, type OptimizerOptions } from "../../sidecar/src/engine";
import type { OracleBatch, OracleOptimizer } from "./torchReference";

export async function engineOrSkip(t: TestContext): Promise<Engine | undefined> {
    try {
        return await loadEngine();
    } catch (err) {
        if (err instanceof EngineUnavailableError && !process.env.CI) {
            t.skip(`native engine unavailable: ${err.message}`);
            return undefined;
        }
        throw err;
    }
}

export function toMicroBatch(b: OracleBatch): MicroBatch {
    return {
        tokens: Int32Array.from(b.tokens),
        positions: Int32Array.from(b.positions),
        seqIds: Int32Array.from(b.seqIds),
        labels: Int32Array.from(b.labels)
    };
}

export function toOracleOptimizer(o: OptimizerOptions): OracleOptimizer {
    return { ...o };
}
