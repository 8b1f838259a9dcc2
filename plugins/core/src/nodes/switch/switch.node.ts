import { defineNode } from '@anchorflow/plugin-sdk';
import { evaluateParam, jsonataBoolean } from '../../shared/expression.js';
import { DEFAULT_SWITCH_PORT, SwitchParams } from './switch.params.js';

/**
 * The output ports for a given configuration: case ports in order, then the default port. Tolerates
 * unvalidated params, since the engine may ask while it is still collecting a workflow's problems.
 */
export function switchPorts(params: Partial<SwitchParams> | undefined): string[] {
  const ports: string[] = [];
  if (Array.isArray(params?.cases)) {
    for (const c of params.cases) {
      const port = (c as Partial<SwitchParams['cases'][number]> | null)?.port;
      if (typeof port === 'string' && !ports.includes(port)) ports.push(port);
    }
  }
  const fallback = typeof params?.default === 'string' ? params.default : DEFAULT_SWITCH_PORT;
  if (!ports.includes(fallback)) ports.push(fallback);
  return ports;
}

export const switchNode = defineNode<SwitchParams>({
  type: 'core.switch',
  version: 1,
  title: 'Switch',
  description: 'Passes its input on the port of the first case whose JSONata condition holds, else on the default port.',
  category: 'flow',
  inputs: ['main'],
  outputs: switchPorts,
  params: SwitchParams,
  pure: true,
  async execute(ctx, input) {
    const { cases } = ctx.params;
    for (let i = 0; i < cases.length; i++) {
      const value = await evaluateParam(ctx, `cases[${i}].condition`, cases[i]!.condition, input);
      if (jsonataBoolean(value)) return { [cases[i]!.port]: input };
    }
    return { [ctx.params.default]: input };
  },
});
