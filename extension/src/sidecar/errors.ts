// Moved to sidecar/src/client/ so the CLI drives the sidecar with the same supervisor; re-exported for the extension.
export * from "../../../sidecar/src/client/errors";
