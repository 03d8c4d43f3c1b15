// Small lossless test videos made by the npm-shipped ffmpeg (a known build: the rotate metadata syntax and
// encoders below are the 2018 build's), whose frames encode their own index: every pixel of frame n has
// R = n, G = 255 − n, B = 128 (n < 256).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const require = createRequire(import.meta.url);
export const NPM_FFMPEG: string = require('@ffmpeg-installer/ffmpeg').path;
export const NPM_FFPROBE: string = require('@ffprobe-installer/ffprobe').path;

export function ffmpeg(args: string[]): void {
  execFileSync(NPM_FFMPEG, ['-nostdin', '-v', 'error', '-y', ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
}

/** lavfi source of `frames` frames at `fps`, W×H, encoding the index. */
export const indexSource = (fps: number, frames: number, size = '32x24') => [
  '-f', 'lavfi', '-i', `color=c=black:s=${size}:r=${fps},format=rgb24,geq=r='mod(N,256)':g='255-mod(N,256)':b=128`,
  '-frames:v', String(frames),
];

export const LOSSLESS: Record<string, string[]> = {
  mp4: ['-c:v', 'libx264rgb', '-qp', '0'],
  mkv: ['-c:v', 'ffv1'],
  webm: ['-c:v', 'libvpx-vp9', '-lossless', '1'],
  avi: ['-c:v', 'ffv1'],
};

/** A video of `frames` index-encoding frames at `fps` in `ext`'s container with its lossless codec. */
export function indexVideo(dir: string, name: string, ext: keyof typeof LOSSLESS, fps: number, frames: number, size?: string): string {
  const file = join(dir, `${name}.${ext}`);
  ffmpeg([...indexSource(fps, frames, size), ...LOSSLESS[ext]!, file]);
  return file;
}

export function tempDir(prefix: string): { dir: string; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), `vidra-${prefix}-`));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** The index a decoded frame encodes, or a description of what is wrong with it. */
export function frameIndex(data: Uint8Array, frame: number, width: number, height: number): number | string {
  const bytes = width * height * 3;
  const base = frame * bytes;
  const n = data[base]!;
  for (let p = 0; p < bytes; p += 3) {
    if (data[base + p] !== n || data[base + p + 1] !== 255 - n || data[base + p + 2] !== 128) {
      return `pixel ${p / 3} is (${data[base + p]}, ${data[base + p + 1]}, ${data[base + p + 2]}), not (${n}, ${255 - n}, 128)`;
    }
  }
  return n;
}

export function indicesOf(batch: { data: Uint8Array; frames: number; width: number; height: number }): Array<number | string> {
  return Array.from({ length: batch.frames }, (_, f) => frameIndex(batch.data, f, batch.width, batch.height));
}
