import { closeSync, fsyncSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';

let counter = 0;

/** Writes a file so that readers see either the old or the new content, never a partial one. */
export function writeFileAtomic(path: string, data: string): void {
  const tmp = `${path}.tmp-${process.pid}-${counter++}`;
  const fd = openSync(tmp, 'w');
  try {
    writeSync(fd, data);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  try {
    renameSync(tmp, path);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  }
}
