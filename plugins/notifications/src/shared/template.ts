import Mustache from 'mustache';
import { NodeError } from '@anchorflow/plugin-sdk';

export type Escaping = 'html' | 'none' | 'slack';

const HTML: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;', '/': '&#x2F;', '`': '&#x60;', '=': '&#x3D;' };
const escapers: Record<Escaping, (s: string) => string> = {
  html: (s) => String(s).replace(/[&<>"'`=/]/g, (c) => HTML[c]!),
  none: (s) => String(s),
  // Slack's mrkdwn: only these three are control characters (https://api.slack.com/reference/surfaces/formatting#escaping)
  slack: (s) => String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;'),
};

/**
 * Renders a logic-less Mustache template with the node input as the view. `{{x}}` is escaped for the
 * target (HTML by default for HTML bodies), `{{{x}}}` inserts as is. A syntax error becomes a NodeError
 * naming the param and the position Mustache reports.
 */
export function renderTemplate(param: string, template: string, view: unknown, escaping: Escaping): string {
  try {
    return Mustache.render(template, view ?? {}, {}, { escape: escapers[escaping] });
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    throw new NodeError(`template error in ${param}: ${message}`, 'TEMPLATE_ERROR', { param, error: message });
  }
}

/** Checks a template's syntax without rendering: the message (with its position) or undefined. */
export function templateSyntaxError(template: string): string | undefined {
  try {
    Mustache.parse(template);
    return undefined;
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  }
}
