// A Node script run as a subprocess (the vidra CLI, tsx, tsc) the way a user's shell runs it: without the
// test runner's loader flags or Vidra's debugging and data switches, killed if it hangs.
import { spawn } from 'node:child_process';

export interface ExecResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function execNode(file: string, args: readonly string[], cwd: string, timeoutMs: number): Promise<ExecResult> {
  const env: Record<string, string | undefined> = { ...process.env, NODE_OPTIONS: undefined, VIDRA_FULL_ERROR: undefined, VIDRA_DATA: undefined };
  for (const k of Object.keys(env)) if (env[k] === undefined) delete env[k];
  const child = spawn(process.execPath, [file, ...args], { cwd, env: env as NodeJS.ProcessEnv, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  return new Promise((done) =>
    child.on('close', (code) => {
      clearTimeout(timer);
      done({ code, stdout, stderr });
    }),
  );
}
