// The models core's data types are declared on the protocol floor (protocol/models.ts), because models/list sends them
// to the editor as they are; the core imports them from here.
export * from "../protocol/models";
