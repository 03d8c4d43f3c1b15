// Plugin modules written in TypeScript load as the project settings list them: compiled on load (tsx), with
// tsyringe's parameter decorators, relative .ts imports, and `vidra` resolved from the project.
import { mkdirSync, rmSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { VidraError } from '../../core/config/errors.ts';
import { fromPlain, type DictNode } from '../../core/config/node.ts';
import { container } from '../../core/plugins/di.ts';
import { instantiate } from '../../core/plugins/instantiate.ts';
import { createRegistry } from '../../core/plugins/loader.ts';
import { REPO } from '../helpers/project.ts';
import { writeTree } from '../helpers/tree.ts';

const PLUGIN = `import { definePlugin, inject, injectable, PLUGIN_CONFIG } from 'vidra';
import { scale } from './scale.ts';

@injectable()
export class Scaled {
  constructor(@inject(PLUGIN_CONFIG) private readonly options: { factor: number }) {}
  apply(x: number): number {
    return scale(x, this.options.factor);
  }
}

export const plugins = [
  definePlugin({
    kind: 'model',
    name: 'mylab.scaled',
    description: 'test',
    schema: { type: 'object', properties: { factor: { type: 'number', default: 3 } }, additionalProperties: false },
    create: Scaled,
  }),
];
`;

const dirs: string[] = [];
function project(files: Record<string, string>): string {
  const dir = writeTree(files, 'vidra-loader-');
  dirs.push(dir);
  mkdirSync(join(dir, 'node_modules'));
  symlinkSync(REPO, join(dir, 'node_modules', 'vidra'), 'dir');
  return dir;
}
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

const files = (tsconfig: object | null) => ({
  'package.json': '{ "type": "module" }',
  'plugins/scaled.ts': PLUGIN,
  'plugins/scale.ts': 'export const scale = (x: number, k: number): number => x * k;\n',
  ...(tsconfig ? { 'tsconfig.json': JSON.stringify(tsconfig) } : {}),
});

describe('TypeScript plugin modules', () => {
  it('load with parameter decorators and relative .ts imports, and build through tsyringe', async () => {
    const root = project(files({ compilerOptions: { experimentalDecorators: true, strict: true } }));
    const registry = await createRegistry([], ['./plugins/scaled.ts'], root);
    expect(registry.get('mylab.scaled', 'model').source).toBe('./plugins/scaled.ts');
    const node = fromPlain({ _target_: 'mylab.scaled', factor: 2.5 }) as DictNode;
    const scaled = instantiate<{ apply(x: number): number }>(node, { container, registry, kind: 'model', path: 'model' }) as { apply(x: number): number };
    expect(scaled.apply(4)).toBe(10);
  });

  it('a tsconfig without experimentalDecorators: one error naming the module, the decorator and the file to fix', async () => {
    const root = project(files({ compilerOptions: { strict: true } }));
    const file = join(root, 'plugins', 'scaled.ts');
    const error = await createRegistry([], ['./plugins/scaled.ts'], root).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(VidraError);
    expect((error as Error).message).toBe(
      `cannot load the plugin module './plugins/scaled.ts' (listed in the project settings, resolved to ${file}): Transform failed with 1 error:\n` +
        `${file}:6:14: ERROR: Parameter decorators only work when experimental decorators are enabled. ` +
        `tsyringe's @inject(token) needs TypeScript's legacy decorators: set "experimentalDecorators": true in the compilerOptions of ` +
        `${join(root, 'tsconfig.json')} (and let its "include" cover the module)`,
    );
  });

  it('no tsconfig.json at all: the error says to add one', async () => {
    const root = project(files(null));
    const error = await createRegistry([], ['./plugins/scaled.ts'], root).catch((e: unknown) => e);
    expect((error as Error).message).toMatch(
      /experimental decorators are enabled\. tsyringe's @inject\(token\) needs TypeScript's legacy decorators: set "experimentalDecorators": true in the compilerOptions of a tsconfig\.json beside the module or in a folder above it \(there is none\)$/,
    );
  });
});
