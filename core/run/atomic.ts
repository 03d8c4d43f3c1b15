import { closeSync, fsyncSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';

let counter = 0;

/**
 * Writes a file so that readers see either the old or the new content, never a partial one. Whatever
 * fails (a full disk, a file size limit, the rename), the temporary file is removed before the error
 * is rethrown: a failed write leaves nothing behind.
 */
export function writeFileAtomic(path: string, data: string): void {
  const tmp = `${path}.tmp-${process.pid}-${counter++}`;
  const fd = openSync(tmp, 'w');
  try {
    try {
      // A write on a nearly full disk may write part of the data without an error: the next one reports it.
      const buf = Buffer.from(data);
      for (let off = 0; off < buf.length; ) off += writeSync(fd, buf, off);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, path);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  }
}
