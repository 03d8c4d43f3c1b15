// End-to-end helpers for the `vidra` CLI: a fresh copy of test/fixtures/project in a temporary
// directory, and the real CLI (bin/vidra.mjs, from the dist/ bundle that `npm test` builds first)
// run in it as a subprocess.
import { spawn, type ChildProcess } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { StatusRecord } from '../../core/run/status.ts';

export const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const BIN = join(REPO, 'bin', 'vidra.mjs');
const FIXTURE = join(REPO, 'test', 'fixtures', 'project');

export interface CliResult {
  /** Exit code, or null when the process was killed by a signal. */
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  /** Extra environment variables (undefined removes one). */
  env?: Record<string, string | undefined>;
  /** Working directory relative to the project (default: the project root). */
  cwd?: string;
  /** The process is killed after this long (a hung CLI fails the test instead of hanging it). */
  killAfterMs?: number;
}

export interface Started {
  child: ChildProcess;
  done: Promise<CliResult>;
}

/** status.json as the run writes it. */
export type StatusJson = StatusRecord;

export interface Project {
  /** The project's root (a temporary directory). */
  dir: string;
  path(...parts: string[]): string;
  /** Runs `node bin/vidra.mjs ...args` in the project and waits for it to exit. */
  run(args: readonly string[], options?: RunOptions): Promise<CliResult>;
  /** Starts the CLI without waiting (for signal tests). */
  start(args: readonly string[], options?: RunOptions): Started;
  read(rel: string): string;
  json<T = unknown>(rel: string): T;
  status(runDir: string): StatusJson;
  write(rel: string, content: string): void;
  exists(rel: string): boolean;
  /** Every file below `rel` (default the project), relative to it, sorted; `node_modules` is skipped. */
  files(rel?: string): string[];
  /** Run directories (those holding a status.json) below `rel` (default `runs`), relative to the project, sorted. */
  runDirs(rel?: string): string[];
  /** Waits until `count` files named `name` exist below `runs/`; returns their paths relative to the project. */
  waitForFiles(name: string, count?: number, timeoutMs?: number): Promise<string[]>;
}

const made: string[] = [];

function walk(root: string, rel: string, out: string[], skip: (name: string) => boolean): void {
  const abs = join(root, rel);
  if (!existsSync(abs)) return;
  // Dirent types, not a stat per name: a running job renames its temporary files under our feet.
  for (const entry of readdirSync(abs, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    if (skip(entry.name)) continue;
    const r = rel ? `${rel}/${entry.name}` : entry.name;
    if (entry.isDirectory()) walk(root, r, out, skip);
    else out.push(r);
  }
}

function collect(child: ChildProcess, killAfterMs: number): Promise<CliResult> {
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const timer = setTimeout(() => child.kill('SIGKILL'), killAfterMs);
  return new Promise((done, fail) => {
    child.on('error', (err) => {
      clearTimeout(timer);
      fail(err);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      done({ code, signal, stdout, stderr });
    });
  });
}

/**
 * Copies the fixture project into a fresh temporary directory (so `runs/` never lands in the repo).
 * Its `test-plugins.mjs` imports `tsyringe`, and ESM resolution ignores NODE_PATH: a `node_modules`
 * symlink to the repo's lets the copy resolve it — to the same real file as the CLI's own import, so
 * both share one tsyringe instance (and its registry of injectable classes).
 */
export function makeProject(files: Record<string, string> = {}): Project {
  const dir = mkdtempSync(join(tmpdir(), 'vidra-cli-'));
  made.push(dir);
  cpSync(FIXTURE, dir, { recursive: true, filter: (src) => relative(FIXTURE, src).split(sep)[0] !== 'runs' });
  symlinkSync(join(REPO, 'node_modules'), join(dir, 'node_modules'), 'dir');

  const path = (...parts: string[]) => join(dir, ...parts);
  const spawnCli = (args: readonly string[], options: RunOptions = {}) => {
    const env: Record<string, string | undefined> = { ...process.env };
    // The subprocess must not inherit the test runner's loader flags or our own debugging switches.
    delete env.NODE_OPTIONS;
    delete env.VIDRA_FULL_ERROR;
    Object.assign(env, options.env ?? {});
    for (const k of Object.keys(env)) if (env[k] === undefined) delete env[k];
    return spawn(process.execPath, [BIN, ...args], {
      cwd: options.cwd ? path(options.cwd) : dir,
      env: env as NodeJS.ProcessEnv,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  };
  const project: Project = {
    dir,
    path,
    run: (args, options = {}) => collect(spawnCli(args, options), options.killAfterMs ?? 25_000),
    start: (args, options = {}) => {
      const child = spawnCli(args, options);
      return { child, done: collect(child, options.killAfterMs ?? 25_000) };
    },
    read: (rel) => readFileSync(path(rel), 'utf8'),
    json: (rel) => JSON.parse(readFileSync(path(rel), 'utf8')),
    status: (runDir) => JSON.parse(readFileSync(path(runDir, 'status.json'), 'utf8')) as StatusJson,
    write: (rel, content) => {
      mkdirSync(dirname(path(rel)), { recursive: true });
      writeFileSync(path(rel), content);
    },
    exists: (rel) => existsSync(path(rel)),
    files: (rel = '') => {
      const out: string[] = [];
      walk(path(rel), '', out, (name) => name === 'node_modules');
      return out;
    },
    runDirs: (rel = 'runs') => {
      const out: string[] = [];
      walk(path(rel), '', out, () => false);
      return out
        .filter((f) => f === 'status.json' || f.endsWith('/status.json'))
        .map((f) => (f === 'status.json' ? rel : `${rel}/${f.slice(0, -'/status.json'.length)}`))
        .sort();
    },
    waitForFiles: async (name, count = 1, timeoutMs = 20_000) => {
      const end = Date.now() + timeoutMs;
      for (;;) {
        const out: string[] = [];
        walk(path('runs'), '', out, () => false);
        const hits = out.filter((f) => f === name || f.endsWith(`/${name}`)).map((f) => `runs/${f}`);
        if (hits.length >= count) return hits.sort();
        if (Date.now() > end) throw new Error(`timed out waiting for ${count} '${name}' file(s) under runs/ (found ${hits.length})`);
        await new Promise((r) => setTimeout(r, 20));
      }
    },
  };
  for (const [rel, content] of Object.entries(files)) project.write(rel, content);
  return project;
}

/** Removes every project made by this test file: call it from `afterAll`. */
export function removeProjects(): void {
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
}

/** A date as `${now:%Y-%m-%d}` and `${now:%H-%M-%S}` format it (local time). */
export function runDirName(date: Date): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `${date.getFullYear()}-${p(date.getMonth() + 1)}-${p(date.getDate())}/${p(date.getHours())}-${p(date.getMinutes())}-${p(date.getSeconds())}`;
}

/** The `<date>/<time>` names of every second from `from` to `to`, inclusive. */
export function runDirNamesBetween(from: Date, to: Date): string[] {
  const out: string[] = [];
  for (let t = Math.floor(from.getTime() / 1000) * 1000; t <= to.getTime(); t += 1000) out.push(runDirName(new Date(t)));
  return out;
}

/** metrics.jsonl without its `time` field: what a deterministic task must reproduce byte for byte. */
export function metricsWithoutTime(text: string): string {
  return text.replace(/,"time":"[^"]*"/g, '');
}
