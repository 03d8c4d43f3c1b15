// The Markdown summary (papers, pull requests) and the flat CSV, both from the shared table.
import type { ReportData } from './model.ts';
import { reportTable } from './table.ts';

/** Numbers as the table shows them: six significant digits, as the end-of-sweep table does. */
const short = (v: number) => String(Number(v.toPrecision(6)));

export function toMarkdown(data: ReportData): string {
  const { columns, rows } = reportTable(data);
  // A cell is one line, and a `|` in it would end it.
  const cell = (v: string | number | null) =>
    v === null ? '' : typeof v === 'number' ? short(v) : v.split('\n')[0]!.replace(/\\/g, '\\\\').replace(/\|/g, '\\|');
  const numeric = columns.map((_, c) => rows.some((r) => typeof r[c] === 'number'));
  const line = (cells: string[]) => `| ${cells.join(' | ')} |`;
  return [line(columns.map((c) => cell(c))), line(numeric.map((n) => (n ? '---:' : '---'))), ...rows.map((r) => line(r.map(cell)))].join('\n') + '\n';
}

export function toCsv(data: ReportData): string {
  const { columns, rows } = reportTable(data);
  // RFC 4180: quote a field with a comma, quote or line break; numbers at full precision.
  const field = (v: string | number | null) => {
    const s = v === null ? '' : String(v);
    return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
  };
  return [columns, ...rows].map((r) => r.map(field).join(',')).join('\r\n') + '\r\n';
}
