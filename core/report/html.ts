// The self-contained HTML report: the model as JSON, the page's script and styles (uPlot included,
// bundled by scripts/build.mjs into dist/) inlined, so the file opens anywhere without a network.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { VidraError } from '../config/errors.ts';
import { packageRoot } from '../paths.ts';
import type { ReportData } from './model.ts';

const escapeHtml = (s: string) => s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);

function pageAsset(name: string): string {
  const file = join(packageRoot(), 'dist', name);
  if (!existsSync(file)) throw new VidraError(`the report page's ${name} is missing from dist/: run npm run build`);
  return readFileSync(file, 'utf8');
}

export function toHtml(data: ReportData): string {
  const title = `Vidra report: ${data.sources.map((s) => s.dir).join(', ')}`;
  // In a <script> element only `</script` (and `<!--`) could end it early: JSON may write `<` as \u003c.
  const json = JSON.stringify(data).replace(/</g, '\\u003c');
  const sources = data.sources.map((s) => `${s.kind} ${s.dir} (${s.jobs.length} job${s.jobs.length === 1 ? '' : 's'})`).join('; ');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>${escapeHtml(title)}</title>
<style>${pageAsset('report-page.css')}</style>
</head>
<body>
<h1>${escapeHtml(title)}</h1>
<p class="sources">${escapeHtml(sources)}</p>
<script id="vidra-report-data" type="application/json">${json}</script>
<script>${pageAsset('report-page.js')}</script>
</body>
</html>
`;
}
