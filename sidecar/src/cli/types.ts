// The contract every `lora-studio <command>` implements.

export interface CliCommand {
    /** One line for `lora-studio --help`. */
    summary: string;
    /** Full usage text for `lora-studio <command> --help`. */
    usage: string;
    /** Runs the command with the arguments after its name; resolves to the process exit code. */
    run(args: string[]): Promise<number>;
}

/** Thrown for bad command-line input: printed with the usage, exit code 2. */
export class UsageError extends Error {
    override name = "UsageError";
}
