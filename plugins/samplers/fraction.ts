// Exact rational numbers for clip times. pytorchvideo keeps clip times as Python `fractions.Fraction`
// (`pytorchvideo/data/clip_sampling.py`), so boundary tests such as "does the next window pass the end of the
// video?" are exact there; doing them in floats would move windows at exact boundaries (10 s = 5 × 2 s clips).
// Numerator and denominator are bigints: `Fraction.from(2.1333333333333333)` is, like Python's
// `Fraction(2.1333333333333333)`, the exact value of the binary double (denominator 2^51), and sums of such values
// quickly outgrow 2^53.

/** A time written in a config or passed from code: a number (its exact binary value), `"32/15"`, `"2.5"`, or a Fraction. */
export type Rational = number | string | Fraction;

const RATIO = /^\s*([+-]?\d+)\s*\/\s*(\d+)\s*$/;
const DECIMAL = /^\s*([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?\s*$/;

function gcd(a: bigint, b: bigint): bigint {
  if (a < 0n) a = -a;
  if (b < 0n) b = -b;
  while (b !== 0n) [a, b] = [b, a % b];
  return a;
}

function bitLength(n: bigint): number {
  return n === 0n ? 0 : n.toString(2).length;
}

const TWO53 = 2n ** 53n;

/**
 * n/d (d > 0) as the nearest double, ties to even — what Python's `float(Fraction)` returns.
 * (Subnormal results are not handled specially; clip times never come near them.)
 */
function ratioToNumber(n: bigint, d: bigint): number {
  if (n === 0n) return 0;
  const negative = n < 0n;
  if (negative) n = -n;
  if (n <= TWO53 && d <= TWO53) {
    // Both exact as doubles: IEEE division is correctly rounded.
    const q = Number(n) / Number(d);
    return negative ? -q : q;
  }
  // q = floor(n·2^s / d) with at least 55 bits, then round to 53 bits (half to even, remainder as sticky bit).
  const s = 55 - (bitLength(n) - bitLength(d));
  const num = s >= 0 ? n << BigInt(s) : n;
  const den = s >= 0 ? d : d << BigInt(-s);
  let q = num / den;
  const sticky = num % den !== 0n;
  const extra = bitLength(q) - 53;
  const low = q & ((1n << BigInt(extra)) - 1n);
  const half = 1n << BigInt(extra - 1);
  q >>= BigInt(extra);
  if (low > half || (low === half && (sticky || (q & 1n) === 1n))) q += 1n;
  const value = Number(q) * 2 ** (extra - s);
  return negative ? -value : value;
}

/** An exact rational number, always reduced, denominator > 0. Immutable. */
export class Fraction {
  static readonly ZERO = new Fraction(0n, 1n);

  private constructor(
    readonly num: bigint,
    readonly den: bigint,
  ) {}

  /** num/den, reduced. */
  static of(num: bigint | number, den: bigint | number = 1n): Fraction {
    const n = typeof num === 'bigint' ? num : BigInt(num);
    const d = typeof den === 'bigint' ? den : BigInt(den);
    if (d === 0n) throw new RangeError('Fraction: zero denominator');
    const g = gcd(n, d) || 1n;
    const sign = d < 0n ? -1n : 1n;
    return new Fraction((sign * n) / g, (sign * d) / g);
  }

  /**
   * A number is taken at its exact binary value (Python's `Fraction(float)`); a string is an exact ratio `"a/b"`
   * or an exact decimal `"2.5"`, `"1e-3"` (Python's `Fraction(str)`).
   */
  static from(x: Rational): Fraction {
    if (x instanceof Fraction) return x;
    if (typeof x === 'number') {
      if (!Number.isFinite(x)) throw new RangeError(`Fraction: ${x} is not a finite number`);
      if (Number.isInteger(x)) return Fraction.of(BigInt(x));
      // Doubling a double with a fractional part is exact; at most 1074 doublings reach an integer.
      let d = 1n;
      let v = x;
      while (!Number.isInteger(v)) {
        v *= 2;
        d *= 2n;
      }
      return Fraction.of(BigInt(v), d);
    }
    const ratio = RATIO.exec(x);
    if (ratio) return Fraction.of(BigInt(ratio[1]!), BigInt(ratio[2]!));
    const dec = DECIMAL.exec(x);
    if (dec && (dec[2] || dec[3])) {
      const digits = `${dec[2] ?? ''}${dec[3] ?? ''}` || '0';
      const scale = (dec[3]?.length ?? 0) - Number(dec[4] ?? 0);
      let n = BigInt(digits);
      let d = 1n;
      if (scale >= 0) d = 10n ** BigInt(scale);
      else n *= 10n ** BigInt(-scale);
      return Fraction.of(dec[1] === '-' ? -n : n, d);
    }
    throw new RangeError(`Fraction: '${x}' is not a number, a ratio such as '32/15' or a decimal such as '2.5'`);
  }

  add(o: Rational): Fraction {
    const b = Fraction.from(o);
    return Fraction.of(this.num * b.den + b.num * this.den, this.den * b.den);
  }

  sub(o: Rational): Fraction {
    const b = Fraction.from(o);
    return Fraction.of(this.num * b.den - b.num * this.den, this.den * b.den);
  }

  mul(o: Rational): Fraction {
    const b = Fraction.from(o);
    return Fraction.of(this.num * b.num, this.den * b.den);
  }

  div(o: Rational): Fraction {
    const b = Fraction.from(o);
    if (b.num === 0n) throw new RangeError('Fraction: division by zero');
    return Fraction.of(this.num * b.den, this.den * b.num);
  }

  neg(): Fraction {
    return new Fraction(-this.num, this.den);
  }

  abs(): Fraction {
    return this.num < 0n ? this.neg() : this;
  }

  /** −1, 0 or 1. */
  cmp(o: Rational): number {
    const b = Fraction.from(o);
    const l = this.num * b.den;
    const r = b.num * this.den;
    return l < r ? -1 : l > r ? 1 : 0;
  }

  lt(o: Rational): boolean {
    return this.cmp(o) < 0;
  }

  le(o: Rational): boolean {
    return this.cmp(o) <= 0;
  }

  gt(o: Rational): boolean {
    return this.cmp(o) > 0;
  }

  ge(o: Rational): boolean {
    return this.cmp(o) >= 0;
  }

  eq(o: Rational): boolean {
    return this.cmp(o) === 0;
  }

  static max(a: Rational, b: Rational): Fraction {
    const fa = Fraction.from(a);
    const fb = Fraction.from(b);
    return fa.ge(fb) ? fa : fb;
  }

  static min(a: Rational, b: Rational): Fraction {
    const fa = Fraction.from(a);
    const fb = Fraction.from(b);
    return fa.le(fb) ? fa : fb;
  }

  /** The nearest double (ties to even), as Python's `float(Fraction)`. */
  toNumber(): number {
    return ratioToNumber(this.num, this.den);
  }

  toString(): string {
    return this.den === 1n ? `${this.num}` : `${this.num}/${this.den}`;
  }
}
