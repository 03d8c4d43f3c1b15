import { describe, expect, it } from 'vitest';
import { mulberry32 } from '../../core/random.ts';
import { Fraction } from '../../plugins/samplers/fraction.ts';

describe('Fraction: exact times as pytorchvideo keeps them', () => {
  it("a number is its exact binary value (Python's Fraction(0.1))", () => {
    const f = Fraction.from(0.1);
    expect(f.num).toBe(3602879701896397n);
    expect(f.den).toBe(36028797018963968n);
    expect(Fraction.from(0.5).toString()).toBe('1/2');
    expect(Fraction.from(-3).toString()).toBe('-3');
  });

  it('strings are exact ratios or decimals', () => {
    expect(Fraction.from('32/15').toString()).toBe('32/15');
    expect(Fraction.from('64/30').toString()).toBe('32/15');
    expect(Fraction.from('2.5').toString()).toBe('5/2');
    expect(Fraction.from('.125').toString()).toBe('1/8');
    expect(Fraction.from('1e-3').toString()).toBe('1/1000');
    expect(Fraction.from('-0.2').toString()).toBe('-1/5');
    expect(() => Fraction.from('two')).toThrow(/not a number/);
  });

  it('arithmetic and comparisons are exact', () => {
    const third = Fraction.of(1, 3);
    expect(third.add(third).add(third).eq(1)).toBe(true);
    expect(Fraction.from('0.1').mul(10).eq(1)).toBe(true);
    expect(Fraction.from(0.1).mul(10).gt(1)).toBe(true); // the double 0.1 is slightly above 1/10
    expect(Fraction.of(7, 30).sub('1/6').toString()).toBe('1/15');
    expect(Fraction.of(2, 3).div(Fraction.of(4, 9)).toString()).toBe('3/2');
    expect(Fraction.max('1/3', 0.3).toString()).toBe('1/3');
    expect(Fraction.of(-1, 2).abs().toString()).toBe('1/2');
  });

  it('toNumber is correctly rounded, ties to even (float(Fraction))', () => {
    // 3 × double(0.1) lies exactly halfway between two doubles: ties to the even one, as IEEE 0.1 * 3.
    expect(Fraction.from(0.1).mul(3).toNumber()).toBe(0.1 * 3);
    expect(Fraction.of(1, 3).toNumber()).toBe(1 / 3);
    const rng = mulberry32(7);
    for (let k = 0; k < 2000; k++) {
      const x = (rng() - 0.5) * 10 ** Math.floor(rng() * 8 - 4);
      const y = (rng() - 0.5) * 10 ** Math.floor(rng() * 8 - 4);
      // IEEE +, ×, ÷ are the correctly rounded exact results.
      expect(Fraction.from(x).add(y).toNumber()).toBe(x + y);
      expect(Fraction.from(x).mul(y).toNumber()).toBe(x * y);
      if (y !== 0) expect(Fraction.from(x).div(y).toNumber()).toBe(x / y);
    }
  });
});
