// Where the ffmpeg and ffprobe executables come from, first found wins:
//   1. VIDRA_FFMPEG / VIDRA_FFPROBE (the environment beats config: a machine's own build without editing configs);
//   2. the config key (`ffmpeg:` / `ffprobe:` passed by the caller);
//   3. `ffmpeg` / `ffprobe` on PATH;
//   4. the static builds inside the npm packages @ffmpeg-installer/ffmpeg and @ffprobe-installer/ffprobe
//      (shipped in their platform tarballs: nothing is downloaded at install time).

import { execFileSync } from 'node:child_process';
import { accessSync, chmodSync, constants, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { delimiter, join } from 'node:path';
import { VideoError } from './errors.ts';

export type Tool = 'ffmpeg' | 'ffprobe';

export interface ResolvedBinary {
  tool: Tool;
  path: string;
  /** Which rule found it. */
  from: 'env' | 'config' | 'path' | 'npm';
}

const ENV: Record<Tool, string> = { ffmpeg: 'VIDRA_FFMPEG', ffprobe: 'VIDRA_FFPROBE' };
const PACKAGE: Record<Tool, string> = { ffmpeg: '@ffmpeg-installer/ffmpeg', ffprobe: '@ffprobe-installer/ffprobe' };

const isExecutable = (file: string) => {
  try {
    accessSync(file, constants.X_OK);
    return statSync(file).isFile();
  } catch {
    return false;
  }
};

function onPath(tool: Tool, env: NodeJS.ProcessEnv): string | undefined {
  const names = process.platform === 'win32' ? [`${tool}.exe`] : [tool];
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    for (const name of names) if (isExecutable(join(dir, name))) return join(dir, name);
  }
  return undefined;
}

function fromPackage(tool: Tool): string | undefined {
  let path: string;
  try {
    path = (createRequire(import.meta.url)(PACKAGE[tool]) as { path: string }).path;
  } catch {
    return undefined;
  }
  // The packages mark the binary executable in a postinstall script, which npm may not run
  // (install scripts not allowed): the tarball's own mode usually is enough, else set it here.
  if (!isExecutable(path)) {
    try {
      chmodSync(path, 0o755);
    } catch {
      return undefined;
    }
  }
  return isExecutable(path) ? path : undefined;
}

/** The executable of `tool`: see the order above. `configured` is the config key's value (null/undefined: unset). */
export function resolveBinary(tool: Tool, configured?: string | null, env: NodeJS.ProcessEnv = process.env): ResolvedBinary {
  const check = (path: string, from: 'env' | 'config', what: string): ResolvedBinary => {
    if (!isExecutable(path)) throw new VideoError(`${what}='${path}' is not an executable file; point it at a ${tool} binary, or unset it to use ${tool} from PATH or ${PACKAGE[tool]}`);
    return { tool, path, from };
  };
  const fromEnv = env[ENV[tool]];
  if (fromEnv) return check(fromEnv, 'env', ENV[tool]);
  if (configured) return check(configured, 'config', `the ${tool} setting`);
  const found = onPath(tool, env);
  if (found) return { tool, path: found, from: 'path' };
  const shipped = fromPackage(tool);
  if (shipped) return { tool, path: shipped, from: 'npm' };
  throw new VideoError(
    `no ${tool} found: ${ENV[tool]} is unset, no ${tool} on PATH, and the npm package ${PACKAGE[tool]} has no binary for ${process.platform}-${process.arch}; ` +
      `install ${tool} (e.g. apt-get install ffmpeg) or set ${ENV[tool]} to its path`,
  );
}

/** What `<binary> <args>` prints on stdout; a binary that does not run is a VideoError naming it. */
function ask(binary: ResolvedBinary, args: string[]): string {
  try {
    return execFileSync(binary.path, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], maxBuffer: 64 << 20 });
  } catch (err) {
    throw new VideoError(`'${binary.path}' (${binary.tool}, from ${binary.from}) does not run: ${(err as Error).message.split('\n')[0]}`, { cause: err });
  }
}

const versions = new Map<string, string>();

/** The first line of `<binary> -version` ("ffmpeg version N-47683-g0e8eb07980-static …"), for run records. */
export function binaryVersion(binary: ResolvedBinary): string {
  let v = versions.get(binary.path);
  if (v === undefined) {
    v = ask(binary, ['-version']).split('\n')[0]!.trim();
    versions.set(binary.path, v);
  }
  return v;
}

/** A local file as ffmpeg's input: `file:` so that a name like `clip:01.mp4` is not read as a protocol. */
export const inputUrl = (path: string) => `file:${path}`;

const syncOptions = new Map<string, string[]>();

/**
 * ffmpeg's option that keeps every decoded frame once (no duplicates or drops to a constant rate):
 * `-fps_mode passthrough` since ffmpeg 5.1, `-vsync passthrough` before (the npm build is from 2018; ffmpeg 9
 * removed -vsync). Asked of the binary once.
 */
export function passthroughArgs(ffmpeg: ResolvedBinary): string[] {
  let args = syncOptions.get(ffmpeg.path);
  if (!args) {
    const help = ask(ffmpeg, ['-hide_banner', '-h', 'full']);
    args = /^-fps_mode\b/m.test(help) ? ['-fps_mode', 'passthrough'] : ['-vsync', 'passthrough'];
    syncOptions.set(ffmpeg.path, args);
  }
  return args;
}

/** Both tools, resolved once per process and settings. */
export interface Binaries {
  ffmpeg: ResolvedBinary;
  ffprobe: ResolvedBinary;
}

export interface BinaryOptions {
  /** Config keys: explicit paths (the environment variables still win). */
  ffmpeg?: string | null;
  ffprobe?: string | null;
  env?: NodeJS.ProcessEnv;
}

export function resolveBinaries(options: BinaryOptions = {}): Binaries {
  return { ffmpeg: resolveBinary('ffmpeg', options.ffmpeg, options.env), ffprobe: resolveBinary('ffprobe', options.ffprobe, options.env) };
}
