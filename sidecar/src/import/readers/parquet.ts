// Parquet through hyparquet, one row group at a time: a row group's column chunks are the unit Parquet compresses,
// so memory is bounded by the largest row group of the selected columns, not by the file. Snappy, Zstd, Gzip,
// Brotli and LZ4 pages (Hugging Face serves Snappy and Zstd) decompress through hyparquet-compressors, pure
// JavaScript and WebAssembly: nothing native.
import { open, type FileHandle } from "node:fs/promises";
import { parquetMetadataAsync, parquetReadObjects, parquetSchema, type AsyncBuffer, type FileMetaData } from "hyparquet";
import { compressors } from "hyparquet-compressors";
import { ImportRowError } from "../errors";
import type { ByteCounter, ImportRow } from "../types";

/** Reads byte ranges of an open file for hyparquet, counting them for progress. */
function fileBuffer(handle: FileHandle, size: number, counter: ByteCounter): AsyncBuffer {
    return {
        byteLength: size,
        async slice(start: number, end?: number): Promise<ArrayBuffer> {
            const stop = end ?? size;
            const bytes = new Uint8Array(stop - start);
            let done = 0;
            while (done < bytes.length) {
                const { bytesRead } = await handle.read(bytes, done, bytes.length - done, start + done);
                if (bytesRead === 0) break;
                done += bytesRead;
            }
            counter.bytes += done;
            return bytes.buffer;
        }
    };
}

export interface ParquetFile {
    columns: string[];
    totalRows: number;
    /** The rows from the first, with only `columns` read when given (the others' chunks are never fetched). */
    rows(options?: { columns?: readonly string[]; limit?: number }): AsyncGenerator<ImportRow>;
    close(): Promise<void>;
}

function describe(error: unknown): string {
    return error instanceof Error ? error.message : String(error);
}

export async function openParquet(file: string, counter: ByteCounter): Promise<ParquetFile> {
    const handle = await open(file, "r");
    let metadata: FileMetaData;
    let buffer: AsyncBuffer;
    try {
        const { size } = await handle.stat();
        buffer = fileBuffer(handle, size, counter);
        metadata = await parquetMetadataAsync(buffer);
    } catch (error) {
        await handle.close();
        throw new ImportRowError({ file }, `not a readable Parquet file: ${describe(error)}`);
    }
    const columns = parquetSchema(metadata).children.map((child) => child.element.name);
    const totalRows = Number(metadata.num_rows);

    async function* rows(options: { columns?: readonly string[]; limit?: number } = {}): AsyncGenerator<ImportRow> {
        const limit = Math.min(options.limit ?? Number.POSITIVE_INFINITY, totalRows);
        let groupStart = 0;
        for (const [index, group] of metadata.row_groups.entries()) {
            if (groupStart >= limit) return;
            const groupEnd = Math.min(groupStart + Number(group.num_rows), limit);
            let objects: Record<string, unknown>[];
            try {
                objects = await parquetReadObjects({
                    file: buffer, metadata, compressors, rowStart: groupStart, rowEnd: groupEnd,
                    ...(options.columns ? { columns: [...options.columns] } : {})
                });
            } catch (error) {
                throw new ImportRowError({ file, row: groupStart + 1 }, `row group ${index + 1} (rows ${groupStart + 1}–${groupEnd}) cannot be read: ${describe(error)}`);
            }
            for (let i = 0; i < objects.length; i++) yield { row: groupStart + i + 1, values: objects[i]! };
            groupStart += Number(group.num_rows);
        }
    }

    return { columns, totalRows, rows, close: () => handle.close() };
}
