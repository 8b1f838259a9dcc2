import { afterEach, describe, expect, it } from '@jest/globals';
import request from 'supertest';
import { createMemoryApp, type MemoryApp } from '../testing/memory-app.js';

/** security.trustProxy (issue 17): rate limits key on the client behind a trusted proxy, never on a forged header. */
describe('security.trustProxy', () => {
  let t: MemoryApp | undefined;
  afterEach(async () => {
    await t?.close();
    t = undefined;
  });

  const twoClients = async (env: Record<string, string>) => {
    t = await createMemoryApp({ env: { ANCHORFLOW_SECURITY_RATE_LIMIT_HOOKS_LIMIT: '1', ANCHORFLOW_SECURITY_RATE_LIMIT_HOOKS_TTL_MS: '60000', ...env } });
    const server = t.app.getHttpServer();
    const a = await request(server).post('/hooks/nothing').set('X-Forwarded-For', '203.0.113.1').send({});
    const b = await request(server).post('/hooks/nothing').set('X-Forwarded-For', '203.0.113.2').send({});
    return [a.status, b.status];
  };

  it('without it, X-Forwarded-For is ignored: both requests are one client (the second is limited)', async () => {
    expect(await twoClients({})).toEqual([404, 429]);
  });

  it('with the proxy trusted, each forwarded client has its own limit', async () => {
    expect(await twoClients({ ANCHORFLOW_SECURITY_TRUST_PROXY: 'loopback' })).toEqual([404, 404]);
  });

  it('refuses "true" (believing any client)', async () => {
    await expect(createMemoryApp({ env: { ANCHORFLOW_SECURITY_TRUST_PROXY: 'true' } })).rejects.toThrow(/security\.trustProxy = "true" .*must be comma-separated addresses/);
  });
});
