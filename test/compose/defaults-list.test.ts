import { describe, expect, it } from 'vitest';
import { compose, composeDetailed } from '../../core/compose/compose.ts';
import { ConfigCompositionError, ConfigKeyError, ConfigTypeError, UsageError } from '../../core/config/errors.ts';
import { writeTree } from '../helpers/tree.ts';

const obj = (configDir: string, overrides: string[] = [], configName = 'config') =>
  compose({ configDir, configName, overrides, vidra: false }).toObject() as Record<string, any>;

describe('_self_ decides where a config merges relative to its defaults', () => {
  const dir = writeTree({
    'db/mysql.yaml': 'host: mysql.local\nport: 3306\n',
    'self_last.yaml': 'defaults:\n  - db: mysql\ndb:\n  port: 1\n',
    'self_first.yaml': 'defaults:\n  - _self_\n  - db: mysql\ndb:\n  port: 1\n',
    'self_middle.yaml': 'defaults:\n  - a\n  - _self_\n  - b\nx: self\n',
    'a.yaml': 'x: a\ny: a\n',
    'b.yaml': 'y: b\n',
  });
  it('implicitly last: the primary config wins over its defaults', () => {
    expect(obj(dir, [], 'self_last')).toEqual({ db: { host: 'mysql.local', port: 1 } });
  });
  it('first: the defaults win', () => {
    expect(obj(dir, [], 'self_first')).toEqual({ db: { host: 'mysql.local', port: 3306 } });
  });
  it('middle', () => {
    expect(obj(dir, [], 'self_middle')).toEqual({ x: 'self', y: 'b' });
  });
});

describe('config groups, packages and nested defaults', () => {
  const dir = writeTree({
    'config.yaml': 'defaults:\n  - model: slowfast\n  - db@src: mysql\n  - db@dst: sqlite\n  - _self_\nseed: 1\n',
    'model/slowfast.yaml': 'defaults:\n  - backbone: resnet50\n  - /optim: adam\n  - _self_\nname: slowfast\n',
    'model/x3d.yaml': 'defaults:\n  - backbone: x3d_m\n  - _self_\nname: x3d\n',
    'model/backbone/resnet50.yaml': 'depth: 50\n',
    'model/backbone/x3d_m.yaml': 'depth: 16\n',
    'optim/adam.yaml': 'lr: 0.001\n',
    'db/mysql.yaml': 'driver: mysql\n',
    'db/sqlite.yaml': 'driver: sqlite\n',
    'global/g.yaml': '# @package _global_\ntop: 1\n',
    'pkg/p.yaml': '# @package a.b\nc: 1\n',
  });

  it('packages follow the group path; nested groups are relative; /abs keeps a relative package', () => {
    expect(obj(dir)).toEqual({
      model: { backbone: { depth: 50 }, optim: { lr: 0.001 }, name: 'slowfast' },
      src: { driver: 'mysql' },
      dst: { driver: 'sqlite' },
      seed: 1,
    });
  });

  it('overriding a group swaps its nested defaults too', () => {
    expect(obj(dir, ['model=x3d'])).toMatchObject({ model: { backbone: { depth: 16 }, name: 'x3d' } });
    expect(obj(dir, ['model=x3d']).model).not.toHaveProperty('optim');
  });

  it('a nested group is selected by its full path', () => {
    expect(obj(dir, ['model/backbone=x3d_m'])).toMatchObject({ model: { backbone: { depth: 16 }, name: 'slowfast' } });
  });

  it('the same group twice is selected with group@pkg; plain group= does not match', () => {
    expect(obj(dir, ['db@dst=mysql'])).toMatchObject({ src: { driver: 'mysql' }, dst: { driver: 'mysql' } });
    expect(() => obj(dir, ['db=mysql'])).toThrow(/Could not override 'db'\. No match in the defaults list\. Did you mean to override db@dst or db@src\?/);
  });

  it('# @package headers: _global_ and absolute paths; +group=option appends', () => {
    expect(obj(dir, ['+global=g'])).toMatchObject({ top: 1 });
    expect(obj(dir, ['+pkg=p'])).toMatchObject({ a: { b: { c: 1 } } });
  });

  it('a defaults-list package beats the header; group@pkg on the command line appends at that package', () => {
    expect(obj(dir, ['+pkg@z=p'])).toMatchObject({ z: { c: 1 } });
  });

  it('runtime choices list every group (and group@pkg)', () => {
    const { defaults } = composeDetailed({ configDir: dir, overrides: ['model=x3d'], vidra: false });
    expect(Object.fromEntries(defaults.choices)).toEqual({
      model: 'x3d',
      'model/backbone': 'x3d_m',
      'db@src': 'mysql',
      'db@dst': 'sqlite',
    });
    expect([...defaults.choices.keys()]).toEqual(['model', 'model/backbone', 'db@src', 'db@dst']);
  });
});

describe('override, optional, null and multi-select defaults', () => {
  const dir = writeTree({
    'config.yaml': 'defaults:\n  - loss: bce\n  - optional site: fb\n  - augment: null\n  - _self_\n',
    'loss/bce.yaml': 'name: bce\n',
    'loss/eql.yaml': 'name: eql\nlambda: 0.00176\n',
    'loss/focal.yaml': 'name: focal\n',
    'augment/flip.yaml': 'flip: true\nops: [flip]\n',
    'augment/crop.yaml': 'crop: 224\nops: [crop]\n',
    'augment/mixup.yaml': 'mixup: 0.2\n',
    'experiment/eql.yaml': '# @package _global_\ndefaults:\n  - override /loss: eql\n  - _self_\nloss:\n  lambda: 0.001\n',
    'experiment/nohdr.yaml': 'defaults:\n  - override /loss: eql\n',
    'experiment/twice.yaml': '# @package _global_\ndefaults:\n  - /loss: focal\n',
    'experiment/bad.yaml': '# @package _global_\ndefaults:\n  - override /nothere: x\n',
    'multi.yaml': 'defaults:\n  - augment: [flip, crop]\n',
  });

  it('an optional group whose option does not exist is skipped', () => {
    expect(obj(dir)).toEqual({ loss: { name: 'bce' } });
  });

  it('a null option contributes nothing until selected (without +)', () => {
    expect(obj(dir, ['augment=mixup'])).toEqual({ loss: { name: 'bce' }, augment: { mixup: 0.2 } });
  });

  it('the experiment pattern: override in a _global_ config listed last re-selects a group chosen earlier', () => {
    expect(obj(dir, ['+experiment=eql'])).toEqual({ loss: { name: 'eql', lambda: 0.001 } });
  });

  it('command-line group overrides beat an experiment wherever they appear', () => {
    expect(obj(dir, ['+experiment=eql', 'loss=focal'])).toEqual({ loss: { name: 'focal', lambda: 0.001 } });
    expect(obj(dir, ['loss=focal', '+experiment=eql'])).toEqual({ loss: { name: 'focal', lambda: 0.001 } });
  });

  it('a group chosen twice without override is an error that names the fix', () => {
    expect(() => obj(dir, ['+experiment=twice'])).toThrow(
      /experiment\/twice\.yaml:3:5: Multiple values for loss \(first set in defaults list of 'config' at .*config\.yaml:2:5\)\. To override a value use 'override \/loss: focal'/,
    );
  });

  it('an override that matches nothing is an error', () => {
    expect(() => obj(dir, ['+experiment=bad'])).toThrow(/Could not override 'nothere'\. No match in the defaults list/);
    expect(() => obj(dir, ['+experiment=nohdr'])).toThrow(/Could not override 'loss@experiment\.loss'\. No match in the defaults list/);
  });

  it('multi-select merges options in order; the command line replaces the list', () => {
    expect(obj(dir, [], 'multi')).toEqual({ augment: { flip: true, crop: 224, ops: ['crop'] } });
    expect(obj(dir, ['augment=[mixup,flip]'], 'multi')).toEqual({ augment: { mixup: 0.2, flip: true, ops: ['flip'] } });
  });

  it('~group deletes a default; ~group=option only when it matches', () => {
    expect(obj(dir, ['~loss'])).toEqual({});
    expect(obj(dir, ['~loss=bce'])).toEqual({});
    expect(() => obj(dir, ['~loss=eql'])).toThrow("Could not delete 'loss=eql'. No match in the defaults list. 'loss' is 'bce'.");
  });

  it('++group=option selects where present and appends where not', () => {
    expect(obj(dir, ['++loss=eql'])).toMatchObject({ loss: { name: 'eql' } });
    expect(obj(dir, ['++augment=flip'])).toMatchObject({ augment: { flip: true } });
  });
});

describe('interpolated defaults use the final choices of other groups', () => {
  const dir = writeTree({
    'config.yaml': 'defaults:\n  - model: a\n  - data: x\n  - combo: ${model}_${data}\n',
    'model/a.yaml': 'm: a\n',
    'model/b.yaml': 'm: b\n',
    'data/x.yaml': 'd: x\n',
    'combo/a_x.yaml': 'c: ax\n',
    'combo/b_x.yaml': 'c: bx\n',
  });
  it('follows a command-line change', () => {
    expect(obj(dir)).toMatchObject({ combo: { c: 'ax' } });
    expect(obj(dir, ['model=b'])).toMatchObject({ combo: { c: 'bx' } });
  });
});

describe('errors name what, where and what is valid', () => {
  const dir = writeTree({
    'config.yaml': 'defaults:\n  - model: slowfast\n  - _self_\nseed: 1\ntrainer:\n  precision: 32\n',
    'model/slowfast.yaml': 'name: slowfast\n',
    'model/x3d.yaml': 'name: x3d\n',
    'model/i3d.yaml': 'name: i3d\n',
    'broken.yaml': 'defaults:\n  - model: slowfst\n',
    'bad_yaml.yaml': 'a: [1, 2\nb: 3\n',
    'list_over_dict.yaml': 'defaults:\n  - model: slowfast\n  - _self_\nmodel: [1, 2]\n',
  });

  it('a missing group option lists the options and a did-you-mean, at the override', () => {
    let err: Error | undefined;
    try {
      obj(dir, ['model=slowfst']);
    } catch (e) {
      err = e as Error;
    }
    expect(err).toBeInstanceOf(ConfigCompositionError);
    expect(err!.message).toContain("override 'model=slowfst' (argument 1): In 'config': Could not find 'model/slowfst'.");
    expect(err!.message).toContain("Available options in 'model': i3d slowfast x3d. Did you mean 'slowfast'?");
    expect(err!.message).toContain('Search path:');
  });

  it('a missing option in a file points at the file:line:col of the entry', () => {
    expect(() => obj(dir, [], 'broken')).toThrow(/broken\.yaml:2:5: In 'broken': Could not find 'model\/slowfst'/);
  });

  it('a missing primary config', () => {
    expect(() => obj(dir, [], 'nope')).toThrow(/Cannot find primary config 'nope'/);
  });

  it('a non-existent config directory', () => {
    expect(() => obj(`${dir}/does-not-exist`)).toThrow(UsageError);
    expect(() => obj(`${dir}/does-not-exist`)).toThrow(/the config directory '.*does-not-exist' does not exist/);
  });

  it('malformed YAML in a config', () => {
    expect(() => obj(dir, [], 'bad_yaml')).toThrow(/bad_yaml\.yaml:\d+:\d+: invalid YAML/);
  });

  it('merging a list into a dict', () => {
    expect(() => obj(dir, [], 'list_over_dict')).toThrow(ConfigTypeError);
  });

  it('a change to a key that does not exist suggests +, with a did-you-mean', () => {
    expect(() => obj(dir, ['trainer.precison=16'])).toThrow(ConfigKeyError);
    expect(() => obj(dir, ['trainer.precison=16'])).toThrow(
      "override 'trainer.precison=16' (argument 1): Could not override 'trainer.precison'. To append to your config use +trainer.precison=16\nDid you mean 'trainer.precision'?",
    );
  });

  it('adding a key that exists suggests removing + or adding a second +', () => {
    expect(() => obj(dir, ['+seed=2'])).toThrow(
      "Could not append to config. An item is already at 'seed'. Either remove + prefix: 'seed=2' Or add a second + to add or override 'seed': '++seed=2'",
    );
  });

  it('a group override with no match suggests +group', () => {
    expect(() => obj(dir, ['logger=wandb'])).toThrow(ConfigKeyError);
    const dir2 = writeTree({ 'config.yaml': 'a: 1\n', 'logger/wandb.yaml': 'project: x\n' });
    expect(() => obj(dir2, ['logger=wandb'])).toThrow("Could not override 'logger'. No match in the defaults list. To append to your default list use +logger=wandb");
  });

  it('a sweep outside --multirun is ambiguous', () => {
    expect(() => obj(dir, ['model=x3d,i3d'])).toThrow(/Ambiguous value for argument 'model=x3d,i3d'[\s\S]*add --multirun/);
  });
});

describe('value overrides', () => {
  const dir = writeTree({
    'config.yaml': 'seed: 1\noptim:\n  lr: 0.001\n  betas: [0.9, 0.999]\ndata:\n  sizes: {a: 1, b: 2}\n',
  });
  it('change, add, force-add and delete', () => {
    expect(obj(dir, ['optim.lr=1.5e-4', '+optim.wd=0.01', '++seed=7', '++new.deep.key=x', '~data'])).toEqual({
      seed: 7,
      optim: { lr: 1.5e-4, betas: [0.9, 0.999], wd: 0.01 },
      new: { deep: { key: 'x' } },
    });
  });
  it('dicts merge into existing nodes, lists replace', () => {
    expect(obj(dir, ['data.sizes={b:3}', 'optim.betas=[0.9,0.98]'])).toMatchObject({
      data: { sizes: { a: 1, b: 3 } },
      optim: { betas: [0.9, 0.98] },
    });
  });
  it('a dict that would add a key needs +, as in Hydra (struct mode); + merges it into the existing dict', () => {
    expect(() => obj(dir, ['optim={nesterov:true}'])).toThrow(
      new ConfigKeyError("Could not override 'optim'. To append to your config use +optim={nesterov:true}", {
        loc: { file: "override 'optim={nesterov:true}' (argument 1)", line: 0, col: 0 },
      }),
    );
    expect(() => obj(dir, ['data={sizes:{a:2,bee:3}}'])).toThrow(
      "override 'data={sizes:{a:2,bee:3}}' (argument 1): Could not override 'data'. To append to your config use +data={sizes:{a:2,bee:3}}\nDid you mean 'data.sizes.b'?",
    );
    expect(obj(dir, ['+optim={nesterov:true}', '+data={sizes:{c:3}}', '++optim={lr:0.1,eps:1e-8}'])).toMatchObject({
      optim: { lr: 0.1, betas: [0.9, 0.999], nesterov: true, eps: 1e-8 },
      data: { sizes: { a: 1, b: 2, c: 3 } },
    });
    expect(() => obj(dir, ['+seed={a:1}'])).not.toThrow();
  });
  it('~key=value deletes only a matching value', () => {
    expect(obj(dir, ['~seed=1'])).not.toHaveProperty('seed');
    expect(() => obj(dir, ['~seed=2'])).toThrow("Could not delete from config. The value of 'seed' is 1 and not 2.");
  });
  it('keeps int vs float in what is printed', () => {
    const yaml = compose({ configDir: dir, overrides: ['optim.lr=1.0', 'seed=3'], vidra: false }).toYaml();
    expect(yaml).toContain('lr: 1.0\n');
    expect(yaml).toContain('seed: 3\n');
  });
});

describe('a defaults list that includes itself is an error naming the chain of files, not a stack overflow', () => {
  const dir = writeTree({
    'config.yaml': 'defaults:\n  - model: a\n  - _self_\nseed: 1\n',
    'model/a.yaml': 'defaults:\n  - /model@sub: a\nx: 1\n',
    'model/b.yaml': 'defaults:\n  - c\ny: 1\n',
    'model/c.yaml': 'defaults:\n  - /model: b\n',
    'model/d.yaml': 'defaults:\n  - /combo@sub: ${model}\n',
    'combo/d.yaml': 'defaults:\n  - /model@m: d\n',
    'model/e.yaml': 'defaults:\n  - /db@src: mysql\n  - /db@dst: mysql\n',
    'db/mysql.yaml': 'driver: mysql\n',
  });
  const message = (overrides: string[]) => {
    try {
      obj(dir, overrides);
    } catch (e) {
      expect(e).toBeInstanceOf(ConfigCompositionError);
      return (e as Error).message;
    }
    throw new Error('composed without an error');
  };

  it('itself under another package', () => {
    expect(message([])).toBe(
      `${dir}/model/a.yaml:2:5: defaults-list cycle: 'model/a' includes itself:\n` +
        `  ${dir}/model/a.yaml\n  -> ${dir}/model/a.yaml (/model@sub: a at ${dir}/model/a.yaml:2:5)\n` +
        'Remove one of the entries of this chain.',
    );
  });

  it('through another config', () => {
    expect(message(['model=b'])).toBe(
      `${dir}/model/c.yaml:2:5: defaults-list cycle: 'model/b' includes itself:\n` +
        `  ${dir}/model/b.yaml\n  -> ${dir}/model/c.yaml (c at ${dir}/model/b.yaml:2:5)\n  -> ${dir}/model/b.yaml (/model: b at ${dir}/model/c.yaml:2:5)\n` +
        'Remove one of the entries of this chain.',
    );
  });

  it('through an interpolated entry', () => {
    expect(message(['model=d'])).toBe(
      `${dir}/combo/d.yaml:2:5: defaults-list cycle: 'model/d' includes itself:\n` +
        `  ${dir}/model/d.yaml\n  -> ${dir}/combo/d.yaml (/combo@sub: \${model} at ${dir}/model/d.yaml:2:5)\n  -> ${dir}/model/d.yaml (/model@m: d at ${dir}/combo/d.yaml:2:5)\n` +
        'Remove one of the entries of this chain.',
    );
  });

  it('the same config in two branches is no cycle', () => {
    expect(obj(dir, ['model=e'])).toEqual({ model: { src: { driver: 'mysql' }, dst: { driver: 'mysql' } }, seed: 1 });
  });
});
