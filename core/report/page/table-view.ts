/// <reference lib="dom" />
// The jobs table: a header click sorts by that column (again: the other way), the inputs under the header
// filter (a number column takes `>0.5`, `<=1e-3`, `=2`; any column a case-insensitive substring).
import type { ReportTable } from '../table.ts';

type Cell = string | number | null;

/** Whether `cell` passes the filter text `f` (an empty filter passes everything). */
export function passes(cell: Cell, f: string): boolean {
  const text = f.trim();
  if (!text) return true;
  const m = /^(<=|>=|<|>|=)\s*(\S+)$/.exec(text);
  if (m && typeof cell === 'number' && !Number.isNaN(Number(m[2]))) {
    const v = Number(m[2]);
    return m[1] === '<' ? cell < v : m[1] === '<=' ? cell <= v : m[1] === '>' ? cell > v : m[1] === '>=' ? cell >= v : cell === v;
  }
  if (cell === null) return false;
  return String(cell).toLowerCase().includes(text.toLowerCase());
}

const show = (v: Cell) => (v === null ? '' : typeof v === 'number' ? String(Number(v.toPrecision(6))) : v);

export function tableView(parent: HTMLElement, table: ReportTable): void {
  const el = document.createElement('table');
  el.id = 'jobs';
  const head = el.createTHead();
  const names = head.insertRow();
  const filters = head.insertRow();
  filters.className = 'filters';
  const body = el.createTBody();
  const errorCol = table.columns.indexOf('error');
  const statusCol = table.columns.indexOf('status');
  let sortCol = -1;
  let descending = false;
  const inputs: HTMLInputElement[] = [];

  const render = () => {
    let rows = table.rows.filter((r) => r.every((c, i) => passes(c, inputs[i]!.value)));
    if (sortCol >= 0) {
      // Empty cells last, whichever way.
      rows = [...rows].sort((a, b) => {
        const x = a[sortCol]!;
        const y = b[sortCol]!;
        if (x === null || y === null) return x === y ? 0 : x === null ? 1 : -1;
        const order = typeof x === 'number' && typeof y === 'number' ? x - y : String(x).localeCompare(String(y), undefined, { numeric: true });
        return descending ? -order : order;
      });
    }
    body.replaceChildren(
      ...rows.map((r) => {
        const tr = document.createElement('tr');
        if (r[statusCol] !== 'completed') tr.className = 'not-completed';
        r.forEach((c, i) => {
          const td = tr.insertCell();
          td.textContent = show(c);
          if (typeof c === 'number') td.className = 'num';
          if (i === errorCol && c) td.className = 'error';
        });
        return tr;
      }),
    );
  };

  table.columns.forEach((name, i) => {
    const th = document.createElement('th');
    th.textContent = name;
    th.title = 'sort';
    th.addEventListener('click', () => {
      descending = sortCol === i ? !descending : false;
      sortCol = i;
      for (const other of names.cells) other.removeAttribute('aria-sort');
      th.setAttribute('aria-sort', descending ? 'descending' : 'ascending');
      render();
    });
    names.append(th);
    const input = document.createElement('input');
    input.placeholder = table.rows.some((r) => typeof r[i] === 'number') ? '>0.5' : 'filter';
    input.setAttribute('aria-label', `filter ${name}`);
    input.addEventListener('input', render);
    inputs.push(input);
    filters.insertCell().append(input);
  });
  render();
  // Many metric columns scroll sideways inside their box, not the page.
  const scroll = document.createElement('div');
  scroll.className = 'table-scroll';
  scroll.append(el);
  parent.append(scroll);
}
