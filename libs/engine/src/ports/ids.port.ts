import { randomUUID } from 'node:crypto';

export interface Ids {
  executionId(): string;
  resumeToken(): string;
}

export const randomIds: Ids = {
  executionId: () => randomUUID(),
  resumeToken: () => randomUUID().replace(/-/g, ''),
};
