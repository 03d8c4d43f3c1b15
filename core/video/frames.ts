// A folder of frame images (Charades RGB frames `<id>/<id>-000001.jpg`, AVA and Animal Kingdom frames) as a
// frame source. Frames are the folder's .jpg/.jpeg/.png files ordered by the last number in their name
// (then by name), decoded to RGB by sharp (libvips, prebuilt on npm). A folder has no timing of its own:
// `fps` comes from the dataset (Charades 24, AVA 30).

import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { VideoError } from './errors.ts';
import { checkIndices, type FrameBatch, type FrameSource, type SourceDescription } from './source.ts';

const IMAGE = /\.(jpe?g|png)$/i;

const frameNumber = (name: string) => {
  const m = /(\d+)(?=\D*$)/.exec(name);
  return m ? Number(m[1]) : -1;
};

// Loaded on first use: sharp's native library costs start-up time to every importer of the video layer.
let sharpModule: Promise<typeof import('sharp')> | undefined;

async function decode(file: string): Promise<{ data: Buffer; width: number; height: number }> {
  const sharp = (await (sharpModule ??= import('sharp'))).default;
  try {
    const { data, info } = await sharp(file).removeAlpha().toColourspace('srgb').raw().toBuffer({ resolveWithObject: true });
    return { data, width: info.width, height: info.height };
  } catch (err) {
    throw new VideoError(`frame '${file}': cannot decode it: ${(err as Error).message}`, { cause: err });
  }
}

export class FrameFolderSource implements FrameSource {
  readonly kind = 'frames';
  readonly timestamps: readonly number[];

  constructor(
    readonly path: string,
    /** Image file names, in frame order. */
    readonly files: readonly string[],
    readonly fps: number,
    readonly width: number,
    readonly height: number,
  ) {
    this.timestamps = files.map((_, i) => i / fps);
  }

  /** Lists the folder and reads the first frame's size; every frame must have it. */
  static async open(path: string, options: { fps: number }): Promise<FrameFolderSource> {
    if (!(options.fps > 0)) throw new VideoError(`frame folder '${path}': fps must be a positive number (the rate its frames were extracted at), got ${options.fps}`);
    let names: string[];
    try {
      if (!statSync(path).isDirectory()) throw new VideoError(`frame folder '${path}' is not a directory`);
      names = readdirSync(path);
    } catch (err) {
      if (err instanceof VideoError) throw err;
      throw new VideoError(`frame folder '${path}' does not exist or cannot be listed (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`, { cause: err });
    }
    const files = names.filter((n) => IMAGE.test(n)).sort((a, b) => frameNumber(a) - frameNumber(b) || (a < b ? -1 : a > b ? 1 : 0));
    if (files.length === 0) throw new VideoError(`frame folder '${path}' has no frames (.jpg, .jpeg or .png files)`);
    const first = await decode(join(path, files[0]!));
    return new FrameFolderSource(path, files, options.fps, first.width, first.height);
  }

  get length() {
    return this.files.length;
  }
  get duration() {
    return this.files.length / this.fps;
  }

  describe(): SourceDescription {
    return { kind: 'frames', path: this.path, files: [...this.files], fps: this.fps, width: this.width, height: this.height };
  }

  async getBatch(indices: readonly number[]): Promise<FrameBatch> {
    checkIndices(this, indices);
    const frameBytes = this.width * this.height * 3;
    const data = new Uint8Array(indices.length * frameBytes);
    const unique = [...new Set(indices)];
    // sharp decodes on libuv's thread pool: all frames of the batch at once.
    const decoded = new Map(
      await Promise.all(
        unique.map(async (i) => {
          const file = join(this.path, this.files[i]!);
          const img = await decode(file);
          if (img.width !== this.width || img.height !== this.height) {
            throw new VideoError(`frame folder '${this.path}': frame ${i} ('${this.files[i]}') is ${img.width}x${img.height}, but its first frame is ${this.width}x${this.height}`);
          }
          return [i, img.data] as const;
        }),
      ),
    );
    indices.forEach((i, slot) => data.set(decoded.get(i)!, slot * frameBytes));
    return { data, frames: indices.length, height: this.height, width: this.width, indices: [...indices] };
  }
}
