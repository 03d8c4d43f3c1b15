// Runs the real CLI on the repository's own conf/ in a scratch directory: how the experiment tests run
// the bundled experiments end to end (synthetic data is generated into the scratch dir's .cache once).
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BIN, REPO } from './project.ts';

export interface ExperimentDir {
  dir: string;
  /** `watch` sees stdout + stderr as they grow, with the process (to signal it). */
  vidra(args: string[], watch?: (text: string, child: ChildProcess) => void): Promise<{ code: number | null; stdout: string; stderr: string }>;
  read(path: string): string;
}

export function experimentDir(prefix: string): ExperimentDir {
  const dir = mkdtempSync(join(tmpdir(), `vidra-${prefix}-`));
  return {
    dir,
    vidra: (args, watch) =>
      new Promise((resolve) => {
        const child = spawn(process.execPath, [BIN, 'run', '-cp', join(REPO, 'conf'), ...args], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
        let stdout = '';
        let stderr = '';
        child.stdout.on('data', (d) => {
          stdout += d;
          watch?.(stdout + stderr, child);
        });
        child.stderr.on('data', (d) => {
          stderr += d;
          watch?.(stdout + stderr, child);
        });
        child.on('close', (code) => resolve({ code, stdout, stderr }));
      }),
    read: (p) => readFileSync(join(dir, p), 'utf8'),
  };
}

/** metrics.jsonl without its timestamps (what two identical runs share byte for byte). */
export const withoutTime = (jsonl: string) => jsonl.replace(/,"time":"[^"]*"/g, '');
export const jsonLines = (jsonl: string) => jsonl.trimEnd().split('\n').map((l) => JSON.parse(l) as Record<string, number | string | null>);
