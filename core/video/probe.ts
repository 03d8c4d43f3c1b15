// What ffprobe says about a video, and the presentation time of every frame. Frame i is the i-th frame the
// decoder outputs, in presentation order; its time comes from the packets' real pts (sorted: decode order
// differs with B-frames), so variable-frame-rate files map exactly. Packets the demuxer marks discard
// (flag D: before an mp4 edit list's start) produce no frame and are left out.

import { execFile } from 'node:child_process';
import { inputUrl, type ResolvedBinary } from './binaries.ts';
import { VideoError } from './errors.ts';

export interface VideoMeta {
  path: string;
  /** ffprobe's format name, e.g. "mov,mp4,m4a,3gp,3g2,mj2". */
  container: string;
  codec: string;
  /** Displayed size: after the rotation, as ffmpeg's autorotate delivers the frames. */
  width: number;
  height: number;
  /** Counterclockwise degrees of the display matrix (0, 90, 180, 270), as ffprobe reports it; already applied to the frames. */
  rotation: number;
  /** The constant rate, or for variable-rate video ffprobe's avg_frame_rate (else frames / duration). */
  fps: number;
  /** Seconds from the first frame's start to the last frame's end. */
  duration: number;
  frameCount: number;
  /** Presentation time of each frame in seconds, relative to the file's start time (what ffmpeg's -ss counts from). */
  timestamps: number[];
  /** False when the pts are a constant rate's grid (up to the time base's rounding); their times are then snapped to it. */
  variableFrameRate: boolean;
}

interface ProbeJson {
  packets?: Array<{ pts_time?: string; duration_time?: string; flags?: string }>;
  frames?: Array<{ best_effort_timestamp_time?: string; pkt_duration_time?: string; duration_time?: string }>;
  streams?: Array<{
    codec_name?: string;
    codec_tag_string?: string;
    width?: number;
    height?: number;
    avg_frame_rate?: string;
    r_frame_rate?: string;
    time_base?: string;
    tags?: { rotate?: string };
    side_data_list?: Array<{ rotation?: number }>;
  }>;
  format?: { format_name?: string; start_time?: string; duration?: string };
}

function run(binary: ResolvedBinary, args: string[], path: string): Promise<ProbeJson> {
  return new Promise((resolve, reject) => {
    execFile(binary.path, args, { maxBuffer: 1 << 30, encoding: 'utf8' }, (err, stdout, stderr) => {
      if (err) {
        const reason = stderr.trim().split('\n').pop()?.replace(`${inputUrl(path)}: `, '') || err.message;
        reject(new VideoError(`video '${path}': ffprobe cannot read it: ${reason}`, { cause: err }));
        return;
      }
      try {
        resolve(JSON.parse(stdout) as ProbeJson);
      } catch (e) {
        reject(new VideoError(`video '${path}': ffprobe gave no readable answer (${(e as Error).message})`, { cause: e }));
      }
    });
  });
}

const rate = (r: string | undefined): number => {
  if (!r) return NaN;
  const [n, d] = r.split('/').map(Number);
  return d ? n! / d : Number(n);
};

export async function probeVideo(path: string, ffprobe: ResolvedBinary): Promise<VideoMeta> {
  const common = ['-v', 'error', '-select_streams', 'v:0', '-of', 'json'];
  const streamEntries = 'stream=codec_name,codec_tag_string,width,height,avg_frame_rate,r_frame_rate,time_base:stream_tags=rotate:stream_side_data=rotation:format=format_name,start_time,duration';
  const info = await run(ffprobe, [...common, '-show_entries', `${streamEntries}:packet=pts_time,duration_time,flags`, '-i', inputUrl(path)], path);
  const stream = info.streams?.[0];
  if (!stream) throw new VideoError(`video '${path}': has no video stream (container ${info.format?.format_name ?? 'unknown'})`);
  if (!stream.codec_name) {
    throw new VideoError(`video '${path}': unsupported codec${stream.codec_tag_string ? ` (tag ${stream.codec_tag_string})` : ''}: ffprobe does not know its video stream's codec; re-encode it (e.g. to H.264)`);
  }
  const start = Number(info.format?.start_time ?? 0) || 0;
  let times: Array<{ t: number; d: number }> = (info.packets ?? [])
    .filter((p) => !p.flags?.includes('D'))
    .map((p) => ({ t: Number(p.pts_time), d: Number(p.duration_time) }));
  if (times.some((x) => !Number.isFinite(x.t))) {
    // Packets without pts (some AVI/raw streams): ask the decoder for the frames' times instead (slower: it decodes).
    const decoded = await run(ffprobe, [...common, '-show_entries', 'frame=best_effort_timestamp_time,pkt_duration_time,duration_time', '-i', inputUrl(path)], path);
    times = (decoded.frames ?? []).map((f) => ({ t: Number(f.best_effort_timestamp_time), d: Number(f.duration_time ?? f.pkt_duration_time) }));
    if (times.some((x) => !Number.isFinite(x.t))) throw new VideoError(`video '${path}': its frames have no timestamps; remux it (ffmpeg -i in -c copy out.mkv)`);
  }
  if (times.length === 0) throw new VideoError(`video '${path}': has no video frames (its ${stream.codec_name} stream is empty)`);
  times.sort((a, b) => a.t - b.t);
  let timestamps = times.map((x) => x.t - start);
  const n = timestamps.length;
  // A constant rate stored in a coarse time base (Matroska's 1 ms: 60 fps is 0, 17, 33, 50 ms, …) is the exact
  // grid t0 + i/fps again, so that resampling does not inherit the rounding. Else the times are variable.
  const tick = rate(stream.time_base);
  const slack = (Number.isFinite(tick) ? tick / 2 : 0) + 1e-6;
  const t0 = timestamps[0]!;
  const avg = rate(stream.avg_frame_rate);
  const grid = [avg, rate(stream.r_frame_rate)].find(
    (f) => Number.isFinite(f) && f > 0 && timestamps.every((t, i) => Math.abs(t - t0 - i / f) <= slack),
  );
  if (grid !== undefined) timestamps = timestamps.map((_, i) => t0 + i / grid);
  const intervals = timestamps.slice(1).map((t, i) => t - timestamps[i]!);
  const typical = intervals.length ? [...intervals].sort((a, b) => a - b)[intervals.length >> 1]! : NaN;
  const last = times[n - 1]!.d;
  const lastDuration = grid !== undefined ? 1 / grid : Number.isFinite(last) && last > 0 ? last : Number.isFinite(typical) ? typical : 1 / (avg || 25);
  const duration = timestamps[n - 1]! - t0 + lastDuration;
  const fps = grid ?? (Number.isFinite(avg) && avg > 0 ? avg : n / duration);
  const sideRotation = stream.side_data_list?.find((s) => s.rotation !== undefined)?.rotation;
  // The old `rotate` tag counts clockwise, the display matrix counterclockwise.
  const rotation = (((sideRotation ?? -Number(stream.tags?.rotate ?? 0)) % 360) + 360) % 360;
  const quarter = rotation === 90 || rotation === 270;
  const w = stream.width ?? 0;
  const h = stream.height ?? 0;
  return {
    path,
    container: info.format?.format_name ?? 'unknown',
    codec: stream.codec_name,
    width: quarter ? h : w,
    height: quarter ? w : h,
    rotation,
    fps,
    duration,
    frameCount: n,
    timestamps,
    variableFrameRate: grid === undefined && n > 1,
  };
}
