import { useEffect, useState } from 'react';

/**
 * A form generated from a node type's params JSON schema. Strings, numbers and booleans get inputs;
 * objects and arrays a JSON text area. A value starting with `=` is a JSONata expression: the field is
 * marked ƒx. Each field is sent (one setParams op) when it loses focus or, for checkboxes, on change.
 */
export function ParamsForm({ schema, params, onChange }: { schema: any; params: Record<string, unknown>; onChange: (key: string, value: unknown) => void }) {
  const props: Record<string, any> = schema?.properties ?? {};
  const keys = [...new Set([...Object.keys(props), ...Object.keys(params)])];
  const required = new Set<string>(schema?.required ?? []);
  if (keys.length === 0) return <p className="muted">This node has no parameters.</p>;
  return (
    <form className="params" onSubmit={(e) => e.preventDefault()} data-testid="params-form">
      {keys.map((k) => (
        <Field key={k} name={k} schema={props[k] ?? {}} value={params[k]} required={required.has(k)} onChange={(v) => onChange(k, v)} />
      ))}
    </form>
  );
}

function kindOf(s: any): 'string' | 'number' | 'boolean' | 'json' {
  const t = Array.isArray(s.type) ? s.type.find((x: string) => x !== 'null') : s.type;
  if (t === 'string') return 'string';
  if (t === 'number' || t === 'integer') return 'number';
  if (t === 'boolean') return 'boolean';
  return 'json';
}

function Field({ name, schema, value, required, onChange }: { name: string; schema: any; value: unknown; required: boolean; onChange: (v: unknown) => void }) {
  const kind = kindOf(schema);
  const text = value === undefined ? '' : kind === 'json' || (typeof value !== 'string' && kind !== 'number') ? JSON.stringify(value, null, 2) : String(value);
  const [draft, setDraft] = useState(text);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => setDraft(text), [text]);
  const expression = draft.startsWith('=');
  const commit = () => {
    if (draft === text) return;
    if (draft === '') return onChange(undefined);
    if (expression) return onChange(draft);
    if (kind === 'number') {
      const n = Number(draft);
      if (!Number.isFinite(n)) return setError('must be a number (or an =expression)');
      return onChange(n);
    }
    if (kind === 'json') {
      try {
        return onChange(JSON.parse(draft));
      } catch {
        return setError('must be JSON (or an =expression)');
      }
    }
    onChange(draft);
  };
  const label = (
    <span className="field-label">
      {name}
      {required && <span className="required">*</span>}
      {expression && <span className="expr" title="JSONata expression, evaluated against the node input">ƒx</span>}
    </span>
  );
  if (kind === 'boolean') {
    return (
      <label className="field">
        {label}
        <input type="checkbox" name={name} checked={value === true} onChange={(e) => onChange(e.target.checked)} />
      </label>
    );
  }
  const common = {
    name, value: draft, title: schema.description,
    onChange: (e: React.ChangeEvent<HTMLInputElement | HTMLTextAreaElement>) => { setDraft(e.target.value); setError(null); },
    onBlur: commit,
    className: expression ? 'expression' : '',
  };
  return (
    <label className="field">
      {label}
      {kind === 'json' ? <textarea rows={4} {...common} /> : <input {...common} onKeyDown={(e) => e.key === 'Enter' && commit()} placeholder={schema.enum ? schema.enum.join(' | ') : kind === 'number' ? '0 or =expression' : 'text or =expression'} />}
      {schema.description && <small className="muted">{schema.description}</small>}
      {error && <small className="error">{error}</small>}
    </label>
  );
}
