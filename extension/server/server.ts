// Entry of the dataset language server process (bundled to dist/server.js). The transport comes from the
// command line: `--node-ipc` when the extension starts it, `--stdio` in the integration test.
import { createConnection, ProposedFeatures } from "vscode-languageserver/node";
import { join } from "node:path";
import { startDatasetServer } from "./datasetServer";
import { configureDocsLink } from "./diagnostics";

const connection = createConnection(ProposedFeatures.all);

// Report why the process dies before it does, so the client's output channel shows it.
process.on("uncaughtException", (error) => {
    connection.console.error(`lora-studio language server crashed: ${error.stack ?? error.message}`);
    process.exit(1);
});

// The bundle runs from dist/; the extension root is one level up.
configureDocsLink(join(__dirname, ".."));
process.on("unhandledRejection", (reason) => {
    connection.console.error(`lora-studio language server: unhandled rejection: ${reason instanceof Error ? reason.stack ?? reason.message : String(reason)}`);
});

startDatasetServer(connection);
