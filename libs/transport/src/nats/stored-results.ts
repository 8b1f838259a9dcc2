import { type JetStreamClient, type JetStreamManager, headers } from 'nats';
import type { NatsNames } from './subjects.js';

/**
 * Which job message produced a stored result: `<stream sequence>@<stream timestamp in ns>` of the job
 * message, as a header of the results-bucket entry. It is a header, not a field of the result message,
 * because the result message's shape is wire version 1 (closed: an older daemon rejects unknown fields);
 * daemons read the bucket with `kv.get` and never see it. The timestamp makes the mark survive a jobs
 * stream that was deleted and created again (sequences start over, timestamps do not repeat).
 */
export const JOB_MESSAGE_HEADER = 'Anchorflow-Job-Msg';

/** what identifies one job message in the jobs stream (a JsMsg has it) */
export interface JobMessageRef {
  seq: number;
  info: { timestampNanos: number };
}

/** the mark of one job message (its stream sequence and the server's timestamp of its publication) */
export function jobMessageMark(msg: JobMessageRef): string {
  return `${msg.seq}@${msg.info.timestampNanos}`;
}

/**
 * Stores a job's result in the results bucket (exactly what `kv.put` publishes, plus the job message's
 * mark as a header): one publish, as before.
 */
export async function storeJobResult(js: JetStreamClient, names: NatsNames, jobId: string, data: Uint8Array, msg: JobMessageRef): Promise<void> {
  const h = headers();
  h.set(JOB_MESSAGE_HEADER, jobMessageMark(msg));
  await js.publish(`$KV.${names.resultsBucket}.${names.resultKey(jobId)}`, data, { headers: h });
}

export interface StoredJobResult {
  data: Uint8Array;
  /** the job message that produced it; undefined when an older worker stored it (no mark) */
  mark?: string;
}

/** The stored result of a job with the mark of the message that produced it; undefined when none (or deleted). */
export async function readJobResult(jsm: JetStreamManager, names: NatsNames, jobId: string): Promise<StoredJobResult | undefined> {
  try {
    const sm = await jsm.streams.getMessage(`KV_${names.resultsBucket}`, { last_by_subj: `$KV.${names.resultsBucket}.${names.resultKey(jobId)}` });
    const op = sm.header?.get('KV-Operation');
    if ((op && op !== 'PUT') || !sm.data.length) return undefined;
    const mark = sm.header?.get(JOB_MESSAGE_HEADER);
    return { data: sm.data, ...(mark ? { mark } : {}) };
  } catch (err) {
    if ((err as { code?: string }).code === '404') return undefined;
    throw err;
  }
}
