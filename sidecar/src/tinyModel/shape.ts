// The tiny model's architecture hyper-parameters. The default was picked by measurement (see
// makeTinyModel.ts): big enough to memorize ~30 short facts through LoRA alone, small enough to
// train them in about two minutes on two CPU cores.

export interface TinyModelShape {
    nLayer: number;
    nEmbd: number;
    nHead: number;
    nHeadKv: number;
    nFf: number;
    nCtx: number;
    rmsEps: number;
    ropeFreqBase: number;
}

export const DEFAULT_TINY_SHAPE: TinyModelShape = {
    nLayer: 4,
    nEmbd: 256,
    nHead: 4,
    nHeadKv: 2,
    nFf: 768,
    nCtx: 2048,
    rmsEps: 1e-5,
    ropeFreqBase: 10000
};

/** The ~50–100M-parameter shape the benchmark uses (same family, wider and deeper). */
export const BENCH_SHAPE: TinyModelShape = {
    ...DEFAULT_TINY_SHAPE,
    nLayer: 8,
    nEmbd: 512,
    nHead: 8,
    nHeadKv: 4,
    nFf: 1536
};

export function checkShape(shape: TinyModelShape): void {
    const fail = (msg: string): never => { throw new Error(`tiny model shape: ${msg}`); };
    for (const [k, v] of Object.entries(shape)) {
        if (!(typeof v === "number" && Number.isFinite(v) && v > 0)) fail(`${k} must be a positive number, got ${String(v)}`);
    }
    for (const k of ["nLayer", "nEmbd", "nHead", "nHeadKv", "nFf", "nCtx"] as const) {
        if (!Number.isInteger(shape[k])) fail(`${k} must be an integer, got ${shape[k]}`);
    }
    if (shape.nEmbd % shape.nHead !== 0) fail(`nEmbd ${shape.nEmbd} is not divisible by nHead ${shape.nHead}`);
    if (shape.nHead % shape.nHeadKv !== 0) fail(`nHead ${shape.nHead} is not divisible by nHeadKv ${shape.nHeadKv}`);
    if ((shape.nEmbd / shape.nHead) % 2 !== 0) fail("the head size must be even for RoPE");
    // Block-quantized types need rows that are whole blocks (32 for Q4_0, 256 for K-quants).
    if (shape.nEmbd % 256 !== 0 || shape.nFf % 256 !== 0) fail(`nEmbd and nFf must be multiples of 256 so every quantized type fits; got ${shape.nEmbd}, ${shape.nFf}`);
}
