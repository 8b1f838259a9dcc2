// parse-prometheus-text-format ships no types: the part test/metrics.e2e-spec.ts uses
declare module 'parse-prometheus-text-format' {
  export default function parsePrometheusTextFormat(text: string): unknown[];
}
