// docs/plugins.md, run as written: every `file=` block becomes that file of a fresh project (which depends on
// vidra through node_modules, as an installed package would), tsc type-checks its TypeScript plugins against
// the package's declarations, and every `$ npx vidra ...` line runs as the real CLI in it. The output lines the
// guide shows must be printed, and its claims hold: the loss against a hand computation from the guide's CSV,
// the dataset's batches, the strategy's events, the launcher's jobs, the task's result.
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { guideCommands, guideFiles, guideOutputs, type GuideCommand } from '../helpers/markdown.ts';
import { execNode, type ExecResult } from '../helpers/exec.ts';
import { BIN, REPO } from '../helpers/project.ts';

const GUIDE = readFileSync(join(REPO, 'docs', 'plugins.md'), 'utf8');
const files = guideFiles(GUIDE);
const commands = guideCommands(GUIDE);
let dir: string;

type Result = ExecResult;
const exec = (file: string, args: readonly string[], timeoutMs: number) => execNode(file, args, dir, timeoutMs);

/** The CLIs the guide's commands run through npx: vidra's, and tsx (a dependency of vidra). */
const NPX: Record<string, string> = { vidra: BIN, tsx: join(REPO, 'node_modules', 'tsx', 'dist', 'cli.mjs') };

/** The guide's command `index` (`npx vidra ...`, `npx tsx ...`) run in a project without runs, its shown output checked. */
async function runGuide(index: number, expectedCode: number): Promise<Result> {
  rmSync(join(dir, 'runs'), { recursive: true, force: true });
  const command = commands[index]!;
  const [npx, bin, ...args] = command.command.split(' ');
  expect(npx).toBe('npx');
  const result = await exec(NPX[bin!]!, args, 60_000);
  expect(result.code, result.stderr).toBe(expectedCode);
  expectShown(command, result);
  return result;
}

/**
 * Each output line the guide shows is a line of stdout, in order, or else of stderr (which a terminal
 * interleaves): `...` skips lines, a line ending in ` ...` is a prefix, run directories match any date and
 * time, and /home/me/my-lab is the project.
 */
function expectShown(command: GuideCommand, { stdout, stderr }: Result): void {
  const lines = stdout.split('\n').map((l) => l.trimEnd());
  const errors = stderr.split('\n').map((l) => l.trimEnd());
  let at = 0;
  for (const shown of command.output) {
    if (shown === '...') continue;
    const prefix = shown.endsWith(' ...');
    const text = (prefix ? shown.slice(0, -4) : shown).trimEnd().replaceAll('/home/me/my-lab', dir);
    const pattern = new RegExp(
      `^${text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/\d{4}-\d{2}-\d{2}\/\d{2}-\d{2}-\d{2}/g, '\\d{4}-\\d{2}-\\d{2}/\\d{2}-\\d{2}-\\d{2}')}${prefix ? '' : '$'}`,
    );
    const found = lines.findIndex((l, i) => i >= at && pattern.test(l));
    if (found < 0 && errors.some((l) => pattern.test(l))) continue;
    expect(found, `'${command.command}' prints the line the guide shows:\n${shown}\n--- it printed:\n${stdout}--- and on stderr:\n${stderr}`).toBeGreaterThanOrEqual(0);
    at = found + 1;
  }
}

/** The only run directory below `rel` holding `name`. */
function runFile(rel: string, name: string): string {
  const hits: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      if (e.isDirectory()) walk(join(d, e.name));
      else if (e.name === name) hits.push(join(d, e.name));
    }
  };
  walk(join(dir, rel));
  expect(hits).toHaveLength(1);
  return hits[0]!;
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'vidra-guide-'));
  for (const f of files) {
    mkdirSync(dirname(join(dir, f.path)), { recursive: true });
    writeFileSync(join(dir, f.path), f.content);
  }
  // What `npm install` of the guide's package.json gives: vidra (and, for tsc, Node's types).
  mkdirSync(join(dir, 'node_modules', '@types'), { recursive: true });
  symlinkSync(REPO, join(dir, 'node_modules', 'vidra'), 'dir');
  symlinkSync(join(REPO, 'node_modules', '@types', 'node'), join(dir, 'node_modules', '@types', 'node'), 'dir');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('docs/plugins.md', () => {
  it('holds the project: settings, tsconfig, configs, data and six plugin modules of six kinds', () => {
    expect(files.map((f) => f.path).sort()).toEqual(
      [
        'conf/config.yaml',
        'conf/data/toy.yaml',
        'conf/experiment/toy_train.yaml',
        'conf/loss/squared_hinge.yaml',
        'conf/strategy/experience_log.yaml',
        'conf/task/prior_baseline.yaml',
        'conf/vidra/launcher/fail_fast.yaml',
        'data/toy.csv',
        'package.json',
        'plugins/csv-features.ts',
        'plugins/experience-log.ts',
        'plugins/fail-fast.ts',
        'plugins/prior-baseline.ts',
        'plugins/quadratic.ts',
        'plugins/squared-hinge.ts',
        'scripts/check-loss.ts',
        'tsconfig.json',
        'vidra.config.json',
      ].sort(),
    );
    const settings = JSON.parse(files.find((f) => f.path === 'vidra.config.json')!.content) as { plugins: string[] };
    expect(settings.plugins.map((p) => p.replace(/^\.\//, '')).sort()).toEqual(files.filter((f) => f.path.startsWith('plugins/')).map((f) => f.path).sort());
    // The commands of the guide, in order: the tests below run each by its index.
    expect(commands.map((c) => c.command)).toEqual([
      'npx vidra run +experiment=toy_train',
      'npx vidra run +experiment=toy_train model.head._target_=linear',
      'npx vidra run',
      'npx vidra run -cp node_modules/vidra/conf -cd conf +experiment=ego4d_continual strategy=experience_log task.pretrain_epochs=1 task.evaluate_streams=false',
      'npx vidra run -m vidra/launcher=fail_fast task.split=val,test,val',
      'npx tsx scripts/check-loss.ts',
    ]);
  });

  it("the plugins type-check against the package's declarations (tsc, the guide's tsconfig)", async () => {
    const tsc = await exec(join(REPO, 'node_modules', 'typescript', 'bin', 'tsc'), ['-p', '.'], 120_000);
    expect(`${tsc.stdout}${tsc.stderr}`).toBe('');
    expect(tsc.code).toBe(0);
  }, 130_000);

  it("the task: the loss of the class-prior predictor, batch by batch, equals the hand computation from the guide's CSV", async () => {
    const { stdout } = await runGuide(2, 0);
    // By hand, from data/toy.csv as the guide writes it.
    const csv = files.find((f) => f.path === 'data/toy.csv')!.content.trim().split('\n').slice(1);
    const rows = csv.map((l) => l.split(',')).map(([split, labels]) => ({ split, labels: labels ? labels.split(' ').map(Number) : [] }));
    const train = rows.filter((r) => r.split === 'train');
    const val = rows.filter((r) => r.split === 'val');
    const prior = [0, 1, 2].map((c) => Math.log(train.filter((r) => r.labels.includes(c)).length / train.filter((r) => !r.labels.includes(c)).length));
    const hinge = (r: (typeof rows)[number]) => prior.map((z, c) => Math.max(0, 1 - (r.labels.includes(c) ? 1 : -1) * z) ** 2);
    const batches = [val.slice(0, 4), val.slice(4)];
    const perBatch = batches.map((b) => b.flatMap(hinge).reduce((a, x) => a + x, 0) / (b.length * 3));
    const printed = [...stdout.matchAll(/^batch (\d): rows (\d)-(\d), loss ([\d.]+)$/gm)].map((m) => [Number(m[1]), Number(m[2]), Number(m[3]), Number(m[4])]);
    expect(printed.map((p) => p.slice(0, 3))).toEqual([
      [0, 0, 3],
      [1, 4, 5],
    ]);
    printed.forEach((p, b) => expect(p[3]).toBeCloseTo(perBatch[b]!, 6));
    const overall = (perBatch[0]! * 4 + perBatch[1]! * 2) / 6;
    const metrics = JSON.parse(readFileSync(runFile('runs', 'metrics.json'), 'utf8')) as { loss: number };
    expect(metrics.loss).toBeCloseTo(overall, 12);
    // The guide's own arithmetic.
    const prose = GUIDE.replace(/\s+/g, ' ');
    const z = (-prior[2]!).toFixed(4);
    const [pos, neg] = [((1 - prior[2]!) ** 2).toFixed(6), ((1 + prior[2]!) ** 2).toFixed(6)];
    const [x, y] = perBatch.map((v) => v.toFixed(6));
    expect(prose).toContain(`(1 + ${z})² = ${pos} where it is positive and (1 − ${z})² = ${neg} where not.`);
    expect(prose).toContain(`Batch 0 (rows 0–3) holds two positives of class 2: (8 + 2·${pos} + 2·${neg})/12 = ${x};`);
    expect(prose).toContain(`batch 1 (rows 4–5) none: (4 + 2·${neg})/6 = ${y};`);
    expect(prose).toContain(`(12·${x} + 6·${y})/18 = ${overall.toFixed(6)}.`);
  }, 70_000);

  it('the dataset, the loss and the model train with the built-in train task (batches through the prefetch worker); a linear head does worse', async () => {
    await runGuide(0, 0);
    const metricsFile = runFile('runs', 'metrics.jsonl');
    const lines = readFileSync(metricsFile, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { step?: number; loss?: number; map?: number });
    const steps = lines.filter((l) => l.loss !== undefined);
    // 8 training rows in batches of 4: 2 steps an epoch, 30 epochs, every second step logged.
    expect(steps.map((l) => l.step)).toEqual(Array.from({ length: 30 }, (_, k) => 2 * (k + 1)));
    expect(steps[0]!.loss!).toBeGreaterThan(steps.at(-1)!.loss!);
    const final = JSON.parse(readFileSync(join(dirname(metricsFile), 'metrics.json'), 'utf8')) as { map: number };
    expect(final.map).toBe(1);
    const { stdout } = await runGuide(1, 0);
    expect(Number(/^step=60 map=([\d.]+)$/m.exec(stdout)![1])).toBeLessThan(1);
  }, 70_000);

  it("the strategy: one experience line per user of the continual task's stream, whose steps add up to the task's", async () => {
    const { stdout } = await runGuide(3, 0);
    const final = /^steps=(\d+) users=(\d+) /m.exec(stdout)!;
    const logged = readFileSync(runFile('runs', 'experiences.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, number | string>);
    expect(logged.map((l) => l.experience)).toEqual(Array.from({ length: Number(final[2]) }, (_, k) => k));
    expect(new Set(logged.map((l) => l.user)).size).toBe(logged.length);
    expect(logged.reduce((n, l) => n + Number(l.steps), 0)).toBe(Number(final[1]));
    // The guide shows the file as this run writes it.
    const shown = guideOutputs(GUIDE).find((o) => o.path === 'experiences.jsonl')!.content.trim().split('\n').map((l) => JSON.parse(l) as Record<string, number | string>);
    expect(logged.map(({ mean_loss: _, ...rest }) => rest)).toEqual(shown.map(({ mean_loss: _, ...rest }) => rest));
    // Float32 training steps: the same to 4 decimals on any execution provider.
    logged.forEach((l, i) => expect(l.mean_loss).toBeCloseTo(Number(shown[i]!.mean_loss), 4));
  }, 70_000);

  it('the launcher: runs the jobs in order and stops at the first failure (the rest not started); exit 1', async () => {
    await runGuide(4, 1);
    const summary = JSON.parse(readFileSync(runFile('runs/multirun', 'summary.json'), 'utf8')) as {
      jobs: Array<{ num: number; status: string; error?: string; result?: { loss: number } }>;
    };
    expect(summary.jobs.map((j) => [j.num, j.status])).toEqual([
      [0, 'completed'],
      [1, 'failed'],
      [2, 'not_started'],
    ]);
    expect(summary.jobs[1]!.error).toBe("mylab.csv_features: data/toy.csv has no split 'test' (splits: train, val)");
    expect(readdirSync(join(dir, 'runs', 'multirun'), { recursive: true }).filter((p) => String(p).endsWith('status.json'))).toHaveLength(2);
  }, 70_000);

  it('evaluateLoss checks the loss alone: its value and gradient by hand', async () => {
    const { stdout } = await runGuide(5, 0);
    // ((1 − 0.5)² + max(0, 1 − 2)²)/2 and d/dx = −2·max(0, 1 − s·x)·s/2 per element.
    expect(stdout).toBe(`${(0.5 ** 2 + 0) / 2} [ [ ${(-2 * 0.5) / 2}, 0 ] ]\n`);
  }, 70_000);
});
