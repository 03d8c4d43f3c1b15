// Test-only tasks for the Slurm suite (a project plugin module, as test/fixtures/project/test-plugins.mjs).
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { inject, injectable } from 'tsyringe';

const PLUGIN_CONFIG = Symbol.for('vidra.plugin.config');
const JOB_CONTEXT = Symbol.for('vidra.job.context');

function writeAtomic(file, text) {
  writeFileSync(`${file}.tmp`, text);
  renameSync(`${file}.tmp`, file);
}

/**
 * `steps` steps of `step_s` seconds each; loss ← loss·(1−lr) + 0.01, failing once it diverges. Its state is
 * saved after every step in checkpoints/last.safetensors (JSON here: the name the train task uses, which a requeued task resumes from), and `resume` (a run directory)
 * continues from there — the train task's contract.
 * `needs_file`: fails unless that file exists in the working directory (a job fixed before a resubmit).
 * `alloc_mb`: holds that much memory, written (so resident), from its start (a job over its Slurm memory limit).
 */
class Steps {
  constructor(options, job) {
    this.options = options;
    this.job = job;
  }
  async run() {
    const { outputDir, config, log, signal } = this.job;
    if (this.options.needs_file && !existsSync(this.options.needs_file)) throw new Error(`${this.options.needs_file} is missing`);
    const lr = config.get('optim.lr');
    mkdirSync(join(outputDir, 'checkpoints'), { recursive: true });
    const file = join(outputDir, 'checkpoints', 'last.safetensors');
    let state = { step: 0, loss: 1 };
    if (this.options.resume !== null) {
      state = JSON.parse(readFileSync(join(this.options.resume, 'checkpoints', 'last.safetensors'), 'utf8'));
      log.info(`resumed from ${this.options.resume} at step ${state.step}`);
    }
    this.held = [];
    for (let mb = 0; mb < this.options.alloc_mb; mb += 64) this.held.push(Buffer.alloc(64 * 1024 * 1024, 1));
    writeAtomic(join(outputDir, 'started'), String(process.pid));
    for (; state.step < this.options.steps && !signal.aborted; ) {
      await new Promise((r) => setTimeout(r, this.options.step_s * 1000));
      state = { step: state.step + 1, loss: state.loss * (1 - lr) + 0.01 };
      if (!(Math.abs(state.loss) < 1e6)) throw new Error(`loss diverged at step ${state.step} (optim.lr=${lr})`);
      writeAtomic(file, JSON.stringify(state));
    }
    return { loss: state.loss, steps: state.step };
  }
}

inject(PLUGIN_CONFIG)(Steps, undefined, 0);
inject(JOB_CONTEXT)(Steps, undefined, 1);
injectable()(Steps);

export const plugins = [
  {
    kind: 'task',
    name: 'steps',
    description: 'a resumable task of timed steps that fails when its loss diverges',
    schema: {
      type: 'object',
      properties: {
        steps: { type: 'integer', minimum: 0, default: 3 },
        step_s: { type: 'number', minimum: 0, default: 0 },
        needs_file: { type: ['string', 'null'], default: null },
        alloc_mb: { type: 'integer', minimum: 0, default: 0 },
        resume: { type: ['string', 'null'], default: null },
      },
      additionalProperties: false,
    },
    create: Steps,
  },
];
