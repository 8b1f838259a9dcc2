import { describe, expect, it, jest } from '@jest/globals';
import { ResumeExecutionCommand } from './resume-execution.command.js';
import { ResumeExecutionHandler } from './resume-execution.handler.js';

describe('ResumeExecutionHandler', () => {
  it('signals the engine with the token and data', async () => {
    const engine = { signal: jest.fn(async (_t: string, _d?: unknown) => ({ executionId: 'e1', nodeId: 'approve' })) };
    const handler = new ResumeExecutionHandler(engine);
    expect(await handler.execute(new ResumeExecutionCommand('0123456789abcdef0123456789abcdef', { approved: true }))).toEqual({ executionId: 'e1', nodeId: 'approve' });
    expect(engine.signal).toHaveBeenCalledWith('0123456789abcdef0123456789abcdef', { approved: true });
  });

  it('a malformed token is NOT_FOUND without asking the engine', async () => {
    const engine = { signal: jest.fn(async () => ({ executionId: 'e1', nodeId: 'n' })) };
    const handler = new ResumeExecutionHandler(engine);
    // reserved tokens (a `:`) are delivered by the approvals route and the engine only, never here
    for (const token of ['x', "'; drop table", 'a'.repeat(300), 'approval:e1:approve', 'child:0123456789abcdef']) {
      await expect(handler.execute(new ResumeExecutionCommand(token))).rejects.toMatchObject({ code: 'NOT_FOUND' });
    }
    expect(engine.signal).not.toHaveBeenCalled();
  });
});
