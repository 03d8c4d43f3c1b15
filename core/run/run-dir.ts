import { existsSync, mkdirSync, rmSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { VidraError } from '../config/errors.ts';
import { StatusFile } from './status.ts';

/**
 * Creates a fresh directory at `path`, or at `path_1`, `path_2`, … when it exists: mkdir of the last
 * component is atomic, so two runs started in the same second never share a directory.
 */
function createUniqueDir(path: string): string {
  mkdirs(dirname(path));
  for (let i = 0; ; i++) {
    const candidate = i === 0 ? path : `${path}_${i}`;
    try {
      mkdirSync(candidate);
      return candidate;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
  }
}

/**
 * `mkdir -p`, one level at a time: Node's recursive mkdir reports ENOENT where a parent is read-only
 * or not writable, and the error must say which it was.
 */
function mkdirs(dir: string): void {
  const missing: string[] = [];
  for (let d = dir; !existsSync(d) && dirname(d) !== d; d = dirname(d)) missing.unshift(d);
  for (const d of missing) {
    try {
      mkdirSync(d);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
  }
}

/** Why a file system call on `path` failed, in words (a file in the way is named). */
export function fsReason(err: NodeJS.ErrnoException, path: string): string {
  switch (err.code) {
    case 'EEXIST': // mkdir -p of a parent that is a file
    case 'ENOTDIR': {
      for (let p = path; dirname(p) !== p; p = dirname(p)) {
        try {
          if (!statSync(p).isDirectory()) return `'${p}' is a file, not a directory`;
        } catch {
          // not there (yet): look further up
        }
      }
      return 'a part of the path is not a directory';
    }
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'EROFS':
      return 'read-only file system';
    case 'ENOSPC':
      return 'no space left on device';
    case 'EDQUOT':
      return 'disk quota exceeded';
    case 'EFBIG':
      return 'file too large (the file size limit, ulimit -f)';
    default:
      return err.message;
  }
}

/**
 * `createUniqueDir`, reported as one clear error naming the directory, the setting it comes from
 * (`vidra.run.dir`) and the reason, instead of a file system stack trace.
 */
export function createOutputDir(path: string, what: string, setting: string): string {
  try {
    return createUniqueDir(path);
  } catch (err) {
    throw new VidraError(`cannot create the ${what} '${path}' (${setting}): ${fsReason(err as NodeJS.ErrnoException, path)}`, { cause: err });
  }
}

/**
 * A job's fresh run directory — or, with `reuse`, the existing `path` (a requeued or resubmitted job, its
 * earlier status kept in status.json's history) — marked `running` in its status.json. A directory that
 * cannot be created or written (no space left) is reported as one error, before any work; a fresh one is
 * removed again.
 */
export function startRunDir(path: string, setting: string, reuse = false): { dir: string; status: StatusFile } {
  let dir = path;
  if (reuse) {
    try {
      mkdirs(path);
    } catch (err) {
      throw new VidraError(`cannot create the run directory '${path}' (${setting}): ${fsReason(err as NodeJS.ErrnoException, path)}`, { cause: err });
    }
  } else dir = createOutputDir(path, 'run directory', setting);
  try {
    return { dir, status: reuse ? StatusFile.restart(dir) : new StatusFile(dir) };
  } catch (err) {
    // A fresh directory goes again; a reused one keeps what its earlier runs left (their checkpoints).
    if (!reuse) rmSync(dir, { recursive: true, force: true });
    throw new VidraError(`cannot write to the run directory '${dir}' (${setting}): ${fsReason(err as NodeJS.ErrnoException, dir)}`, { cause: err });
  }
}
