// A small, dependency-free GGUF reader and writer (see types.ts for the data model).
export * from "./types";
export { readGguf, readTensorBytes, readTensorF32, kvNumber, kvString, type ReadGgufOptions } from "./reader";
export { GgufAccessError, GgufFormatError, type GgufProblem } from "./errors";
export { openModelFile, ModelFileError, type ModelFileRole, type OpenModelFileOptions } from "./openModelFile";
export { writeGguf, f32Bytes, type GgufToWrite, type GgufTensorToWrite } from "./writer";
export { encodeF16, encodeBF16, encodeQ4_0, encodeAs, f32ToF16Bits, f16BitsToF32, f32ToBf16Bits, bf16BitsToF32, type EncodableType } from "./encode";
