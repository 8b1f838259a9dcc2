import { RE2JS } from 're2js';

/**
 * A RegExp look-alike on RE2 (re2js, pure JS): matching takes time linear in the input, so a pattern like
 * /(a+)+$/ from a workflow cannot freeze the daemon with catastrophic backtracking (issue 17). JSONata
 * builds one per regex literal (its `RegexEngine` option) and uses `lastIndex` and `exec` only.
 * RE2 has no back-references or look-around: such a pattern fails to compile with a clear error.
 */
export class LinearRegExp {
  lastIndex = 0;
  readonly source: string;
  readonly flags: string;
  private readonly re: RE2JS;

  constructor(pattern: RegExp | string, flags?: string) {
    const source = typeof pattern === 'string' ? pattern : pattern.source;
    this.flags = flags ?? (typeof pattern === 'string' ? '' : pattern.flags);
    this.source = source;
    let bits = 0;
    if (this.flags.includes('i')) bits |= RE2JS.CASE_INSENSITIVE;
    if (this.flags.includes('m')) bits |= RE2JS.MULTILINE;
    if (this.flags.includes('s')) bits |= RE2JS.DOTALL;
    try {
      this.re = RE2JS.compile(source, bits);
    } catch (err) {
      // JSONata reports thrown {code, message} objects with the expression's position
      throw { code: 'REGEX_UNSUPPORTED', message: `regular expression /${source}/ is not supported (linear-time engine: no back-references or look-around): ${(err as Error).message}`, value: source };
    }
  }

  exec(input: string): RegExpExecArray | null {
    const m = this.re.matcher(input);
    if (this.lastIndex > input.length || !m.find(this.lastIndex)) {
      this.lastIndex = 0;
      return null;
    }
    const groups: Array<string | undefined> = [];
    for (let i = 0; i <= m.groupCount(); i++) groups.push(m.group(i) ?? undefined);
    const result = Object.assign(groups, { index: m.start(), input }) as unknown as RegExpExecArray;
    this.lastIndex = m.end();
    return result;
  }

  test(input: string): boolean {
    return this.exec(input) !== null;
  }
}
