// Every `npx vidra run` / `npx vidra report` command the README shows runs as written (shortened by
// appended overrides), as a real `npx` subprocess in a project laid out like a fresh clone: exit 0, and
// each run directory it makes ends `completed`.
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { REPO } from '../helpers/project.ts';

const README = readFileSync(join(REPO, 'README.md'), 'utf8');

/** The README's commands: each line of a fenced block, and each inline code span, split at `&&`. */
function readmeCommands(markdown: string): string[] {
  const texts: string[] = [];
  const fences = /^```[^\n]*\n([\s\S]*?)^```/gm;
  for (const m of markdown.matchAll(fences)) texts.push(...m[1]!.split('\n'));
  for (const m of markdown.replace(fences, '').matchAll(/`([^`\n]+)`/g)) texts.push(m[1]!.replace(/\\\|/g, '|'));
  return texts.flatMap((t) => t.split('&&')).map((t) => t.trim()).filter(Boolean);
}

/** Syntax lines (`vidra run [flags] [overrides...]`, `<run dir>`) describe commands; they run none. */
const isSyntax = (command: string) => /<[^>]+>|\.\.\.|\s\[[a-z ]+\]/.test(command);

/** Shell words: blanks split, quotes group (the README's commands use nothing more). */
function words(command: string): string[] {
  return [...command.matchAll(/'([^']*)'|"([^"]*)"|(\S+)/g)].map((m) => m[1] ?? m[2] ?? m[3]!);
}

const all = readmeCommands(README);
const runs = [...new Set(all.filter((c) => /^npx vidra (run|report)\b/.test(c) && !isSyntax(c)))];

test('the README writes every command as `npx vidra ...`: `vidra` itself is on no PATH after `npm ci`', () => {
  expect(all.filter((c) => /^vidra (run|rerun|report|completion)\b/.test(c))).toEqual([]);
  // The parser finds the opening examples, the quick start (after `&&`) and the inline ones.
  expect(runs).toEqual(
    expect.arrayContaining([
      'npx vidra run --cfg job +model=slowfast loss=eql optim.lr=1.5e-4',
      'npx vidra run -m loss=bce,focal,eql optim.lr=1e-4,1.5e-4 data.batch_size=8,128',
      'npx vidra run',
      'npx vidra run --help',
    ]),
  );
  expect(runs.some((c) => c.includes('+experiment=animal_kingdom_longtail'))).toBe(true);
  expect(runs).toEqual(expect.arrayContaining(['npx vidra report runs/multirun/2026-12-02/16-19-46', 'npx vidra report runs/multirun/2026-12-02/16-19-46 --format md --out -']));
});

// A project laid out as a clone: the repository's package.json, bin/, dist/, conf/ and node_modules, so
// `npx vidra` resolves the project's own bin; runs, generated data and backbones stay in the scratch dir.
const project = mkdtempSync(join(tmpdir(), 'vidra-readme-'));
for (const f of ['package.json', 'bin', 'dist', 'conf', 'node_modules']) symlinkSync(join(REPO, f), join(project, f));
writeFileSync(join(project, '.npmrc'), readFileSync(join(REPO, '.npmrc')));
afterAll(() => rmSync(project, { recursive: true, force: true }));

function npx(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const env = { ...process.env };
  for (const k of Object.keys(env)) if (k.startsWith('npm_') || k === 'NODE_OPTIONS') delete env[k];
  return new Promise((resolve) => {
    const child = spawn('npx', args, { cwd: project, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

function statuses(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      if (e.isDirectory()) walk(join(d, e.name));
      else if (e.name === 'status.json') out.push((JSON.parse(readFileSync(join(d, e.name), 'utf8')) as { status: string }).status);
    }
  };
  walk(dir);
  return out;
}

/** Commands whose task has no epochs to shorten (an extraction). */
const EPOCHLESS = /\+experiment=ego4d_features\b/;

/** The flags of `vidra report` that take a value (its other words name directories). */
const REPORT_VALUE_FLAGS = new Set(['--out', '-o', '--format']);

/**
 * A README `vidra report` command: the directories it names stand for the sweep an earlier README command
 * made (its runs/readme/<i>), the flags stay. Exit 0, and the report is where it says.
 */
async function runReport(args: string[]): Promise<void> {
  const sweepAt = runs.findIndex((c) => / (-m|--multirun) /.test(c));
  const out: string[] = ['report'];
  for (let i = 1; i < args.length; i++) {
    if (REPORT_VALUE_FLAGS.has(args[i]!)) out.push(args[i]!, args[++i]!);
    else out.push(args[i]!.startsWith('-') && args[i] !== '-' ? args[i]! : `runs/readme/${sweepAt}`);
  }
  const r = await npx(['vidra', ...out]);
  expect(r.code, `${args.join(' ')}\n${r.stderr}`).toBe(0);
  const written = /^report: (.+)\n$/.exec(r.stdout);
  if (out.includes('-')) expect(r.stdout.length).toBeGreaterThan(0);
  else expect(readFileSync(join(project, written![1]!), 'utf8').length).toBeGreaterThan(0);
}

// One after another: the first command generates the synthetic data the others read.
describe('each README command runs', () => {
  runs.forEach((command, i) => {
    test(command, { timeout: 180_000 }, async () => {
      const args = words(command).slice(1);
      if (args[1] === 'report') return runReport(args.slice(1));
      const shows = args.some((a) => /^(--cfg|-c|--info|-i|--help|-h)(=|$)/.test(a));
      const sweep = args.includes('-m') || args.includes('--multirun');
      const where = `runs/readme/${i}`;
      // Shortened, and kept apart: appended overrides win over the command's own.
      const extra = shows ? [] : [...(EPOCHLESS.test(command) ? [] : ['task.epochs=1']), sweep ? `vidra.sweep.dir=${where}` : `vidra.run.dir=${where}`];
      const r = await npx([...args, ...extra]);
      expect(r.code, `${command}\n${r.stderr}`).toBe(0);
      // Node's own warnings (a leaked listener, fd tracking, deprecations) are defects a user would see.
      expect(r.stderr, command).not.toMatch(/\(node:\d+\) \w*Warning/);
      if (shows) {
        expect(r.stdout.length).toBeGreaterThan(0);
        return;
      }
      const done = statuses(join(project, where));
      expect(done.length).toBeGreaterThan(0);
      expect(done).toEqual(done.map(() => 'completed'));
      if (sweep) expect(r.stdout).toContain(`${done.length} of ${done.length} jobs completed`);
    });
  });
});
