/**
 * Waits for `probe` to answer something other than undefined, asking every 100 ms, and fails naming
 * `what` after `timeoutMs`: the deadline-bound wait the e2e suites use instead of sleeping.
 */
export async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
