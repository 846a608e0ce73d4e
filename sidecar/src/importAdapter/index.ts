// Import of adapters trained elsewhere (PEFT folders) as GGUF LoRAs: the core behind `lora-studio import-adapter`.
export { importPeftAdapter, PEFT_CONFIG_FILE, PEFT_WEIGHTS_FILE, type ImportPeftOptions, type ImportPeftResult } from "./importPeft";
export { AdapterImportError, AdapterImportTargetExistsError } from "./errors";
