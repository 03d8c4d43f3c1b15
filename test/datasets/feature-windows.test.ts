import { describe, expect, it } from 'vitest';
import { featureCount, featureFrames, featuresPerSecond, featureWindow, narrationWindow } from '../../plugins/datasets/feature-windows.ts';

describe('the Ego4D feature grid (ml-spec §4): 32-frame windows, stride 16, 30 fps', () => {
  it('has 30/16 = 1.875 features per second', () => {
    expect(featuresPerSecond()).toBe(1.875);
    expect(featuresPerSecond({ fps: 24, stride: 8 })).toBe(3);
  });

  it('counts ceil((F − 32)/16) + 1 features, at least one for a short video, none for an empty one', () => {
    expect([0, 1, 10, 31, 32, 33, 39, 48, 49, 64, 65].map((f) => featureCount(f))).toEqual([0, 1, 1, 1, 1, 2, 2, 2, 3, 3, 4]);
  });

  it('the 39-frame example: features cover frames [0, 31] and [7, 38] (the last window back-padded)', () => {
    expect(featureCount(39)).toBe(2);
    expect(featureFrames(0, 39)).toEqual([0, 31]);
    expect(featureFrames(1, 39)).toEqual([7, 38]);
  });

  it('feature i covers frames [16i, 16i + 32) away from the end', () => {
    expect(featureFrames(0, 100)).toEqual([0, 31]);
    expect(featureFrames(3, 100)).toEqual([48, 79]);
    expect(featureFrames(5, 100)).toEqual([68, 99]);
    expect(() => featureFrames(6, 100)).toThrow('featureFrames: feature 6 does not exist (the video has 6 features)');
  });
});

describe('featureWindow: [t1, t2] s → rows [x1, x2 + 1) as CLEP get_start_end_idx', () => {
  it('floors t·1.875 at both ends and includes the end row', () => {
    expect(featureWindow(0, 2, { numFeatures: 100 })).toEqual({ start: 0, end: 4 });
    expect(featureWindow(1, 3, { numFeatures: 100 })).toEqual({ start: 1, end: 6 });
    expect(featureWindow(16 / 30, 32 / 30, { numFeatures: 100 })).toEqual({ start: 1, end: 3 });
  });

  it('clamps a start before 0 to row 0 (a narration in the first 2 s)', () => {
    expect(featureWindow(-2, 2, { numFeatures: 100 })).toEqual({ start: 0, end: 4 });
    expect(narrationWindow(0, { numFeatures: 100 })).toEqual({ start: 0, end: 4 });
    expect(narrationWindow(0.5, { numFeatures: 100 })).toEqual({ start: 0, end: 5 });
  });

  it('clamps at the end of the video: the last row is n − 1, and a window past the end keeps the last row', () => {
    expect(featureWindow(4, 100, { numFeatures: 10 })).toEqual({ start: 7, end: 10 });
    expect(featureWindow(50, 60, { numFeatures: 10 })).toEqual({ start: 9, end: 10 });
    expect(narrationWindow(5.2, { numFeatures: 10 })).toEqual({ start: 6, end: 10 });
  });

  it('a one-feature video always maps to row 0', () => {
    expect(featureWindow(0, 0, { numFeatures: 1 })).toEqual({ start: 0, end: 1 });
    expect(featureWindow(3, 8, { numFeatures: 1 })).toEqual({ start: 0, end: 1 });
  });

  it('uses the grid it is given (fps, stride)', () => {
    expect(featureWindow(1, 2, { fps: 24, stride: 8, numFeatures: 100 })).toEqual({ start: 3, end: 7 });
  });

  it('narrationWindow honours its width', () => {
    expect(narrationWindow(10, { numFeatures: 100, width: 1 })).toEqual({ start: 16, end: 21 });
  });

  it('rejects windows ending before 0 s, reversed windows and videos without features', () => {
    expect(() => featureWindow(-5, -3, { numFeatures: 10 })).toThrow('featureWindow: the window [-5, -3] s ends before 0 s');
    expect(() => featureWindow(3, 2, { numFeatures: 10 })).toThrow('featureWindow: the window [3, 2] s ends before it starts');
    expect(() => featureWindow(0, 1, { numFeatures: 0 })).toThrow('featureWindow: numFeatures must be an integer ≥ 1, got 0');
  });
});
