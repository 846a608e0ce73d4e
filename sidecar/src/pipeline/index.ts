// The training-data pipeline: one implementation behind training, the dataset preview and the CLI.
// Pure parts take a PipelineTokenizer; llamaTokenizer.ts and chatWrapper.ts are the node-llama-cpp side.
export * from "./types";
export { renderConversation, renderPromptTokens, renderRawText, squashAdjacentMessages, TemplateRenderError } from "./render";
export { TEMPLATE_RENDER_PARAMETERS, PINNED_DATE_STRING, ENABLE_THINKING } from "./renderParameters";
export { parseDatasetText, tokenizeExamples, exampleKey, countTrainable, type SourcedExample, type ParseOptions } from "./examples";
export { applyTruncation, truncateSequence, TRUNCATION_POLICIES } from "./truncate";
export { seededShuffle } from "./shuffle";
export { splitByRatio, findLeakage } from "./split";
export { packFirstFit, packItems, labelsFor, toMicroBatch, type PackItem, type MicroBatchOptions } from "./pack";
export { prepareDataset, packEpoch, packValidation, type PrepareOptions, type PreparedDataset, type DatasetText } from "./prepare";
export { overLengthReport, describeOverLength, type OverLength } from "./overLength";
export { previewLine, type LinePreview, type PreviewToken } from "./preview";
// Node side (node-llama-cpp, files): import these from their modules directly where only pure parts are wanted.
export { loadVocabModel, pipelineTokenizerFor, chatTemplateIn, chatTemplateOf, getCpuLlama, type VocabModel } from "./llamaTokenizer";
export { createChatWrapperForModel, chatHistoryFor } from "./chatWrapper";
export { prepareDatasetFiles, type PrepareFilesOptions, type PreparedFiles, type VocabularyLoader } from "./prepareFiles";
