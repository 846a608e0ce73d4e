// The LoRA training engine: one typed surface over the native addon (sidecar/native/).
export * from "./types";
export * from "./errors";
export { learningRateAt } from "./schedule";
export { loadEngine, checkAdapterOptions, checkOptimizerOptions } from "./engine";
export { nativeAddonPath, packageRoot } from "./native";
export { describeBackend, cpuNodeCount, formatNodeCounts, type TrainingBackend } from "./backend";
export * from "./architectures";
