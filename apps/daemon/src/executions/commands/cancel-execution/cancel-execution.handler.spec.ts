import { describe, expect, it, jest } from '@jest/globals';
import { EngineError } from '@anchorflow/engine';
import { CancelExecutionCommand } from './cancel-execution.command.js';
import { CancelExecutionHandler } from './cancel-execution.handler.js';

describe('CancelExecutionHandler', () => {
  it('asks the engine to cancel with the reason given (or a default)', async () => {
    const engine = { cancel: jest.fn(async (_id: string, _reason?: string) => undefined) };
    const handler = new CancelExecutionHandler(engine);
    await handler.execute(new CancelExecutionCommand('e1', 'operator said so'));
    await handler.execute(new CancelExecutionCommand('e2'));
    expect(engine.cancel.mock.calls).toEqual([
      ['e1', 'operator said so'],
      ['e2', 'cancelled through the API'],
    ]);
  });

  it('passes NOT_FOUND / EXECUTION_FINISHED through', async () => {
    const handler = new CancelExecutionHandler({ cancel: async () => Promise.reject(new EngineError('EXECUTION_FINISHED', 'already succeeded')) });
    await expect(handler.execute(new CancelExecutionCommand('e1'))).rejects.toMatchObject({ code: 'EXECUTION_FINISHED' });
  });
});
