/** YAML text of `depth` anchors a, b, c, …: each a flow list of nine aliases of the one before (a "billion laughs" file). */
export function aliasBomb(depth: number): string {
  const names = 'abcdefghi'.slice(0, depth);
  return [...names].map((n, i) => `${n}: &${n} [${Array(9).fill(i === 0 ? 'lol' : `*${names[i - 1]}`).join(', ')}]\n`).join('');
}
