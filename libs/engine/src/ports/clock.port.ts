export interface Clock {
  now(): number;
  /** schedule fn after ms; returns a cancel function */
  setTimer(ms: number, fn: () => void): () => void;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimer: (ms, fn) => {
    const t = setTimeout(fn, Math.max(0, Math.min(ms, 2 ** 31 - 1)));
    t.unref?.();
    return () => clearTimeout(t);
  },
};
