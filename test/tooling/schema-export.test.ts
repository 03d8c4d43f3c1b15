// `vidra schema --out <dir>`: the JSON Schemas of the config groups. Every bundled config (conf/**/*.yaml and
// Vidra's own core/conf) validates against its group's schema with ajv, as the YAML language server
// validates it in an editor (YAML 1.2, the `yaml` package); a wrong type is rejected; and .vscode/settings.json
// maps the schemas onto the config files exactly as the command prints.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { Ajv, type ValidateFunction } from 'ajv';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { BIN, REPO } from '../helpers/project.ts';

let out: string;
let stdout: string;
const ajv = new Ajv({ allErrors: true, strict: true, allowUnionTypes: true });
const validators = new Map<string, ValidateFunction>();

/** The validator of a schema file below `out` (`loss.schema.json`). */
function validator(file: string): ValidateFunction {
  let fn = validators.get(file);
  if (!fn) {
    fn = ajv.compile(JSON.parse(readFileSync(join(out, file), 'utf8')) as object);
    validators.set(file, fn);
  }
  return fn;
}

function yamlFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? yamlFiles(p) : name.endsWith('.yaml') ? [p] : [];
  });
}

/** The schema of a config file: its group's (the folders between the config directory and the file), or the primary configs'. */
function schemaOf(configDir: string, file: string): string {
  const group = relative(configDir, file).split('/').slice(0, -1).join('/');
  return `${group || 'config'}.schema.json`;
}

function check(schema: string, value: unknown): string[] {
  const validate = validator(schema);
  return validate(value) ? [] : (validate.errors ?? []).map((e) => `${e.instancePath} ${e.message}`);
}

beforeAll(() => {
  out = mkdtempSync(join(tmpdir(), 'vidra-schemas-'));
  const r = spawnSync(process.execPath, [BIN, 'schema', '--out', out], { cwd: REPO, encoding: 'utf8' });
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  stdout = r.stdout;
});
afterAll(() => rmSync(out, { recursive: true, force: true }));

describe('vidra schema --out', () => {
  it('writes one schema per config group, a plugin group listing its kind', () => {
    // The groups: the folders holding YAML files below conf/ and core/conf/, and '' (the primary configs).
    const groups = new Set(['', ...[join(REPO, 'conf'), join(REPO, 'core', 'conf')].flatMap((dir) => yamlFiles(dir).map((f) => relative(dir, f).split('/').slice(0, -1).join('/')))]);
    const written = readdirSync(out, { recursive: true }).map(String).filter((f) => f.endsWith('.schema.json'));
    expect(written.sort()).toEqual([...groups].map((g) => `${g || 'config'}.schema.json`).sort());
    const titles = Object.fromEntries(
      ['loss', 'data', 'optim', 'task', 'head', 'model/backbone', 'vidra/launcher', 'experiment', 'config'].map((g) => [g, (JSON.parse(readFileSync(join(out, `${g}.schema.json`), 'utf8')) as { title: string }).title]),
    );
    expect(titles).toEqual({
      loss: 'config group loss: a loss plugin',
      data: 'config group data: a dataset plugin',
      optim: 'config group optim: an optimizer plugin',
      task: 'config group task: a task plugin',
      head: 'config group head: a model plugin',
      'model/backbone': 'config group model/backbone: a model plugin',
      'vidra/launcher': 'config group vidra/launcher: a launcher plugin',
      experiment: 'config group experiment',
      config: 'primary configs (config.yaml, experiments at the top of the config directory)',
    });
  });

  it('every bundled config validates against its group schema', () => {
    const files = [...yamlFiles(join(REPO, 'conf')).map((f) => [join(REPO, 'conf'), f]), ...yamlFiles(join(REPO, 'core', 'conf')).map((f) => [join(REPO, 'core', 'conf'), f])];
    expect(files.length).toBeGreaterThan(40);
    const failures = files.flatMap(([dir, file]) => check(schemaOf(dir!, file!), parse(readFileSync(file!, 'utf8')) ?? {}).map((e) => `${relative(REPO, file!)}: ${e}`));
    expect(failures).toEqual([]);
  });

  it('a wrong type, an unknown key or an unknown plugin is rejected; an interpolation or ??? is accepted anywhere', () => {
    const bce = parse(readFileSync(join(REPO, 'conf', 'loss', 'bce.yaml'), 'utf8')) as Record<string, unknown>;
    expect(check('loss.schema.json', bce)).toEqual([]);
    expect(check('loss.schema.json', { ...bce, reduction: 3 })).toContain('/reduction must be string');
    expect(check('loss.schema.json', { _target_: 'ce', label_smoothing: 'high' })).toContain('/label_smoothing must be number');
    expect(check('loss.schema.json', { _target_: 'ce', smoothing: 0.1 })).toContain(' must NOT have additional properties');
    expect(check('loss.schema.json', { _target_: 'nope' })).toContain('/_target_ must be equal to one of the allowed values');
    expect(check('loss.schema.json', { reduction: 'mean' })).toContain(" must have required property '_target_'");
    expect(check('loss.schema.json', { _target_: 'ce', label_smoothing: '${optim.smoothing}', class_weights: '???' })).toEqual([]);
    expect(check('task.schema.json', { _target_: 'task:continual', batch_size: '${data.batch_size}' })).toEqual([]);
    expect(check('task.schema.json', { _target_: 'train', epochs: 'ten' })).toContain('/epochs must be integer');
    expect(check('experiment.schema.json', { defaults: [{ 'override /loss': 'focal' }, '_self_'], anything: 1 })).toEqual([]);
    expect(check('experiment.schema.json', { defaults: 'loss' })).toContain('/defaults must be array');
  });

  it('prints the yaml.schemas setting, which .vscode/settings.json holds for the repository', () => {
    const [first, ...json] = stdout.split('\n');
    const rel = relative(REPO, out);
    expect(first).toBe(`wrote ${readdirSync(out, { recursive: true }).filter((f) => String(f).endsWith('.schema.json')).length} schemas to ${rel}/; the YAML language server applies them with this setting (.vscode/settings.json):`);
    const printed = JSON.parse(json.join('\n').replaceAll(`./${rel}/`, './schemas/')) as { 'yaml.schemas': Record<string, string[]> };
    expect(printed['yaml.schemas']['./schemas/loss.schema.json']).toEqual(['conf/loss/*.yaml']);
    expect(printed['yaml.schemas']['./schemas/vidra/launcher.schema.json']).toEqual(['core/conf/vidra/launcher/*.yaml']);
    expect(printed['yaml.schemas']['./schemas/config.schema.json']).toEqual(['conf/*.yaml']);
    const settings = JSON.parse(readFileSync(join(REPO, '.vscode', 'settings.json'), 'utf8')) as Record<string, unknown>;
    expect(settings['yaml.schemas']).toEqual(printed['yaml.schemas']);
  });

  it('without --out, or with another argument: one usage error, exit 2', () => {
    const a = spawnSync(process.execPath, [BIN, 'schema'], { cwd: REPO, encoding: 'utf8' });
    expect(a.status).toBe(2);
    expect(a.stderr.split('\n')[0]).toBe('Error: vidra schema needs --out <dir>, the folder to write the schemas to. usage: vidra schema --out <dir> [--vscode]');
    const b = spawnSync(process.execPath, [BIN, 'schema', '--out', out, 'loss'], { cwd: REPO, encoding: 'utf8' });
    expect(b.status).toBe(2);
    expect(b.stderr.split('\n')[0]).toBe("Error: vidra schema: unexpected argument 'loss'. usage: vidra schema --out <dir> [--vscode]");
    const c = spawnSync(process.execPath, [BIN, 'schema', '--out', 'package.json'], { cwd: REPO, encoding: 'utf8' });
    expect(c.status).toBe(2);
    expect(c.stderr.split('\n')[0]).toBe("Error: vidra schema --out: 'package.json' is a file; give a folder to write the schemas to");
  });
});
