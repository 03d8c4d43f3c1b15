// `npm run bench` (video part): decoding speed of Vidra's video source (one ffmpeg process streaming rgb24
// frames through a pipe into Node buffers, VideoSource.frames()) against the ffmpeg CLI alone decoding the
// same file to rgb24 rawvideo into /dev/null, on a 1080p and a 360p H.264 file that the bench generates
// (4 s, 25 fps, libx264 yuv420p). Same ffmpeg binary for both (binary lookup: VIDRA_FFMPEG, PATH, npm
// build). tinybench medians; target: Vidra ≥ 90% of the CLI's frames/s. A third reader, the same ffmpeg
// command piped into `cat > /dev/null`, is the ceiling of any reader of a pipe (two kernel copies per frame
// that /dev/null does not make): the README compares Vidra with it.
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Bench } from 'tinybench';
import { binaryVersion, resolveBinaries, VideoSource } from '../dist/index.js';

const dir = mkdtempSync(join(tmpdir(), 'vidra-bench-video-'));
const SECONDS = 4;
const FPS = 25;
const sizes = { '1080p': '1920x1080', '360p': '640x360' };

const { ffmpeg } = resolveBinaries();

const sources = {};
for (const [name, size] of Object.entries(sizes)) {
  const file = join(dir, `${name}.mp4`);
  execFileSync(ffmpeg.path, ['-nostdin', '-v', 'error', '-y', '-f', 'lavfi', '-i', `testsrc2=s=${size}:r=${FPS}:d=${SECONDS}`, '-c:v', 'libx264', '-preset', 'veryfast', '-pix_fmt', 'yuv420p', file]);
  sources[name] = await VideoSource.open(file);
}

function cli(file) {
  return new Promise((resolve, reject) => {
    const p = spawn(ffmpeg.path, ['-nostdin', '-hide_banner', '-loglevel', 'error', '-i', file, '-map', '0:v:0', '-vsync', 'passthrough', '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-y', '/dev/null'], { stdio: 'ignore' });
    p.on('error', reject);
    p.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`ffmpeg exited ${code}`))));
  });
}

function cat(file) {
  return new Promise((resolve, reject) => {
    const p = spawn('sh', ['-c', '"$0" "$@" | cat > /dev/null', ffmpeg.path, '-nostdin', '-hide_banner', '-loglevel', 'error', '-i', file, '-map', '0:v:0', '-vsync', 'passthrough', '-f', 'rawvideo', '-pix_fmt', 'rgb24', 'pipe:1'], { stdio: 'ignore' });
    p.on('error', reject);
    p.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`ffmpeg | cat exited ${code}`))));
  });
}

async function vidra(source) {
  let n = 0;
  for await (const f of source.frames()) n += f.data.length > 0 ? 1 : 0;
  if (n !== source.length) throw new Error(`read ${n} of ${source.length} frames`);
}

// The readers of a file alternate (one tinybench sample each per round), so that the load of a shared
// machine drifting during the bench weighs on both alike; each round's Vidra/CLI ratio is paired.
const ROUNDS = 9;
const bench = new Bench({ name: 'video decode', time: 0, iterations: 1, warmup: false });
const names = (name) => [`${name} ffmpeg CLI → /dev/null`, `${name} Vidra VideoSource.frames()`, `${name} ffmpeg CLI | cat`];
for (const [name, source] of Object.entries(sources)) {
  const [c, v, p] = names(name);
  bench.add(c, () => cli(source.path));
  bench.add(v, () => vidra(source));
  bench.add(p, () => cat(source.path));
}
await Promise.all(Object.values(sources).map((s) => Promise.all([cli(s.path), vidra(s)]))); // warm-up
const ms = new Map(bench.tasks.map((t) => [t.name, []]));
for (let r = 0; r < ROUNDS; r++) {
  bench.reset();
  await bench.run();
  for (const t of bench.tasks) ms.get(t.name).push(t.result.latency.mean);
}
rmSync(dir, { recursive: true, force: true });

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
console.log(`${bench.name} on node ${process.version}: ${binaryVersion(ffmpeg)} (${ffmpeg.from}); ${SECONDS} s at ${FPS} fps per file, medians of ${ROUNDS} rounds`);
const rows = [];
for (const [name, source] of Object.entries(sources)) {
  const [c, v, p] = names(name).map((t) => ms.get(t));
  const cliFps = source.length / (median(c) / 1000);
  const vidraFps = source.length / (median(v) / 1000);
  const pipeFps = source.length / (median(p) / 1000);
  rows.push({
    video: `${name} (${source.width}x${source.height}, ${source.length} frames)`,
    'ffmpeg CLI frames/s': +cliFps.toFixed(1),
    'Vidra frames/s': +vidraFps.toFixed(1),
    'Vidra / CLI': +(vidraFps / cliFps).toFixed(3),
    'paired ratio (median)': +median(c.map((x, i) => x / v[i])).toFixed(3),
    'CLI | cat / CLI (pipe ceiling)': +(pipeFps / cliFps).toFixed(3),
  });
}
console.table(rows);
