// A requeued or resubmitted Slurm task runs again in its own run directory: what the directory holds stays,
// and status.json keeps the earlier runs in `history` (core/run, without a cluster).
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, test } from 'vitest';
import { startRunDir } from '../../core/run/run-dir.ts';
import type { StatusRecord } from '../../core/run/status.ts';

const root = mkdtempSync(join(tmpdir(), 'vidra-reuse-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const read = (dir: string) => JSON.parse(readFileSync(join(dir, 'status.json'), 'utf8')) as StatusRecord;

test('reuse: the same directory, marked running, earlier records in history, oldest first; its files kept', () => {
  const path = join(root, 'sweep', '0');
  const first = startRunDir(path, 'vidra.sweep.subdir');
  expect(first.dir).toBe(path);
  writeFileSync(join(path, 'checkpoint'), 'step 30');
  first.status.interrupt('SIGTERM');

  const second = startRunDir(path, 'vidra.sweep.subdir', true);
  expect(second.dir).toBe(path);
  expect(read(path)).toMatchObject({ status: 'running', pid: process.pid, history: [{ status: 'interrupted', signal: 'SIGTERM' }] });
  expect(readFileSync(join(path, 'checkpoint'), 'utf8')).toBe('step 30');
  second.status.fail(new Error('boom'));

  const third = startRunDir(path, 'vidra.sweep.subdir', true);
  third.status.complete({ loss: 0.5 });
  const record = read(path);
  expect(record).toMatchObject({ status: 'completed', result: { loss: 0.5 } });
  expect(record.history!.map((h) => [h.status, h.signal ?? h.error?.message])).toEqual([
    ['interrupted', 'SIGTERM'],
    ['failed', 'boom'],
  ]);
  expect(record.history!.every((h) => h.history === undefined)).toBe(true);
  // Without reuse, the same path makes a new directory beside it.
  expect(startRunDir(path, 'vidra.sweep.subdir').dir).toBe(`${path}_1`);
});

test('reuse of a directory that has no status.json yet (the task died before writing one): running, no history', () => {
  const path = join(root, 'empty');
  mkdirSync(path);
  startRunDir(path, 'vidra.sweep.subdir', true);
  const record = read(path);
  expect(record.status).toBe('running');
  expect(record.history).toBeUndefined();
});
