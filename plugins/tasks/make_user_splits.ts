import { join, resolve } from 'node:path';
import { writeFileAtomic } from '../../core/run/atomic.ts';
import { inject, injectable } from '../../core/plugins/di.ts';
import type { JobContext, Task } from '../../core/plugins/interfaces.ts';
import { definePlugin } from '../../core/plugins/registry.ts';
import { JOB_CONTEXT, PLUGIN_CONFIG } from '../../core/plugins/tokens.ts';
import { runUserSplit } from '../datasets/user-split.ts';

interface MakeUserSplitsOptions {
  annotation_dir: string;
  metadata: string;
  out_dir: string | null;
  num_train_users: number;
  num_test_users: number;
  train_user_ids: Array<string | number> | null;
  test_user_ids: Array<string | number> | null;
  seed: number;
}

/**
 * The EgoAdapt per-user split of Ego4D LTA (ml-spec §4): joins fho_lta_{train,val}.json with ego4d.json
 * on video_uid, ranks users (fb_participant_id) by summed clip duration, and writes train/test/pretrain
 * `<split>_usersplit.json` (each user's entries in chronological order) with `usersplit_summary.json`,
 * printing the per-user table. `vidra run task=make_user_splits task.annotation_dir=... task.metadata=...`
 */
@injectable()
export class MakeUserSplitsTask implements Task {
  constructor(
    @inject(PLUGIN_CONFIG) private readonly options: MakeUserSplitsOptions,
    @inject(JOB_CONTEXT) private readonly job: JobContext,
  ) {}

  async run(): Promise<Record<string, unknown>> {
    const o = this.options;
    const outDir = o.out_dir === null ? join(this.job.outputDir, 'usersplit') : resolve(o.out_dir);
    const split = runUserSplit({
      annotationDir: resolve(o.annotation_dir),
      metadata: resolve(o.metadata),
      outDir,
      numTrainUsers: o.num_train_users,
      numTestUsers: o.num_test_users,
      trainUserIds: o.train_user_ids,
      testUserIds: o.test_user_ids,
      seed: o.seed,
      log: (line) => this.job.log.info(line),
    });
    this.job.log.info(`user splits written to ${outDir}`);
    // metrics.json: the summary's per-split numbers, flat, as every task's result file.
    const result: Record<string, number> = {};
    for (const [name, stats] of Object.entries(split.summary.splits)) for (const [k, v] of Object.entries(stats)) result[`${name}/${k}`] = v;
    writeFileAtomic(join(this.job.outputDir, 'metrics.json'), `${JSON.stringify(result, null, 2)}\n`);
    return Object.fromEntries(Object.entries(split.splits).map(([name, users]) => [`${name}_users`, users.length]));
  }
}

export const plugin = definePlugin({
  kind: 'task',
  name: 'make_user_splits',
  description: 'write the per-user Ego4D LTA splits (EgoAdapt) with summary statistics',
  schema: {
    type: 'object',
    properties: {
      annotation_dir: { type: 'string', description: 'directory of fho_lta_{train,val}.json and fho_lta_taxonomy.json' },
      metadata: { type: 'string', description: 'ego4d.json' },
      out_dir: { type: ['string', 'null'], default: null, description: 'where to write (null: <run dir>/usersplit)' },
      num_train_users: { type: 'integer', minimum: 0, default: 10 },
      num_test_users: { type: 'integer', minimum: 0, default: 40 },
      train_user_ids: { type: ['array', 'null'], items: { type: ['string', 'integer'] }, default: null, description: 'explicit train users (EgoAdapt ORIG_TRAIN_USERS)' },
      test_user_ids: { type: ['array', 'null'], items: { type: ['string', 'integer'] }, default: null, description: 'explicit test users (EgoAdapt ORIG_TEST_USERS)' },
      seed: { type: 'integer', default: 0, description: 'shuffle of the top users into train/test' },
    },
    required: ['annotation_dir', 'metadata'],
    additionalProperties: false,
  },
  create: MakeUserSplitsTask,
});
