import { describe, it } from 'vitest';
import { gradCheck, seeded } from '../helpers/engine.ts';

describe('gradient check harness', () => {
  it('softplus(x @ w) summed: autodiff matches central differences', async () => {
    await gradCheck((g, { x, w }) => g.softplus(g.matmul(x!, w!)), [
      { name: 'x', shape: [2, 3], data: seeded(1, 6) },
      { name: 'w', shape: [3, 2], data: seeded(2, 6) },
    ]);
  });
});
