// Build: generate the peggy parsers (grammars live in .peggy files beside the code that uses them),
// then bundle the CLI and the library entry with esbuild (a bundle starts faster than tsc output), then
// write the entry's declarations (dist/types) for projects that write plugins in TypeScript.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import peggy from 'peggy';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

function* walk(dir) {
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules' || name.startsWith('.')) continue;
    const p = join(dir, name);
    if (statSync(p).isDirectory()) yield* walk(p);
    else yield p;
  }
}

for (const top of ['core', 'plugins']) {
  for (const file of walk(join(root, top))) {
    if (!file.endsWith('.peggy')) continue;
    const out = file.replace(/\.peggy$/, '.generated.js');
    const source = peggy.generate(readFileSync(file, 'utf8'), {
      output: 'source',
      format: 'es',
      grammarSource: file.slice(root.length + 1),
      allowedStartRules: ['*'],
    });
    writeFileSync(out, `// Generated from ${file.slice(root.length + 1)} by scripts/build.mjs. Do not edit.\n${source}`);
    writeFileSync(
      out.replace(/\.js$/, '.d.ts'),
      'export declare function parse(input: string, options?: Record<string, unknown>): any;\n' +
        'export declare class SyntaxError extends Error {\n' +
        '  expected: Array<{ type: string; text?: string; description?: string }> | null;\n' +
        '  found: string | null;\n' +
        '  location: { start: { offset: number; line: number; column: number }; end: { offset: number; line: number; column: number } };\n' +
        '}\n' +
        'export declare const StartRules: string[];\n',
    );
  }
}

const { build } = await import('esbuild');
// One build with code splitting: the CLI and the library share modules (one registry, one tsyringe
// container), and dynamic imports stay lazy chunks so `vidra run --cfg job` loads only what it needs.
// Dependencies are bundled too (far fewer files to resolve at start-up) except those that must stay one
// shared instance with third-party plugin modules (tsyringe and its Reflect polyfill) and native or wasm
// packages, and tsx (its module hooks are files Node loads). Bundled CommonJS code gets a real `require` for
// Node's built-ins.
const result = await build({
  metafile: true,
  // Output paths in the metafile are relative to this: the cleanup below must not depend on the cwd.
  absWorkingDir: root,
  // The worker threads have entries of their own: a Worker runs a file (plugins/datasets/prefetch.ts: data
  // prefetch; plugins/tasks/extract/extract-thread.ts: extraction's window assembly).
  entryPoints: {
    cli: join(root, 'core/cli/main.ts'),
    index: join(root, 'index.ts'),
    'prefetch-worker': join(root, 'plugins/datasets/prefetch-worker.ts'),
    'extract-worker': join(root, 'plugins/tasks/extract/extract-worker.ts'),
  },
  outdir: join(root, 'dist'),
  outExtension: { '.js': '.js' },
  bundle: true,
  splitting: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  external: ['tsyringe', 'reflect-metadata', 'onnxruntime-node', 'h5wasm', 'typescript', 'tsx', 'sharp', '@ffmpeg-installer/ffmpeg', '@ffprobe-installer/ffprobe'],
  sourcemap: 'linked',
  logLevel: 'warning',
  banner: { js: "import { createRequire as __vidraCreateRequire } from 'node:module';\nconst require = __vidraCreateRequire(import.meta.url);" },
  tsconfig: join(root, 'tsconfig.json'),
});

// Chunk names carry content hashes: drop the chunks of earlier builds that nothing references now.
const current = new Set(Object.keys(result.metafile.outputs).map((p) => join(root, p)));
for (const name of readdirSync(join(root, 'dist'))) {
  if (name === 'types' || name.startsWith('report-page.')) continue;
  const file = join(root, 'dist', name);
  if (!current.has(file) && !current.has(file.replace(/\.map$/, ''))) rmSync(file);
}

// The report page's script and styles (uPlot included), for the HTML reports to inline: one browser bundle.
const page = await build({
  absWorkingDir: root,
  entryPoints: [join(root, 'core/report/page/main.ts')],
  outfile: join(root, 'dist', 'report-page.js'),
  bundle: true,
  minify: true,
  platform: 'browser',
  format: 'iife',
  target: 'es2020',
  legalComments: 'none',
  logLevel: 'warning',
  tsconfig: join(root, 'tsconfig.json'),
  write: false,
});
for (const file of page.outputFiles) {
  // Inlined into a <script> element, the script must not contain the text that would end it.
  if (file.text.includes('</script')) throw new Error(`${file.path} contains '</script': it cannot be inlined`);
  writeFileSync(file.path, file.text);
}

// Declarations (package.json exports "types"): a plugin project's tsc reads these, not Vidra's sources, which
// import with .ts extensions its settings may not allow. tsc takes seconds, so only when a source is newer.
const stamp = join(root, 'dist', 'types', '.built');
const builtAt = existsSync(stamp) ? statSync(stamp).mtimeMs : 0;
const sources = [join(root, 'index.ts'), ...['core', 'plugins'].flatMap((top) => [...walk(join(root, top))])];
if (sources.some((f) => f.endsWith('.ts') && !f.endsWith('.d.ts') && statSync(f).mtimeMs > builtAt)) {
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  // A type error still writes the declarations: the bundle is usable, `npm run typecheck` names the error.
  const { status } = spawnSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.types.json')], { stdio: 'ignore' });
  if (status === 0) writeFileSync(stamp, '');
  else console.warn('dist/types: tsc found type errors (npm run typecheck lists them); declarations written anyway, rebuilt next time');
}
