// `lora-studio <command>`: the command-line face of the sidecar core. Each command lives in its own
// file under cli/ and is registered in the table below.
import { chatCommand } from "./cli/chat";
import { evalCommand } from "./cli/eval";
import { exportCommand } from "./cli/export";
import { importCommand } from "./cli/import";
import { importAdapterCommand } from "./cli/importAdapter";
import { makeTinyModelCommand } from "./cli/makeTinyModel";
import { modelsCommand } from "./cli/models";
import { UsageError, type CliCommand } from "./cli/types";
import { trainCommand } from "./cli/train";
import { validateCommand } from "./cli/validate";

const commands: Record<string, CliCommand> = {
    chat: chatCommand,
    eval: evalCommand,
    export: exportCommand,
    import: importCommand,
    "import-adapter": importAdapterCommand,
    "make-tiny-model": makeTinyModelCommand,
    models: modelsCommand,
    train: trainCommand,
    validate: validateCommand
};

function help(): string {
    const width = Math.max(...Object.keys(commands).map((n) => n.length));
    const lines = Object.entries(commands).map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`);
    return `Usage: lora-studio <command> [options]\n\nCommands:\n${lines.join("\n")}\n\nRun \`lora-studio <command> --help\` for a command's options.\n`;
}

async function main(argv: string[]): Promise<number> {
    const [name, ...rest] = argv;
    if (name === undefined || name === "--help" || name === "-h" || name === "help") {
        process.stdout.write(help());
        return name === undefined ? 2 : 0;
    }
    const command = commands[name];
    if (!command) {
        process.stderr.write(`lora-studio: unknown command '${name}'\n\n${help()}`);
        return 2;
    }
    if (rest.includes("--help") || rest.includes("-h")) {
        process.stdout.write(`${command.usage}\n`);
        return 0;
    }
    try {
        return await command.run(rest);
    } catch (err) {
        if (err instanceof UsageError) {
            process.stderr.write(`lora-studio ${name}: ${err.message}\n\n${command.usage}\n`);
            return 2;
        }
        process.stderr.write(`lora-studio ${name}: ${(err as Error).message}\n`);
        return 1;
    }
}

process.exitCode = await main(process.argv.slice(2));
