// Reading text and JSON data files with messages that name the file (and the line and column of a JSON
// syntax error), instead of Node's bare ENOENT or "Unexpected token".

import { readFileSync, statSync } from 'node:fs';
import { DataFormatError, fail } from './errors.ts';

/** The file's text (UTF-8, a byte-order mark dropped); a missing file or a directory is a DataFormatError. */
export function readTextFile(path: string, what = 'file'): string {
  let text: string;
  try {
    if (statSync(path).isDirectory()) fail(path, undefined, `is a directory, expected a ${what}`);
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if (err instanceof DataFormatError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') fail(path, undefined, `${what} not found`, err);
    fail(path, undefined, `cannot read the ${what} (${(err as Error).message})`, err);
  }
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

/** Parses a JSON file; a syntax error names the file with the line and column where parsing stopped. */
export function readJsonFile(path: string, what = 'JSON file'): unknown {
  const text = readTextFile(path, what);
  if (text.trim() === '') fail(path, undefined, 'is empty (expected JSON)');
  try {
    return JSON.parse(text);
  } catch (err) {
    const message = (err as Error).message;
    const pos = /at position (\d+)/.exec(message);
    const at = pos ? ` (line ${lineCol(text, Number(pos[1]))})` : '';
    // V8 reports a cut-off file as "end of JSON input", or as an error at the very last character.
    const atEnd = /end of JSON input/.test(message) || (pos !== null && Number(pos[1]) >= text.trimEnd().length - 1);
    const truncated = atEnd ? ' — the file looks truncated' : '';
    fail(path, undefined, `not valid JSON${at}: ${message}${truncated}`, err);
  }
}

function lineCol(text: string, offset: number): string {
  let line = 1;
  let start = 0;
  for (let i = 0; i < offset && i < text.length; i++) {
    if (text.charCodeAt(i) === 10) {
      line++;
      start = i + 1;
    }
  }
  return `${line}, column ${offset - start + 1}`;
}

/** A plain JSON object (not an array, not null). */
export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
