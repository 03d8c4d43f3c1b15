// `vidra.logger=tensorboard`: the train task's metrics.jsonl scalars also go to a TensorBoard event file in
// <run dir>/tb/. The file is read back here independently of the writer: TFRecord framing with CRC-32C
// computed bit by bit (Castagnoli polynomial), and the Event messages decoded by protobufjs from
// TensorFlow's own .proto text.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import protobuf from 'protobufjs';
import { describe, expect, it } from 'vitest';
import { experimentDir, jsonLines } from '../helpers/experiment.ts';
import { BIN } from '../helpers/project.ts';

const EVENT_PROTO = `
syntax = "proto3";
message Event {
  double wall_time = 1;
  int64 step = 2;
  oneof what {
    string file_version = 3;
    bytes graph_def = 4;
    Summary summary = 5;
  }
}
message Summary {
  message Value {
    string node_name = 7;
    string tag = 1;
    oneof value {
      float simple_value = 2;
      bytes obsolete_old_style_histogram = 3;
    }
  }
  repeated Value value = 1;
}`;
const Event = protobuf.parse(EVENT_PROTO, { keepCase: true }).root.lookupType('Event');

function crc32c(data: Uint8Array): number {
  let crc = 0xffffffff;
  for (const byte of data) {
    crc ^= byte;
    for (let k = 0; k < 8; k++) crc = crc & 1 ? (crc >>> 1) ^ 0x82f63b78 : crc >>> 1;
  }
  return (crc ^ 0xffffffff) >>> 0;
}
const masked = (crc: number) => ((((crc >>> 15) | (crc << 17)) >>> 0) + 0xa282ead8) >>> 0;

interface DecodedEvent {
  wall_time: number;
  step: number;
  file_version?: string;
  summary?: { value: Array<{ tag: string; simple_value: number }> };
}

/** Every record of a TFRecord file, its length and both checksums checked. */
function readRecords(file: string): DecodedEvent[] {
  const buf = readFileSync(file);
  const events: DecodedEvent[] = [];
  for (let at = 0; at < buf.length; ) {
    const length = Number(buf.readBigUInt64LE(at));
    expect(buf.readUInt32LE(at + 8), `length CRC of the record at byte ${at}`).toBe(masked(crc32c(buf.subarray(at, at + 8))));
    const data = buf.subarray(at + 12, at + 12 + length);
    expect(buf.readUInt32LE(at + 12 + length), `data CRC of the record at byte ${at}`).toBe(masked(crc32c(data)));
    events.push(Event.toObject(Event.decode(data), { longs: Number, defaults: true }) as DecodedEvent);
    at += 12 + length + 4;
  }
  return events;
}

describe('vidra.logger=tensorboard', () => {
  const { dir, vidra } = experimentDir('tensorboard');

  it('writes the scalars of metrics.jsonl (loss, lr, each evaluation) to an event file TensorBoard reads', { timeout: 60_000 }, async () => {
    const before = Math.floor(Date.now() / 1000);
    const r = await vidra(['vidra.run.dir=runs/tb', 'task.epochs=2', 'task.log_every=5', 'vidra.logger=tensorboard']);
    expect(r.code, r.stderr).toBe(0);
    const files = readdirSync(join(dir, 'runs/tb/tb'));
    expect(files).toHaveLength(1);
    const [, unix, host] = /^events\.out\.tfevents\.(\d+)\.(.+)$/.exec(files[0]!)!;
    expect(host).toBe(hostname());
    expect(Number(unix)).toBeGreaterThanOrEqual(before);
    expect(Number(unix)).toBeLessThanOrEqual(Math.floor(Date.now() / 1000));

    const [first, ...events] = readRecords(join(dir, 'runs/tb/tb', files[0]!));
    expect(first!.file_version).toBe('brain.Event:2');
    expect(first!.wall_time).toBeCloseTo(Number(unix), -1);

    // One event per metrics.jsonl line: its step, its time, its numbers as float32 simple values.
    const lines = jsonLines(readFileSync(join(dir, 'runs/tb/metrics.jsonl'), 'utf8'));
    expect(lines.filter((l) => l.loss !== undefined).map((l) => l.step)).toEqual([5, 10, 15, 18]);
    expect(events).toHaveLength(lines.length);
    lines.forEach((line, i) => {
      const event = events[i]!;
      expect(event.step).toBe(line.step);
      expect(event.wall_time * 1000).toBeCloseTo(Date.parse(String(line.time)), 0);
      const expected =
        line.split === undefined
          ? [
              { node_name: '', tag: 'loss', simple_value: Math.fround(Number(line.loss)) },
              { node_name: '', tag: 'lr', simple_value: Math.fround(Number(line.lr)) },
            ]
          : ['map', 'map_overall', 'map_head', 'map_middle', 'map_tail'].map((k) => ({ node_name: '', tag: `val/${k}`, simple_value: Math.fround(Number(line[k])) }));
      expect(event.summary!.value).toEqual(expected);
    });
  });

  it('a rerun keeps the run\'s logger: its metrics go to TensorBoard too', { timeout: 60_000 }, async () => {
    const run = await vidra(['vidra.run.dir=runs/first', 'task.epochs=1', 'vidra.logger=tensorboard']);
    expect(run.code, run.stderr).toBe(0);
    const rerun = spawnSync(process.execPath, [BIN, 'rerun', 'runs/first', 'vidra.run.dir=runs/again'], { cwd: dir, encoding: 'utf8' });
    expect(rerun.status, rerun.stderr).toBe(0);
    const [file] = readdirSync(join(dir, 'runs/again/tb'));
    const lines = jsonLines(readFileSync(join(dir, 'runs/again/metrics.jsonl'), 'utf8'));
    expect(readRecords(join(dir, 'runs/again/tb', file!)).slice(1).map((e) => e.step)).toEqual(lines.map((l) => l.step));
  });

  it('is off by default: metrics.jsonl only', { timeout: 60_000 }, async () => {
    const r = await vidra(['vidra.run.dir=runs/plain', 'task.epochs=1']);
    expect(r.code, r.stderr).toBe(0);
    expect(existsSync(join(dir, 'runs/plain/metrics.jsonl'))).toBe(true);
    expect(existsSync(join(dir, 'runs/plain/tb'))).toBe(false);
  });

  it('an unknown logger is a usage error (exit 2) before any run directory exists', { timeout: 30_000 }, async () => {
    const r = await vidra(['vidra.run.dir=runs/bad', 'vidra.logger=wandb']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("Error: override 'vidra.logger=wandb' (argument 2): vidra.logger 'wandb' is not a logger: use tensorboard, or null for metrics.jsonl only\n");
    expect(existsSync(join(dir, 'runs/bad'))).toBe(false);
  });
});
