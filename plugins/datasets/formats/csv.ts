// Delimited text as the datasets ship it:
//   * comma-separated with RFC 4180 quoting (Charades_v1_*.csv: descriptions hold commas, doubled quotes
//     and line breaks inside quotes), optionally with a header;
//   * whitespace-separated frame lists (SlowFast / Animal Kingdom: `original_vido_id video_id frame_id path labels`).
// Each row keeps the line it starts on, for messages.

import { fail } from './errors.ts';

export interface CsvRow {
  /** 1-based line number where the record starts. */
  line: number;
  fields: string[];
}

/**
 * RFC 4180 records: fields separated by `delimiter`, `"…"` quoting with `""` for a quote, line breaks
 * (LF or CRLF) allowed inside quotes. Blank lines are skipped. An unterminated quote is an error naming
 * the line where the field began.
 */
export function parseCsv(text: string, file: string, delimiter = ','): CsvRow[] {
  const rows: CsvRow[] = [];
  let fields: string[] = [];
  let field = '';
  let line = 1;
  let rowLine = 1;
  let quoted = false;
  let quoteLine = 0;
  let fieldStarted = false;
  const endRow = () => {
    fields.push(field);
    if (!(fields.length === 1 && fields[0] === '' && !fieldStarted)) rows.push({ line: rowLine, fields });
    fields = [];
    field = '';
    fieldStarted = false;
  };
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"') {
        if (text[i + 1] === '"') {
          field += '"';
          i++;
        } else quoted = false;
      } else {
        if (c === '\n') line++;
        field += c;
      }
      continue;
    }
    if (c === '"' && field === '') {
      quoted = true;
      quoteLine = line;
      fieldStarted = true;
    } else if (c === delimiter) {
      fields.push(field);
      field = '';
      fieldStarted = true;
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      endRow();
      line++;
      rowLine = line;
    } else {
      field += c;
      fieldStarted = true;
    }
  }
  if (quoted) fail(file, quoteLine, 'unterminated quoted field (a \'"\' opens a field that never closes) — the file looks truncated');
  if (field !== '' || fields.length > 0 || fieldStarted) endRow();
  return rows;
}

/** A CSV with a header line: the header's names, and the records as objects keyed by them. */
export function parseCsvWithHeader(
  text: string,
  file: string,
  required: readonly string[],
): { header: string[]; records: Array<{ line: number; values: Record<string, string> }> } {
  const rows = parseCsv(text, file);
  if (rows.length === 0) fail(file, undefined, `is empty (expected a header with ${required.join(', ')})`);
  const header = rows[0]!.fields.map((h) => h.trim());
  const missing = required.filter((r) => !header.includes(r));
  if (missing.length) fail(file, rows[0]!.line, `the header lacks the column${missing.length > 1 ? 's' : ''} ${missing.join(', ')} (found: ${header.join(', ')})`);
  const records = rows.slice(1).map((r) => {
    if (r.fields.length !== header.length) {
      fail(file, r.line, `expected ${header.length} fields (${header.join(',')}), found ${r.fields.length}`);
    }
    return { line: r.line, values: Object.fromEntries(header.map((h, k) => [h, r.fields[k]!])) };
  });
  return { header, records };
}

/** Whitespace-separated lines (frame lists): blank lines skipped, each row with its line number. */
export function splitWhitespaceLines(text: string): CsvRow[] {
  const rows: CsvRow[] = [];
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const t = lines[i]!.trim();
    if (t !== '') rows.push({ line: i + 1, fields: t.split(/\s+/) });
  }
  return rows;
}

/** Quotes a CSV field when it holds a delimiter, quote or line break (RFC 4180). */
export function csvField(value: string | number): string {
  const s = String(value);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}
