// The JSON Schemas in schemas/ are the source of truth for each line format. They are bundled at build time
// and compiled by ajv once per process, on first use.
import Ajv, { type ErrorObject, type ValidateFunction } from "ajv";
import chatSchema from "../../../schemas/chat.schema.json";
import instructionSchema from "../../../schemas/instruction.schema.json";
import promptCompletionSchema from "../../../schemas/prompt-completion.schema.json";
import textSchema from "../../../schemas/text.schema.json";
import qaSchema from "../../../schemas/qa.schema.json";
import type { DatasetFormat } from "./types";

export const SCHEMAS: Record<DatasetFormat, object> = {
    chat: chatSchema,
    instruction: instructionSchema,
    "prompt-completion": promptCompletionSchema,
    text: textSchema,
    qa: qaSchema
};

let compiled: Record<DatasetFormat, ValidateFunction> | undefined;

export function schemaValidator(format: DatasetFormat): ValidateFunction {
    if (!compiled) {
        // allErrors: report every problem on a line at once, not only the first.
        const ajv = new Ajv({ allErrors: true, strict: true });
        compiled = {
            chat: ajv.compile(SCHEMAS.chat),
            instruction: ajv.compile(SCHEMAS.instruction),
            "prompt-completion": ajv.compile(SCHEMAS["prompt-completion"]),
            text: ajv.compile(SCHEMAS.text),
            qa: ajv.compile(SCHEMAS.qa)
        };
    }
    return compiled[format];
}

export type SchemaError = ErrorObject;
