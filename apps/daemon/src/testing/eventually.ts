/**
 * Waits for `probe` to answer something other than undefined, asking every 20 ms, and fails naming `what`
 * after `timeoutMs`: for in-process specs what test/support/until.ts is for the e2e suites.
 */
export async function eventually<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
