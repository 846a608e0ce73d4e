// One positioned read that loops until it has `length` bytes or the file ends (readSync may return fewer bytes
// than asked). The result is shorter than `length` only at the end of the file; callers check its length.
import { readSync } from "node:fs";

export function readExactly(fd: number, length: number, position: number): Buffer {
    const out = Buffer.alloc(length);
    let got = 0;
    while (got < length) {
        const n = readSync(fd, out, got, length - got, position + got);
        if (n === 0) break;
        got += n;
    }
    return out.subarray(0, got);
}
