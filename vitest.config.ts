import { defineConfig } from 'vitest/config';

export default defineConfig({
  // tsyringe's parameter decorators (`@inject(token)`) need TypeScript's legacy decorators.
  oxc: { decorator: { legacy: true, emitDecoratorMetadata: false } },
  test: {
    include: ['test/**/*.test.ts'],
    // CLI suites spawn real processes; give them room on a 2-core machine.
    testTimeout: 30_000,
    reporters: ['default', './test/summary-reporter.ts'],
  },
});
