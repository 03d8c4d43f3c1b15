import { crc32c } from '@aws-crypto/crc32c';
import { appendFileSync, mkdirSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import protobuf from 'protobufjs';

/**
 * TensorFlow's `Event` and `Summary` messages, the fields TensorBoard's scalar plugin reads
 * (tensorflow/core/util/event.proto, tensorflow/core/framework/summary.proto).
 */
const root = protobuf.Root.fromJSON({
  nested: {
    Event: {
      oneofs: { what: { oneof: ['file_version', 'summary'] } },
      fields: {
        wall_time: { type: 'double', id: 1 },
        step: { type: 'int64', id: 2 },
        file_version: { type: 'string', id: 3 },
        summary: { type: 'Summary', id: 5 },
      },
    },
    Summary: {
      fields: { value: { rule: 'repeated', type: 'SummaryValue', id: 1 } },
    },
    SummaryValue: {
      oneofs: { value: { oneof: ['simple_value'] } },
      fields: {
        tag: { type: 'string', id: 1 },
        simple_value: { type: 'float', id: 2 },
      },
    },
  },
});
export const EventMessage = root.lookupType('Event');

/** TFRecord's checksum: CRC-32C, rotated and offset so that a CRC of data holding CRCs stays strong. */
export function maskedCrc32c(data: Uint8Array): number {
  const crc = crc32c(data);
  return (((crc >>> 15) | (crc << 17)) + 0xa282ead8) >>> 0;
}

/** One TFRecord: uint64 length, masked CRC of the length, the data, masked CRC of the data (all little-endian). */
export function tfRecord(data: Uint8Array): Buffer {
  const header = Buffer.alloc(12);
  header.writeBigUInt64LE(BigInt(data.length), 0);
  header.writeUInt32LE(maskedCrc32c(header.subarray(0, 8)), 8);
  const footer = Buffer.alloc(4);
  footer.writeUInt32LE(maskedCrc32c(data), 0);
  return Buffer.concat([header, data, footer]);
}

export interface Scalar {
  tag: string;
  value: number;
}

/**
 * A TensorBoard event file (`events.out.tfevents.<unix seconds>.<host>` in `dir`) that scalars are appended
 * to, one `Event` record per step. Each record is appended synchronously, so a crash loses nothing and
 * TensorBoard shows a running job's scalars as they come.
 */
export class EventFileWriter {
  readonly path: string;

  constructor(dir: string, now = new Date()) {
    mkdirSync(dir, { recursive: true });
    const seconds = now.getTime() / 1000;
    this.path = join(dir, `events.out.tfevents.${Math.floor(seconds)}.${hostname()}`);
    this.append({ wall_time: seconds, file_version: 'brain.Event:2' });
  }

  /** Scalars of one step (`simple_value`, float32 as TensorBoard stores them). */
  addScalars(step: number, scalars: readonly Scalar[], wallTime = Date.now() / 1000): void {
    if (scalars.length === 0) return;
    this.append({ wall_time: wallTime, step, summary: { value: scalars.map((s) => ({ tag: s.tag, simple_value: s.value })) } });
  }

  private append(event: Record<string, unknown>): void {
    appendFileSync(this.path, tfRecord(EventMessage.encode(EventMessage.fromObject(event)).finish()));
  }
}
