import { appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { clearBar, consoleLevel } from './progress.ts';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

/**
 * A job's logger: every line goes to `<output dir>/job.log` (appended synchronously, so a crash
 * loses nothing) and to the console. Vidra never touches a global logger. A log file that cannot be
 * written (a full disk) is said once on the console; logging never fails the job or hides its error.
 */
export class JobLogger {
  readonly file: string;
  private fileFailed = false;

  constructor(
    dir: string,
    private readonly options: { prefix?: string; verbose?: boolean; console?: boolean } = {},
  ) {
    this.file = join(dir, 'job.log');
  }

  debug(msg: string): void {
    this.write('debug', msg);
  }
  info(msg: string): void {
    this.write('info', msg);
  }
  warn(msg: string): void {
    this.write('warn', msg);
  }
  error(msg: string): void {
    this.write('error', msg);
  }

  /** To job.log only: what a progress bar shows on the console meanwhile. */
  fileOnly(msg: string): void {
    this.write('info', msg, false);
  }

  private write(level: LogLevel, msg: string, toConsole = true): void {
    const line = `[${new Date().toISOString()}][${level.toUpperCase()}] ${msg}`;
    try {
      if (!this.fileFailed) appendFileSync(this.file, `${line}\n`);
    } catch (err) {
      this.fileFailed = true;
      process.stderr.write(`${this.options.prefix ? `${this.options.prefix} ` : ''}cannot write ${this.file} (${(err as Error).message}): log lines go to the console only\n`);
    }
    // --quiet: errors only; --verbose: debug lines too.
    const shown = consoleLevel() === 'quiet' ? level === 'error' : level !== 'debug' || this.options.verbose || consoleLevel() === 'verbose';
    if (!toConsole || this.options.console === false || !shown) return;
    clearBar();
    const text = this.options.prefix ? `${this.options.prefix} ${msg}` : msg;
    (level === 'error' || level === 'warn' ? process.stderr : process.stdout).write(`${text}\n`);
  }
}
