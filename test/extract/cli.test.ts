// task=extract_features end to end through the real CLI on the repository's conf/: the HDF5 file read back
// by the features reader, failed videos, errors before any run directory, resuming after a kill, and
// sharded runs (in parallel, then merged) equal to one unsharded run.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FeatureFile, loadHdf5 } from '../../plugins/datasets/formats/hdf5-features.ts';
import { projectJobs, type ProfileReport } from '../../plugins/tasks/extract/profile.ts';
import { BIN, REPO } from '../helpers/project.ts';
import { toHtml } from '../../core/report/html.ts';
import { loadReport } from '../../core/report/model.ts';
import { reportTable } from '../../core/report/table.ts';
import { toCsv, toMarkdown } from '../../core/report/text-formats.ts';
import { ffmpeg, indexVideo, tempDir } from '../video/fixtures.ts';
import { featureContents, probeOverrides, rowFrames, writeProbeModel } from './probe.ts';

let tmp: ReturnType<typeof tempDir>;
let base: string[];

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the CLI in the scratch dir; `watch` sees stdout + stderr as they grow (the log, the progress lines). */
function vidra(args: string[], watch?: (text: string, kill: (signal?: NodeJS.Signals) => void) => void): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, 'run', '-cp', join(REPO, 'conf'), ...args], { cwd: tmp.dir, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let sent = false;
    const kill = (signal: NodeJS.Signals = 'SIGKILL') => {
      if (!sent) child.kill(signal);
      sent = true;
    };
    child.stdout.on('data', (d) => {
      stdout += d;
      watch?.(stdout + stderr, kill);
    });
    child.stderr.on('data', (d) => {
      stderr += d;
      watch?.(stdout + stderr, kill);
    });
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

const contents = featureContents;

beforeAll(() => {
  tmp = tempDir('extract-cli');
  writeProbeModel(join(tmp.dir, 'probe.onnx'), 4, 16);
  const v = join(tmp.dir, 'videos');
  mkdirSync(v);
  for (const [name, ext, fps, n] of [['a', 'mp4', 30, 40], ['b', 'mkv', 25, 50], ['c', 'mp4', 30, 70], ['d', 'webm', 30, 30], ['e', 'mp4', 60, 64]] as const) {
    indexVideo(v, name, ext, fps, n);
  }
  base = [...probeOverrides(join(tmp.dir, 'probe.onnx'), 4), 'task=extract_features', 'io.video_dir=videos', 'window.stride=4', 'task.batch_size=2'];
});
afterAll(() => tmp?.remove());

describe('vidra run task=extract_features', () => {
  it('writes one dataset per uid with its attributes, readable by the features reader, with exact frames', async () => {
    const r = await vidra([...base, 'io.out_path=all.h5']);
    expect(r.stdout).toContain('features of 5 videos (59 windows) written to');
    expect(r.stdout).toMatch(/^videos 5\/5 e: 8 windows, [\d.]+ windows\/s, decode \d+ fps \([\d.]+ videos\/s, ETA 0:00\)$/m);
    expect(r.code).toBe(0);
    const f = await FeatureFile.open(join(tmp.dir, 'all.h5'));
    try {
      expect([...f.keys].sort()).toEqual(['a', 'b', 'c', 'd', 'e']);
      // window.fps=30: a 40 frames, b 2 s → 60, c 70, d 30, e 64 frames at 60 → 32.
      expect(['a', 'b', 'c', 'd', 'e'].map((k) => f.info(k).rows)).toEqual([10, 15, 18, 8, 8]);
      const a = f.readAll('a');
      expect(Array.from({ length: 10 }, (_, i) => rowFrames(a.subarray(i * 12, i * 12 + 12), 4)[0])).toEqual([0, 4, 8, 12, 16, 20, 24, 28, 32, 36]);
    } finally {
      f.close();
    }
    const { h5 } = await loadHdf5();
    const file = new h5.File(join(tmp.dir, 'all.h5'), 'r');
    const attrs = Object.fromEntries(Object.entries((file.get('b') as InstanceType<typeof h5.Dataset>).attrs).map(([k, a]) => [k, a.value]));
    file.close();
    const hash = `sha256:${createHash('sha256').update(readFileSync(join(tmp.dir, 'probe.onnx'))).digest('hex')}`;
    expect({ ...attrs, window_start_sec: Array.from(attrs.window_start_sec as Float64Array).slice(0, 3), window_end_sec: Array.from(attrs.window_end_sec as Float64Array).slice(-1) }).toEqual({
      backbone: 'probe',
      backbone_hash: hash,
      vidra_version: JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')).version,
      fps: 30,
      frames: 4,
      stride: 4,
      num_frames: 50,
      window_start_sec: [0, 4 / 30, 8 / 30],
      window_end_sec: [2],
    });
  }, 60_000);

  it('an unreadable video fails alone: failed_videos.json names it with its reason, the others finish, exit 1', async () => {
    writeFileSync(join(tmp.dir, 'bad.csv'), 'uid,path\na,videos/a.mp4\naudio,audio.mp4\nbroken,broken.mp4\nmissing,nowhere.mp4\n');
    writeFileSync(join(tmp.dir, 'broken.mp4'), 'this is not a video');
    ffmpeg(['-f', 'lavfi', '-i', 'sine=d=1', join(tmp.dir, 'audio.mp4')]);
    const r = await vidra([...base, 'io.manifest=bad.csv', 'io.out_path=bad.h5']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('job failed: 3 of 4 videos failed (the others are in');
    expect(r.stderr).toContain(`\n  audio: video '${join(tmp.dir, 'audio.mp4')}': has no video stream (container mov,mp4,m4a,3gp,3g2,mj2)`);
    expect(r.stderr).toMatch(/\n {2}broken: .*broken\.mp4/);
    expect(r.stderr).toMatch(/\n {2}missing: video '.*nowhere\.mp4' does not exist \(ENOENT\)/);
    const runDir = /run directory: (\S+)/.exec(r.stderr)![1]!;
    const failed = JSON.parse(readFileSync(join(tmp.dir, runDir, 'failed_videos.json'), 'utf8')) as Array<{ uid: string; reason: string }>;
    expect(failed.map((f) => f.uid)).toEqual(['audio', 'broken', 'missing']);
    expect(Object.keys(await contents(join(tmp.dir, 'bad.h5')))).toEqual(['a']);

    // vidra report on the run: its throughput (over the run's duration_s) and the failed videos with their reasons.
    const data = loadReport([runDir], tmp.dir);
    const job = data.sources[0]!.jobs[0]!;
    const seconds = (JSON.parse(readFileSync(join(tmp.dir, runDir, 'status.json'), 'utf8')) as { duration_s: number }).duration_s;
    expect(job.final).toEqual({ videos: 4, skipped: 0, extracted: 1, failed: 3, windows: 10, windows_per_s: 10 / seconds, videos_per_s: 1 / seconds });
    expect(job.failedVideos).toEqual(failed.map((f) => ({ uid: f.uid, reason: f.reason })));
    // The table every format shares (after the run's overrides): the metrics, then failed_videos and the error.
    const table = reportTable(data);
    const from = table.columns.indexOf('videos');
    expect(table.columns.slice(from)).toEqual(['videos', 'skipped', 'extracted', 'failed', 'windows', 'windows_per_s', 'videos_per_s', 'failed_videos', 'error']);
    const reasons = failed.map((f) => `${f.uid}: ${f.reason}`).join('; ');
    expect(table.rows[0]!.slice(from, -1)).toEqual([4, 0, 1, 3, 10, 10 / seconds, 1 / seconds, reasons]);
    expect(toCsv(data)).toContain(`,4,0,1,3,10,${10 / seconds},${1 / seconds},${reasons.includes(',') ? `"${reasons}"` : reasons},`);
    expect(toMarkdown(data)).toContain(`| 4 | 0 | 1 | 3 | 10 | ${Number((10 / seconds).toPrecision(6))} | ${Number((1 / seconds).toPrecision(6))} | ${reasons.replace(/\|/g, '\\|')} |`);
    // The HTML page renders the same table from the model it embeds.
    expect(toHtml(data)).toContain('"failedVideos":[{"uid":"audio","reason":"video ');
  }, 60_000);

  it('bad configuration exits 2 before any run directory', async () => {
    const cases: Array<[string[], string]> = [
      [['io.uid_list=[a,zz]'], "io.uid_list: 'zz' is not in the input (io.video_dir=videos: 5 videos)"],
      [['schedule.num_shards=2', 'schedule.shard=2'], 'schedule.shard=2 is out of range: the plan has 2 shards (0..1)'],
      [['schedule.max_minutes_per_shard=0.035', 'schedule.shard=0'], "video 'c' (estimated 0.04 min) alone exceeds schedule.max_minutes_per_shard=0.035; raise the limit"],
      [['schedule.shard=1'], 'schedule.shard=1 needs schedule.num_shards or schedule.max_minutes_per_shard'],
      [['schedule.num_shards=2', 'schedule.shard=all'], 'schedule.shard=all runs each of the 2 shards as its own job: use it with -m (vidra run -m ... schedule.shard=all), or choose one shard (schedule.shard=0..1)'],
      [['window.frames=8'], 'window.frames=8 but model.backbone.frames=4: the backbone takes clips of 4 frames'],
    ];
    for (const [extra, message] of cases) {
      const r = await vidra([...base, 'io.out_path=never.h5', 'vidra.run.dir=runs/never', ...extra]);
      expect(r.stderr).toContain(message);
      expect(r.code).toBe(2);
    }
    expect(existsSync(join(tmp.dir, 'runs', 'never'))).toBe(false);
    expect(existsSync(join(tmp.dir, 'never.h5'))).toBe(false);
  }, 60_000);

  it('killed mid-extraction, a rerun skips the finished videos and gives the same file as one run', async () => {
    const killed = await vidra([...base, 'io.out_path=resume.h5', 'task.batch_size=1'], (text, kill) => {
      if (text.includes('videos 2/5 ')) kill();
    });
    expect(killed.code).toBe(null);
    const partial = Object.keys(await contents(join(tmp.dir, 'resume.h5')));
    expect(partial.length).toBeGreaterThanOrEqual(2);
    expect(partial.length).toBeLessThan(5);
    const rerun = await vidra([...base, 'io.out_path=resume.h5']);
    expect(rerun.code).toBe(0);
    expect(rerun.stdout).toContain(`5 videos, ${partial.length} already in`);
    expect(await contents(join(tmp.dir, 'resume.h5'))).toEqual(await contents(join(tmp.dir, 'all.h5')));
    // Ctrl-C mid-video: the run is marked interrupted and the file holds whole videos only.
    const interrupted = await vidra([...base, 'io.out_path=sigint.h5', 'task.batch_size=1'], (text, kill) => {
      if (text.includes('videos 1/5 ')) kill('SIGINT');
    });
    const runDir = /run directory: (\S+)/.exec(interrupted.stdout + interrupted.stderr)![1]!;
    expect(JSON.parse(readFileSync(join(runDir, 'status.json'), 'utf8')).status).toBe('interrupted');
    const kept = await contents(join(tmp.dir, 'sigint.h5'));
    const whole = await contents(join(tmp.dir, 'all.h5'));
    expect(Object.keys(kept).length).toBeGreaterThanOrEqual(1);
    for (const [k, v] of Object.entries(kept)) expect(v).toEqual(whole[k]);
    // io.filter_completed=false redoes them.
    const redo = await vidra([...base, 'io.out_path=resume.h5', 'io.filter_completed=false', 'io.uid_list=[a]']);
    expect(redo.stdout).toContain('1 videos, 0 already in');
    expect(Object.keys(await contents(join(tmp.dir, 'resume.h5')))).toEqual(['a']);
  }, 120_000);

  it('sharded runs in parallel, merged, equal one unsharded run', async () => {
    const m = await vidra(['-m', ...base, 'io.out_path=sharded.h5', 'schedule.num_shards=3', 'schedule.shard=range(0,3)', 'vidra/launcher=local_parallel']);
    expect(m.code).toBe(0);
    const parts = [0, 1, 2].map((k) => join(tmp.dir, `sharded.shard-${k}-of-3.h5`));
    const seen = (await Promise.all(parts.map(async (p) => Object.keys(await contents(p))))).flat().sort();
    expect(seen).toEqual(['a', 'b', 'c', 'd', 'e']);
    const merged = await vidra([...base, 'io.out_path=sharded.h5', 'schedule.num_shards=3', 'schedule.merge=true']);
    expect(merged.code).toBe(0);
    expect(await contents(join(tmp.dir, 'sharded.h5'))).toEqual(await contents(join(tmp.dir, 'all.h5')));
  }, 180_000);

  it('-m schedule.shard=all expands to one job per shard of the plan', async () => {
    const m = await vidra(['-m', ...base, 'io.uid_list=[a,c]', 'io.out_path=every.h5', 'schedule.num_shards=2', 'schedule.shard=all']);
    expect(m.code).toBe(0);
    expect(m.stdout + m.stderr).toMatch(/schedule\.shard=0[\s\S]*schedule\.shard=1/);
    const files = [0, 1].map((k) => join(tmp.dir, `every.shard-${k}-of-2.h5`));
    const whole = await contents(join(tmp.dir, 'all.h5'));
    const got = Object.assign({}, ...(await Promise.all(files.map((f) => contents(f)))));
    expect(got).toEqual({ a: whole.a, c: whole.c });
    expect(existsSync(join(tmp.dir, 'every.shard-2-of-2.h5'))).toBe(false);
  }, 120_000);

  it('task=profile times each stage, projects the whole list, and its profile.json prices shards', async () => {
    const r = await vidra([...base, 'task=profile', 'profile.num_videos=2', 'profile.target_hours=0.0000001']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/\nmodel \(s\) +[\d.]+ +[\d.]+%\n/);
    const runDir = /run directory: (\S+)/.exec(r.stderr + r.stdout)![1]!;
    const profile = JSON.parse(readFileSync(join(runDir.startsWith('/') ? '' : tmp.dir, runDir, 'profile.json'), 'utf8')) as ProfileReport;
    expect(Object.keys(profile.stages_sec)).toEqual(['probe', 'decode', 'preprocess', 'model', 'write']);
    expect(profile.videos).toHaveLength(2);
    expect(profile.windows).toBe(profile.videos.reduce((s, v) => s + v.windows, 0));
    expect(profile.seconds_per_window).toBeCloseTo(profile.seconds / profile.windows, 12);
    // The five inputs hold 59 windows (as extracted above); the projection counts them from the container's
    // duration (at most one window more per video), priced at the measured rate.
    expect(profile.projection.videos).toBe(5);
    expect(profile.projection.windows).toBeGreaterThanOrEqual(59);
    expect(profile.projection.windows).toBeLessThanOrEqual(64);
    expect(profile.projection.compute_hours).toBeCloseTo((profile.projection.windows * profile.seconds_per_window) / 3600, 12);
    expect(profile.projection).toMatchObject(projectJobs(profile.projection.compute_hours, 0.0000001));
    expect(r.stdout).toMatch(new RegExp(`\\narray jobs \\(≤ 1e-7 h\\) +${profile.projection.array_jobs}\\n`));
    const { max_minutes_per_shard: perShard, time_limit_minutes: limit } = profile.projection;
    expect(r.stdout).toContain(
      `shard settings (vidra run -m task=extract_features ...):\n  schedule.profile=${join(runDir.startsWith('/') ? '' : tmp.dir, runDir, 'profile.json')} schedule.max_minutes_per_shard=${perShard} schedule.shard=all vidra/launcher=slurm vidra.launcher.timeout_min=${limit}\n`,
    );

    const p = join(tmp.dir, 'profile.json');
    writeFileSync(p, JSON.stringify({ ...profile, seconds_per_window: 1 }));
    const over = await vidra([...base, `schedule.profile=${p}`, 'schedule.max_minutes_per_shard=0.25', 'schedule.shard=0', 'io.out_path=never.h5']);
    expect(over.stderr).toContain("video 'c' (estimated 0.3 min) alone exceeds schedule.max_minutes_per_shard=0.25; raise the limit");
    expect(over.code).toBe(2);
  }, 60_000);
});

describe('projectJobs', () => {
  it('splits compute hours into array jobs within the target, each with a quarter of margin', () => {
    expect(projectJobs(10, 4)).toEqual({ array_jobs: 3, max_minutes_per_shard: 200, time_limit_minutes: 250 });
    expect(projectJobs(0.5, 4)).toEqual({ array_jobs: 1, max_minutes_per_shard: 30, time_limit_minutes: 38 });
  });
});
