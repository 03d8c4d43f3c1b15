// Where ffmpeg and ffprobe come from: VIDRA_FFMPEG / VIDRA_FFPROBE first, then the config key, then PATH,
// then the static builds of the npm installer packages; the version strings tasks record.
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { passthroughArgs } from '../../core/video/binaries.ts';
import { binaryVersion, resolveBinaries, resolveBinary, VideoError, VideoSource } from '../../core/video/index.ts';
import { indexVideo, indicesOf, NPM_FFMPEG, NPM_FFPROBE, tempDir } from './fixtures.ts';

const tmp = tempDir('binaries');
afterAll(() => tmp.remove());

/** An executable shell script `dir/name` that prints a version line. */
function fake(dir: string, name: string, version: string): string {
  mkdirSync(dir, { recursive: true });
  const file = join(dir, name);
  writeFileSync(file, `#!/bin/sh\necho "${version}"\n`);
  chmodSync(file, 0o755);
  return file;
}

describe('binary lookup order', () => {
  const envBin = fake(join(tmp.dir, 'env'), 'ffmpeg', 'ffmpeg version from-env');
  const configBin = fake(join(tmp.dir, 'config'), 'ffmpeg', 'ffmpeg version from-config');
  const pathDir = join(tmp.dir, 'path');
  fake(pathDir, 'ffmpeg', 'ffmpeg version from-path');
  fake(pathDir, 'ffprobe', 'ffprobe version from-path');
  const emptyDir = join(tmp.dir, 'empty');
  mkdirSync(emptyDir);

  it('the environment variable wins over the config key and PATH', () => {
    const b = resolveBinary('ffmpeg', configBin, { VIDRA_FFMPEG: envBin, PATH: pathDir });
    expect(b).toEqual({ tool: 'ffmpeg', path: envBin, from: 'env' });
    expect(binaryVersion(b)).toBe('ffmpeg version from-env');
  });

  it('then the config key, then PATH', () => {
    expect(resolveBinary('ffmpeg', configBin, { PATH: pathDir })).toEqual({ tool: 'ffmpeg', path: configBin, from: 'config' });
    expect(resolveBinary('ffmpeg', null, { PATH: pathDir })).toEqual({ tool: 'ffmpeg', path: join(pathDir, 'ffmpeg'), from: 'path' });
    expect(resolveBinaries({ env: { PATH: pathDir } }).ffprobe).toEqual({ tool: 'ffprobe', path: join(pathDir, 'ffprobe'), from: 'path' });
  });

  it('with none of them, the static builds of @ffmpeg-installer/ffmpeg and @ffprobe-installer/ffprobe', () => {
    const b = resolveBinaries({ env: { PATH: emptyDir } });
    expect(b.ffmpeg).toEqual({ tool: 'ffmpeg', path: NPM_FFMPEG, from: 'npm' });
    expect(b.ffprobe).toEqual({ tool: 'ffprobe', path: NPM_FFPROBE, from: 'npm' });
    expect(existsSync(NPM_FFMPEG)).toBe(true);
    // The 2018 johnvansickle.com static build that @ffmpeg-installer/linux-x64 4.1.0 carries.
    expect(binaryVersion(b.ffmpeg)).toMatch(/^ffmpeg version N-47683-g0e8eb07980-static https:\/\/johnvansickle\.com\/ffmpeg\/ {2}Copyright \(c\) 2000-2018 the FFmpeg developers$/);
    expect(binaryVersion(b.ffprobe)).toMatch(/^ffprobe version \S+-static /);
  });

  it('a variable or key that names no executable is an error saying which', () => {
    const missing = join(tmp.dir, 'nothing-here');
    expect(() => resolveBinary('ffprobe', null, { VIDRA_FFPROBE: missing, PATH: pathDir })).toThrow(
      new VideoError(`VIDRA_FFPROBE='${missing}' is not an executable file; point it at a ffprobe binary, or unset it to use ffprobe from PATH or @ffprobe-installer/ffprobe`),
    );
    const notExec = join(tmp.dir, 'plain.txt');
    writeFileSync(notExec, 'x');
    expect(() => resolveBinary('ffmpeg', notExec, { PATH: pathDir })).toThrow(
      new VideoError(`the ffmpeg setting='${notExec}' is not an executable file; point it at a ffmpeg binary, or unset it to use ffmpeg from PATH or @ffmpeg-installer/ffmpeg`),
    );
  });

  it('frame timing passthrough: -vsync for the 2018 npm build, -fps_mode where the binary has it (ffmpeg ≥ 5.1; 9 dropped -vsync)', () => {
    expect(passthroughArgs({ tool: 'ffmpeg', path: NPM_FFMPEG, from: 'npm' })).toEqual(['-vsync', 'passthrough']);
    const modern = join(tmp.dir, 'modern', 'ffmpeg');
    mkdirSync(join(tmp.dir, 'modern'));
    writeFileSync(modern, '#!/bin/sh\nprintf -- "-fps_mode[:<stream_spec>]  set framerate mode for matching video streams\\n"\n');
    chmodSync(modern, 0o755);
    expect(passthroughArgs({ tool: 'ffmpeg', path: modern, from: 'env' })).toEqual(['-fps_mode', 'passthrough']);
  });

  it('a source decodes with the binary the environment names', async () => {
    const log = join(tmp.dir, 'calls.log');
    const wrapper = join(tmp.dir, 'wrapped-ffmpeg');
    writeFileSync(wrapper, `#!/bin/sh\necho "$1 $2 $3" >> '${log}'\nexec '${NPM_FFMPEG}' "$@"\n`);
    chmodSync(wrapper, 0o755);
    const file = indexVideo(tmp.dir, 'w', 'mkv', 25, 5);
    const v = await VideoSource.open(file, { env: { VIDRA_FFMPEG: wrapper, PATH: emptyDir } });
    expect(v.binaries.ffmpeg.from).toBe('env');
    expect(indicesOf(await v.getBatch([4, 0]))).toEqual([4, 0]);
    // Once asked which passthrough option it has, once to decode.
    expect(readFileSync(log, 'utf8')).toBe('-hide_banner -h full\n-nostdin -hide_banner -loglevel\n');
  });
});
