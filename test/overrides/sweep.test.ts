// Sweep expansion as Hydra's basic sweeper does it (hydra-features.md section 9).
import { describe, it, expect } from 'vitest';
import { VidraError } from '../../core/config/errors.ts';
import { toPlain } from '../../core/config/node.ts';
import { parseOverride, parseOverrideInternal } from '../../core/overrides/parse.ts';
import { expandSweep } from '../../core/overrides/sweep.ts';

const values = (jobs: string[][]) => jobs.map((job) => job.map((o) => o.slice(o.indexOf('=') + 1)));

describe('cartesian product', () => {
  it('expands the 3×2×2 grid with the last override varying fastest', () => {
    expect(expandSweep(['loss=bce,focal,eql', 'optim.lr=1e-4,1.5e-4', 'data.batch_size=8,128'])).toEqual([
      ['loss=bce', 'optim.lr=1e-4', 'data.batch_size=8'],
      ['loss=bce', 'optim.lr=1e-4', 'data.batch_size=128'],
      ['loss=bce', 'optim.lr=1.5e-4', 'data.batch_size=8'],
      ['loss=bce', 'optim.lr=1.5e-4', 'data.batch_size=128'],
      ['loss=focal', 'optim.lr=1e-4', 'data.batch_size=8'],
      ['loss=focal', 'optim.lr=1e-4', 'data.batch_size=128'],
      ['loss=focal', 'optim.lr=1.5e-4', 'data.batch_size=8'],
      ['loss=focal', 'optim.lr=1.5e-4', 'data.batch_size=128'],
      ['loss=eql', 'optim.lr=1e-4', 'data.batch_size=8'],
      ['loss=eql', 'optim.lr=1e-4', 'data.batch_size=128'],
      ['loss=eql', 'optim.lr=1.5e-4', 'data.batch_size=8'],
      ['loss=eql', 'optim.lr=1.5e-4', 'data.batch_size=128'],
    ]);
  });

  it('keeps overrides without a sweep verbatim, in their position', () => {
    expect(expandSweep(['a=1,2', 'name=x  y', '+trainer.precision=16', '~logger', 'b=[1, 2]'])).toEqual([
      ['a=1', 'name=x  y', '+trainer.precision=16', '~logger', 'b=[1, 2]'],
      ['a=2', 'name=x  y', '+trainer.precision=16', '~logger', 'b=[1, 2]'],
    ]);
  });

  it('gives exactly one job when nothing is swept', () => {
    expect(expandSweep(['a=1', "b='x,y'", 'c=[1,2]'])).toEqual([['a=1', "b='x,y'", 'c=[1,2]']]);
    expect(expandSweep([])).toEqual([[]]);
  });

  it('a repeated key keeps its first position and its last value', () => {
    expect(expandSweep(['a=1,2', 'b=x', 'a=3,4'])).toEqual([
      ['a=3', 'b=x'],
      ['a=4', 'b=x'],
    ]);
    expect(expandSweep(['a=1', 'b=2', 'a=3'])).toEqual([['a=3', 'b=2']]);
    expect(expandSweep(['a=1,2', 'b=x', 'a=3'])).toEqual([['a=3', 'b=x']]);
  });

  it('keys differ by prefix and package, as in Hydra', () => {
    expect(expandSweep(['a=1', '+a=2', '++a=3', '~a'])).toEqual([['a=1', '+a=2', '++a=3', '~a']]);
    expect(expandSweep(['db@src=mysql,sqlite', 'db@dst=pg', 'db=x,y'])).toEqual([
      ['db@src=mysql', 'db@dst=pg', 'db=x'],
      ['db@src=mysql', 'db@dst=pg', 'db=y'],
      ['db@src=sqlite', 'db@dst=pg', 'db=x'],
      ['db@src=sqlite', 'db@dst=pg', 'db=y'],
    ]);
    expect(expandSweep(['+db@=a,b'])).toEqual([['+db@=a'], ['+db@=b']]);
  });

  it('echoes each element as typed (1e30, not 1e+30), and prints generated or cast values as Python does', () => {
    expect(expandSweep(['optim.lr=1e30,-1e10, 1.5E-4 ', "name='a b',c"])).toEqual([
      ['optim.lr=1e30', "name='a b'"],
      ['optim.lr=1e30', 'name=c'],
      ['optim.lr=-1e10', "name='a b'"],
      ['optim.lr=-1e10', 'name=c'],
      ['optim.lr=1.5E-4', "name='a b'"],
      ['optim.lr=1.5E-4', 'name=c'],
    ]);
    expect(expandSweep(['a=sort(3e3,1e1)', 'b=choice([1e5, 2])', 'c=tag(t, choice(1E3,2))'])).toEqual([
      ['a=1e1', 'b=[1e5, 2]', 'c=1E3'],
      ['a=1e1', 'b=[1e5, 2]', 'c=2'],
      ['a=3e3', 'b=[1e5, 2]', 'c=1E3'],
      ['a=3e3', 'b=[1e5, 2]', 'c=2'],
    ]);
    expect(expandSweep(['a=float(1,2.50)', 'b=range(1e1,3e1,1e1)'])).toEqual([
      ['a=1.0', 'b=10.0'],
      ['a=1.0', 'b=20.0'],
      ['a=2.50', 'b=10.0'],
      ['a=2.50', 'b=20.0'],
    ]);
  });

  it('prints each element so that it parses back to the same typed value', () => {
    const text = `a='1','2',str(3),true,1.0,null,[1,'a b'],{x:y},'x, y','\${b}',007,"it's"`;
    const jobs = expandSweep([text]);
    expect(jobs).toEqual([
      ["a='1'"],
      ["a='2'"],
      ['a=str(3)'],
      ['a=true'],
      ['a=1.0'],
      ['a=null'],
      ["a=[1,'a b']"],
      ['a={x:y}'],
      ["a='x, y'"],
      ["a='${b}'"],
      ['a=007'],
      ['a="it\'s"'],
    ]);
    const sweep = parseOverrideInternal(text).sweep!;
    expect(sweep.kind).toBe('choice');
    const expected = sweep.kind === 'choice' ? sweep.values.map(toPlain) : [];
    expect(jobs.map(([o]) => parseOverride(o!).value)).toEqual(expected);
  });

  it('sweeps a deletion or an addition with its prefix', () => {
    expect(expandSweep(['~a=1,2', '+b=x,y'])).toEqual([
      ['~a=1', '+b=x'],
      ['~a=1', '+b=y'],
      ['~a=2', '+b=x'],
      ['~a=2', '+b=y'],
    ]);
  });
});

describe('range()', () => {
  it.each([
    ['range(5)', ['0', '1', '2', '3', '4']],
    ['range(1,4)', ['1', '2', '3']],
    ['range(1,10,3)', ['1', '4', '7']],
    ['range(5,0,-2)', ['5', '3', '1']],
    ['range(-3)', []],
    ['range(3,0)', []],
    ['range(0,10,-1)', []],
    ['range(0,1,0.25)', ['0.0', '0.25', '0.5', '0.75']],
    ['range(0.1,0.5,0.1)', ['0.1', '0.2', '0.30000000000000004', '0.4']],
    ['range(1.0, 0.0, -0.1)', ['1.0', '0.9', '0.8', '0.7', '0.6', '0.5', '0.39999999999999997', '0.3', '0.19999999999999996', '0.09999999999999995']],
    ['range(0, 1, 0.1)', ['0.0', '0.1', '0.2', '0.3', '0.4', '0.5', '0.6', '0.7000000000000001', '0.8', '0.9']],
    ['range(0, 1.3, 0.5)', ['0.0', '0.5', '1.0']],
    ['range(1, 2.5)', ['1.0', '2.0']],
    ['range(5.5, step=2)', ['0.0', '2.0', '4.0']],
    ['range(0, 0.3, 0.1)', ['0.0', '0.1', '0.2']],
    ['float(range(1,3))', ['1.0', '2.0']],
    ['int(range(0.5,3.7))', ['0', '1', '2']],
    ['range(1,1e3,250)', ['1.0', '251.0', '501.0', '751.0']],
  ])('%s', (text, expected) => {
    expect(values(expandSweep([`x=${text}`]))).toEqual(expected.map((e) => [e]));
  });

  it('an empty range gives no job at all', () => {
    expect(expandSweep(['a=1,2', 'x=range(0)', 'b=3'])).toEqual([]);
  });

  it('sort(..., reverse=true) reverses the elements', () => {
    expect(values(expandSweep(['x=sort(range(0,5,2),reverse=true)']))).toEqual([['4'], ['2'], ['0']]);
    expect(values(expandSweep(['x=sort(range(1,6,2),reverse=true)']))).toEqual([['5'], ['3'], ['1']]);
    expect(values(expandSweep(['x=sort(range(7,0,-3))']))).toEqual([['1'], ['4'], ['7']]);
    expect(values(expandSweep(['x=sort(range(0,1.3,0.5),reverse=true)']))).toEqual([['1.0'], ['0.5'], ['0.0']]);
    expect(values(expandSweep(['x=sort(sort(range(3),reverse=true))']))).toEqual([['0'], ['1'], ['2']]);
  });

  it('rejects a zero step and infinite bounds', () => {
    expect(() => expandSweep(['x=range(1,5,0)'])).toThrow("cannot sweep 'x=range(1,5,0)': the step of range() must not be zero");
    expect(() => expandSweep(['x=range(0.0,1,0.0)'])).toThrow('the step of range() must not be zero');
    expect(() => expandSweep(['x=range(0,inf)'])).toThrow("cannot sweep 'x=range(0,inf)': range() needs finite start, stop and step");
    expect(() => expandSweep(['x=int(range(0.5,3.5,0.5))'])).toThrow('the step of range() must not be zero');
  });

  it('refuses ranges too long to be meant', () => {
    expect(() => expandSweep(['x=range(0,1e9,0.5)'])).toThrow("cannot sweep 'x=range(0,1e9,0.5)': the range has more than 10000000 values");
  });
});

describe('glob()', () => {
  const groupOptions = { experiment: ['base', 'kinetics_debug', 'kinetics', 'ava', 'ava_debug'], model: ['i3d', 'slowfast', 'x3d', 'x3d_m'] };

  it('picks options of the group by fnmatch, sorted, minus the excluded ones', () => {
    expect(expandSweep(['+experiment=glob(*,exclude=*_debug)', 'seed=1'], { groupOptions })).toEqual([
      ['+experiment=ava', 'seed=1'],
      ['+experiment=base', 'seed=1'],
      ['+experiment=kinetics', 'seed=1'],
    ]);
    expect(values(expandSweep(['model=glob(x3d*)'], { groupOptions }))).toEqual([['x3d'], ['x3d_m']]);
    expect(values(expandSweep(['model=glob([i*,s*])'], { groupOptions }))).toEqual([['i3d'], ['slowfast']]);
    expect(values(expandSweep(['model=glob(*, exclude=[x3d, i*])'], { groupOptions }))).toEqual([['slowfast'], ['x3d_m']]);
    expect(values(expandSweep(['model=glob(?3d)'], { groupOptions }))).toEqual([['i3d'], ['x3d']]);
    expect(values(expandSweep(["model=glob('[!i]3d*')"], { groupOptions }))).toEqual([['x3d'], ['x3d_m']]);
    expect(values(expandSweep(['model=glob(nothing*)'], { groupOptions }))).toEqual([]);
  });

  it('asks listGroupOptions when groupOptions has no entry', () => {
    const asked: string[] = [];
    const listGroupOptions = (group: string) => {
      asked.push(group);
      return ['b', 'a'];
    };
    expect(expandSweep(['db@src=glob(*)'], { listGroupOptions })).toEqual([['db@src=a'], ['db@src=b']]);
    expect(asked).toEqual(['db']);
  });

  it('fails clearly without the options of the group', () => {
    expect(() => expandSweep(['model=glob(*)'])).toThrow(VidraError);
    expect(() => expandSweep(['model=glob(*)'])).toThrow("cannot sweep 'model=glob(*)': glob() needs the options of the config group 'model', and none were given");
  });
});

describe('shuffle()', () => {
  it('gives a permutation, the same one for the same seed', () => {
    const jobs = expandSweep(['x=shuffle(range(20))'], { seed: 7 });
    expect(values(jobs).map(([v]) => Number(v)).sort((a, b) => a - b)).toEqual([...Array(20).keys()]);
    expect(expandSweep(['x=shuffle(range(20))'], { seed: 7 })).toEqual(jobs);
    expect(expandSweep(['x=shuffle(range(20))'], { seed: 8 })).not.toEqual(jobs);
    expect(values(jobs)).not.toEqual([...Array(20).keys()].map((i) => [String(i)]));
  });

  it('without a seed the order depends only on the overrides (reruns are reproducible)', () => {
    const a = expandSweep(['x=shuffle(a,b,c,d,e,f,g,h)', 'y=1']);
    expect(expandSweep(['x=shuffle(a,b,c,d,e,f,g,h)', 'y=1'])).toEqual(a);
    expect(values(a).map(([x]) => x).sort()).toEqual(['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h']);
  });

  it('shuffles choices and float ranges too', () => {
    const jobs = expandSweep(['x=shuffle(choice(1,2,3,4,5,6))', 'y=shuffle(range(0,1,0.25))'], { seed: 1 });
    expect(jobs).toHaveLength(24);
    expect(new Set(values(jobs).map(([x]) => x))).toEqual(new Set(['1', '2', '3', '4', '5', '6']));
    expect(new Set(values(jobs).map(([, y]) => y))).toEqual(new Set(['0.0', '0.25', '0.5', '0.75']));
  });
});

describe('interval()', () => {
  it('cannot be swept by the basic sweeper', () => {
    expect(() => expandSweep(['lr=tag(log,interval(0.0001,0.1))'])).toThrow(VidraError);
    expect(() => expandSweep(['lr=interval(0,1)'])).toThrow(
      "cannot sweep 'lr=interval(0,1)': interval() is a continuous range, which the basic sweeper (Vidra's only sweeper) cannot enumerate; list the values instead: lr=choice(a,b,c) or lr=range(start,stop,step)",
    );
  });
});

describe('bad overrides', () => {
  it('throw the parse error', () => {
    expect(() => expandSweep(['a=1', 'b=[1,'])).toThrow("Error parsing override 'b=[1,'");
  });
});
