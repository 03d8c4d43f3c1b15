// Malformed overrides: every failure is an OverrideParseError that says, in words and with a caret,
// what was expected and what was found (Hydra only says `missing EQUAL at '<EOF>'`).
import { describe, it, expect } from 'vitest';
import { VidraError } from '../../core/config/errors.ts';
import { OverrideParseError, parseOverride } from '../../core/overrides/parse.ts';

function failure(text: string): OverrideParseError {
  try {
    parseOverride(text);
  } catch (e) {
    expect(e).toBeInstanceOf(OverrideParseError);
    return e as OverrideParseError;
  }
  throw new Error(`'${text}' was accepted`);
}

const VALUE = 'a value (a number, a string, a quoted string, a list [..] or a dict {..})';

describe('the error', () => {
  it('is a VidraError with the column, the override and a caret display', () => {
    const e = failure('a=é');
    expect(e).toBeInstanceOf(VidraError);
    expect(e.name).toBe('OverrideParseError');
    expect(e.column).toBe(2);
    expect(e.override).toBe('a=é');
    expect(e.message).toBe(
      [
        "Error parsing override 'a=é'",
        '  a=é',
        '    ^',
        `at column 2: expected ${VALUE} but found 'é' (non-ASCII characters can only appear in a quoted value: put the value in quotes, e.g. a='é')`,
      ].join('\n'),
    );
  });

  it('puts the caret under the column, tabs included', () => {
    expect(failure('a=\tx#').message.split('\n').slice(1, 3)).toEqual(['  a=\tx#', '    \t ^']);
  });

  it('counts a surrogate pair as one character wide in the caret line', () => {
    expect(failure("k='😀'x").message.split('\n').slice(1, 3)).toEqual(["  k='😀'x", '       ^']);
    expect(failure("k='😀'x").column).toBe(6);
  });

  it('shows control characters as ? so the caret stays aligned', () => {
    expect(failure('a=\nb').message.split('\n')).toEqual([
      "Error parsing override 'a=?b'",
      '  a=?b',
      '    ^',
      `at column 2: expected ${VALUE} but found the control character U+000A (control characters can only appear in a quoted value: put the value in quotes)`,
    ]);
  });
});

describe('mistakes in keys', () => {
  it.each([
    ['foo', 3, "expected '=' after the key 'foo' but found the end of the override (to set it write foo=VALUE, to delete it ~foo)"],
    ['+foo', 4, "expected '=' after the key 'foo' but found the end of the override (to set it write foo=VALUE, to delete it ~foo)"],
    ['-a=1', 0, "a key cannot start with '-'"],
    ['--multirun', 0, "a key cannot start with '-' (command-line flags such as --multirun are not overrides; they go before them)"],
    ['a[0]=1', 1, "expected '=' after the key 'a' but found '['; index list items with a dot (a.0), not a[0]"],
    ['a..b=1', 1, "a '.' in a key must be followed by a name (as in a.b.c), after 'a'"],
    ['a.=1', 1, "a '.' in a key must be followed by a name (as in a.b.c), after 'a'"],
    ['a b=1', 1, "expected '=' after the key 'a' but found a space; keys cannot contain spaces"],
    ['1=2', 0, "expected a key but found '1': a key starts with a letter, '_' or '$' (a number is allowed in a dotted path such as list.0)"],
    ['=5', 0, "expected a key before '='"],
    ['', 0, 'expected a key (like db, optim.lr or model/backbone) but found the end of the override'],
    ['~', 1, 'expected a key (like db, optim.lr or model/backbone) but found the end of the override'],
    ['+++a=1', 2, "expected a key (like db, optim.lr or model/backbone) but found '+'"],
    ['db@pkg1:pkg2=x', 7, "the form 'group@pkg1:pkg2' (renaming a package) is no longer supported; select the package directly: db@pkg2=x"],
    ['+db@:pkg2=x', 4, "the form 'group@pkg1:pkg2' (renaming a package) is no longer supported; select the package directly: +db@pkg2=x"],
    ['$foo/bar=1', 4, "expected '=' after the key '$foo' but found '/'; a config group path is made of names (letters, digits, '_', '-') separated by '/'"],
    ['a/b.c=1', 3, "expected '=' after the key 'a/b' but found '.'; a config group path (model/backbone) cannot contain '.'"],
    ['a@b@c=1', 3, "expected '=' after the key 'a@b' but found '@'"],
    ['a.01=1', 3, "expected '=' after the key 'a.0' but found '1'"],
  ])('%j', (text, column, reason) => {
    const e = failure(text);
    expect(e.reason).toBe(reason);
    expect(e.column).toBe(column);
  });
});

describe('mistakes in values', () => {
  it.each([
    ['a=[1,2,]', 7, "expected a value after ',' but found ']' (remove the trailing comma)"],
    ['a=1,', 4, "expected a value after ',' but found the end of the override (remove the trailing comma)"],
    ['a=f(1,)', 6, "expected a value after ',' but found ')' (remove the trailing comma)"],
    ['a=,1', 2, `expected ${VALUE} but found ','`],
    ['a=[1,2', 6, "expected ',' or ']' but found the end of the override"],
    ['a=[', 3, `expected ${VALUE} or ']' but found the end of the override`],
    ['a=f(', 4, `expected ${VALUE} or ')' but found the end of the override`],
    ['a={', 3, "expected a dict key or '}' but found the end of the override"],
    ['a={a:}', 5, "expected a value after ':' but found '}'"],
    ['a={a:1,}', 7, "expected a dict key after ',' but found '}' (remove the trailing comma)"],
    ['a={a}', 4, "expected ':' after the dict key but found '}'"],
    ["a={'0a': 0}", 3, `expected a dict key or '}' but found "'" (dict keys cannot be quoted; escape special characters with a backslash instead, as in {a\\ b: 1})`],
    ["a='foo'bar", 7, "expected ',' or the end of the override but found 'b' (a quoted string must be a whole value: put everything in the quotes, or separate values with ',')"],
    ["a='x' ", 5, "expected ',' or the end of the override but found a space (a quoted string must be a whole value: put everything in the quotes, or separate values with ',')"],
    ["a=x'y'", 3, `expected ',' or the end of the override but found "'" (a quote can only start a value: quote the whole value)`],
    ["a=[1,2,3]'", 9, `expected ',' or the end of the override but found "'" (a quote can only start a value: quote the whole value)`],
    ["a='abc", 2, 'this quoted string has no closing quote'],
    ["a=x,'y\\'", 4, 'this quoted string has no closing quote'],
    ['a=b=c', 3, "expected ',' or the end of the override but found '=' (to use '=' inside a value, escape it as \\= or quote the value)"],
    ['a=${f:{a:1}}', 11, "expected ',' or the end of the override but found '}' (an interpolation that contains '{' or '}' must be quoted, e.g. a='${f:{a:1}}')"],
    ['a=(', 2, `expected ${VALUE} but found '('`],
    ['a=1)', 3, "expected ',' or the end of the override but found ')'"],
    ['a=[1]x', 5, "expected ',' or the end of the override but found 'x'"],
    ['a=x y(1)', 5, "expected ',' or the end of the override but found '('"],
    ['a=b =c', 4, "expected ',' or the end of the override but found '=' (to use '=' inside a value, escape it as \\= or quote the value)"],
    ['a=x ]', 4, "expected ',' or the end of the override but found ']'"],
    ['a=1e)', 4, "expected ',' or the end of the override but found ')'"],
    ['a=${abc', 3, "expected ',' or the end of the override but found '{' (an interpolation ${...} needs its closing '}')"],
    ['a@b.=1', 3, "a '.' in a key must be followed by a name (as in a.b.c), after 'a@b'"],
  ])('%j', (text, column, reason) => {
    const e = failure(text);
    expect(e.reason).toBe(reason);
    expect(e.column).toBe(column);
  });

  it.each([
    ['a=é', 2, 'non-ASCII characters', "a='é'"],
    ['a=café', 5, 'non-ASCII characters', "a='café'"],
    ['k=😀', 2, 'non-ASCII characters', "k='😀'"],
    ['a=abc#', 5, "'#'", "a='abc#'"],
    ['a=#x', 2, "'#'", "a='#x'"],
    ['a=!', 2, "'!'", "a='!'"],
    ['a=x&y', 3, "'&'", "a='x&y'"],
    ['a=x;y', 3, "';'", "a='x;y'"],
    ['a=~', 2, "'~'", "a='~'"],
    ['a=<x>', 2, "'<'", "a='<x>'"],
  ])('%j says to quote the value', (text, column, what, example) => {
    const e = failure(text);
    expect(e.column).toBe(column);
    expect(e.reason).toMatch(new RegExp(`^expected .* but found '.+' \\(${what} can only appear in a quoted value: put the value in quotes, e\\.g\\. ${example.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\)$`, 'u'));
  });

  it('does not suggest a quoted form when the value already has quotes or commas', () => {
    expect(failure("a=x#,'y'").reason).toBe("expected ',' or the end of the override but found '#' ('#' can only appear in a quoted value: put the value in quotes)");
  });

  it('reports values nested too deeply instead of crashing', () => {
    const e = failure(`a=${'['.repeat(50_000)}`);
    expect(e.reason).toBe('the value is nested too deeply');
    expect(e.column).toBe(2);
  });
});

describe('mistakes in function calls point at the call or the argument', () => {
  it.each([
    ['x=range(start=1, 3)', 17, "in 'range(start=1, 3)': a positional argument cannot follow a named argument"],
    ['x=choice(a, b, c=1)', 15, "in 'choice(a, b, c=1)': choice() got an unexpected argument 'c' (it takes no named arguments)"],
    ['x=nope(1)', 2, "unknown function 'nope'. Available functions: bool, choice, float, glob, int, interval, json_str, range, shuffle, sort, str, tag"],
    ['x=[1, int(foo)]', 6, "in 'int(foo)': 'foo' is not an integer"],
    ["x=bool('')", 2, "in 'bool('')': '' is not a bool (true or false)"],
    ['x=int(inf)', 2, "in 'int(inf)': cannot convert infinity to an integer"],
    ['x=str(null)', 2, "in 'str(null)': null cannot be cast to str"],
  ])('%j', (text, column, reason) => {
    const e = failure(text);
    expect(e.reason).toBe(reason);
    expect(e.column).toBe(column);
  });
});

describe('only OverrideParseError escapes', () => {
  it.each(['a=', '~a=[', 'a=range(1,2', 'a={b:[1,{c:', "a='\\", 'a=\\', 'a=$', 'a=${', 'a=${}', '@=1', 'a@', 'a@=', 'a/=1', '/a=1', 'a=1e999', 'a=int(1e999)'])(
    '%j',
    (text) => {
      try {
        parseOverride(text);
      } catch (e) {
        expect(e).toBeInstanceOf(OverrideParseError);
        expect((e as OverrideParseError).column).toBeGreaterThanOrEqual(0);
        expect((e as OverrideParseError).column).toBeLessThanOrEqual(text.length);
      }
    },
  );
});
