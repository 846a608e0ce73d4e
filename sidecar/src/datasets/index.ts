// The dataset core's public surface: the language server, the CLI, the preview and the training pipeline import
// from here only. Everything is pure (no vscode, no file system); positions are 0-based UTF-16 (LSP style).
export type * from "./types";
export { DIAGNOSTIC_CODES } from "./codes";
export type { DiagnosticCode, DiagnosticCodeInfo } from "./codes";
export { DATASET_FORMATS, detectLineFormat, normalizeExample, convertLineToChat, isDatasetFormat } from "./formats";
export { validateJsonl, IncrementalValidator, detectFormat } from "./validator";
export type { LineEdit } from "./validator";
export { matchGlob, optionsForPath } from "./globs";
export { decodeDatasetBytes } from "./decode";
export { splitLines } from "./lines";
