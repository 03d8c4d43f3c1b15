// Errors for data files a user points Vidra at. Every message names the file and, where there is one, the
// record (line, list index, dataset name), so a bad file can be fixed without reading Vidra's code.

import { VidraError } from '../../../core/config/errors.ts';

/** A data file is missing, unreadable or holds something other than the format says. */
export class DataFormatError extends VidraError {}

/** Where in a file a problem is: `file`, `file:line`, or `file: record`. */
export function where(file: string, record?: string | number): string {
  if (record === undefined) return file;
  return typeof record === 'number' ? `${file}:${record}` : `${file}: ${record}`;
}

/** Throws a DataFormatError `<file>[:<line>|: <record>]: <problem>`. */
export function fail(file: string, record: string | number | undefined, problem: string, cause?: unknown): never {
  throw new DataFormatError(`${where(file, record)}: ${problem}`, { cause });
}

/** JSON-ish rendering of a bad value for a message, cut short. */
export function show(value: unknown): string {
  let s: string;
  try {
    s = value === undefined ? 'undefined' : JSON.stringify(value);
  } catch {
    s = String(value);
  }
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
}
