import { defineConfig } from 'vitest/config';
export default defineConfig({
  oxc: { decorator: { legacy: true, emitDecoratorMetadata: false } },
  test: { include: ['test/**/*.test.ts', 'd.test.ts'] },
});
