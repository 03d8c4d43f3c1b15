// The install the README gives (`npm ci`, then `npx vidra ...`): npm prints no config warning, no
// dependency install script runs (onnxruntime-node's would download CUDA libraries), and the CLI builds
// its bundle on first use since no `prepare` script ran.
import { execFile } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readdirSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, sep } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, test } from 'vitest';
import { REPO } from '../helpers/project.ts';

const run = promisify(execFile);
const T = 60_000;
const made: string[] = [];
afterAll(() => {
  for (const d of made) rmSync(d, { recursive: true, force: true });
});

/** npm in the repository, as a user runs it: the project's .npmrc applies, the test runner's env does not. */
async function npm(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const env = { ...process.env };
  for (const k of Object.keys(env)) if (k.startsWith('npm_') || k === 'NODE_OPTIONS') delete env[k];
  // npm's own notices (a newer npm is out) come and go with the registry; warnings must not.
  const withoutNotices = (s: string) => s.replace(/^npm notice.*\n/gm, '');
  try {
    const r = await run('npm', args, { cwd: REPO, env });
    return { code: 0, stdout: r.stdout, stderr: withoutNotices(r.stderr) };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: withoutNotices(e.stderr) };
  }
}

describe.concurrent('the install setup', () => {
  test('npm reads the project .npmrc without a warning: install scripts are off', { timeout: T }, async () => {
    expect(await npm(['config', 'get', 'ignore-scripts'])).toEqual({ code: 0, stdout: 'true\n', stderr: '' });
  });

  test("onnxruntime-node's postinstall does not run (with no network it fails, online it downloads CUDA)", { timeout: T }, async () => {
    const bin = join(REPO, 'node_modules/onnxruntime-node/bin/napi-v6/linux/x64');
    const before = existsSync(bin) ? readdirSync(bin).sort() : [];
    const r = await npm(['rebuild', 'onnxruntime-node', '--foreground-scripts']);
    expect(r).toEqual({ code: 0, stdout: 'rebuilt dependencies successfully\n', stderr: '' });
    expect(existsSync(bin) ? readdirSync(bin).sort() : []).toEqual(before);
  });

  test('a clone without dist/ builds it on the first command, and only then', { timeout: T }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vidra-clone-'));
    made.push(dir);
    const skip = new Set(['node_modules', 'dist', 'runs', 'test', '.cache', '.git']);
    cpSync(REPO, dir, {
      recursive: true,
      filter: (src) => {
        const rel = relative(REPO, src);
        return !skip.has(rel.split(sep)[0]!) && !rel.endsWith('.generated.js') && !rel.endsWith('.generated.d.ts');
      },
    });
    symlinkSync(join(REPO, 'node_modules'), join(dir, 'node_modules'), 'dir');
    const env = { ...process.env };
    delete env.NODE_OPTIONS;
    // From a subfolder of the clone, as `npx vidra` runs it there: the build must not depend on the cwd.
    const first = await run(process.execPath, [join(dir, 'bin/vidra.mjs'), '--version'], { cwd: join(dir, 'conf'), env });
    expect(first).toEqual({ stdout: 'vidra 0.1.0\n', stderr: 'vidra: building dist/ (first run after install)\n' });
    const entries = ['cli.js', 'index.js', 'prefetch-worker.js', 'extract-worker.js'];
    expect(entries.filter((f) => existsSync(join(dir, 'dist', f)))).toEqual(entries);
    expect(await run(process.execPath, ['bin/vidra.mjs', '--version'], { cwd: dir, env })).toEqual({ stdout: 'vidra 0.1.0\n', stderr: '' });
  });
});
